package dev.retort.backend.cpu;

import dev.retort.backend.Backend;
import dev.retort.backend.BinaryOp;
import dev.retort.backend.ConvSpec;
import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.NdArray;
import dev.retort.backend.PoolSpec;
import dev.retort.backend.Shapes;
import dev.retort.backend.UnaryOp;
import java.util.Arrays;

/**
 * The CPU backend: float32 arrays run on the fast kernels ({@link FloatKernels}, GEMM and convolution
 * through {@link FloatMath}), float64 arrays on {@link ReferenceKernels}, the double-precision
 * specification every fast kernel is tested against.
 */
public final class CpuBackend implements Backend {
    private static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {}

    public static CpuBackend get() {
        return INSTANCE;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public String describe() {
        return "cpu: " + FloatMath.get().name() + " float32 kernels on " + Parallel.threads() + " threads";
    }

    // ---- memory -------------------------------------------------------------------------------

    @Override
    public NdArray empty(DType dtype, int... shape) {
        return new NdArray(CpuStorage.allocate(dtype, Shapes.size(shape)), 0, shape);
    }

    @Override
    public NdArray fromHost(float[] data, int... shape) {
        return new NdArray(CpuStorage.copyOf(data), 0, shape);
    }

    @Override
    public NdArray fromHost(double[] data, int... shape) {
        return new NdArray(CpuStorage.wrap(data.clone()), 0, shape);
    }

    @Override
    public NdArray fromHost(int[] data, int... shape) {
        return new NdArray(CpuStorage.wrap(data.clone()), 0, shape);
    }

    static CpuStorage storage(NdArray x) {
        return (CpuStorage) x.storage();
    }

    static float[] floats(NdArray x) {
        return storage(x).floats;
    }

    @Override
    public double[] toDoubles(NdArray x) {
        double[] out = new double[x.size()];
        CpuStorage s = storage(x);
        int o = x.offset();
        switch (x.dtype()) {
            case FLOAT32 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = s.floats[o + i];
                }
            }
            case FLOAT64 -> System.arraycopy(s.doubles, o, out, 0, out.length);
            case INT32 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = s.ints[o + i];
                }
            }
        }
        return out;
    }

    @Override
    public float[] toFloats(NdArray x) {
        if (x.dtype() == DType.FLOAT32) {
            return Arrays.copyOfRange(floats(x), x.offset(), x.offset() + x.size());
        }
        double[] d = toDoubles(x);
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (float) d[i];
        }
        return out;
    }

    @Override
    public int[] toInts(NdArray x) {
        if (x.dtype() == DType.INT32) {
            return Arrays.copyOfRange(storage(x).ints, x.offset(), x.offset() + x.size());
        }
        double[] d = toDoubles(x);
        int[] out = new int[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (int) d[i];
        }
        return out;
    }

    /** Writes doubles into x with conversion to its dtype. */
    private static void store(double[] values, int from, NdArray x) {
        CpuStorage s = storage(x);
        int o = x.offset();
        int n = x.size();
        switch (x.dtype()) {
            case FLOAT32 -> {
                for (int i = 0; i < n; i++) {
                    s.floats[o + i] = (float) values[from + i];
                }
            }
            case FLOAT64 -> System.arraycopy(values, from, s.doubles, o, n);
            case INT32 -> {
                for (int i = 0; i < n; i++) {
                    s.ints[o + i] = (int) values[from + i];
                }
            }
        }
    }

    @Override
    public void fill(NdArray out, double value) {
        CpuStorage s = storage(out);
        int o = out.offset();
        switch (out.dtype()) {
            case FLOAT32 -> Arrays.fill(s.floats, o, o + out.size(), (float) value);
            case FLOAT64 -> Arrays.fill(s.doubles, o, o + out.size(), value);
            case INT32 -> Arrays.fill(s.ints, o, o + out.size(), (int) value);
        }
    }

    @Override
    public void copy(NdArray src, NdArray dst) {
        if (src.dtype() == dst.dtype()) {
            CpuStorage a = storage(src);
            CpuStorage b = storage(dst);
            Object from = a.floats != null ? a.floats : a.doubles != null ? a.doubles : a.ints;
            Object to = b.floats != null ? b.floats : b.doubles != null ? b.doubles : b.ints;
            System.arraycopy(from, src.offset(), to, dst.offset(), src.size());
        } else {
            store(toDoubles(src), 0, dst);
        }
    }

    // ---- the float64 route: a double view of any array ----------------------------------------

    /** A (data, offset) pair: the array itself for float64, a converted copy otherwise. */
    private record Doubles(double[] data, int offset) {}

    private static Doubles read(NdArray x) {
        if (x.dtype() == DType.FLOAT64) {
            return new Doubles(storage(x).doubles, x.offset());
        }
        return new Doubles(INSTANCE.toDoubles(x), 0);
    }

    /** Where a reference kernel writes x: in place for float64, a scratch array otherwise. */
    private static Doubles target(NdArray x) {
        if (x.dtype() == DType.FLOAT64) {
            return new Doubles(storage(x).doubles, x.offset());
        }
        return new Doubles(new double[x.size()], 0);
    }

    /** Publishes a scratch array written by a reference kernel (no-op for float64). */
    private static void commit(Doubles d, NdArray x) {
        if (x.dtype() != DType.FLOAT64) {
            store(d.data, d.offset, x);
        }
    }

    private static double[] whole(NdArray x) {
        Doubles d = read(x);
        return d.offset == 0 && d.data.length == x.size() ? d.data : Arrays.copyOfRange(d.data, d.offset,
                d.offset + x.size());
    }

    private static boolean allFloat32(NdArray... arrays) {
        for (NdArray a : arrays) {
            if (a != null && a.dtype() != DType.FLOAT32) {
                return false;
            }
        }
        return true;
    }

    // ---- elementwise ----------------------------------------------------------------------------

    @Override
    public void unary(UnaryOp op, NdArray x, NdArray out) {
        if (allFloat32(x, out)) {
            FloatKernels.unary(op, floats(x), x.offset(), floats(out), out.offset(), x.size());
            return;
        }
        Doubles a = read(x);
        Doubles o = target(out);
        ReferenceKernels.unary(op, a.data, a.offset, o.data, o.offset, x.size());
        commit(o, out);
    }

    @Override
    public void binary(BinaryOp op, NdArray a, NdArray b, NdArray out) {
        if (allFloat32(a, b, out) && FloatKernels.binary(op, floats(a), a.offset(), a.shape(), floats(b),
                b.offset(), b.shape(), floats(out), out.offset(), out.shape())) {
            return;
        }
        Doubles da = read(a);
        Doubles db = read(b);
        Doubles o = target(out);
        ReferenceKernels.binary(op, da.data, da.offset, a.shape(), db.data, db.offset, b.shape(), o.data, o.offset,
                out.shape());
        commit(o, out);
    }

    @Override
    public void broadcastTo(NdArray x, NdArray out) {
        if (x.size() == 1) {
            fill(out, toDoubles(x)[0]);
            return;
        }
        Doubles a = read(x);
        Doubles o = target(out);
        ReferenceKernels.broadcastTo(a.data, a.offset, x.shape(), o.data, o.offset, out.shape());
        commit(o, out);
    }

    @Override
    public void affine(NdArray x, double alpha, double beta, NdArray out) {
        if (allFloat32(x, out)) {
            FloatKernels.affine(floats(x), x.offset(), (float) alpha, (float) beta, floats(out), out.offset(),
                    x.size());
            return;
        }
        Doubles a = read(x);
        Doubles o = target(out);
        for (int i = 0; i < x.size(); i++) {
            o.data[o.offset + i] = alpha * a.data[a.offset + i] + beta;
        }
        commit(o, out);
    }

    @Override
    public void accumulate(NdArray x, double alpha, NdArray out) {
        if (allFloat32(x, out)) {
            FloatKernels.axpy((float) alpha, floats(x), x.offset(), floats(out), out.offset(), x.size());
            return;
        }
        Doubles a = read(x);
        Doubles o = read(out);
        for (int i = 0; i < x.size(); i++) {
            o.data[o.offset + i] += alpha * a.data[a.offset + i];
        }
        commit(o, out);
    }

    @Override
    public void dropoutMask(long seed, double p, NdArray mask) {
        if (allFloat32(mask)) {
            FloatKernels.dropoutMask(seed, p, floats(mask), mask.offset(), mask.size());
            return;
        }
        Doubles o = target(mask);
        ReferenceKernels.dropoutMask(seed, p, o.data, o.offset, mask.size());
        commit(o, mask);
    }

    @Override
    public long countNonFinite(NdArray x) {
        if (x.dtype() == DType.INT32) {
            return 0;
        }
        Doubles d = read(x);
        long count = 0;
        for (int i = 0; i < x.size(); i++) {
            if (!Double.isFinite(d.data[d.offset + i])) {
                count++;
            }
        }
        return count;
    }

    // ---- reductions -----------------------------------------------------------------------------

    @Override
    public void sumTo(NdArray x, NdArray out) {
        int[] outShape = Shapes.padLeft(out.shape(), x.rank());
        if (allFloat32(x, out) && FloatKernels.sumTo(floats(x), x.offset(), x.shape(), floats(out), out.offset(),
                outShape)) {
            return;
        }
        Doubles a = read(x);
        Doubles o = target(out);
        ReferenceKernels.sumTo(a.data, a.offset, x.shape(), o.data, o.offset, outShape);
        commit(o, out);
    }

    @Override
    public void argmaxLastDim(NdArray x, NdArray out) {
        int cols = x.dim(-1);
        int rows = cols == 0 ? 0 : x.size() / cols;
        Doubles a = read(x);
        ReferenceKernels.argmax(a.data, a.offset, rows, cols, storage(out).ints, out.offset());
    }

    // ---- linear algebra -----------------------------------------------------------------------

    @Override
    public void matmul(NdArray a, boolean transA, NdArray b, boolean transB, NdArray out) {
        int batch = a.rank() == 3 ? a.dim(0) : 1;
        int m = out.dim(-2);
        int n = out.dim(-1);
        int k = transA ? a.dim(-2) : a.dim(-1);
        if (allFloat32(a, b, out)) {
            FloatMath math = FloatMath.get();
            for (int i = 0; i < batch; i++) {
                math.gemm(transA, transB, m, n, k, 1f, floats(a), a.offset() + i * m * k, transA ? m : k,
                        floats(b), b.offset() + i * k * n, transB ? k : n, 0f, floats(out),
                        out.offset() + i * m * n, n);
            }
            return;
        }
        Doubles da = read(a);
        Doubles db = read(b);
        Doubles o = target(out);
        for (int i = 0; i < batch; i++) {
            ReferenceKernels.matmul(da.data, da.offset + i * m * k, transA, db.data, db.offset + i * k * n, transB,
                    o.data, o.offset + i * m * n, m, n, k);
        }
        commit(o, out);
    }

    @Override
    public void transposeLastTwo(NdArray x, NdArray out) {
        int rows = x.dim(-2);
        int cols = x.dim(-1);
        int batch = rows * cols == 0 ? 0 : x.size() / (rows * cols);
        Doubles a = read(x);
        Doubles o = target(out);
        for (int i = 0; i < batch; i++) {
            ReferenceKernels.transpose(a.data, a.offset + i * rows * cols, rows, cols, o.data,
                    o.offset + i * rows * cols);
        }
        commit(o, out);
    }

    // ---- convolution and pooling --------------------------------------------------------------

    private static Conv2dGeometry geometry(int[] in, int[] weight, ConvSpec s) {
        return new Conv2dGeometry(in[0], in[1], in[2], in[3], weight[0], weight[2], weight[3], s.strideH(),
                s.strideW(), s.padH(), s.padW());
    }

    /** Contiguous float data starting at index 0, as the convolution kernels take it. */
    private static float[] dense(NdArray x) {
        if (x == null) {
            return null;
        }
        float[] f = floats(x);
        return x.offset() == 0 && f.length == x.size() ? f : INSTANCE.toFloats(x);
    }

    /** Where a convolution kernel writes: the array itself when it starts at 0 and spans it. */
    private static float[] denseTarget(NdArray x) {
        if (x == null) {
            return null;
        }
        float[] f = floats(x);
        return x.offset() == 0 && f.length == x.size() ? f : new float[x.size()];
    }

    private static void publish(float[] data, NdArray x) {
        if (x != null && data != floats(x)) {
            System.arraycopy(data, 0, floats(x), x.offset(), x.size());
        }
    }

    @Override
    public void conv2dForward(NdArray input, NdArray weight, NdArray bias, ConvSpec spec, NdArray output) {
        if (allFloat32(input, weight, bias, output)) {
            float[] y = denseTarget(output);
            Conv2dKernels.forward(FloatMath.get(), geometry(input.shape(), weight.shape(), spec), dense(input),
                    dense(weight), dense(bias), y);
            publish(y, output);
            return;
        }
        var g = ReferenceKernels.Geometry.conv(input.shape(), weight.shape(), spec);
        Doubles x = read(input);
        Doubles w = read(weight);
        Doubles b = bias == null ? null : read(bias);
        Doubles y = target(output);
        ReferenceKernels.conv2dForward(g, x.data, x.offset, w.data, w.offset, b == null ? null : b.data,
                b == null ? 0 : b.offset, y.data, y.offset);
        commit(y, output);
    }

    @Override
    public void conv2dBackwardInput(NdArray gradOutput, NdArray weight, ConvSpec spec, NdArray gradInput) {
        if (allFloat32(gradOutput, weight, gradInput)) {
            float[] gx = denseTarget(gradInput);
            Conv2dKernels.backwardInput(FloatMath.get(), geometry(gradInput.shape(), weight.shape(), spec),
                    dense(gradOutput), dense(weight), gx);
            publish(gx, gradInput);
            return;
        }
        var g = ReferenceKernels.Geometry.conv(gradInput.shape(), weight.shape(), spec);
        Doubles gy = read(gradOutput);
        Doubles w = read(weight);
        Doubles gx = target(gradInput);
        ReferenceKernels.conv2dBackward(g, gy.data, gy.offset, null, 0, w.data, w.offset, gx.data, gx.offset, null,
                0, null, 0);
        commit(gx, gradInput);
    }

    @Override
    public void conv2dBackwardWeight(NdArray gradOutput, NdArray input, ConvSpec spec, NdArray gradWeight,
                                     NdArray gradBias) {
        if (allFloat32(gradOutput, input, gradWeight, gradBias)) {
            float[] gw = denseTarget(gradWeight);
            float[] gb = denseTarget(gradBias);
            Conv2dKernels.backwardWeight(FloatMath.get(), geometry(input.shape(), gradWeight.shape(), spec),
                    dense(gradOutput), dense(input), gw, gb);
            publish(gw, gradWeight);
            publish(gb, gradBias);
            return;
        }
        var g = ReferenceKernels.Geometry.conv(input.shape(), gradWeight.shape(), spec);
        Doubles gy = read(gradOutput);
        Doubles x = read(input);
        Doubles gw = target(gradWeight);
        Doubles gb = gradBias == null ? null : target(gradBias);
        ReferenceKernels.conv2dBackward(g, gy.data, gy.offset, x.data, x.offset, null, 0, null, 0, gw.data,
                gw.offset, gb == null ? null : gb.data, gb == null ? 0 : gb.offset);
        commit(gw, gradWeight);
        if (gb != null) {
            commit(gb, gradBias);
        }
    }

    @Override
    public void maxPool2dForward(NdArray input, PoolSpec spec, NdArray output) {
        if (allFloat32(input, output)) {
            FloatKernels.maxPool2d(input.shape(), spec, floats(input), input.offset(), floats(output),
                    output.offset(), null, 0, null, 0);
            return;
        }
        Doubles x = read(input);
        Doubles y = target(output);
        ReferenceKernels.maxPool(ReferenceKernels.Geometry.pool(input.shape(), spec), x.data, x.offset, y.data,
                y.offset, null, 0, null, 0);
        commit(y, output);
    }

    @Override
    public void maxPool2dBackward(NdArray gradOutput, NdArray input, PoolSpec spec, NdArray gradInput) {
        if (allFloat32(gradOutput, input, gradInput)) {
            FloatKernels.maxPool2d(input.shape(), spec, floats(input), input.offset(), null, 0, floats(gradOutput),
                    gradOutput.offset(), floats(gradInput), gradInput.offset());
            return;
        }
        Doubles x = read(input);
        Doubles gy = read(gradOutput);
        Doubles gx = target(gradInput);
        ReferenceKernels.maxPool(ReferenceKernels.Geometry.pool(input.shape(), spec), x.data, x.offset, null, 0,
                gy.data, gy.offset, gx.data, gx.offset);
        commit(gx, gradInput);
    }

    @Override
    public void avgPool2dForward(NdArray input, PoolSpec spec, NdArray output) {
        Doubles x = read(input);
        Doubles y = target(output);
        ReferenceKernels.avgPool(ReferenceKernels.Geometry.pool(input.shape(), spec), x.data, x.offset, y.data,
                y.offset, null, 0, null, 0);
        commit(y, output);
    }

    @Override
    public void avgPool2dBackward(NdArray gradOutput, PoolSpec spec, NdArray gradInput) {
        Doubles gy = read(gradOutput);
        Doubles gx = target(gradInput);
        ReferenceKernels.avgPool(ReferenceKernels.Geometry.pool(gradInput.shape(), spec), null, 0, null, 0,
                gy.data, gy.offset, gx.data, gx.offset);
        commit(gx, gradInput);
    }

    // ---- normalisation --------------------------------------------------------------------------

    private static int spatial(NdArray x) {
        int s = 1;
        for (int d = 2; d < x.rank(); d++) {
            s *= x.dim(d);
        }
        return s;
    }

    @Override
    public void batchNormTrainForward(NdArray input, NdArray gamma, NdArray beta, double eps, NdArray output,
                                      NdArray mean, NdArray variance) {
        int n = input.dim(0);
        int c = input.dim(1);
        if (allFloat32(input, gamma, beta, output, mean, variance)) {
            FloatKernels.batchNormTrainForward(floats(input), input.offset(), n, c, spatial(input), floats(gamma),
                    gamma.offset(), floats(beta), beta.offset(), (float) eps, floats(output), output.offset(),
                    floats(mean), mean.offset(), floats(variance), variance.offset());
            return;
        }
        Doubles x = read(input);
        double[] m = new double[c];
        double[] v = new double[c];
        ReferenceKernels.batchNormStatistics(x.data, x.offset, n, c, spatial(input), m, v);
        Doubles y = target(output);
        ReferenceKernels.batchNormApply(x.data, x.offset, n, c, spatial(input), whole(gamma), whole(beta), m, v, eps,
                y.data, y.offset);
        commit(y, output);
        store(m, 0, mean);
        store(v, 0, variance);
    }

    @Override
    public void batchNormEvalForward(NdArray input, NdArray gamma, NdArray beta, NdArray mean, NdArray variance,
                                     double eps, NdArray output) {
        Doubles x = read(input);
        Doubles y = target(output);
        ReferenceKernels.batchNormApply(x.data, x.offset, input.dim(0), input.dim(1), spatial(input), whole(gamma),
                whole(beta), whole(mean), whole(variance), eps, y.data, y.offset);
        commit(y, output);
    }

    @Override
    public void batchNormBackward(NdArray gradOutput, NdArray input, NdArray gamma, NdArray mean, NdArray variance,
                                  double eps, boolean training, NdArray gradInput, NdArray gradGamma,
                                  NdArray gradBeta) {
        int n = input.dim(0);
        int c = input.dim(1);
        if (allFloat32(gradOutput, input, gamma, mean, variance, gradInput, gradGamma, gradBeta)) {
            FloatKernels.batchNormBackward(floats(gradOutput), gradOutput.offset(), floats(input), input.offset(),
                    n, c, spatial(input), floats(gamma), gamma.offset(), floats(mean), mean.offset(),
                    floats(variance), variance.offset(), (float) eps, training, floats(gradInput),
                    gradInput.offset(), floats(gradGamma), gradGamma.offset(), floats(gradBeta), gradBeta.offset());
            return;
        }
        Doubles gy = read(gradOutput);
        Doubles x = read(input);
        Doubles gx = target(gradInput);
        double[] gg = new double[c];
        double[] gb = new double[c];
        ReferenceKernels.batchNormBackward(gy.data, gy.offset, x.data, x.offset, n, c, spatial(input), whole(gamma),
                whole(mean), whole(variance), eps, training, gx.data, gx.offset, gg, gb);
        commit(gx, gradInput);
        store(gg, 0, gradGamma);
        store(gb, 0, gradBeta);
    }

    // ---- softmax and losses ---------------------------------------------------------------------

    @Override
    public void softmax(NdArray x, double temperature, boolean log, NdArray out) {
        int cols = x.dim(-1);
        int rows = cols == 0 ? 0 : x.size() / cols;
        if (allFloat32(x, out)) {
            FloatKernels.softmax(floats(x), x.offset(), rows, cols, (float) temperature, log, floats(out),
                    out.offset());
            return;
        }
        Doubles a = read(x);
        Doubles o = target(out);
        ReferenceKernels.softmax(a.data, a.offset, rows, cols, temperature, log, o.data, o.offset);
        commit(o, out);
    }

    @Override
    public void softmaxBackward(NdArray gradOutput, NdArray output, double temperature, boolean log,
                                NdArray gradInput) {
        int cols = output.dim(-1);
        int rows = cols == 0 ? 0 : output.size() / cols;
        Doubles gy = read(gradOutput);
        Doubles y = read(output);
        Doubles gx = target(gradInput);
        ReferenceKernels.softmaxBackward(gy.data, gy.offset, y.data, y.offset, rows, cols, temperature, log,
                gx.data, gx.offset);
        commit(gx, gradInput);
    }

    @Override
    public void nllForward(NdArray logProbs, NdArray labels, double smoothing, NdArray lossPerRow) {
        int cols = logProbs.dim(-1);
        Doubles lp = read(logProbs);
        Doubles o = target(lossPerRow);
        ReferenceKernels.nllForward(lp.data, lp.offset, logProbs.dim(0), cols, storage(labels).ints,
                labels.offset(), smoothing, o.data, o.offset);
        commit(o, lossPerRow);
    }

    @Override
    public void nllBackward(NdArray gradLossPerRow, NdArray labels, double smoothing, NdArray gradLogProbs) {
        Doubles g = read(gradLossPerRow);
        Doubles o = target(gradLogProbs);
        ReferenceKernels.nllBackward(g.data, g.offset, gradLogProbs.dim(0), gradLogProbs.dim(-1),
                storage(labels).ints, labels.offset(), smoothing, o.data, o.offset);
        commit(o, gradLogProbs);
    }

    // ---- optimizers -----------------------------------------------------------------------------

    @Override
    public void sgdStep(NdArray param, NdArray grad, NdArray momentumBuffer, double lr, double momentum,
                        double dampening, double weightDecay, boolean nesterov, boolean firstStep) {
        if (allFloat32(param, grad, momentumBuffer)) {
            FloatKernels.sgdStep(floats(param), param.offset(), floats(grad), grad.offset(),
                    momentumBuffer == null ? null : floats(momentumBuffer),
                    momentumBuffer == null ? 0 : momentumBuffer.offset(), param.size(), (float) lr,
                    (float) momentum, (float) dampening, (float) weightDecay, nesterov, firstStep);
            return;
        }
        Doubles p = read(param);
        Doubles g = read(grad);
        Doubles b = momentumBuffer == null ? new Doubles(null, 0) : read(momentumBuffer);
        ReferenceKernels.sgdStep(p.data, p.offset, g.data, g.offset, b.data, b.offset, param.size(), lr, momentum,
                dampening, weightDecay, nesterov, firstStep);
        commit(p, param);
        if (momentumBuffer != null) {
            commit(b, momentumBuffer);
        }
    }

    @Override
    public void adamwStep(NdArray param, NdArray grad, NdArray firstMoment, NdArray secondMoment, double lr,
                          double beta1, double beta2, double eps, double weightDecay, long step) {
        if (allFloat32(param, grad, firstMoment, secondMoment)) {
            FloatKernels.adamwStep(floats(param), param.offset(), floats(grad), grad.offset(), floats(firstMoment),
                    firstMoment.offset(), floats(secondMoment), secondMoment.offset(), param.size(), lr, beta1,
                    beta2, eps, weightDecay, step);
            return;
        }
        Doubles p = read(param);
        Doubles g = read(grad);
        Doubles m = read(firstMoment);
        Doubles v = read(secondMoment);
        ReferenceKernels.adamwStep(p.data, p.offset, g.data, g.offset, m.data, m.offset, v.data, v.offset,
                param.size(), lr, beta1, beta2, eps, weightDecay, step);
        commit(p, param);
        commit(m, firstMoment);
        commit(v, secondMoment);
    }
}
