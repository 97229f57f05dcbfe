package dev.retort.backend.cpu;

/** Argument checks and trivial cases shared by the {@link FloatMath#gemm} implementations. */
final class GemmSupport {

    private GemmSupport() {}

    /** Rejects negative sizes and leading dimensions too small for the stored matrices, naming the culprit. */
    static void checkShape(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm: sizes must not be negative, got m=" + m + " n=" + n + " k=" + k);
        }
        int aColumns = transA ? m : k;
        int bColumns = transB ? k : n;
        if (lda < aColumns || ldb < bColumns || ldc < n) {
            throw new IllegalArgumentException("gemm: leading dimensions too small for m=" + m + " n=" + n + " k=" + k
                    + " transA=" + transA + " transB=" + transB + ": lda=" + lda + " (needs >= " + aColumns
                    + "), ldb=" + ldb + " (needs >= " + bColumns + "), ldc=" + ldc + " (needs >= " + n + ")");
        }
    }

    /**
     * The same checks for {@link FloatMath#dotProducts} and {@link FloatMath#gemmRows}, whose B is given by the
     * starts of its {@code rows} rows.
     */
    static void checkRowsShape(String operation, int m, int n, int k, int lda, int[] bRows, int rows, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(operation + ": sizes must not be negative, got m=" + m + " n=" + n
                    + " k=" + k);
        }
        if (lda < k || ldc < n || bRows.length < rows) {
            throw new IllegalArgumentException(operation + ": operands too small for m=" + m + " n=" + n + " k=" + k
                    + ": lda=" + lda + " (needs >= " + k + "), ldc=" + ldc + " (needs >= " + n + "), bRows.length="
                    + bRows.length + " (needs >= " + rows + ")");
        }
    }

    /** The checks for {@link FloatMath#pack}'s m×k A. */
    static void checkPackShape(int m, int k, int lda) {
        if (m < 0 || k < 0) {
            throw new IllegalArgumentException("pack: sizes must not be negative, got m=" + m + " k=" + k);
        }
        if (lda < k) {
            throw new IllegalArgumentException("pack: lda=" + lda + " is too small for k=" + k + " (needs >= " + k + ")");
        }
    }

    /** {@code C = beta * C} over rows {@code [rowLo, rowHi)}; with beta 0 C is overwritten, so NaN does not survive. */
    static void scaleRows(int rowLo, int rowHi, int n, float beta, float[] c, int cOff, int ldc) {
        if (beta == 1f) {
            return;
        }
        for (int i = rowLo; i < rowHi; i++) {
            int row = cOff + i * ldc;
            if (beta == 0f) {
                java.util.Arrays.fill(c, row, row + n, 0f);
            } else {
                for (int j = 0; j < n; j++) {
                    c[row + j] *= beta;
                }
            }
        }
    }

    static int ceilDiv(int value, int divisor) {
        return (value + divisor - 1) / divisor;
    }
}
