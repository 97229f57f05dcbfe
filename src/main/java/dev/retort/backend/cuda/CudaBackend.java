package dev.retort.backend.cuda;

import dev.retort.backend.Backend;
import dev.retort.backend.BinaryOp;
import dev.retort.backend.ConvGeometry;
import dev.retort.backend.ConvSpec;
import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.NdArray;
import dev.retort.backend.PoolSpec;
import dev.retort.backend.UnaryOp;

/**
 * The CUDA backend: arrays live in device memory ({@link CudaStorage}) and every op is queued on the
 * runtime's one stream; the host waits only when it reads values back.
 *
 * <p>Memory operations (allocation, transfers, fills, copies, the shared scratch workspace) are delegated to
 * its {@link CudaMemory}; this class dispatches the ops. The compute operations run our kernels
 * ({@link CudaKernels}: elementwise, softmax, losses, reductions, dropout, optimizers, argmax, bias gradient)
 * and cuBLAS/cuDNN through the JNI bridge ({@link CudaHandles}: matmul, convolution, pooling, batch
 * normalisation), both created on first use on the runtime's stream. Compute is float32 only: a FLOAT64 or
 * misplaced INT32 argument throws {@link IllegalArgumentException} naming the op and the dtype (float64 is for
 * the CPU's gradient checks). Scratch memory comes from the memory's one growable device workspace, not per call.
 */
public final class CudaBackend implements Backend {
    private static volatile CudaBackend instance;

    private final CudaRuntime runtime;
    private final CudaMemory memory;

    private CudaBackend(CudaRuntime runtime) {
        this.runtime = runtime;
        this.memory = new CudaMemory(runtime);
    }

    /**
     * The backend on the started runtime. Needs only the driver and a device; {@code Backends.of(CUDA)}
     * also requires the kernels and the bridge ({@link CudaAvailability}).
     *
     * @throws CudaUnavailableException with the reason when CUDA cannot start
     */
    public static CudaBackend get() {
        CudaBackend b = instance;
        if (b == null) {
            synchronized (CudaBackend.class) {
                b = instance;
                if (b == null) {
                    b = new CudaBackend(CudaRuntime.get());
                    instance = b;
                }
            }
        }
        return b;
    }

