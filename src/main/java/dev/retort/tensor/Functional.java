package dev.retort.tensor;

import dev.retort.backend.ConvGeometry;
import dev.retort.backend.ConvSpec;
import dev.retort.backend.NdArray;
import dev.retort.backend.PoolSpec;
import dev.retort.backend.Shapes;

/**
 * The neural-network operations (PyTorch's {@code torch.nn.functional}): each validates its
 * arguments, runs the backend primitive and records its derivative rule.
 */
public final class Functional {
    private Functional() {}

    static void checkTemperature(String op, double temperature) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException(op + ": temperature must be a positive finite number, got " + temperature);
        }
    }

    /** {@code x·Wᵀ + b} with PyTorch's layout: weight [out, in], bias [out] or null. */
    public static Tensor linear(Tensor input, Tensor weight, Tensor bias) {
        Tensor.checkOperands("linear", input, weight, bias);
        if (weight.rank() != 2 || input.rank() < 1 || input.dim(-1) != weight.dim(1)) {
            throw new IllegalArgumentException("linear: input " + Shapes.format(input.shape())
                    + " does not match weight " + Shapes.format(weight.shape()) + " (expected [..., "
                    + (weight.rank() == 2 ? weight.dim(1) : "in") + "] input and [out, in] weight)");
        }
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != weight.dim(0))) {
            throw new IllegalArgumentException("linear: bias " + Shapes.format(bias.shape()) + " does not match weight "
                    + Shapes.format(weight.shape()) + " (expected [" + weight.dim(0) + "])");
        }
        Tensor x = input.rank() == 2 ? input : input.reshape(-1, weight.dim(1));
        Tensor y = Tensor.matmul(x, false, weight, true);
        if (bias != null) {
            y = y.add(bias);
        }
        if (input.rank() != 2) {
            int[] s = input.shape();
            s[s.length - 1] = weight.dim(0);
            y = y.reshape(s);
        }
        return y;
    }

    /** 2-D convolution, NCHW input, OIHW weight, optional bias [out]. */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, ConvSpec spec) {
        Tensor.checkOperands("conv2d", input, weight, bias);
        ConvGeometry geometry = ConvGeometry.conv(input.shape(), weight.shape(), spec);
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != geometry.outChannels())) {
            throw new IllegalArgumentException("conv2d: bias " + Shapes.format(bias.shape()) + " does not match "
                    + geometry.outChannels() + " output channels");
        }
        NdArray out = input.empty(geometry.outputShape());
        input.backend().conv2dForward(input.data(), weight.data(), bias == null ? null : bias.data(), spec, out);
        return Tensor.record("conv2d", out, g -> {
            Tensor gx = null;
            if (input.requiresGrad()) {
                NdArray d = input.emptyLike();
                input.backend().conv2dBackwardInput(g.data(), weight.data(), spec, d);
                gx = Tensor.wrap(d);
            }
            Tensor gw = null;
            Tensor gb = null;
            if (weight.requiresGrad() || bias != null && bias.requiresGrad()) {
                NdArray dw = weight.emptyLike();
                NdArray db = bias == null ? null : bias.emptyLike();
                input.backend().conv2dBackwardWeight(g.data(), input.data(), spec, dw, db);
                gw = Tensor.wrap(dw);
                gb = db == null ? null : Tensor.wrap(db);
            }
            return new Tensor[] {gx, gw, gb};
        }, input, weight, bias);
    }

    private static int[] poolShape(String op, Tensor input, PoolSpec spec) {
        Shapes.requireRank(op, "input", input.shape(), 4);
        return ConvGeometry.pool(op, input.shape(), spec).outputShape();
    }

    /**
     * Max pooling of an [N, C, H, W] input into [N, C, outH, outW]; padding counts as minus infinity and the
     * gradient goes to each window's first maximum.
     *
     * @throws IllegalArgumentException if the input is not 4-D or the window is larger than the padded input
     */
    public static Tensor maxPool2d(Tensor input, PoolSpec spec) {
        Tensor.checkOperands("maxPool2d", input);
        NdArray out = input.empty(poolShape("maxPool2d", input, spec));
        input.backend().maxPool2dForward(input.data(), spec, out);
        return Tensor.record("maxPool2d", out, g -> {
            NdArray gx = input.emptyLike();
            input.backend().maxPool2dBackward(g.data(), input.data(), spec, gx);
            return new Tensor[] {Tensor.wrap(gx)};
        }, input);
    }

    /**
     * Average pooling of an [N, C, H, W] input into [N, C, outH, outW]; padding counts as zero and in the
     * divisor (PyTorch's count_include_pad=True).
     *
     * @throws IllegalArgumentException if the input is not 4-D or the window is larger than the padded input
     */
    public static Tensor avgPool2d(Tensor input, PoolSpec spec) {
        Tensor.checkOperands("avgPool2d", input);
        NdArray out = input.empty(poolShape("avgPool2d", input, spec));
        input.backend().avgPool2dForward(input.data(), spec, out);
        return Tensor.record("avgPool2d", out, g -> {
            NdArray gx = input.emptyLike();
            input.backend().avgPool2dBackward(g.data(), spec, gx);
            return new Tensor[] {Tensor.wrap(gx)};
        }, input);
    }

    /** Mean over the spatial dimensions: [N, C, H, W] → [N, C]. */
    public static Tensor globalAvgPool2d(Tensor input) {
        Shapes.requireRank("globalAvgPool2d", "input", input.shape(), 4);
        return input.mean(false, 2, 3);
    }

    /**
     * Batch normalisation over N (and H, W) of a [N, C] or [N, C, H, W] input. In training it
     * normalises with the batch statistics and updates the running ones in place (with the
     * unbiased variance, as PyTorch does); in evaluation it uses the running statistics.
     */
    public static Tensor batchNorm(Tensor input, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                   boolean training, double momentum, double eps) {
        Tensor.checkOperands("batchNorm", input, gamma, beta, runningMean, runningVar);
        int[] x = input.shape();
        if (x.length != 2 && x.length != 4) {
            throw new IllegalArgumentException("batchNorm: expected an input of shape [N, C] or [N, C, H, W], got "
                    + Shapes.format(x));
        }
        int c = x[1];
        for (Tensor p : new Tensor[] {gamma, beta, runningMean, runningVar}) {
            if (p.rank() != 1 || p.dim(0) != c) {
                throw new IllegalArgumentException("batchNorm: parameter of shape " + Shapes.format(p.shape())
                        + " does not match " + c + " channels of input " + Shapes.format(x));
            }
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("batchNorm: eps must be positive, got " + eps);
        }
        int count = input.size() / Math.max(1, c);
        if (training && count < 2) {
            throw new IllegalArgumentException("batchNorm: training needs more than one value per channel, got input "
                    + Shapes.format(x));
        }
        NdArray out = input.emptyLike();
        Tensor mean;
        Tensor variance;
        if (training) {
            NdArray m = input.empty(c);
            NdArray v = input.empty(c);
            input.backend().batchNormTrainForward(input.data(), gamma.data(), beta.data(), eps, out, m, v);
            mean = Tensor.wrap(m);
            variance = Tensor.wrap(v);
            var backend = input.backend();
            backend.affine(runningMean.data(), 1 - momentum, 0, runningMean.data());
            backend.accumulate(m, momentum, runningMean.data());
            backend.affine(runningVar.data(), 1 - momentum, 0, runningVar.data());
            backend.accumulate(v, momentum * count / (count - 1.0), runningVar.data());
        } else {
            input.backend().batchNormEvalForward(input.data(), gamma.data(), beta.data(), runningMean.data(),
                    runningVar.data(), eps, out);
            // When a gradient rule is recorded, it gets snapshots, so that a later in-place update of the running
            // statistics cannot change it; evaluation without recording (the usual case) copies nothing.
            boolean recorded = Autograd.isEnabled()
                    && (input.requiresGrad() || gamma.requiresGrad() || beta.requiresGrad());
            mean = recorded ? runningMean.detach().mul(1.0) : runningMean;
            variance = recorded ? runningVar.detach().mul(1.0) : runningVar;
        }
        return Tensor.record("batchNorm", out, g -> {
            NdArray gx = input.emptyLike();
            NdArray gg = gamma.emptyLike();
            NdArray gb = beta.emptyLike();
            input.backend().batchNormBackward(g.data(), input.data(), gamma.data(), mean.data(), variance.data(), eps,
                    training, gx, gg, gb);
            return new Tensor[] {Tensor.wrap(gx), Tensor.wrap(gg), Tensor.wrap(gb)};
        }, input, gamma, beta);
    }

    /**
     * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p). The
     * mask is a pure function of the seed, so a run is reproducible on any backend.
     */
    public static Tensor dropout(Tensor input, double p, boolean training, long seed) {
        Tensor.checkOperands("dropout", input);
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("dropout: probability must be in [0, 1], got " + p);
        }
        if (!training || p == 0) {
            return input;
        }
        if (p == 1) {
            return input.mul(0.0);
        }
        NdArray mask = input.emptyLike();
        input.backend().dropoutMask(seed, p, mask);
        Tensor m = Tensor.wrap(mask);
        return input.mul(m);
    }
}
