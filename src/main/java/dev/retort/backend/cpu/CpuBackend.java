package dev.retort.backend.cpu;

import dev.retort.backend.Backend;
import dev.retort.backend.BinaryOp;
import dev.retort.backend.ConvGeometry;
import dev.retort.backend.ConvSpec;
import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.DistillationSpec;
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

    /**
     * The one CPU backend; stateless apart from the shared {@link Parallel} thread team, so every caller
     * shares it.
     */
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
        return DoubleView.toDoubles(x);
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
            DoubleView.store(toDoubles(src), 0, dst);
        }
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
        DoubleView a = DoubleView.read(x);
        DoubleView o = DoubleView.target(out);
        ReferenceKernels.unary(op, a.data(), a.offset(), o.data(), o.offset(), x.size());
        o.commit(out);
    }

    @Override
    public void binary(BinaryOp op, NdArray a, NdArray b, NdArray out) {
        if (allFloat32(a, b, out) && FloatKernels.binary(op, floats(a), a.offset(), a.shape(), floats(b),
                b.offset(), b.shape(), floats(out), out.offset(), out.shape())) {
            return;
        }
        DoubleView da = DoubleView.read(a);
        DoubleView db = DoubleView.read(b);
        DoubleView o = DoubleView.target(out);
        ReferenceKernels.binary(op, da.data(), da.offset(), a.shape(), db.data(), db.offset(), b.shape(), o.data(), o.offset(),
                out.shape());
        o.commit(out);
    }

    @Override
    public void broadcastTo(NdArray x, NdArray out) {
        if (x.size() == 1) {
            fill(out, toDoubles(x)[0]);
            return;
        }
        DoubleView a = DoubleView.read(x);
        DoubleView o = DoubleView.target(out);
        ReferenceKernels.broadcastTo(a.data(), a.offset(), x.shape(), o.data(), o.offset(), out.shape());
        o.commit(out);
    }

    @Override
    public void affine(NdArray x, double alpha, double beta, NdArray out) {
        if (allFloat32(x, out)) {
            FloatKernels.affine(floats(x), x.offset(), (float) alpha, (float) beta, floats(out), out.offset(),
                    x.size());
            return;
        }
        DoubleView a = DoubleView.read(x);
        DoubleView o = DoubleView.target(out);
        for (int i = 0; i < x.size(); i++) {
            o.data()[o.offset() + i] = alpha * a.data()[a.offset() + i] + beta;
        }
        o.commit(out);
    }

    @Override
    public void accumulate(NdArray x, double alpha, NdArray out) {
        if (allFloat32(x, out)) {
            FloatKernels.axpy((float) alpha, floats(x), x.offset(), floats(out), out.offset(), x.size());
            return;
        }
        DoubleView a = DoubleView.read(x);
        DoubleView o = DoubleView.read(out);
        for (int i = 0; i < x.size(); i++) {
            o.data()[o.offset() + i] += alpha * a.data()[a.offset() + i];
        }
        o.commit(out);
    }

    @Override
    public void dropoutMask(long seed, double p, NdArray mask) {
        if (allFloat32(mask)) {
            FloatKernels.dropoutMask(seed, p, floats(mask), mask.offset(), mask.size());
            return;
        }
        DoubleView o = DoubleView.target(mask);
        ReferenceKernels.dropoutMask(seed, p, o.data(), o.offset(), mask.size());
        o.commit(mask);
    }

    @Override
    public long countNonFinite(NdArray x) {
        if (x.dtype() == DType.INT32) {
            return 0;
        }
        DoubleView d = DoubleView.read(x);
        long count = 0;
        for (int i = 0; i < x.size(); i++) {
            if (!Double.isFinite(d.data()[d.offset() + i])) {
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
        DoubleView a = DoubleView.read(x);
        DoubleView o = DoubleView.target(out);
        ReferenceKernels.sumTo(a.data(), a.offset(), x.shape(), o.data(), o.offset(), outShape);
        o.commit(out);
    }

    @Override
    public void argmaxLastDim(NdArray x, NdArray out) {
        int cols = x.dim(-1);
        int rows = cols == 0 ? 0 : x.size() / cols;
        DoubleView a = DoubleView.read(x);
        ReferenceKernels.argmax(a.data(), a.offset(), rows, cols, storage(out).ints, out.offset());
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
        DoubleView da = DoubleView.read(a);
        DoubleView db = DoubleView.read(b);
        DoubleView o = DoubleView.target(out);
        for (int i = 0; i < batch; i++) {
            ReferenceKernels.matmul(da.data(), da.offset() + i * m * k, transA, db.data(), db.offset() + i * k * n, transB,
                    o.data(), o.offset() + i * m * n, m, n, k);
        }
        o.commit(out);
    }

    @Override
    public void transposeLastTwo(NdArray x, NdArray out) {
        int rows = x.dim(-2);
        int cols = x.dim(-1);
        int batch = rows * cols == 0 ? 0 : x.size() / (rows * cols);
        DoubleView a = DoubleView.read(x);
        DoubleView o = DoubleView.target(out);
        for (int i = 0; i < batch; i++) {
            ReferenceKernels.transpose(a.data(), a.offset() + i * rows * cols, rows, cols, o.data(),
                    o.offset() + i * rows * cols);
        }
        o.commit(out);
    }

    // ---- convolution and pooling --------------------------------------------------------------

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
            Conv2dKernels.forward(FloatMath.get(), ConvGeometry.conv(input.shape(), weight.shape(), spec), dense(input),
                    dense(weight), dense(bias), y);
            publish(y, output);
            return;
        }
        var g = ConvGeometry.conv(input.shape(), weight.shape(), spec);
        DoubleView x = DoubleView.read(input);
        DoubleView w = DoubleView.read(weight);
        DoubleView b = bias == null ? null : DoubleView.read(bias);
        DoubleView y = DoubleView.target(output);
        ReferenceKernels.conv2dForward(g, x.data(), x.offset(), w.data(), w.offset(), b == null ? null : b.data(),
                b == null ? 0 : b.offset(), y.data(), y.offset());
        y.commit(output);
    }

    @Override
    public void conv2dBackwardInput(NdArray gradOutput, NdArray weight, ConvSpec spec, NdArray gradInput) {
        if (allFloat32(gradOutput, weight, gradInput)) {
            float[] gx = denseTarget(gradInput);
            Conv2dKernels.backwardInput(FloatMath.get(), ConvGeometry.conv(gradInput.shape(), weight.shape(), spec),
                    dense(gradOutput), dense(weight), gx);
            publish(gx, gradInput);
            return;
        }
        var g = ConvGeometry.conv(gradInput.shape(), weight.shape(), spec);
        DoubleView gy = DoubleView.read(gradOutput);
        DoubleView w = DoubleView.read(weight);
        DoubleView gx = DoubleView.target(gradInput);
        ReferenceKernels.conv2dBackward(g, gy.data(), gy.offset(), null, 0, w.data(), w.offset(), gx.data(), gx.offset(), null,
                0, null, 0);
        gx.commit(gradInput);
    }

    @Override
    public void conv2dBackwardWeight(NdArray gradOutput, NdArray input, ConvSpec spec, NdArray gradWeight,
                                     NdArray gradBias) {
        if (allFloat32(gradOutput, input, gradWeight, gradBias)) {
            float[] gw = denseTarget(gradWeight);
            float[] gb = denseTarget(gradBias);
            Conv2dKernels.backwardWeight(FloatMath.get(), ConvGeometry.conv(input.shape(), gradWeight.shape(), spec),
                    dense(gradOutput), dense(input), gw, gb);
            publish(gw, gradWeight);
            publish(gb, gradBias);
            return;
        }
        var g = ConvGeometry.conv(input.shape(), gradWeight.shape(), spec);
        DoubleView gy = DoubleView.read(gradOutput);
        DoubleView x = DoubleView.read(input);
        DoubleView gw = DoubleView.target(gradWeight);
        DoubleView gb = gradBias == null ? null : DoubleView.target(gradBias);
        ReferenceKernels.conv2dBackward(g, gy.data(), gy.offset(), x.data(), x.offset(), null, 0, null, 0, gw.data(),
                gw.offset(), gb == null ? null : gb.data(), gb == null ? 0 : gb.offset());
        gw.commit(gradWeight);
        if (gb != null) {
            gb.commit(gradBias);
        }
    }

    @Override
    public void maxPool2dForward(NdArray input, PoolSpec spec, NdArray output) {
        ConvGeometry g = ConvGeometry.pool("pool2d", input.shape(), spec);
        if (allFloat32(input, output)) {
            FloatKernels.maxPool2d(g, floats(input), input.offset(), floats(output), output.offset(), null, 0, null, 0);
            return;
        }
        DoubleView x = DoubleView.read(input);
        DoubleView y = DoubleView.target(output);
        ReferenceKernels.maxPool(g, x.data(), x.offset(), y.data(), y.offset(), null, 0, null, 0);
        y.commit(output);
    }

    @Override
    public void maxPool2dBackward(NdArray gradOutput, NdArray input, PoolSpec spec, NdArray gradInput) {
        ConvGeometry g = ConvGeometry.pool("pool2d", input.shape(), spec);
        if (allFloat32(gradOutput, input, gradInput)) {
            FloatKernels.maxPool2d(g, floats(input), input.offset(), null, 0, floats(gradOutput), gradOutput.offset(),
                    floats(gradInput), gradInput.offset());
            return;
        }
        DoubleView x = DoubleView.read(input);
        DoubleView gy = DoubleView.read(gradOutput);
        DoubleView gx = DoubleView.target(gradInput);
        ReferenceKernels.maxPool(g, x.data(), x.offset(), null, 0, gy.data(), gy.offset(), gx.data(), gx.offset());
        gx.commit(gradInput);
    }

    @Override
    public void avgPool2dForward(NdArray input, PoolSpec spec, NdArray output) {
        DoubleView x = DoubleView.read(input);
        DoubleView y = DoubleView.target(output);
        ReferenceKernels.avgPool(ConvGeometry.pool("pool2d", input.shape(), spec), x.data(), x.offset(), y.data(),
                y.offset(), null, 0, null, 0);
        y.commit(output);
    }

    @Override
    public void avgPool2dBackward(NdArray gradOutput, PoolSpec spec, NdArray gradInput) {
        DoubleView gy = DoubleView.read(gradOutput);
        DoubleView gx = DoubleView.target(gradInput);
        ReferenceKernels.avgPool(ConvGeometry.pool("pool2d", gradInput.shape(), spec), null, 0, null, 0,
                gy.data(), gy.offset(), gx.data(), gx.offset());
        gx.commit(gradInput);
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
        DoubleView x = DoubleView.read(input);
        double[] m = new double[c];
        double[] v = new double[c];
        ReferenceKernels.batchNormStatistics(x.data(), x.offset(), n, c, spatial(input), m, v);
        DoubleView y = DoubleView.target(output);
        ReferenceKernels.batchNormApply(x.data(), x.offset(), n, c, spatial(input), DoubleView.whole(gamma), DoubleView.whole(beta), m, v, eps,
                y.data(), y.offset());
        y.commit(output);
        DoubleView.store(m, 0, mean);
        DoubleView.store(v, 0, variance);
    }

    @Override
    public void batchNormEvalForward(NdArray input, NdArray gamma, NdArray beta, NdArray mean, NdArray variance,
                                     double eps, NdArray output) {
        if (allFloat32(input, gamma, beta, mean, variance, output)) {
            FloatKernels.batchNormEvalForward(floats(input), input.offset(), input.dim(0), input.dim(1),
                    spatial(input), floats(gamma), gamma.offset(), floats(beta), beta.offset(), floats(mean),
                    mean.offset(), floats(variance), variance.offset(), (float) eps, floats(output), output.offset());
            return;
        }
        DoubleView x = DoubleView.read(input);
        DoubleView y = DoubleView.target(output);
        ReferenceKernels.batchNormApply(x.data(), x.offset(), input.dim(0), input.dim(1), spatial(input), DoubleView.whole(gamma),
                DoubleView.whole(beta), DoubleView.whole(mean), DoubleView.whole(variance), eps, y.data(), y.offset());
        y.commit(output);
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
        DoubleView gy = DoubleView.read(gradOutput);
        DoubleView x = DoubleView.read(input);
        DoubleView gx = DoubleView.target(gradInput);
        double[] gg = new double[c];
        double[] gb = new double[c];
        ReferenceKernels.batchNormBackward(gy.data(), gy.offset(), x.data(), x.offset(), n, c, spatial(input), DoubleView.whole(gamma),
                DoubleView.whole(mean), DoubleView.whole(variance), eps, training, gx.data(), gx.offset(), gg, gb);
        gx.commit(gradInput);
        DoubleView.store(gg, 0, gradGamma);
        DoubleView.store(gb, 0, gradBeta);
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
        DoubleView a = DoubleView.read(x);
        DoubleView o = DoubleView.target(out);
        ReferenceKernels.softmax(a.data(), a.offset(), rows, cols, temperature, log, o.data(), o.offset());
        o.commit(out);
    }

    @Override
    public void softmaxBackward(NdArray gradOutput, NdArray output, double temperature, boolean log,
                                NdArray gradInput) {
        int cols = output.dim(-1);
        int rows = cols == 0 ? 0 : output.size() / cols;
        DoubleView gy = DoubleView.read(gradOutput);
        DoubleView y = DoubleView.read(output);
        DoubleView gx = DoubleView.target(gradInput);
        ReferenceKernels.softmaxBackward(gy.data(), gy.offset(), y.data(), y.offset(), rows, cols, temperature, log,
                gx.data(), gx.offset());
        gx.commit(gradInput);
    }

    @Override
    public void nllForward(NdArray logProbs, NdArray labels, double smoothing, NdArray lossPerRow) {
        int cols = logProbs.dim(-1);
        DoubleView lp = DoubleView.read(logProbs);
        DoubleView o = DoubleView.target(lossPerRow);
        ReferenceKernels.nllForward(lp.data(), lp.offset(), logProbs.dim(0), cols, storage(labels).ints,
                labels.offset(), smoothing, o.data(), o.offset());
        o.commit(lossPerRow);
    }

    @Override
    public void nllBackward(NdArray gradLossPerRow, NdArray labels, double smoothing, NdArray gradLogProbs) {
        DoubleView g = DoubleView.read(gradLossPerRow);
        DoubleView o = DoubleView.target(gradLogProbs);
        ReferenceKernels.nllBackward(g.data(), g.offset(), gradLogProbs.dim(0), gradLogProbs.dim(-1),
                storage(labels).ints, labels.offset(), smoothing, o.data(), o.offset());
        o.commit(gradLogProbs);
    }

    @Override
    public void distillationLoss(NdArray student, NdArray teacher, NdArray labels, DistillationSpec spec,
                                 NdArray terms, NdArray gradStudent) {
        int cols = student.dim(-1);
        int rows = cols == 0 ? 0 : student.size() / cols;
        int[] y = labels == null ? null : storage(labels).ints;
        int yo = labels == null ? 0 : labels.offset();
        double[] values = new double[3];
        if (allFloat32(student, teacher, gradStudent)) {
            FloatDistillationKernels.loss(floats(student), student.offset(), floats(teacher), teacher.offset(), y, yo,
                    rows, cols, spec, values, floats(gradStudent), gradStudent.offset());
        } else {
            DoubleView s = DoubleView.read(student);
            DoubleView t = DoubleView.read(teacher);
            DoubleView g = DoubleView.target(gradStudent);
            ReferenceKernels.distillation(s.data(), s.offset(), t.data(), t.offset(), y, yo, rows, cols, spec, values,
                    0, g.data(), g.offset());
            g.commit(gradStudent);
        }
        DoubleView.store(values, 0, terms);
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
        DoubleView p = DoubleView.read(param);
        DoubleView g = DoubleView.read(grad);
        DoubleView b = momentumBuffer == null ? new DoubleView(null, 0) : DoubleView.read(momentumBuffer);
        ReferenceKernels.sgdStep(p.data(), p.offset(), g.data(), g.offset(), b.data(), b.offset(), param.size(), lr, momentum,
                dampening, weightDecay, nesterov, firstStep);
        p.commit(param);
        if (momentumBuffer != null) {
            b.commit(momentumBuffer);
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
        DoubleView p = DoubleView.read(param);
        DoubleView g = DoubleView.read(grad);
        DoubleView m = DoubleView.read(firstMoment);
        DoubleView v = DoubleView.read(secondMoment);
        ReferenceKernels.adamwStep(p.data(), p.offset(), g.data(), g.offset(), m.data(), m.offset(), v.data(), v.offset(),
                param.size(), lr, beta1, beta2, eps, weightDecay, step);
        p.commit(param);
        m.commit(firstMoment);
        v.commit(secondMoment);
    }
}
