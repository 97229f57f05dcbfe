package dev.retort.backend.cpu;

/**
 * The float32 linear algebra the CPU backend is built on, with a plain-Java and a Vector API implementation.
 *
 * <p>Obtain the implementation for this JVM with {@link #get()}; {@link FloatMathProvider} explains the choice.
 */
public interface FloatMath {

    /** Says which implementation this is, for logs and reports: "scalar" or e.g. "vector (512-bit, 16 floats)". */
    String name();

    /**
     * Row-major {@code C = alpha * op(A) * op(B) + beta * C} with {@code C} of size m×n, {@code op(A)} m×k and
     * {@code op(B)} k×n. When {@code transA} is set, A is stored k×m (leading dimension {@code lda}) and used
     * transposed; likewise B is stored n×k when {@code transB} is set. When {@code beta == 0} C is only written,
     * never read, so it may hold anything, NaN included. Large products run on {@link Parallel}'s threads;
     * calling this from inside a {@link Parallel} body is allowed.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
              float beta, float[] c, int cOff, int ldc);

    /**
     * {@code C = A · B + beta * C} like {@link #gemm} without transposes or alpha, except that row p of the k×n
     * matrix B is the n floats from {@code b[bRows[p]]} on. The rows may overlap: a convolution's forward pass
     * multiplies by its unfolded patches read straight out of a padded image, never building the column matrix.
     * Threads and beta as in {@link #gemm}.
     */
    void gemmRows(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int[] bRows,
                  float beta, float[] c, int cOff, int ldc);

    /**
     * A left operand prepared once by {@link #pack} for many {@link #gemmRows(Packed, int, float[], int[], float,
     * float[], int, int)} calls, in the form of the implementation that made it.
     */
    interface Packed {
        /** Rows of A: the m of the products. */
        int rows();

        /** Columns of A: the k of the products. */
        int depth();
    }

    /**
     * Prepares the row-major m×k A (leading dimension {@code lda}) for many products: a convolution multiplies every
     * image by the same weights, and packing them once saves doing it per image. The result may refer to {@code a},
     * which must not change while it is in use.
     */
    Packed pack(int m, int k, float[] a, int aOff, int lda);

    /** {@link #gemmRows} with A as {@link #pack} prepared it on this FloatMath. */
    void gemmRows(Packed a, int n, float[] b, int[] bRows, float beta, float[] c, int cOff, int ldc);

    /**
     * Inner products of rows, {@code C = A · Bᵀ + beta * C}: C is m×n, A is m×k (row-major, leading dimension
     * {@code lda}) and row j of B is the k floats from {@code b[bRows[j]]} on. B's rows may overlap, which lets a
     * convolution read its unfolded patches straight out of a padded image, and with k along both operands'
     * rows neither needs the transposition that {@link #gemm} with {@code transB} would pack. {@code beta} as in
     * {@link #gemm}. Large products run on {@link Parallel}'s threads; calling this from a body is allowed.
     */
    void dotProducts(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int[] bRows,
                     float beta, float[] c, int cOff, int ldc);

    /**
     * ReLU's backward rule on one run of elements: {@code result[i] = output[i] > 0 ? grad[i] : 0} (0 where the
     * output is NaN). On the calling thread only. The plain-Java ternary compiles to a branch that random signs
     * mispredict half the time; the vector implementation selects with a mask instead.
     */
    void reluBackward(float[] grad, int gradOffset, float[] output, int outputOffset, float[] result,
                      int resultOffset, int n);

    // The element-wise primitives below run on the calling thread only; FloatKernels splits the work. C2 compiled
    // their plain-Java loops three times slower than a copy when they sat inside FloatKernels' bodies (a Math.max
    // loop over offset indices was not vectorised at all, and batch norm's normalisation ran at a third of memory
    // speed), so the vector implementation writes them with the Vector API. Element-wise results are the same bits
    // on both; the sums differ only in how their partial sums are grouped.

    /** {@code out[i] = Math.max(x[i], 0)} on one run of elements: NaN stays NaN and −0 becomes +0. */
    void relu(float[] x, int xOffset, float[] out, int outOffset, int n);

    /** {@code out[i] = x[i] * scale + shift} (a multiply, then an add) on one run of elements. */
    void scaleShift(float[] x, int xOffset, float scale, float shift, float[] out, int outOffset, int n);

    /** {@code x[from] + … + x[from + n - 1]} in float, with several partial sums. */
    float sum(float[] x, int from, int n);

    /** {@code Σ (x[i] − mean)²} over {@code x[from, from + n)} in float, with several partial sums. */
    float squaredDeviations(float[] x, int from, int n, float mean);

    /** {@code Σ g[gOffset + i]·(x[xOffset + i] − mean)} over n elements in float, with several partial sums. */
    float centeredProducts(float[] g, int gOffset, float[] x, int xOffset, int n, float mean);

    /**
     * Batch norm's input gradient on one run of a channel:
     * {@code out[i] = scale·(g[i] − meanG − (x[i] − mean)·k)}, operation by operation in that order.
     */
    void batchNormGradient(float[] g, int gOffset, float[] x, int xOffset, int n, float scale, float meanG,
                           float mean, float k, float[] out, int outOffset);

    /** The implementation chosen once for this JVM by {@link FloatMathProvider}. */
    static FloatMath get() {
        return FloatMathProvider.get();
    }
}
