package dev.retort.backend.cpu;

/**
 * The plain-Java {@link FloatMath}: cache-blocked loops simple enough for C2 to vectorize, used when the
 * Vector API is not enabled and as the reference the vector implementation is tested against.
 */
public final class ScalarFloatMath implements FloatMath {

    // A panel of B, DEPTH_BLOCK × COLUMN_BLOCK floats (256 KiB), stays in L2 while every row of A streams past it.
    private static final int COLUMN_BLOCK = 256;
    private static final int DEPTH_BLOCK = 256;

    // Below about this many multiply-adds the cost of waking other threads outweighs their help.
    private static final long PARALLEL_WORK = 1L << 18;

    private final ScratchBuffers panels = new ScratchBuffers();

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc) {
        GemmSupport.checkShape(transA, transB, m, n, k, lda, ldb, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        long work = (long) m * n * k;
        if (work < PARALLEL_WORK || Parallel.threads() == 1 || Parallel.isPoolThread()) {
            multiplyRows(0, m, transA, transB, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        int grain = (int) Math.max(1, PARALLEL_WORK / ((long) n * Math.max(1, k)));
        Parallel.forRange(0, m, grain, (lo, hi) ->
                multiplyRows(lo, hi, transA, transB, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc));
    }

    private void multiplyRows(int rowLo, int rowHi, boolean transA, boolean transB, int n, int k, float alpha,
                              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float beta, float[] c, int cOff, int ldc) {
        GemmSupport.scaleRows(rowLo, rowHi, n, beta, c, cOff, ldc);
        if (k == 0 || alpha == 0f) {
            return;
        }
        float[] panel = panels.acquire(DEPTH_BLOCK * COLUMN_BLOCK + DEPTH_BLOCK);
        try {
            int aRowStart = DEPTH_BLOCK * COLUMN_BLOCK; // alpha·A(i, depth block) lives after the panel
            for (int columnStart = 0; columnStart < n; columnStart += COLUMN_BLOCK) {
                int columns = Math.min(COLUMN_BLOCK, n - columnStart);
                for (int depthStart = 0; depthStart < k; depthStart += DEPTH_BLOCK) {
                    int depth = Math.min(DEPTH_BLOCK, k - depthStart);
                    packB(transB, b, bOff, ldb, depthStart, depth, columnStart, columns, panel);
                    for (int i = rowLo; i < rowHi; i++) {
                        for (int p = 0; p < depth; p++) {
                            int index = transA ? aOff + (depthStart + p) * lda + i : aOff + i * lda + depthStart + p;
                            panel[aRowStart + p] = alpha * a[index];
                        }
                        accumulateRow(panel, aRowStart, depth, columns, c, cOff + i * ldc + columnStart);
                    }
                }
            }
        } finally {
            panels.release(panel);
        }
    }

    /** Copies op(B)(depthStart.., columnStart..) into {@code panel} as a dense row-major depth × columns block. */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int depthStart, int depth,
                              int columnStart, int columns, float[] panel) {
        if (!transB) {
            for (int p = 0; p < depth; p++) {
                System.arraycopy(b, bOff + (depthStart + p) * ldb + columnStart, panel, p * columns, columns);
            }
            return;
        }
        for (int j = 0; j < columns; j++) {
            int source = bOff + (columnStart + j) * ldb + depthStart;
            for (int p = 0; p < depth; p++) {
                panel[p * columns + j] = b[source + p];
            }
        }
    }

    /**
     * {@code c[j] += sum_p aRow[p] * panel[p][j]}, four depths at a time so each element of C is loaded and stored
     * once per four panel rows; the inner loops are plain enough for C2's superword pass to vectorize.
     */
    private static void accumulateRow(float[] panel, int aRowStart, int depth, int columns, float[] c, int cStart) {
        int p = 0;
        for (; p + 4 <= depth; p += 4) {
            float a0 = panel[aRowStart + p];
            float a1 = panel[aRowStart + p + 1];
            float a2 = panel[aRowStart + p + 2];
            float a3 = panel[aRowStart + p + 3];
            int row0 = p * columns;
            int row1 = row0 + columns;
            int row2 = row1 + columns;
            int row3 = row2 + columns;
            for (int j = 0; j < columns; j++) {
                c[cStart + j] += a0 * panel[row0 + j] + a1 * panel[row1 + j] + a2 * panel[row2 + j]
                        + a3 * panel[row3 + j];
            }
        }
        for (; p < depth; p++) {
            float a0 = panel[aRowStart + p];
            int row0 = p * columns;
            for (int j = 0; j < columns; j++) {
                c[cStart + j] += a0 * panel[row0 + j];
            }
        }
    }

    /** Copies B's rows into one n×k matrix and multiplies by it transposed: the GEMM's packing does the rest. */
    @Override
    public void dotProducts(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int[] bRows,
                            float beta, float[] c, int cOff, int ldc) {
        GemmSupport.checkRowsShape("dotProducts", m, n, k, lda, bRows, n, ldc);
        gemmOnGatheredRows(true, m, n, k, a, aOff, lda, b, bRows, n, k, beta, c, cOff, ldc);
    }

    /** Copies B's rows into one k×n matrix and multiplies by it. */
    @Override
    public void gemmRows(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int[] bRows,
                         float beta, float[] c, int cOff, int ldc) {
        GemmSupport.checkRowsShape("gemmRows", m, n, k, lda, bRows, k, ldc);
        gemmOnGatheredRows(false, m, n, k, a, aOff, lda, b, bRows, k, n, beta, c, cOff, ldc);
    }

    /** Scalar products pack nothing up front: A stays where it is. */
    private record Unpacked(int rows, int depth, float[] a, int offset, int ld) implements Packed {}

    @Override
    public Packed pack(int m, int k, float[] a, int aOff, int lda) {
        GemmSupport.checkPackShape(m, k, lda);
        return new Unpacked(m, k, a, aOff, lda);
    }

    @Override
    public void gemmRows(Packed a, int n, float[] b, int[] bRows, float beta, float[] c, int cOff, int ldc) {
        if (!(a instanceof Unpacked unpacked)) {
            throw new IllegalArgumentException("gemmRows: A was packed by another FloatMath, " + a);
        }
        gemmRows(unpacked.rows(), n, unpacked.depth(), unpacked.a(), unpacked.offset(), unpacked.ld(), b, bRows, beta,
                c, cOff, ldc);
    }

    /** Gathers {@code count} rows of {@code rowLength} floats from B into one matrix, then runs the GEMM on it. */
    private void gemmOnGatheredRows(boolean transB, int m, int n, int k, float[] a, int aOff, int lda, float[] b,
                                    int[] bRows, int count, int rowLength, float beta, float[] c, int cOff,
                                    int ldc) {
        float[] rows = panels.acquire(Math.max(1, Math.multiplyExact(n, k)));
        try {
            for (int r = 0; r < count; r++) {
                System.arraycopy(b, bRows[r], rows, r * rowLength, rowLength);
            }
            gemm(false, transB, m, n, k, 1f, a, aOff, lda, rows, 0, Math.max(1, rowLength), beta, c, cOff, ldc);
        } finally {
            panels.release(rows);
        }
    }

    @Override
    public void reluBackward(float[] grad, int gradOffset, float[] output, int outputOffset, float[] result,
                             int resultOffset, int n) {
        for (int i = 0; i < n; i++) {
            result[resultOffset + i] = output[outputOffset + i] > 0 ? grad[gradOffset + i] : 0f;
        }
    }

    @Override
    public void relu(float[] x, int xOffset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = Math.max(x[xOffset + i], 0f);
        }
    }

    @Override
    public void scaleShift(float[] x, int xOffset, float scale, float shift, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = x[xOffset + i] * scale + shift;
        }
    }

    @Override
    public void batchNormGradient(float[] g, int gOffset, float[] x, int xOffset, int n, float scale, float meanG,
                                  float mean, float k, float[] out, int outOffset) {
        for (int i = 0; i < n; i++) {
            float centered = x[xOffset + i] - mean;
            out[outOffset + i] = scale * (g[gOffset + i] - meanG - centered * k);
        }
    }

    // The per-plane sums below keep eight partial sums, so that each add waits for the one eight before it rather
    // than for the previous one: a single float accumulator is bound by the add's latency, four cycles an element.

    @Override
    public float sum(float[] x, int from, int n) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
        int i = from;
        int end = from + n;
        for (; i + 8 <= end; i += 8) {
            s0 += x[i];
            s1 += x[i + 1];
            s2 += x[i + 2];
            s3 += x[i + 3];
            s4 += x[i + 4];
            s5 += x[i + 5];
            s6 += x[i + 6];
            s7 += x[i + 7];
        }
        float sum = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        for (; i < end; i++) {
            sum += x[i];
        }
        return sum;
    }

    @Override
    public float squaredDeviations(float[] x, int from, int n, float mean) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
        int i = from;
        int end = from + n;
        for (; i + 8 <= end; i += 8) {
            float d0 = x[i] - mean;
            float d1 = x[i + 1] - mean;
            float d2 = x[i + 2] - mean;
            float d3 = x[i + 3] - mean;
            float d4 = x[i + 4] - mean;
            float d5 = x[i + 5] - mean;
            float d6 = x[i + 6] - mean;
            float d7 = x[i + 7] - mean;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
            s4 += d4 * d4;
            s5 += d5 * d5;
            s6 += d6 * d6;
            s7 += d7 * d7;
        }
        float sum = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        for (; i < end; i++) {
            float d = x[i] - mean;
            sum += d * d;
        }
        return sum;
    }

    @Override
    public float centeredProducts(float[] g, int gOffset, float[] x, int xOffset, int n, float mean) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            s0 += g[gOffset + i] * (x[xOffset + i] - mean);
            s1 += g[gOffset + i + 1] * (x[xOffset + i + 1] - mean);
            s2 += g[gOffset + i + 2] * (x[xOffset + i + 2] - mean);
            s3 += g[gOffset + i + 3] * (x[xOffset + i + 3] - mean);
            s4 += g[gOffset + i + 4] * (x[xOffset + i + 4] - mean);
            s5 += g[gOffset + i + 5] * (x[xOffset + i + 5] - mean);
            s6 += g[gOffset + i + 6] * (x[xOffset + i + 6] - mean);
            s7 += g[gOffset + i + 7] * (x[xOffset + i + 7] - mean);
        }
        float sum = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        for (; i < n; i++) {
            sum += g[gOffset + i] * (x[xOffset + i] - mean);
        }
        return sum;
    }
}