    /** The runtime (context, stream, allocator) this backend queues all its work on. */
    public CudaRuntime runtime() {
        return runtime;
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public String describe() {
        return "cuda: " + runtime.info().describe() + "; memory: " + runtime.allocationSource();
    }

    // ---- memory: CudaMemory -----------------------------------------------------------------------

    @Override
    public NdArray empty(DType dtype, int... shape) {
        return memory.empty(dtype, shape);
    }

    @Override
    public NdArray fromHost(float[] data, int... shape) {
        return memory.fromHost(data, shape);
    }

    @Override
    public NdArray fromHost(double[] data, int... shape) {
        return memory.fromHost(data, shape);
    }

    @Override
    public NdArray fromHost(int[] data, int... shape) {
        return memory.fromHost(data, shape);
    }

    @Override
    public double[] toDoubles(NdArray x) {
        return memory.toDoubles(x);
    }

    @Override
    public float[] toFloats(NdArray x) {
        return memory.toFloats(x);
    }

    @Override
    public int[] toInts(NdArray x) {
        return memory.toInts(x);
    }

    @Override
    public void fill(NdArray out, double value) {
        memory.fill(out, value);
    }

    /**
     * Copies between CUDA arrays, or between a CUDA and a CPU array (state dicts and optimizer state
     * loaded from files arrive on the CPU). Same dtype on the device is one device-to-device copy;
     * FLOAT32 to and from INT32 on the device is one conversion kernel (convert_f32_i32 / convert_i32_f32, Java's
     * casts); other dtype conversions (FLOAT64, which has no kernels) go through the host, converting as the CPU
     * backend does (through double).
     */
    @Override
    public void copy(NdArray src, NdArray dst) {
        if (src.size() != dst.size()) {
            throw new IllegalArgumentException("copy: " + src + " and " + dst + " differ in size");
        }
        if (src.size() == 0) {
            return;
        }
        boolean onDevice = src.device() == Device.CUDA && dst.device() == Device.CUDA;
        if (onDevice && src.dtype() == DType.FLOAT32 && dst.dtype() == DType.INT32) {
            kernels().convertFloatToInt(addr(src), addr(dst), src.size());
        } else if (onDevice && src.dtype() == DType.INT32 && dst.dtype() == DType.FLOAT32) {
            kernels().convertIntToFloat(addr(src), addr(dst), src.size());
        } else {
            memory.copy(src, dst);
        }
    }

    // ---- compute: our kernels (CudaKernels) and cuBLAS/cuDNN (CudaHandles), all on the one stream -------

    /** The kernels, loaded into the runtime's context and bound to its stream on first use. */
    private CudaKernels kernels() {
        CudaKernels k = kernels;
        if (k == null) {
            synchronized (this) {
                k = kernels;
                if (k == null) {
                    runtime.makeCurrent();
                    KernelImages images = KernelImages.bundled();
                    if (!images.available()) {
                        throw new CudaUnavailableException(images.unavailableReason());
                    }
                    k = CudaKernels.load(images, runtime.stream());
                    kernels = k;
                }
            }
        }
        return k;
    }

    /** The cuBLAS and cuDNN handles on the runtime's stream, opened on first use. */
    private CudaHandles handles() {
        CudaHandles h = handles;
        if (h == null) {
            synchronized (this) {
                h = handles;
                if (h == null) {
                    runtime.makeCurrent();
                    NativeBridge.initFromEnvironment(null);
                    h = CudaHandles.open(runtime.streamAddress(), CudaHandles.Options.DEFAULT);
                    handles = h;
                }
            }
        }
        return h;
    }

    private volatile CudaKernels kernels;
    private volatile CudaHandles handles;

    /** The shared scratch block's address, grown to at least {@code bytes}; see {@link CudaMemory#workspace}. */
    private long workspace(long bytes) {
        return memory.workspace(bytes).address();
    }

    static long align(long bytes) {
        return (bytes + 255) & ~255L;
    }

    /** The device address of x's first element; 0 for an empty array (kernels accept it with a zero count). */
    private static long addr(NdArray x) {
        return x.size() == 0 ? 0 : CudaStorage.address(x);
    }

    /** The CUDA backend computes in float32; float64 is for the CPU's gradient checks. */
    private static void float32(String op, NdArray... arrays) {
        for (NdArray a : arrays) {
            if (a != null && a.dtype() != DType.FLOAT32) {
                throw new IllegalArgumentException("CudaBackend." + op + ": " + a + " is " + a.dtype()
                        + "; the CUDA backend computes in FLOAT32 only (use the CPU backend for FLOAT64 gradient checks)");
            }
        }
    }

    private static void int32(String op, String name, NdArray a) {
        if (a != null && a.dtype() != DType.INT32) {
            throw new IllegalArgumentException("CudaBackend." + op + ": " + name + " " + a + " must be INT32");
        }
    }

    /** Everything after the first two dimensions: H·W of NCHW, 1 of [N, C]. */
    private static int spatial(NdArray x) {
        int s = 1;
        for (int d = 2; d < x.rank(); d++) {
            s *= x.dim(d);
        }
        return s;
    }

    private static int rowsOf(NdArray x) {
        int cols = x.rank() == 0 ? 1 : x.dim(-1);
        return cols == 0 ? 0 : x.size() / cols;
    }

    private static int colsOf(NdArray x) {
        return x.rank() == 0 ? 1 : x.dim(-1);
    }

    @Override
    public void unary(UnaryOp op, NdArray x, NdArray out) {
        float32("unary", x, out);
        kernels().unary(op, addr(x), addr(out), x.size());
    }

    @Override
    public void binary(BinaryOp op, NdArray a, NdArray b, NdArray out) {
        float32("binary", a, b, out);
        if (out.size() == 0) {
            return;
        }
        if (java.util.Arrays.equals(a.shape(), b.shape()) && a.size() == out.size()) {
            kernels().binary(op, addr(a), addr(b), addr(out), out.size());
        } else if (b.size() == 1 && a.size() == out.size() && a.rank() == out.rank()) {
            kernels().binaryScalar(op, addr(a), addr(b), addr(out), out.size());
        } else {
            kernels().binaryBroadcast(op, addr(a), a.shape(), addr(b), b.shape(), addr(out), out.shape());
        }
    }

    @Override
    public void broadcastTo(NdArray x, NdArray out) {
        float32("broadcastTo", x, out);
        if (out.size() == 0) {
            return;
        }
        kernels().broadcastTo(addr(x), x.shape(), addr(out), out.shape());
    }

    @Override
    public void affine(NdArray x, double alpha, double beta, NdArray out) {
        float32("affine", x, out);
        kernels().affine(addr(x), addr(out), x.size(), alpha, beta);
    }

    @Override
    public void accumulate(NdArray x, double alpha, NdArray out) {
        float32("accumulate", x, out);
        kernels().accumulate(addr(x), addr(out), x.size(), alpha);
    }

    @Override
    public void dropoutMask(long seed, double p, NdArray mask) {
        float32("dropoutMask", mask);
        kernels().dropoutMask(addr(mask), mask.size(), seed, p);
    }

    /** The one op that returns a value: it waits for the stream. */
    @Override
    public long countNonFinite(NdArray x) {
        if (x.dtype() == DType.INT32 || x.size() == 0) {
            return 0;
        }
        float32("countNonFinite", x);
        DevicePointer ws = memory.workspace(ReducePlans.reduceWorkspaceBytes() + 8);
        DevicePointer result = ws.plus(ReducePlans.reduceWorkspaceBytes());
        kernels().countNonFinite(addr(x), x.size(), ws.address(), result.address());
        // The count is a 64-bit integer; reading it waits for the stream.
        return memory.downloadLong(result);
    }

    @Override
    public void sumTo(NdArray x, NdArray out) {
        float32("sumTo", x, out);
        if (out.size() == 0) {
            return;
        }
        long ws = workspace(ReducePlans.reduceWorkspaceBytes());
        kernels().sumTo(addr(x), x.shape(), addr(out), out.shape(), ws);
    }

    @Override
    public void argmaxLastDim(NdArray x, NdArray out) {
        float32("argmaxLastDim", x);
        int32("argmaxLastDim", "out", out);
        kernels().argmaxLastDim(addr(x), addr(out), rowsOf(x), colsOf(x));
    }

    // ---- linear algebra: cuBLAS ---------------------------------------------------------------

    /**
     * cublasSgemm (one product) or cublasSgemmStridedBatched (3-D); the bridge does the row-major mapping. Plain
     * FP32, never TF32, so that results stay within float rounding of the CPU's.
     */
    @Override
    public void matmul(NdArray a, boolean transA, NdArray b, boolean transB, NdArray out) {
        float32("matmul", a, b, out);
        int batch = a.rank() == 3 ? a.dim(0) : 1;
        int m = out.dim(-2);
        int n = out.dim(-1);
        int k = transA ? a.dim(-2) : a.dim(-1);
        if (out.size() == 0) {
            return;
        }
        if (k == 0) {
            fill(out, 0); // an empty sum; cuBLAS rejects k = 0
            return;
        }
        if (batch == 1) {
            handles().sgemm(transA, transB, m, n, k, 1f, addr(a), addr(b), 0f, addr(out));
        } else {
            handles().sgemmStridedBatched(transA, transB, m, n, k, 1f, addr(a), (long) m * k, addr(b), (long) k * n,
                    0f, addr(out), (long) m * n, batch);
        }
    }

    /** A strided gather through broadcast_to_f32 (exact: it only moves values). */
    @Override
    public void transposeLastTwo(NdArray x, NdArray out) {
        float32("transposeLastTwo", x, out);
        int rows = x.dim(-2);
        int cols = x.dim(-1);
        if (x.size() == 0) {
            return;
        }
        kernels().transposeLastTwo(addr(x), x.size() / ((long) rows * cols), rows, cols, addr(out));
    }

    // ---- convolution and pooling: cuDNN -------------------------------------------------------

    @Override
    public void conv2dForward(NdArray input, NdArray weight, NdArray bias, ConvSpec spec, NdArray output) {
        float32("conv2dForward", input, weight, bias, output);
        if (output.size() == 0) {
            return;
        }
        ConvGeometry s = ConvGeometry.conv(input.shape(), weight.shape(), spec);
        handles().convolutionForward(s, addr(input), addr(weight), addr(output));
        if (bias != null) {
            handles().addBias(s.batch(), s.outChannels(), s.outHeight(), s.outWidth(), addr(bias), addr(output));
        }
    }

    @Override
    public void conv2dBackwardInput(NdArray gradOutput, NdArray weight, ConvSpec spec, NdArray gradInput) {
        float32("conv2dBackwardInput", gradOutput, weight, gradInput);
        if (gradInput.size() == 0) {
            return;
        }
        ConvGeometry s = ConvGeometry.conv(gradInput.shape(), weight.shape(), spec);
        handles().convolutionBackwardData(s, addr(weight), addr(gradOutput), addr(gradInput));
    }

    @Override
    public void conv2dBackwardWeight(NdArray gradOutput, NdArray input, ConvSpec spec, NdArray gradWeight,
                                     NdArray gradBias) {
        float32("conv2dBackwardWeight", gradOutput, input, gradWeight, gradBias);
        if (gradWeight.size() == 0) {
            return;
        }
        ConvGeometry s = ConvGeometry.conv(input.shape(), gradWeight.shape(), spec);
        handles().convolutionBackwardFilter(s, addr(input), addr(gradOutput), addr(gradWeight));
        if (gradBias != null) {
            kernels().biasGrad(addr(gradOutput), addr(gradBias), s.batch(), s.outChannels(),
                    s.outHeight() * s.outWidth());
        }
    }

    @Override
    public void maxPool2dForward(NdArray input, PoolSpec spec, NdArray output) {
        float32("maxPool2dForward", input, output);
        if (output.size() == 0) {
            return;
        }
        handles().poolingForward(ConvGeometry.pool("pool2d", input.shape(), spec), true, addr(input), addr(output));
    }

    /** cuDNN's max-pooling backward needs the forward output: recomputed here into the workspace. */
    @Override
    public void maxPool2dBackward(NdArray gradOutput, NdArray input, PoolSpec spec, NdArray gradInput) {
        float32("maxPool2dBackward", gradOutput, input, gradInput);
        if (gradInput.size() == 0) {
            return;
        }
        ConvGeometry s = ConvGeometry.pool("pool2d", input.shape(), spec);
        long y = workspace(4L * gradOutput.size());
        handles().poolingForward(s, true, addr(input), y);
        handles().poolingBackward(s, true, y, addr(gradOutput), addr(input), addr(gradInput));
    }

    @Override
    public void avgPool2dForward(NdArray input, PoolSpec spec, NdArray output) {
        float32("avgPool2dForward", input, output);
        if (output.size() == 0) {
            return;
        }
        handles().poolingForward(ConvGeometry.pool("pool2d", input.shape(), spec), false, addr(input), addr(output));
    }

    @Override
    public void avgPool2dBackward(NdArray gradOutput, PoolSpec spec, NdArray gradInput) {
        float32("avgPool2dBackward", gradOutput, gradInput);
        if (gradInput.size() == 0) {
            return;
        }
        handles().poolingBackward(ConvGeometry.pool("pool2d", gradInput.shape(), spec), false, 0, addr(gradOutput), 0,
                addr(gradInput));
    }

    // ---- batch normalisation: cuDNN, plus kernels for the statistics the CPU contract keeps -------

    /**
     * cuDNN's training forward. The contract keeps the batch mean and the biased variance; cuDNN saves
     * 1/sqrt(var + eps) instead, so the statistics come through its running pair with momentum 1 (which leaves
     * the batch mean and the unbiased variance there, from zeroed buffers) and the variance is rescaled by
     * (m − 1)/m with m = N·H·W.
     */
    @Override
    public void batchNormTrainForward(NdArray input, NdArray gamma, NdArray beta, double eps, NdArray output,
                                      NdArray mean, NdArray variance) {
        float32("batchNormTrainForward", input, gamma, beta, output, mean, variance);
        int n = input.dim(0);
        int c = input.dim(1);
        int hw = spatial(input);
        if (input.size() == 0) {
            return;
        }
        long m = (long) n * hw;
        long unbiased = workspace(4L * c);
        CudaKernels k = kernels();
        // cuDNN blends into the running pair ((1 - 1)·old + 1·batch): zero them so stale NaNs cannot survive.
        k.fill(addr(mean), c, 0);
        k.fill(unbiased, c, 0);
        handles().batchNormForwardTraining(n, c, hw, 1, eps, 1.0, addr(input), addr(gamma), addr(beta), addr(output),
                addr(mean), unbiased, 0, 0);
        k.affine(unbiased, addr(variance), c, (double) (m - 1) / m, 0);
    }

    @Override
    public void batchNormEvalForward(NdArray input, NdArray gamma, NdArray beta, NdArray mean, NdArray variance,
                                     double eps, NdArray output) {
        float32("batchNormEvalForward", input, gamma, beta, mean, variance, output);
        if (input.size() == 0) {
            return;
        }
        handles().batchNormForwardInference(input.dim(0), input.dim(1), spatial(input), 1, eps, addr(input),
                addr(gamma), addr(beta), addr(mean), addr(variance), addr(output));
    }

    /**
     * Training mode: cuDNN's backward with the saved statistics (invStd = 1/sqrt(variance + eps) computed here
     * from the contract's biased variance). Evaluation mode (constant statistics) is elementwise, with kernels:
     * gx = gy·γ·invStd, gγ = invStd·Σ gy·(x − mean), gβ = Σ gy.
     */
    @Override
    public void batchNormBackward(NdArray gradOutput, NdArray input, NdArray gamma, NdArray mean, NdArray variance,
                                  double eps, boolean training, NdArray gradInput, NdArray gradGamma,
                                  NdArray gradBeta) {
        float32("batchNormBackward", gradOutput, input, gamma, mean, variance, gradInput, gradGamma, gradBeta);
        int n = input.dim(0);
        int c = input.dim(1);
        int hw = spatial(input);
        if (input.size() == 0) {
            fill(gradGamma, 0);
            fill(gradBeta, 0);
            return;
        }
        CudaKernels k = kernels();
        long ws = workspace(batchNormWorkspaceBytes(n, c, hw, training));
        long invStd = inverseStd(k, addr(variance), eps, c, ws);
        if (training) {
            handles().batchNormBackward(n, c, hw, 1, eps, addr(input), addr(gradOutput), addr(gamma), addr(mean),
                    invStd, addr(gradInput), addr(gradGamma), addr(gradBeta));
            return;
        }
        batchNormEvalBackward(k, addr(gradOutput), addr(input), addr(gamma), addr(mean), invStd, n, c, hw, ws,
                addr(gradInput), addr(gradGamma), addr(gradBeta));
    }

    // Workspace of batchNormBackward, slots 256-byte aligned: [one | var + eps | root | invStd | γ·invStd |
    // Σ gy·(x − mean) | (eval) x − mean | gy·(x − mean)].

    static long batchNormWorkspaceBytes(int n, int c, int hw, boolean training) {
        return 256 + 5 * align(4L * c) + (training ? 0 : 2 * align(4L * n * c * hw));
    }

    /** Writes 1/sqrt(variance + eps) per channel into the workspace and returns its address; kernels only. */
    static long inverseStd(CudaKernels k, long variance, double eps, int c, long ws) {
        long channelBytes = align(4L * c);
        long one = ws;
        long varEps = one + 256;
        long root = varEps + channelBytes;
        long invStd = root + channelBytes;
        k.fill(one, 1, 1.0);
        k.affine(variance, varEps, c, 1.0, eps);
        k.unary(UnaryOp.SQRT, varEps, root, c);
        k.binaryBroadcast(BinaryOp.DIV, one, new int[] {1}, root, new int[] {c}, invStd, new int[] {c});
        return invStd;
    }

    /** Evaluation-mode gradients with constant statistics, from {@link #inverseStd}'s output; kernels only. */
    static void batchNormEvalBackward(CudaKernels k, long gradOutput, long input, long gamma, long mean, long invStd,
                                      int n, int c, int hw, long ws, long gradInput, long gradGamma, long gradBeta) {
        long channelBytes = align(4L * c);
        long size = (long) n * c * hw;
        long scale = invStd + channelBytes;
        long sums = scale + channelBytes;
        long centred = sums + channelBytes;
        long product = centred + align(4L * size);
        int[] full = {n, c, hw};
        int[] perChannel = {c, 1};
        k.binary(BinaryOp.MUL, gamma, invStd, scale, c);
        k.binaryBroadcast(BinaryOp.MUL, gradOutput, full, scale, perChannel, gradInput, full);
        k.binaryBroadcast(BinaryOp.SUB, input, full, mean, perChannel, centred, full);
        k.binary(BinaryOp.MUL, centred, gradOutput, product, size);
        k.biasGrad(product, sums, n, c, hw);
        k.binary(BinaryOp.MUL, sums, invStd, gradGamma, c);
        k.biasGrad(gradOutput, gradBeta, n, c, hw);
    }

    // ---- softmax and losses: our kernels ------------------------------------------------------

    @Override
    public void softmax(NdArray x, double temperature, boolean log, NdArray out) {
        float32("softmax", x, out);
        kernels().softmax(addr(x), addr(out), rowsOf(x), colsOf(x), temperature, log);
    }

    @Override
    public void softmaxBackward(NdArray gradOutput, NdArray output, double temperature, boolean log,
                                NdArray gradInput) {
        float32("softmaxBackward", gradOutput, output, gradInput);
        kernels().softmaxBackward(addr(gradOutput), addr(output), addr(gradInput), rowsOf(output), colsOf(output),
                temperature, log);
    }

    @Override
    public void nllForward(NdArray logProbs, NdArray labels, double smoothing, NdArray lossPerRow) {
        float32("nllForward", logProbs, lossPerRow);
        int32("nllForward", "labels", labels);
        kernels().nllForward(addr(logProbs), addr(labels), addr(lossPerRow), rowsOf(logProbs), colsOf(logProbs),
                smoothing);
    }

    @Override
    public void nllBackward(NdArray gradLossPerRow, NdArray labels, double smoothing, NdArray gradLogProbs) {
        float32("nllBackward", gradLossPerRow, gradLogProbs);
        int32("nllBackward", "labels", labels);
        kernels().nllBackward(addr(gradLossPerRow), addr(labels), addr(gradLogProbs), rowsOf(gradLogProbs),
                colsOf(gradLogProbs), smoothing);
    }

    @Override
    public void distillationLoss(NdArray student, NdArray teacher, NdArray labels, DistillationSpec spec,
                                 NdArray terms, NdArray gradStudent) {
        float32("distillationLoss", student, teacher, terms, gradStudent);
        int32("distillationLoss", "labels", labels);
        int rows = rowsOf(student);
        long ws = workspace(Math.max(8, KdLossPlans.distillationWorkspaceBytes(rows)));
        kernels().distillationLoss(addr(student), addr(teacher), labels == null ? 0 : addr(labels), rows,
                colsOf(student), spec, ws, addr(terms), addr(gradStudent));
    }

    // ---- optimizers: fused kernels --------------------------------------------------------------

    @Override
    public void sgdStep(NdArray param, NdArray grad, NdArray momentumBuffer, double lr, double momentum,
                        double dampening, double weightDecay, boolean nesterov, boolean firstStep) {
        float32("sgdStep", param, grad, momentumBuffer);
        kernels().sgdStep(addr(param), addr(grad), momentumBuffer == null ? 0 : addr(momentumBuffer), param.size(),
                lr, momentum, dampening, weightDecay, nesterov, firstStep);
    }

    @Override
    public void adamwStep(NdArray param, NdArray grad, NdArray firstMoment, NdArray secondMoment, double lr,
                          double beta1, double beta2, double eps, double weightDecay, long step) {
        float32("adamwStep", param, grad, firstMoment, secondMoment);
        kernels().adamwStep(addr(param), addr(grad), addr(firstMoment), addr(secondMoment), param.size(), lr, beta1,
                beta2, eps, weightDecay, step);
    }
}
