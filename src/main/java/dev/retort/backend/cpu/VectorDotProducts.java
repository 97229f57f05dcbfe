package dev.retort.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VectorFloatMath}'s inner products of rows, {@code C = A · Bᵀ + beta * C} with B's rows anywhere in an
 * array: tiles of 4 rows of A by {@value #DOT_COLUMNS_WIDE} (512-bit vectors) or 2 rows of B of vector accumulators
 * over the whole depth, each reduced across lanes once.
 *
 * <p>Like {@link VectorFloatMath}, this class may only be loaded when {@code jdk.incubator.vector} is in the boot
 * layer: only VectorFloatMath refers to it.
 */
final class VectorDotProducts {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    // A tile is DOT_ROWS rows of A by DOT_COLUMNS rows of B. 4 × 4 is 16 accumulators plus 5 operand vectors,
    // which AVX-512's 32 registers hold; with AVX2's 16, C2 spilled them in the loop and a cnn-teacher step's
    // weight gradients took 40 % of it under -XX:UseAVX=2, so narrower vectors get 4 × 2 (8 accumulators, enough
    // for two FMA pipes of four cycles' latency).
    private static final int DOT_ROWS = 4;
    static final int DOT_COLUMNS_WIDE = 4;
    private static final int DOT_COLUMNS = LANES >= 16 ? DOT_COLUMNS_WIDE : 2;

    private VectorDotProducts() {}

    /** {@link FloatMath#dotProducts}, its arguments already checked. */
    static void multiply(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int[] bRows, float beta,
                         float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        if (beta != 0f && beta != 1f) {
            GemmSupport.scaleRows(0, m, n, beta, c, cOff, ldc);
        }
        boolean overwrite = beta == 0f;
        int blocks = GemmSupport.ceilDiv(n, DOT_COLUMNS);
        long work = (long) m * n * k;
        if (work < VectorFloatMath.PARALLEL_WORK || Parallel.threads() == 1 || Parallel.isPoolThread()) {
            dotColumnBlocks(0, blocks, m, n, k, a, aOff, lda, b, bRows, overwrite, c, cOff, ldc);
        } else {
            int grain = (int) Math.max(1, VectorFloatMath.CHUNK_WORK / ((long) DOT_COLUMNS * m * Math.max(1, k)));
            Parallel.forRange(0, blocks, grain, (lo, hi) ->
                    dotColumnBlocks(lo, hi, m, n, k, a, aOff, lda, b, bRows, overwrite, c, cOff, ldc));
        }
    }

    /**
     * Columns {@code [blockLo·DOT_COLUMNS, blockHi·DOT_COLUMNS)} of C for {@link #multiply}: each block's
     * DOT_COLUMNS rows of B stay in L1 while all of A streams past them from L2.
     */
    private static void dotColumnBlocks(int blockLo, int blockHi, int m, int n, int k, float[] a, int aOff, int lda,
                                        float[] b, int[] bRows, boolean overwrite, float[] c, int cOff, int ldc) {
        int vectorDepth = SPECIES.loopBound(k);
        int fullRows = m - m % DOT_ROWS;
        for (int block = blockLo; block < blockHi; block++) {
            int column = block * DOT_COLUMNS;
            boolean wholeBlock = column + DOT_COLUMNS <= n;
            if (wholeBlock) {
                for (int row = 0; row < fullRows; row += DOT_ROWS) {
                    int cIndex = cOff + row * ldc + column;
                    // DOT_COLUMNS is a constant, so C2 keeps only one branch.
                    if (DOT_COLUMNS == 4) {
                        dotTile4x4(k, vectorDepth, a, aOff + row * lda, lda, b, bRows[column], bRows[column + 1],
                                bRows[column + 2], bRows[column + 3], c, cIndex, ldc, overwrite);
                    } else {
                        dotTile4x2(k, vectorDepth, a, aOff + row * lda, lda, b, bRows[column], bRows[column + 1],
                                c, cIndex, ldc, overwrite);
                    }
                }
            }
            int tileColumns = wholeBlock ? DOT_COLUMNS : n - column;
            for (int j = column; j < column + tileColumns; j++) {
                // Edge rows always, and every row for the last, partial block of columns.
                int firstRow = wholeBlock ? fullRows : 0;
                for (int i = firstRow; i < m; i++) {
                    float sum = dot(a, aOff + i * lda, b, bRows[j], vectorDepth, k);
                    store(c, cOff + i * ldc + j, sum, overwrite);
                }
            }
        }
    }

    /**
     * One 4 × 4 tile of inner products: 4 rows of A against 4 rows of B, 16 vector accumulators (8 loads per 16
     * multiply-adds), each reduced across lanes once at the end.
     */
    private static void dotTile4x4(int k, int vectorDepth, float[] a, int a0, int lda, float[] b,
                                int b0, int b1, int b2, int b3, float[] c, int cIndex, int ldc, boolean overwrite) {
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        FloatVector s00 = FloatVector.zero(SPECIES);
        FloatVector s01 = FloatVector.zero(SPECIES);
        FloatVector s02 = FloatVector.zero(SPECIES);
        FloatVector s03 = FloatVector.zero(SPECIES);
        FloatVector s10 = FloatVector.zero(SPECIES);
        FloatVector s11 = FloatVector.zero(SPECIES);
        FloatVector s12 = FloatVector.zero(SPECIES);
        FloatVector s13 = FloatVector.zero(SPECIES);
        FloatVector s20 = FloatVector.zero(SPECIES);
        FloatVector s21 = FloatVector.zero(SPECIES);
        FloatVector s22 = FloatVector.zero(SPECIES);
        FloatVector s23 = FloatVector.zero(SPECIES);
        FloatVector s30 = FloatVector.zero(SPECIES);
        FloatVector s31 = FloatVector.zero(SPECIES);
        FloatVector s32 = FloatVector.zero(SPECIES);
        FloatVector s33 = FloatVector.zero(SPECIES);
        for (int p = 0; p < vectorDepth; p += LANES) {
            FloatVector x0 = FloatVector.fromArray(SPECIES, a, a0 + p);
            FloatVector x1 = FloatVector.fromArray(SPECIES, a, a1 + p);
            FloatVector x2 = FloatVector.fromArray(SPECIES, a, a2 + p);
            FloatVector x3 = FloatVector.fromArray(SPECIES, a, a3 + p);
            FloatVector y0 = FloatVector.fromArray(SPECIES, b, b0 + p);
            s00 = x0.fma(y0, s00);
            s10 = x1.fma(y0, s10);
            s20 = x2.fma(y0, s20);
            s30 = x3.fma(y0, s30);
            FloatVector y1 = FloatVector.fromArray(SPECIES, b, b1 + p);
            s01 = x0.fma(y1, s01);
            s11 = x1.fma(y1, s11);
            s21 = x2.fma(y1, s21);
            s31 = x3.fma(y1, s31);
            FloatVector y2 = FloatVector.fromArray(SPECIES, b, b2 + p);
            s02 = x0.fma(y2, s02);
            s12 = x1.fma(y2, s12);
            s22 = x2.fma(y2, s22);
            s32 = x3.fma(y2, s32);
            FloatVector y3 = FloatVector.fromArray(SPECIES, b, b3 + p);
            s03 = x0.fma(y3, s03);
            s13 = x1.fma(y3, s13);
            s23 = x2.fma(y3, s23);
            s33 = x3.fma(y3, s33);
        }
        store(c, cIndex + 0, s00.reduceLanes(VectorOperators.ADD) + tail(a, a0, b, b0, vectorDepth, k), overwrite);
        store(c, cIndex + 1, s01.reduceLanes(VectorOperators.ADD) + tail(a, a0, b, b1, vectorDepth, k), overwrite);
        store(c, cIndex + 2, s02.reduceLanes(VectorOperators.ADD) + tail(a, a0, b, b2, vectorDepth, k), overwrite);
        store(c, cIndex + 3, s03.reduceLanes(VectorOperators.ADD) + tail(a, a0, b, b3, vectorDepth, k), overwrite);
        store(c, cIndex + 1 * ldc + 0, s10.reduceLanes(VectorOperators.ADD) + tail(a, a1, b, b0, vectorDepth, k), overwrite);
        store(c, cIndex + 1 * ldc + 1, s11.reduceLanes(VectorOperators.ADD) + tail(a, a1, b, b1, vectorDepth, k), overwrite);
        store(c, cIndex + 1 * ldc + 2, s12.reduceLanes(VectorOperators.ADD) + tail(a, a1, b, b2, vectorDepth, k), overwrite);
        store(c, cIndex + 1 * ldc + 3, s13.reduceLanes(VectorOperators.ADD) + tail(a, a1, b, b3, vectorDepth, k), overwrite);
        store(c, cIndex + 2 * ldc + 0, s20.reduceLanes(VectorOperators.ADD) + tail(a, a2, b, b0, vectorDepth, k), overwrite);
        store(c, cIndex + 2 * ldc + 1, s21.reduceLanes(VectorOperators.ADD) + tail(a, a2, b, b1, vectorDepth, k), overwrite);
        store(c, cIndex + 2 * ldc + 2, s22.reduceLanes(VectorOperators.ADD) + tail(a, a2, b, b2, vectorDepth, k), overwrite);
        store(c, cIndex + 2 * ldc + 3, s23.reduceLanes(VectorOperators.ADD) + tail(a, a2, b, b3, vectorDepth, k), overwrite);
        store(c, cIndex + 3 * ldc + 0, s30.reduceLanes(VectorOperators.ADD) + tail(a, a3, b, b0, vectorDepth, k), overwrite);
        store(c, cIndex + 3 * ldc + 1, s31.reduceLanes(VectorOperators.ADD) + tail(a, a3, b, b1, vectorDepth, k), overwrite);
        store(c, cIndex + 3 * ldc + 2, s32.reduceLanes(VectorOperators.ADD) + tail(a, a3, b, b2, vectorDepth, k), overwrite);
        store(c, cIndex + 3 * ldc + 3, s33.reduceLanes(VectorOperators.ADD) + tail(a, a3, b, b3, vectorDepth, k), overwrite);
    }

    /**
     * One 4 × 2 tile of inner products, for vectors narrower than 512 bits: 4 rows of A against 2 rows of B, 8 vector
     * accumulators (6 loads per 8 multiply-adds), each reduced across lanes once at the end.
     */
    private static void dotTile4x2(int k, int vectorDepth, float[] a, int a0, int lda, float[] b, int b0, int b1,
                                   float[] c, int cIndex, int ldc, boolean overwrite) {
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        FloatVector s00 = FloatVector.zero(SPECIES);
        FloatVector s01 = FloatVector.zero(SPECIES);
        FloatVector s10 = FloatVector.zero(SPECIES);
        FloatVector s11 = FloatVector.zero(SPECIES);
        FloatVector s20 = FloatVector.zero(SPECIES);
        FloatVector s21 = FloatVector.zero(SPECIES);
        FloatVector s30 = FloatVector.zero(SPECIES);
        FloatVector s31 = FloatVector.zero(SPECIES);
        for (int p = 0; p < vectorDepth; p += LANES) {
            FloatVector y0 = FloatVector.fromArray(SPECIES, b, b0 + p);
            FloatVector y1 = FloatVector.fromArray(SPECIES, b, b1 + p);
            FloatVector x0 = FloatVector.fromArray(SPECIES, a, a0 + p);
            s00 = x0.fma(y0, s00);
            s01 = x0.fma(y1, s01);
            FloatVector x1 = FloatVector.fromArray(SPECIES, a, a1 + p);
            s10 = x1.fma(y0, s10);
            s11 = x1.fma(y1, s11);
            FloatVector x2 = FloatVector.fromArray(SPECIES, a, a2 + p);
            s20 = x2.fma(y0, s20);
            s21 = x2.fma(y1, s21);
            FloatVector x3 = FloatVector.fromArray(SPECIES, a, a3 + p);
            s30 = x3.fma(y0, s30);
            s31 = x3.fma(y1, s31);
        }
        store(c, cIndex, s00.reduceLanes(VectorOperators.ADD) + tail(a, a0, b, b0, vectorDepth, k), overwrite);
        store(c, cIndex + 1, s01.reduceLanes(VectorOperators.ADD) + tail(a, a0, b, b1, vectorDepth, k), overwrite);
        store(c, cIndex + ldc, s10.reduceLanes(VectorOperators.ADD) + tail(a, a1, b, b0, vectorDepth, k), overwrite);
        store(c, cIndex + ldc + 1, s11.reduceLanes(VectorOperators.ADD) + tail(a, a1, b, b1, vectorDepth, k), overwrite);
        store(c, cIndex + 2 * ldc, s20.reduceLanes(VectorOperators.ADD) + tail(a, a2, b, b0, vectorDepth, k), overwrite);
        store(c, cIndex + 2 * ldc + 1, s21.reduceLanes(VectorOperators.ADD) + tail(a, a2, b, b1, vectorDepth, k),
                overwrite);
        store(c, cIndex + 3 * ldc, s30.reduceLanes(VectorOperators.ADD) + tail(a, a3, b, b0, vectorDepth, k), overwrite);
        store(c, cIndex + 3 * ldc + 1, s31.reduceLanes(VectorOperators.ADD) + tail(a, a3, b, b1, vectorDepth, k),
                overwrite);
    }

    /** {@code sum_p a[aStart + p]·b[bStart + p]} over all of k, vector part then the tail. */
    private static float dot(float[] a, int aStart, float[] b, int bStart, int vectorDepth, int k) {
        FloatVector sum = FloatVector.zero(SPECIES);
        for (int p = 0; p < vectorDepth; p += LANES) {
            sum = FloatVector.fromArray(SPECIES, a, aStart + p).fma(FloatVector.fromArray(SPECIES, b, bStart + p), sum);
        }
        return sum.reduceLanes(VectorOperators.ADD) + tail(a, aStart, b, bStart, vectorDepth, k);
    }

    /** The part of an inner product past the last whole vector. */
    private static float tail(float[] a, int aStart, float[] b, int bStart, int from, int k) {
        float sum = 0f;
        for (int p = from; p < k; p++) {
            sum += a[aStart + p] * b[bStart + p];
        }
        return sum;
    }

    private static void store(float[] c, int index, float value, boolean overwrite) {
        c[index] = overwrite ? value : c[index] + value;
    }
}
