package dev.retort.backend;

/**
 * The primitive operations every device implements. Arrays are contiguous row-major; outputs are
 * allocated by the caller and fully overwritten unless a method says it accumulates. Callers (the
 * tensor layer) validate shapes and dtypes and throw the user-facing errors; a backend may assume
 * valid arguments. Floating-point ops take FLOAT32 or FLOAT64 arrays, all of one dtype.
 */
public interface Backend {

    /** The device whose memory this backend's arrays live in; every array passed to it must be on it. */
    Device device();

    /** One line for logs: which implementation runs and how. */
    String describe();

    // ---- memory -------------------------------------------------------------------------------

    /** A new array of undefined contents. */
    NdArray empty(DType dtype, int... shape);

    /**
     * A new FLOAT32 array holding a copy of {@code data} (the caller keeps its array), of the given shape;
     * {@code data.length} must equal the shape's size.
     */
    NdArray fromHost(float[] data, int... shape);

    /**
     * A new FLOAT64 array holding a copy of {@code data}, of the given shape; {@code data.length} must equal
     * the shape's size.
     */
    NdArray fromHost(double[] data, int... shape);

    /** A new INT32 array (labels, indices) holding a copy of {@code data}, of the given shape. */
    NdArray fromHost(int[] data, int... shape);

    /** A host copy of the elements, converted to double (ints included). */
    double[] toDoubles(NdArray x);

    /** A host copy of the elements as float; FLOAT64 values are rounded and INT32 values converted. */
    float[] toFloats(NdArray x);

    /** A host copy of the elements as int; floating-point values are truncated toward zero. */
    int[] toInts(NdArray x);

    /**
     * Sets every element of {@code out} to {@code value}, rounded to float or truncated to int for those
     * dtypes.
     */
    void fill(NdArray out, double value);

    /** Copies with conversion between dtypes; sizes must match. */
    void copy(NdArray src, NdArray dst);

    // ---- elementwise ----------------------------------------------------------------------------

    /** {@code out = op(x)} elementwise; x and out have the same size and dtype. */
    void unary(UnaryOp op, NdArray x, NdArray out);

    /** {@code out = op(a, b)} with NumPy broadcasting; out has the broadcast shape. */
    void binary(BinaryOp op, NdArray a, NdArray b, NdArray out);

    /** Copies x broadcast (NumPy rules) to out's shape. */
    void broadcastTo(NdArray x, NdArray out);

    /** {@code out = alpha * x + beta}. */
    void affine(NdArray x, double alpha, double beta, NdArray out);

    /** {@code out += alpha * x}, same size (gradient accumulation). */
    void accumulate(NdArray x, double alpha, NdArray out);

    /** Dropout mask: {@code 1/(1-p)} where the counter-based uniform u(seed, i) ≥ p, else 0. */
    void dropoutMask(long seed, double p, NdArray mask);

    /** Number of NaN or infinite elements. */
    long countNonFinite(NdArray x);

    // ---- reductions -----------------------------------------------------------------------------

    /**
     * Sums x over the dimensions where {@code out} (left-padded with ones to x's rank) has size 1:
     * the reverse of broadcasting.
     */
    void sumTo(NdArray x, NdArray out);

    /** Index of the largest element of each row (last dimension) into an INT32 array; first on ties. */
    void argmaxLastDim(NdArray x, NdArray out);

    // ---- linear algebra -----------------------------------------------------------------------

    /**
     * {@code out = op(a) · op(b)} where a and b are both 2-D, or both 3-D with the same batch size;
     * op transposes the last two dimensions when its flag is set.
     */
    void matmul(NdArray a, boolean transA, NdArray b, boolean transB, NdArray out);

    /** Swaps the last two dimensions into a new contiguous array (batched over leading ones). */
    void transposeLastTwo(NdArray x, NdArray out);

    // ---- convolution and pooling (NCHW, OIHW) -------------------------------------------------

    /**
     * Cross-correlation of an [N, C, H, W] input with an [O, C, kH, kW] weight, plus an [O] bias (which may
     * be null), into an [N, O, outH, outW] output sized by {@link ConvGeometry#outHeight} and {@link
     * ConvGeometry#outWidth}.
     */
    void conv2dForward(NdArray input, NdArray weight, NdArray bias, ConvSpec spec, NdArray output);

    /**
     * The gradient of {@link #conv2dForward}'s output with respect to its input: gradOutput [N, O, outH,
     * outW] and weight [O, C, kH, kW] into gradInput [N, C, H, W], overwritten.
     */
    void conv2dBackwardInput(NdArray gradOutput, NdArray weight, ConvSpec spec, NdArray gradInput);

