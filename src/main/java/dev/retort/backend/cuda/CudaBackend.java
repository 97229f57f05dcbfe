package dev.retort.backend.cuda;

import dev.retort.backend.Backend;
import dev.retort.backend.BinaryOp;
import dev.retort.backend.ConvSpec;
import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.NdArray;
import dev.retort.backend.PoolSpec;
import dev.retort.backend.Shapes;
import dev.retort.backend.UnaryOp;
import dev.retort.backend.cpu.CpuBackend;

/**
 * The CUDA backend: arrays live in device memory ({@link CudaStorage}) and every op is queued on the
 * runtime's one stream; the host waits only when it reads values back.
 *
 * <p>Memory operations are implemented here on {@link CudaRuntime}. The compute operations are wired
 * to our kernels ({@code CudaKernels}) and to cuBLAS/cuDNN through the JNI bridge ({@code NativeBridge});
 * until those are merged each throws {@link UnsupportedOperationException} naming itself — never a
 * silent stub.
 */
public final class CudaBackend implements Backend {
    private static volatile CudaBackend instance;

    private final CudaRuntime runtime;

    private CudaBackend(CudaRuntime runtime) {
        this.runtime = runtime;
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

    // ---- memory -------------------------------------------------------------------------------

    @Override
    public NdArray empty(DType dtype, int... shape) {
        return new NdArray(CudaStorage.allocate(runtime, dtype, Shapes.size(shape)), 0, shape);
    }

    @Override
    public NdArray fromHost(float[] data, int... shape) {
        CudaStorage s = CudaStorage.allocate(runtime, DType.FLOAT32, data.length);
        if (data.length > 0) {
            runtime.upload(data, 0, data.length, s.pointer());
        }
        return new NdArray(s, 0, shape);
    }

    @Override
    public NdArray fromHost(double[] data, int... shape) {
        CudaStorage s = CudaStorage.allocate(runtime, DType.FLOAT64, data.length);
        if (data.length > 0) {
            runtime.upload(data, 0, data.length, s.pointer());
        }
        return new NdArray(s, 0, shape);
    }

    @Override
    public NdArray fromHost(int[] data, int... shape) {
        CudaStorage s = CudaStorage.allocate(runtime, DType.INT32, data.length);
        if (data.length > 0) {
            runtime.upload(data, 0, data.length, s.pointer());
        }
        return new NdArray(s, 0, shape);
    }

    /** The elements in their own dtype: one of float[], double[], int[]. */
    private Object download(NdArray x) {
        int n = x.size();
        return switch (x.dtype()) {
            case FLOAT32 -> {
                float[] out = new float[n];
                if (n > 0) {
                    runtime.download(CudaStorage.pointer(x), n, out, 0);
                }
                yield out;
            }
            case FLOAT64 -> {
                double[] out = new double[n];
                if (n > 0) {
                    runtime.download(CudaStorage.pointer(x), n, out, 0);
                }
                yield out;
            }
            case INT32 -> {
                int[] out = new int[n];
                if (n > 0) {
                    runtime.download(CudaStorage.pointer(x), n, out, 0);
                }
                yield out;
            }
        };
    }

    @Override
    public double[] toDoubles(NdArray x) {
        Object data = download(x);
        if (data instanceof double[] d) {
            return d;
        }
        double[] out = new double[x.size()];
        if (data instanceof float[] f) {
            for (int i = 0; i < out.length; i++) {
                out[i] = f[i];
            }
        } else {
            int[] v = (int[]) data;
            for (int i = 0; i < out.length; i++) {
                out[i] = v[i];
            }
        }
        return out;
    }

    @Override
    public float[] toFloats(NdArray x) {
        if (x.dtype() == DType.FLOAT32) {
            return (float[]) download(x);
        }
        // As the CPU backend converts: through double, then a narrowing cast.
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
            return (int[]) download(x);
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
        if (out.size() == 0) {
            return;
        }
        DevicePointer p = CudaStorage.pointer(out);
        switch (out.dtype()) {
            case FLOAT32 -> runtime.fill32(p, Float.floatToRawIntBits((float) value), out.size());
            case INT32 -> runtime.fill32(p, (int) value, out.size());
            case FLOAT64 -> runtime.fill64(p, Double.doubleToRawLongBits(value), out.size());
        }
    }

    /**
     * Copies between CUDA arrays, or between a CUDA and a CPU array (state dicts and optimizer state
     * loaded from files arrive on the CPU). Same dtype on the device is one device-to-device copy;
     * a dtype conversion goes through the host, converting as the CPU backend does (through double).
     */
    // MERGE: a cast kernel from CudaKernels can replace the host round trip for device-to-device conversions.
    @Override
    public void copy(NdArray src, NdArray dst) {
        if (src.size() != dst.size()) {
            throw new IllegalArgumentException("copy: " + src + " and " + dst + " differ in size");
        }
        if (src.size() == 0) {
            return;
        }
        boolean fromDevice = src.device() == Device.CUDA;
        boolean toDevice = dst.device() == Device.CUDA;
        if (fromDevice && toDevice && src.dtype() == dst.dtype()) {
            runtime.copy(CudaStorage.pointer(src), CudaStorage.pointer(dst), (long) src.size() * src.dtype().bytes());
        } else if (toDevice) {
            uploadInto(dst, fromDevice ? this : CpuBackend.get(), src);
        } else {
            // Device to host: bring the values over, then let the CPU backend convert and store them.
            CpuBackend cpu = CpuBackend.get();
            NdArray host = switch (src.dtype()) {
                case FLOAT32 -> cpu.fromHost(toFloats(src), src.shape());
                case FLOAT64 -> cpu.fromHost(toDoubles(src), src.shape());
                case INT32 -> cpu.fromHost(toInts(src), src.shape());
            };
            try {
                cpu.copy(host, dst);
            } finally {
                host.storage().release();
            }
        }
    }

    /** Reads src through its backend, converted to dst's dtype, and uploads it into dst. */
    private void uploadInto(NdArray dst, Backend srcBackend, NdArray src) {
        DevicePointer p = CudaStorage.pointer(dst);
        switch (dst.dtype()) {
            case FLOAT32 -> runtime.upload(srcBackend.toFloats(src), 0, src.size(), p);
            case FLOAT64 -> runtime.upload(srcBackend.toDoubles(src), 0, src.size(), p);
            case INT32 -> runtime.upload(srcBackend.toInts(src), 0, src.size(), p);
        }
    }

    // ---- compute: wired at merge to CudaKernels and NativeBridge ----------------------------------

    private static UnsupportedOperationException notWired(String method) {
        return new UnsupportedOperationException("CudaBackend." + method + ": not wired yet");
    }

    @Override
    public void unary(UnaryOp op, NdArray x, NdArray out) {
        throw notWired("unary");
    }

    @Override
    public void binary(BinaryOp op, NdArray a, NdArray b, NdArray out) {
        throw notWired("binary");
    }

    @Override
    public void broadcastTo(NdArray x, NdArray out) {
        throw notWired("broadcastTo");
    }

    @Override
    public void affine(NdArray x, double alpha, double beta, NdArray out) {
        throw notWired("affine");
    }

    @Override
    public void accumulate(NdArray x, double alpha, NdArray out) {
        throw notWired("accumulate");
    }

    @Override
    public void dropoutMask(long seed, double p, NdArray mask) {
        throw notWired("dropoutMask");
    }

    @Override
    public long countNonFinite(NdArray x) {
        throw notWired("countNonFinite");
    }

    @Override
    public void sumTo(NdArray x, NdArray out) {
        throw notWired("sumTo");
    }

    @Override
    public void argmaxLastDim(NdArray x, NdArray out) {
        throw notWired("argmaxLastDim");
    }

    @Override
    public void matmul(NdArray a, boolean transA, NdArray b, boolean transB, NdArray out) {
        throw notWired("matmul");
    }

    @Override
    public void transposeLastTwo(NdArray x, NdArray out) {
        throw notWired("transposeLastTwo");
    }

    @Override
    public void conv2dForward(NdArray input, NdArray weight, NdArray bias, ConvSpec spec, NdArray output) {
        throw notWired("conv2dForward");
    }

    @Override
    public void conv2dBackwardInput(NdArray gradOutput, NdArray weight, ConvSpec spec, NdArray gradInput) {
        throw notWired("conv2dBackwardInput");
    }

    @Override
    public void conv2dBackwardWeight(NdArray gradOutput, NdArray input, ConvSpec spec, NdArray gradWeight,
                                     NdArray gradBias) {
        throw notWired("conv2dBackwardWeight");
    }

    @Override
    public void maxPool2dForward(NdArray input, PoolSpec spec, NdArray output) {
        throw notWired("maxPool2dForward");
    }

    @Override
    public void maxPool2dBackward(NdArray gradOutput, NdArray input, PoolSpec spec, NdArray gradInput) {
        throw notWired("maxPool2dBackward");
    }

    @Override
    public void avgPool2dForward(NdArray input, PoolSpec spec, NdArray output) {
        throw notWired("avgPool2dForward");
    }

    @Override
    public void avgPool2dBackward(NdArray gradOutput, PoolSpec spec, NdArray gradInput) {
        throw notWired("avgPool2dBackward");
    }

    @Override
    public void batchNormTrainForward(NdArray input, NdArray gamma, NdArray beta, double eps, NdArray output,
                                      NdArray mean, NdArray variance) {
        throw notWired("batchNormTrainForward");
    }

    @Override
    public void batchNormEvalForward(NdArray input, NdArray gamma, NdArray beta, NdArray mean, NdArray variance,
                                     double eps, NdArray output) {
        throw notWired("batchNormEvalForward");
    }

    @Override
    public void batchNormBackward(NdArray gradOutput, NdArray input, NdArray gamma, NdArray mean, NdArray variance,
                                  double eps, boolean training, NdArray gradInput, NdArray gradGamma,
                                  NdArray gradBeta) {
        throw notWired("batchNormBackward");
    }

    @Override
    public void softmax(NdArray x, double temperature, boolean log, NdArray out) {
        throw notWired("softmax");
    }

    @Override
    public void softmaxBackward(NdArray gradOutput, NdArray output, double temperature, boolean log,
                                NdArray gradInput) {
        throw notWired("softmaxBackward");
    }

    @Override
    public void nllForward(NdArray logProbs, NdArray labels, double smoothing, NdArray lossPerRow) {
        throw notWired("nllForward");
    }

    @Override
    public void nllBackward(NdArray gradLossPerRow, NdArray labels, double smoothing, NdArray gradLogProbs) {
        throw notWired("nllBackward");
    }

    @Override
    public void distillationLoss(NdArray student, NdArray teacher, NdArray labels, DistillationSpec spec,
                                 NdArray terms, NdArray gradStudent) {
        throw notWired("distillationLoss");
    }

    @Override
    public void sgdStep(NdArray param, NdArray grad, NdArray momentumBuffer, double lr, double momentum,
                        double dampening, double weightDecay, boolean nesterov, boolean firstStep) {
        throw notWired("sgdStep");
    }

    @Override
    public void adamwStep(NdArray param, NdArray grad, NdArray firstMoment, NdArray secondMoment, double lr,
                          double beta1, double beta2, double eps, double weightDecay, long step) {
        throw notWired("adamwStep");
    }
}
