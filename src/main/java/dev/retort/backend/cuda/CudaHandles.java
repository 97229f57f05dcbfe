package dev.retort.backend.cuda;

import dev.retort.backend.ConvGeometry;

/**
 * One cuBLAS and one cuDNN handle bound to one CUDA stream, with the bridge's per-shape cache of cuDNN descriptors
 * and chosen convolution algorithms and its workspace, which grows as needed and is reused.
 *
 * <p>Every method enqueues work on the stream and returns without waiting. Arrays are float32, contiguous and
 * row-major (NCHW for images, OIHW for convolution weights); pointers are device addresses in bytes. Arguments
 * are checked here, before JNI, and a bad one throws {@link IllegalArgumentException} naming the call and the
 * argument; a library failure throws {@link CudaLibraryException} naming the call and its status. The methods
 * are synchronised: one context serves one thread at a time, as cuBLAS and cuDNN handles require. The cache is
 * never evicted: it holds one entry per distinct shape, and a training run has a few dozen.
 */
public final class CudaHandles implements AutoCloseable {

    /** How cuDNN convolution algorithms are chosen, once per shape. */
    public enum AlgorithmSearch {
        /** Time every algorithm on the first call (cudnnFind*AlgorithmEx): one host synchronisation per shape. */
        MEASURE,
        /** Take cuDNN's heuristic choice (cudnnGet*Algorithm_v7): no timing, no synchronisation. */
        HEURISTIC
    }

    /**
     * @param deterministic convolution algorithms and max pooling whose results do not depend on scheduling
     * @param convolutionTf32 let convolutions round inputs to TF32 on Ampere and newer (GEMMs choose per call)
     */
    public record Options(AlgorithmSearch search, boolean deterministic, boolean convolutionTf32) {
        /**
         * Measured algorithm choice, nondeterministic algorithms allowed, no TF32 in convolutions: full
         * float32 accuracy at the best measured speed.
         */
        public static final Options DEFAULT = new Options(AlgorithmSearch.MEASURE, false, false);

        /** @throws IllegalArgumentException if {@code search} is null */
        public Options {
            if (search == null) {
                throw new IllegalArgumentException("CudaHandles.Options: search must not be null");
            }
        }
    }

    /** What the bridge holds for this context: workspace bytes, cached shapes, convolution algorithm searches run. */
    public record Statistics(long workspaceBytes, long cachedShapes, long algorithmSearches) {}

    private long address;
    private final long stream;
    private final Options options;

    /** Package-private so tests can hold closed handles (address 0) to check validation without a library. */
    CudaHandles(long address, long stream, Options options) {
        this.address = address;
        this.stream = stream;
        this.options = options;
    }

    /**
     * Creates the handles on {@code stream} (a CUstream address; 0 is the legacy default stream). A CUDA context
     * must be current on this thread, and {@link NativeBridge#init} must have succeeded.
     */
    public static CudaHandles open(long stream, Options options) {
        if (options == null) {
            throw new IllegalArgumentException("CudaHandles.open: options must not be null");
        }
        if (NativeBridge.binding() == null) {
            String reason = NativeBridge.unavailableReason();
            throw new IllegalStateException("CudaHandles.open: the CUDA libraries are not bound; call NativeBridge.init"
                    + " first" + (reason == null ? "" : " (" + reason + ")"));
        }
        long address = NativeBridge.nCreate(stream, options.search().ordinal(), options.deterministic(),
                options.convolutionTf32());
        return new CudaHandles(address, stream, options);
    }

    /**
     * The CUstream address all library calls of these handles are queued on; 0 is the legacy default stream.
     */
    public long stream() {
        return stream;
    }

    /** The options the handles were created with; fixed for their lifetime. */
    public Options options() {
        return options;
    }

    /**
     * What the bridge currently holds for these handles.
     *
     * @throws IllegalStateException if the handles were closed
     */
    public synchronized Statistics statistics() {
        long[] s = NativeBridge.nStatistics(live("statistics"));
        return new Statistics(s[0], s[1], s[2]);
    }

    /**
     * Releases the descriptors, the workspace (freed in stream order, so close before destroying the stream) and
     * the handles; safe to call twice.
     */
    @Override
    public synchronized void close() {
        if (address != 0) {
            long closing = address;
            address = 0;
            NativeBridge.nDestroy(closing);
        }
    }

    // ---- cuBLAS ---------------------------------------------------------------------------------