    /** gradBias may be null. */
    void conv2dBackwardWeight(NdArray gradOutput, NdArray input, ConvSpec spec, NdArray gradWeight,
                              NdArray gradBias);

    /** Padding counts as minus infinity. */
    void maxPool2dForward(NdArray input, PoolSpec spec, NdArray output);

    /** Routes each gradient to the first maximum of its window, as PyTorch and cuDNN do. */
    void maxPool2dBackward(NdArray gradOutput, NdArray input, PoolSpec spec, NdArray gradInput);

    /** Padding counts as zero and is included in the divisor (PyTorch's count_include_pad=True). */
    void avgPool2dForward(NdArray input, PoolSpec spec, NdArray output);

    /**
     * Spreads each output gradient evenly over its window (padding included in the divisor, as in {@link
     * #avgPool2dForward}), summing where windows overlap; gradInput is overwritten.
     */
    void avgPool2dBackward(NdArray gradOutput, PoolSpec spec, NdArray gradInput);

    // ---- normalisation --------------------------------------------------------------------------

    /**
     * Training-mode batch normalisation over N, H, W of a [N, C, H, W] (or [N, C]) input: writes the
     * output and the per-channel batch mean and biased variance.
     */
    void batchNormTrainForward(NdArray input, NdArray gamma, NdArray beta, double eps, NdArray output,
                               NdArray mean, NdArray variance);

    /** Evaluation-mode batch normalisation with the given statistics. */
    void batchNormEvalForward(NdArray input, NdArray gamma, NdArray beta, NdArray mean, NdArray variance,
                              double eps, NdArray output);

    /**
     * Gradients of batch normalisation. With {@code training} the statistics are the batch's own (and
     * depend on the input); otherwise they are constants.
     */
    void batchNormBackward(NdArray gradOutput, NdArray input, NdArray gamma, NdArray mean, NdArray variance,
                           double eps, boolean training, NdArray gradInput, NdArray gradGamma,
                           NdArray gradBeta);

    // ---- softmax and losses (rows over the last dimension) ----------------------------------

    /** {@code softmax(x / T)} or {@code log_softmax(x / T)} with the row maximum subtracted first. */
    void softmax(NdArray x, double temperature, boolean log, NdArray out);

    /** Gradient with respect to x, given y the forward output and gy the upstream gradient. */
    void softmaxBackward(NdArray gradOutput, NdArray output, double temperature, boolean log, NdArray gradInput);

    /**
     * Per-row negative log-likelihood with label smoothing ε:
     * {@code -((1-ε)·logp[y] + ε/C·Σ_i logp[i])}; labels INT32.
     */
    void nllForward(NdArray logProbs, NdArray labels, double smoothing, NdArray lossPerRow);

    /** {@code grad[b, i] = -gradLoss[b]·((1-ε)·[i = y_b] + ε/C)}. */
    void nllBackward(NdArray gradLossPerRow, NdArray labels, double smoothing, NdArray gradLogProbs);

    /**
     * Fused knowledge-distillation loss and its gradient (docs/kd-modes.md, modes {@code temperature} and
     * {@code hinton}) of student and teacher logits [B, C], one pass per row. labels: INT32 [B], or null
     * when the spec needs none (then the CE term is 0). Writes {@code terms} [3] in the logits' dtype —
     * the total loss, the batch-mean label cross-entropy {@code CE(s, y, ε)} (unweighted), and the
     * batch-mean teacher term (unweighted: {@code KL(softmax_{T_t}(t) ‖ softmax_{T_s}(s))} without κ, or
     * {@code CE(s, argmax t)} with hard teacher targets) — and {@code gradStudent} [B, C] = ∂total/∂s.
     * The teacher gets no gradient.
     */
    void distillationLoss(NdArray student, NdArray teacher, NdArray labels, DistillationSpec spec, NdArray terms,
                          NdArray gradStudent);

    // ---- optimizers (in place) ----------------------------------------------------------------

    /**
     * PyTorch's SGD step on one parameter: weight decay, momentum with dampening (the buffer is set
     * to the gradient on the first step), Nesterov. momentumBuffer is null when momentum is 0.
     */
    void sgdStep(NdArray param, NdArray grad, NdArray momentumBuffer, double lr, double momentum,
                 double dampening, double weightDecay, boolean nesterov, boolean firstStep);

    /** PyTorch's AdamW step on one parameter; step counts from 1. */
    void adamwStep(NdArray param, NdArray grad, NdArray firstMoment, NdArray secondMoment, double lr,
                   double beta1, double beta2, double eps, double weightDecay, long step);
}