    /**
     * {@code c = alpha · op(a) · op(b) + beta · c} for row-major {@code op(a)} [m, k], {@code op(b)} [k, n] and
     * {@code c} [m, n], where op transposes a stored [k, m] a (or [n, k] b) when its flag is set. cublasSgemm_v2,
     * never with TF32. The bridge maps row-major to cuBLAS's column-major by computing {@code cᵀ = op(b)ᵀ · op(a)ᵀ}:
     * no data moves.
     */
    public synchronized void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, long b,
                                   float beta, long c) {
        checkGemm("sgemm", m, n, k, a, b, c);
        NativeBridge.nSgemm(live("sgemm"), transA, transB, m, n, k, alpha, a, b, beta, c);
    }

    /** {@link #sgemm} through cublasGemmEx with CUBLAS_COMPUTE_32F, or CUBLAS_COMPUTE_32F_FAST_TF32 when {@code tf32}. */
    public synchronized void gemmEx(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, long b,
                                    float beta, long c, boolean tf32) {
        checkGemm("gemmEx", m, n, k, a, b, c);
        NativeBridge.nGemmEx(live("gemmEx"), transA, transB, m, n, k, alpha, a, b, beta, c, tf32);
    }

    /**
     * {@link #sgemm} for {@code batch} matrices: the i-th starts {@code i · stride} elements after the first.
     * Strides of a and b may be 0 (one matrix for every product); c's must keep the outputs apart.
     */
    public synchronized void sgemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                                 long a, long strideA, long b, long strideB, float beta, long c,
                                                 long strideC, int batch) {
        String call = "sgemmStridedBatched";
        checkGemm(call, m, n, k, a, b, c);
        positive(call, "batch", batch);
        if (strideA < 0 || strideB < 0) {
            throw new IllegalArgumentException(call + ": strides must not be negative, got strideA " + strideA
                    + ", strideB " + strideB);
        }
        if (batch > 1 && strideC < (long) m * n) {
            throw new IllegalArgumentException(call + ": strideC " + strideC + " is less than one output matrix ("
                    + m + " x " + n + " = " + (long) m * n + " elements), so the outputs would overlap");
        }
        NativeBridge.nSgemmStridedBatched(live(call), transA, transB, m, n, k, alpha, a, strideA, b, strideB, beta, c,
                strideC, batch);
    }

    // ---- cuDNN convolution ----------------------------------------------------------------------

    /** {@code y = conv(x, weight)} (cross-correlation, as PyTorch), y [N, K, outH, outW] overwritten. */
    public synchronized void convolutionForward(ConvGeometry s, long x, long weight, long y) {
        String call = "convolutionForward";
        checkConvolution(call, s);
        pointer(call, "x", x);
        pointer(call, "weight", weight);
        pointer(call, "y", y);
        NativeBridge.nConvolutionForward(live(call), s.batch(), s.inChannels(), s.height(), s.width(), s.outChannels(),
                s.kernelH(), s.kernelW(), s.padH(), s.padW(), s.strideH(), s.strideW(), x, weight, y);
    }

    /** The gradient with respect to the input, dx [N, C, H, W] overwritten. */
    public synchronized void convolutionBackwardData(ConvGeometry s, long weight, long dy, long dx) {
        String call = "convolutionBackwardData";
        checkConvolution(call, s);
        pointer(call, "weight", weight);
        pointer(call, "dy", dy);
        pointer(call, "dx", dx);
        NativeBridge.nConvolutionBackwardData(live(call), s.batch(), s.inChannels(), s.height(), s.width(),
                s.outChannels(), s.kernelH(), s.kernelW(), s.padH(), s.padW(), s.strideH(), s.strideW(), weight, dy, dx);
    }

    /** The gradient with respect to the weight, dw [K, C, kH, kW] overwritten (not accumulated). */
    public synchronized void convolutionBackwardFilter(ConvGeometry s, long x, long dy, long dw) {
        String call = "convolutionBackwardFilter";
        checkConvolution(call, s);
        pointer(call, "x", x);
        pointer(call, "dy", dy);
        pointer(call, "dw", dw);
        NativeBridge.nConvolutionBackwardFilter(live(call), s.batch(), s.inChannels(), s.height(), s.width(),
                s.outChannels(), s.kernelH(), s.kernelW(), s.padH(), s.padW(), s.strideH(), s.strideW(), x, dy, dw);
    }

    /** {@code y[n, c, h, w] += bias[c]} in place (cudnnAddTensor). */
    public synchronized void addBias(int n, int c, int h, int w, long bias, long y) {
        String call = "addBias";
        checkNchw(call, n, c, h, w);
        pointer(call, "bias", bias);
        pointer(call, "y", y);
        NativeBridge.nAddBias(live(call), n, c, h, w, bias, y);
    }

    // ---- cuDNN pooling ----------------------------------------------------------------------------

    /**
     * y [N, C, outH, outW] overwritten; max pooling never picks padding, average pooling counts it as 0 and in the
     * divisor. {@code s} is a pooling geometry ({@link ConvGeometry#pool}).
     */
    public synchronized void poolingForward(ConvGeometry s, boolean max, long x, long y) {
        String call = "poolingForward";
        checkPooling(call, s, max);
        pointer(call, "x", x);
        pointer(call, "y", y);
        NativeBridge.nPoolingForward(live(call), s.batch(), s.inChannels(), s.height(), s.width(), s.kernelH(),
                s.kernelW(), s.padH(), s.padW(), s.strideH(), s.strideW(), max, x, y);
    }

    /**
     * dx [N, C, H, W] overwritten from dy. Max pooling needs the forward's x and y to find each window's maximum;
     * average pooling reads neither, and they may be 0.
     */
    public synchronized void poolingBackward(ConvGeometry s, boolean max, long y, long dy, long x, long dx) {
        String call = "poolingBackward";
        checkPooling(call, s, max);
        pointer(call, "dy", dy);
        pointer(call, "dx", dx);
        if (max) {
            pointer(call, "y", y);
            pointer(call, "x", x);
        } else {
            optionalPointer(call, "y", y);
            optionalPointer(call, "x", x);
        }
        NativeBridge.nPoolingBackward(live(call), s.batch(), s.inChannels(), s.height(), s.width(), s.kernelH(),
                s.kernelW(), s.padH(), s.padW(), s.strideH(), s.strideW(), max, y, dy, x, dx);
    }

    // ---- cuDNN batch normalisation (per channel over N, H, W; [N, C] inputs are [N, C, 1, 1]) -------

    /**
     * Training-mode forward: y normalised with the batch mean and biased variance, then scaled and shifted.
     *
     * <p>{@code momentum} is PyTorch's: {@code running = (1 − momentum)·running + momentum·batch}, and the running
     * variance takes the unbiased batch variance (÷ (N·H·W − 1)), as PyTorch does; cuDNN's
     * exponentialAverageFactor is exactly this momentum. {@code saveMean} and {@code saveInvStd} receive the batch
     * mean and {@code 1/sqrt(biased variance + eps)} for {@link #batchNormBackward}. Either pair (running, saved)
     * may be 0, 0. For the biased variance itself: {@code 1/saveInvStd² − eps}, or pass scratch buffers as the
     * running pair with momentum 1, which leaves the unbiased batch variance there.
     */
    public synchronized void batchNormForwardTraining(int n, int c, int h, int w, double eps, double momentum, long x,
                                                      long gamma, long beta, long y, long runningMean,
                                                      long runningVar, long saveMean, long saveInvStd) {
        String call = "batchNormForwardTraining";
        checkNchw(call, n, c, h, w);
        if ((long) n * h * w < 2) {
            throw new IllegalArgumentException(call + ": training needs more than one value per channel (N·H·W = "
                    + (long) n * h * w + "), as in PyTorch");
        }
        checkEps(call, eps);
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(call + ": momentum must be in [0, 1], got " + momentum);
        }
        pointer(call, "x", x);
        pointer(call, "gamma", gamma);
        pointer(call, "beta", beta);
        pointer(call, "y", y);
        optionalPair(call, "runningMean", runningMean, "runningVar", runningVar);
        optionalPair(call, "saveMean", saveMean, "saveInvStd", saveInvStd);
        NativeBridge.nBatchNormForwardTraining(live(call), n, c, h, w, eps, momentum, x, gamma, beta, y, runningMean,
                runningVar, saveMean, saveInvStd);
    }

    /** Evaluation-mode forward with the given (running) statistics. */
    public synchronized void batchNormForwardInference(int n, int c, int h, int w, double eps, long x, long gamma,
                                                       long beta, long mean, long variance, long y) {
        String call = "batchNormForwardInference";
        checkNchw(call, n, c, h, w);
        checkEps(call, eps);
        pointer(call, "x", x);
        pointer(call, "gamma", gamma);
        pointer(call, "beta", beta);
        pointer(call, "mean", mean);
        pointer(call, "variance", variance);
        pointer(call, "y", y);
        NativeBridge.nBatchNormForwardInference(live(call), n, c, h, w, eps, x, gamma, beta, mean, variance, y);
    }

    /**
     * Training-mode gradients (the batch statistics depend on x): dx, dGamma and dBeta overwritten. savedMean and
     * savedInvStd come from {@link #batchNormForwardTraining}, or are both 0 for cuDNN to recompute them from x.
     * The evaluation-mode gradient is elementwise and not done here.
     */
    public synchronized void batchNormBackward(int n, int c, int h, int w, double eps, long x, long dy, long gamma,
                                               long savedMean, long savedInvStd, long dx, long dGamma, long dBeta) {
        String call = "batchNormBackward";
        checkNchw(call, n, c, h, w);
        checkEps(call, eps);
        pointer(call, "x", x);
        pointer(call, "dy", dy);
        pointer(call, "gamma", gamma);
        pointer(call, "dx", dx);
        pointer(call, "dGamma", dGamma);
        pointer(call, "dBeta", dBeta);
        optionalPair(call, "savedMean", savedMean, "savedInvStd", savedInvStd);
        NativeBridge.nBatchNormBackward(live(call), n, c, h, w, eps, x, dy, gamma, savedMean, savedInvStd, dx, dGamma,
                dBeta);
    }

    // ---- argument checks ---------------------------------------------------------------------------

    private long live(String call) {
        if (address == 0) {
            throw new IllegalStateException(call + ": these cuBLAS/cuDNN handles are closed");
        }
        return address;
    }

    private static void checkGemm(String call, int m, int n, int k, long a, long b, long c) {
        positive(call, "m", m);
        positive(call, "n", n);
        positive(call, "k", k);
        pointer(call, "a", a);
        pointer(call, "b", b);
        pointer(call, "c", c);
    }

    private static void checkShape(String call, Object shape) {
        if (shape == null) {
            throw new IllegalArgumentException(call + ": shape must not be null");
        }
    }

    /**
     * What cuDNN needs beyond a valid {@link ConvGeometry}: no empty dimension, and each tensor under 2^31
     * elements, since its 4-D descriptors hold int sizes and strides.
     */
    private static void checkConvolution(String call, ConvGeometry s) {
        checkShape(call, s);
        String what = call + ": " + s.describe();
        if (s.batch() < 1 || s.inChannels() < 1 || s.height() < 1 || s.width() < 1) {
            throw new IllegalArgumentException(what + ": every size must be at least 1");
        }
        requireIntElements(what, "input", s.inputSize());
        requireIntElements(what, "output", s.outputSize());
    }

    private static void checkPooling(String call, ConvGeometry s, boolean max) {
        checkConvolution(call, s);
        String what = call + " (" + (max ? "max" : "average") + "): " + s.describe();
        if (s.outChannels() != s.inChannels()) {
            throw new IllegalArgumentException(what + ": a pooling has as many output channels as input channels");
        }
        // PyTorch's rule; it also keeps every window over at least one real cell, which cuDNN's max needs.
        if (2 * s.padH() > s.kernelH() || 2 * s.padW() > s.kernelW()) {
            throw new IllegalArgumentException(what + ": padding must be at most half the window");
        }
    }

    private static void checkNchw(String call, int n, int c, int h, int w) {
        positive(call, "n", n);
        positive(call, "c", c);
        positive(call, "h", h);
        positive(call, "w", w);
        requireIntElements(call, "x", (long) n * c * h * w);
    }

    private static void checkEps(String call, double eps) {
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException(call + ": eps must be finite and not negative, got " + eps);
        }
    }

    private static void positive(String call, String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(call + ": " + name + " must be positive, got " + value);
        }
    }

    static void requireIntElements(String call, String name, long elements) {
        if (elements > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(call + ": " + name + " has " + elements
                    + " elements; cuDNN's tensor descriptors take at most 2^31 - 1");
        }
    }

    /** A non-zero, 4-byte-aligned device address. */
    private static void pointer(String call, String name, long address) {
        if (address == 0) {
            throw new IllegalArgumentException(call + ": " + name + " is a null device pointer");
        }
        aligned(call, name, address);
    }

    /** 0, or a 4-byte-aligned device address. */
    private static void optionalPointer(String call, String name, long address) {
        if (address != 0) {
            aligned(call, name, address);
        }
    }

    /** cuDNN takes both of a pair or neither. */
    private static void optionalPair(String call, String first, long a, String second, long b) {
        if ((a == 0) != (b == 0)) {
            throw new IllegalArgumentException(call + ": give both " + first + " and " + second + " or neither, got "
                    + first + (a == 0 ? " null" : " set") + " and " + second + (b == 0 ? " null" : " set"));
        }
        optionalPointer(call, first, a);
        optionalPointer(call, second, b);
    }

    private static void aligned(String call, String name, long address) {
        if ((address & 3) != 0) {
            throw new IllegalArgumentException(call + ": " + name + " = 0x" + Long.toHexString(address)
                    + " is not 4-byte aligned for float32 (offsets are in bytes: elements × 4)");
        }
    }
}
