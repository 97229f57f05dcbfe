package dev.retort.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Pins both {@link FloatMath} implementations' GEMM to a naive double-precision reference. */
class FloatMathTest {

    private static final int[] SIZES = {0, 1, 2, 3, 5, 7, 17, 31, 33, 65, 100, 129};
    private static final double TOLERANCE = 1e-5;

    static Stream<FloatMath> implementations() {
        return Stream.of(FloatMathProvider.scalar(), FloatMathProvider.vector());
    }

    static Stream<Arguments> implementationsAndTransposes() {
        List<Arguments> cases = new ArrayList<>();
        implementations().forEach(math -> {
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    cases.add(Arguments.of(math, transA, transB));
                }
            }
        });
        return cases.stream();
    }

    @Test
    void surefireSelectsThePathItAskedFor() {
        // The build passes --add-modules jdk.incubator.vector to tests, so the fast path must be chosen,
        // except in the run that forces the scalar fallback with -Dretort.vector=false.
        boolean scalarForced = "false".equals(System.getProperty("retort.vector"));
        assertTrue(FloatMath.get().name().startsWith(scalarForced ? "scalar" : "vector"), FloatMath.get().name());
        assertEquals("scalar", FloatMathProvider.scalar().name());
    }

    @ParameterizedTest(name = "{0} transA={1} transB={2}")
    @MethodSource("implementationsAndTransposes")
    void everySizeCombinationMatchesTheReference(FloatMath math, boolean transA, boolean transB) {
        Random random = new Random(42);
        for (int m : SIZES) {
            for (int n : SIZES) {
                for (int k : SIZES) {
                    // Cover every size on each axis, and every triple on a thinned grid to keep the run short.
                    if ((m * 31 + n * 17 + k * 7) % 5 != 0 && m > 7 && n > 7 && k > 7) {
                        continue;
                    }
                    check(math, random, transA, transB, m, n, k, 1f, 0f, 0, 0);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} transA={1} transB={2}")
    @MethodSource("implementationsAndTransposes")
    void alphaBetaOffsetsAndWideLeadingDimensionsMatchTheReference(FloatMath math, boolean transA, boolean transB) {
        Random random = new Random(7);
        float[][] alphaBetas = {{1f, 0f}, {0.5f, 0f}, {1f, 1f}, {-1.5f, 0.25f}, {2f, -1f}, {0f, 0.5f}, {0f, 0f}};
        int[][] shapes = {{1, 1, 1}, {5, 7, 3}, {17, 33, 31}, {33, 17, 65}, {65, 100, 129}, {129, 65, 300}};
        for (float[] alphaBeta : alphaBetas) {
            for (int[] shape : shapes) {
                check(math, random, transA, transB, shape[0], shape[1], shape[2], alphaBeta[0], alphaBeta[1], 3, 5);
            }
        }
    }

    @ParameterizedTest(name = "{0} transA={1} transB={2}")
    @MethodSource("implementationsAndTransposes")
    void largeProductsSplitAcrossThreadsMatchTheReference(FloatMath math, boolean transA, boolean transB) {
        Random random = new Random(11);
        // Big enough to take the multi-threaded path and more than one depth block.
        check(math, random, transA, transB, 257, 300, 600, 1f, 0f, 0, 0);
        check(math, random, transA, transB, 33, 900, 290, 0.75f, 0.5f, 1, 2);
        check(math, random, transA, transB, 128, 10, 1200, 1f, 0f, 0, 0);
        // Depth blocks of unequal size (234, 234 and 233 deep in the vector GEMM).
        check(math, random, transA, transB, 40, 70, 701, 1f, 1f, 0, 0);
        // A·Bᵀ with few rows and a deep k, which the vector GEMM runs as inner products, with offsets and beta.
        check(math, random, transA, transB, 100, 130, 530, 1f, 0.5f, 3, 5);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void betaZeroOverwritesNanInC(FloatMath math) {
        int m = 13;
        int n = 37;
        int k = 9;
        float[] a = randomArray(new Random(1), m * k);
        float[] b = randomArray(new Random(2), k * n);
        float[] c = new float[m * n];
        Arrays.fill(c, Float.NaN);
        math.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        for (float value : c) {
            assertTrue(Float.isFinite(value), "beta = 0 must not read C");
        }
        Arrays.fill(c, Float.NaN);
        math.gemm(false, false, m, n, 0, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        for (float value : c) {
            assertEquals(0f, value, "k = 0 with beta = 0 leaves zeros");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void gemmInsideParallelBodiesMatchesTheReference(FloatMath math) {
        int m = 40;
        int n = 300;
        int k = 290;
        int batch = 6;
        Random random = new Random(5);
        float[] a = randomArray(random, m * k);
        float[] b = randomArray(random, batch * k * n);
        float[] c = new float[batch * m * n];
        Parallel.forRange(0, batch, 1, (lo, hi) -> {
            for (int image = lo; image < hi; image++) {
                math.gemm(false, false, m, n, k, 1f, a, 0, k, b, image * k * n, n, 0f, c, image * m * n, n);
            }
        });
        for (int image = 0; image < batch; image++) {
            double[] expected = reference(false, false, m, n, k, 1f, a, 0, k, b, image * k * n, n, 0f,
                    new float[m * n], 0, n);
            assertClose(expected, c, image * m * n, n, m, n, "image " + image);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void dotProductsMatchTheReferenceForEverySize(FloatMath math) {
        Random random = new Random(13);
        for (int m : SIZES) {
            for (int n : SIZES) {
                for (int k : SIZES) {
                    if ((m * 31 + n * 17 + k * 7) % 5 != 0 && m > 7 && n > 7 && k > 7) {
                        continue;
                    }
                    checkDotProducts(math, random, m, n, k, 0f, 0, 0, k);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void dotProductsWithBetaOffsetsAndOverlappingRowsMatchTheReference(FloatMath math) {
        Random random = new Random(17);
        int[][] shapes = {{1, 1, 1}, {4, 4, 16}, {5, 7, 3}, {8, 288, 848}, {17, 33, 31}, {33, 17, 65}, {3, 9, 129}};
        for (float beta : new float[] {0f, 1f, 0.25f}) {
            for (int[] shape : shapes) {
                int k = shape[2];
                // Row starts k apart (a plain matrix), 1 apart (a convolution's overlapping patches), and wider.
                for (int step : new int[] {k, 1, k + 3}) {
                    checkDotProducts(math, random, shape[0], shape[1], k, beta, 3, 5, step);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void largeDotProductsSplitAcrossThreadsMatchTheReference(FloatMath math) {
        Random random = new Random(19);
        checkDotProducts(math, random, 40, 301, 600, 0f, 0, 0, 600);
        checkDotProducts(math, random, 32, 288, 848, 1f, 2, 7, 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void gemmRowsMatchesTheReferenceForEverySize(FloatMath math) {
        Random random = new Random(23);
        for (int m : SIZES) {
            for (int n : SIZES) {
                for (int k : SIZES) {
                    if ((m * 31 + n * 17 + k * 7) % 5 != 0 && m > 7 && n > 7 && k > 7) {
                        continue;
                    }
                    checkGemmRows(math, random, m, n, k, 0f, 0, 0, n);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void gemmRowsWithBetaOffsetsAndOverlappingRowsMatchesTheReference(FloatMath math) {
        Random random = new Random(29);
        int[][] shapes = {{1, 1, 1}, {8, 32, 4}, {5, 7, 3}, {32, 838, 288}, {17, 33, 31}, {33, 17, 65}, {9, 3, 300}};
        for (float beta : new float[] {0f, 1f, 0.25f}) {
            for (int[] shape : shapes) {
                int n = shape[1];
                for (int step : new int[] {n, 1, n + 3}) {
                    checkGemmRows(math, random, shape[0], n, shape[2], beta, 3, 5, step);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void largeGemmRowsSplitsAcrossThreadsAndMatchesTheReference(FloatMath math) {
        Random random = new Random(31);
        checkGemmRows(math, random, 257, 300, 600, 0f, 0, 0, 300);
        checkGemmRows(math, random, 33, 900, 290, 1f, 1, 2, 30);
    }

    /**
     * The element-wise primitives give Java's own float arithmetic bit for bit, at any length and offset (vector
     * bodies and scalar tails alike), NaN and signed zeros included.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void elementWisePrimitivesMatchPlainJavaBitForBit(FloatMath math) {
        Random random = new Random(37);
        for (int n : new int[] {0, 1, 15, 16, 17, 31, 32, 33, 100, 784}) {
            float[] x = randomArray(random, n + 3);
            float[] g = randomArray(random, n + 5);
            if (n > 8) {
                x[3] = Float.NaN;
                x[4] = -0f;
                x[5] = 0f;
                x[6] = Float.NEGATIVE_INFINITY;
                x[7] = Float.POSITIVE_INFINITY;
                x[n + 2] = -0f;
            }
            float[] relu = new float[n + 2];
            math.relu(x, 3, relu, 2, n);
            float[] shifted = new float[n + 1];
            math.scaleShift(x, 3, 1.7f, -0.3f, shifted, 1, n);
            float[] gradient = new float[n + 4];
            math.batchNormGradient(g, 5, x, 3, n, 0.9f, 0.01f, -0.2f, 0.37f, gradient, 4);
            for (int i = 0; i < n; i++) {
                float xi = x[3 + i];
                String where = math.name() + " n=" + n + " i=" + i + " x=" + xi;
                assertEquals(Float.floatToIntBits(Math.max(xi, 0f)), Float.floatToIntBits(relu[2 + i]), "relu " + where);
                assertEquals(Float.floatToIntBits(xi * 1.7f + -0.3f), Float.floatToIntBits(shifted[1 + i]),
                        "scaleShift " + where);
                float expected = 0.9f * (g[5 + i] - 0.01f - (xi - -0.2f) * 0.37f);
                assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(gradient[4 + i]),
                        "batchNormGradient " + where);
            }
        }
    }

    /** The partial sums of the per-plane reductions add up to the double-precision sums, at any length and offset. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void planeSumsMatchDoublePrecision(FloatMath math) {
        Random random = new Random(41);
        for (int n : new int[] {0, 1, 7, 8, 9, 31, 32, 33, 47, 196, 784, 1000}) {
            float[] x = randomArray(random, n + 3);
            float[] g = randomArray(random, n + 1);
            float mean = 0.125f;
            double sum = 0;
            double squares = 0;
            double products = 0;
            double scale = 1;
            for (int i = 0; i < n; i++) {
                double xi = x[3 + i];
                sum += xi;
                squares += (xi - mean) * (xi - mean);
                products += g[1 + i] * (xi - mean);
                scale += Math.abs(xi);
            }
            String where = math.name() + " n=" + n;
            assertEquals(sum, math.sum(x, 3, n), TOLERANCE * scale, "sum " + where);
            assertEquals(squares, math.squaredDeviations(x, 3, n, mean), TOLERANCE * scale,
                    "squaredDeviations " + where);
            assertEquals(products, math.centeredProducts(g, 1, x, 3, n, mean), TOLERANCE * scale,
                    "centeredProducts " + where);
        }
    }

    @Test
    void negativeSizesAndShortLeadingDimensionsAreRejected() {
        FloatMath math = FloatMathProvider.scalar();
        float[] data = new float[16];
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> math.gemm(false, false, -1, 2, 2, 1f, data, 0, 2, data, 0, 2, 0f, data, 0, 2));
        assertTrue(negative.getMessage().contains("m=-1"), negative.getMessage());
        IllegalArgumentException shortLda = assertThrows(IllegalArgumentException.class,
                () -> FloatMathProvider.vector().gemm(false, false, 2, 2, 3, 1f, data, 0, 2, data, 0, 2, 0f, data, 0, 2));
        assertTrue(shortLda.getMessage().contains("lda=2"), shortLda.getMessage());
        for (FloatMath each : List.of(math, FloatMathProvider.vector())) {
            IllegalArgumentException fewRows = assertThrows(IllegalArgumentException.class,
                    () -> each.dotProducts(2, 3, 2, data, 0, 2, data, new int[2], 0f, data, 0, 3));
            assertTrue(fewRows.getMessage().contains("bRows.length=2"), fewRows.getMessage());
            IllegalArgumentException negativeK = assertThrows(IllegalArgumentException.class,
                    () -> each.dotProducts(1, 1, -1, data, 0, 2, data, new int[1], 0f, data, 0, 1));
            assertTrue(negativeK.getMessage().contains("k=-1"), negativeK.getMessage());
            IllegalArgumentException fewGemmRows = assertThrows(IllegalArgumentException.class,
                    () -> each.gemmRows(2, 2, 3, data, 0, 3, data, new int[2], 0f, data, 0, 2));
            assertTrue(fewGemmRows.getMessage().contains("gemmRows") && fewGemmRows.getMessage().contains("needs >= 3"),
                    fewGemmRows.getMessage());
            IllegalArgumentException shortPack = assertThrows(IllegalArgumentException.class,
                    () -> each.pack(2, 3, data, 0, 2));
            assertTrue(shortPack.getMessage().contains("lda=2"), shortPack.getMessage());
        }
        FloatMath.Packed scalarPacked = math.pack(2, 2, data, 0, 2);
        IllegalArgumentException foreign = assertThrows(IllegalArgumentException.class,
                () -> FloatMathProvider.vector().gemmRows(scalarPacked, 2, data, new int[2], 0f, data, 0, 2));
        assertTrue(foreign.getMessage().contains("another FloatMath"), foreign.getMessage());
    }

    /**
     * Runs one GEMM with A, B and C embedded in larger arrays (offset {@code offset}, leading dimensions widened by
     * {@code extra}) and compares C, including the untouched padding, to the reference.
     */
    private static void check(FloatMath math, Random random, boolean transA, boolean transB, int m, int n, int k,
                              float alpha, float beta, int offset, int extra) {
        int lda = (transA ? m : k) + extra;
        int ldb = (transB ? k : n) + extra;
        int ldc = n + extra;
        float[] a = randomArray(random, offset + (transA ? k : m) * lda);
        float[] b = randomArray(random, offset + (transB ? n : k) * ldb);
        float[] c = randomArray(random, offset + m * ldc);
        if (beta == 0f) {
            for (int i = 0; i < m; i++) {
                Arrays.fill(c, offset + i * ldc, offset + i * ldc + n, Float.NaN);
            }
        }
        float[] original = c.clone();
        double[] expected = reference(transA, transB, m, n, k, alpha, a, offset, lda, b, offset, ldb, beta,
                c, offset, ldc);
        math.gemm(transA, transB, m, n, k, alpha, a, offset, lda, b, offset, ldb, beta, c, offset, ldc);
        String where = math.name() + " transA=" + transA + " transB=" + transB + " m=" + m + " n=" + n + " k=" + k
                + " alpha=" + alpha + " beta=" + beta;
        assertClose(expected, c, offset, ldc, m, n, where);
        for (int index = 0; index < c.length; index++) {
            int row = (index - offset) / ldc;
            int column = (index - offset) % ldc;
            boolean inside = index >= offset && row < m && column < n;
            if (!inside && Float.floatToRawIntBits(c[index]) != Float.floatToRawIntBits(original[index])) {
                fail(where + ": wrote outside C at index " + index);
            }
        }
    }

    /**
     * Runs one {@link FloatMath#dotProducts} with A and C embedded in larger arrays ({@code offset}, leading
     * dimensions widened by {@code extra}) and B's rows {@code step} apart in shuffled order, and compares C,
     * including the untouched padding, to a double-precision reference.
     */
    private static void checkDotProducts(FloatMath math, Random random, int m, int n, int k, float beta, int offset,
                                         int extra, int step) {
        int lda = k + extra;
        int ldc = n + extra;
        float[] a = randomArray(random, offset + m * lda);
        float[] b = randomArray(random, offset + n * step + k);
        int[] bRows = new int[n + 2];
        for (int j = 0; j < n; j++) {
            bRows[j] = offset + ((j * 7) % Math.max(1, n)) * step;
        }
        float[] c = randomArray(random, offset + m * ldc);
        if (beta == 0f) {
            for (int i = 0; i < m; i++) {
                Arrays.fill(c, offset + i * ldc, offset + i * ldc + n, Float.NaN);
            }
        }
        float[] original = c.clone();
        double[] expected = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) a[offset + i * lda + p] * b[bRows[j] + p];
                }
                expected[i * n + j] = sum + (beta == 0f ? 0 : (double) beta * c[offset + i * ldc + j]);
            }
        }
        math.dotProducts(m, n, k, a, offset, lda, b, bRows, beta, c, offset, ldc);
        String where = math.name() + " dotProducts m=" + m + " n=" + n + " k=" + k + " beta=" + beta + " step="
                + step;
        assertClose(expected, c, offset, ldc, m, n, where);
        for (int index = 0; index < c.length; index++) {
            int row = (index - offset) / ldc;
            int column = (index - offset) % ldc;
            boolean inside = index >= offset && row < m && column < n;
            if (!inside && Float.floatToRawIntBits(c[index]) != Float.floatToRawIntBits(original[index])) {
                fail(where + ": wrote outside C at index " + index);
            }
        }
    }

    /**
     * Runs one {@link FloatMath#gemmRows} with A and C embedded in larger arrays ({@code offset}, leading
     * dimensions widened by {@code extra}) and B's rows {@code step} apart in shuffled order, and compares C,
     * including the untouched padding, to a double-precision reference.
     */
    private static void checkGemmRows(FloatMath math, Random random, int m, int n, int k, float beta, int offset,
                                      int extra, int step) {
        int lda = k + extra;
        int ldc = n + extra;
        float[] a = randomArray(random, offset + m * lda);
        float[] b = randomArray(random, offset + k * step + n);
        int[] bRows = new int[k + 2];
        for (int p = 0; p < k; p++) {
            bRows[p] = offset + ((p * 7) % Math.max(1, k)) * step;
        }
        float[] c = randomArray(random, offset + m * ldc);
        if (beta == 0f) {
            for (int i = 0; i < m; i++) {
                Arrays.fill(c, offset + i * ldc, offset + i * ldc + n, Float.NaN);
            }
        }
        float[] original = c.clone();
        double[] expected = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) a[offset + i * lda + p] * b[bRows[p] + j];
                }
                expected[i * n + j] = sum + (beta == 0f ? 0 : (double) beta * c[offset + i * ldc + j]);
            }
        }
        float[] packedC = c.clone();
        math.gemmRows(m, n, k, a, offset, lda, b, bRows, beta, c, offset, ldc);
        String where = math.name() + " gemmRows m=" + m + " n=" + n + " k=" + k + " beta=" + beta + " step=" + step;
        assertClose(expected, c, offset, ldc, m, n, where);
        // A packed once gives the same products, bit for bit: only where A's panels come from differs.
        math.gemmRows(math.pack(m, k, a, offset, lda), n, b, bRows, beta, packedC, offset, ldc);
        assertArrayEquals(c, packedC, where + " with A packed once");
        for (int index = 0; index < c.length; index++) {
            int row = (index - offset) / ldc;
            int column = (index - offset) % ldc;
            boolean inside = index >= offset && row < m && column < n;
            if (!inside && Float.floatToRawIntBits(c[index]) != Float.floatToRawIntBits(original[index])) {
                fail(where + ": wrote outside C at index " + index);
            }
        }
    }

    static double[] reference(boolean transA, boolean transB, int m, int n, int k, float alpha,
                              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float beta, float[] c, int cOff, int ldc) {
        double[] result = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    double left = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    double right = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    sum += left * right;
                }
                double previous = beta == 0f ? 0 : (double) beta * c[cOff + i * ldc + j];
                result[i * n + j] = alpha * sum + previous;
            }
        }
        return result;
    }

    /** Every element within TOLERANCE of the largest reference magnitude (at least 1). */
    static void assertClose(double[] expected, float[] actual, int offset, int ld, int rows, int columns,
                            String where) {
        double magnitude = 1;
        for (double value : expected) {
            magnitude = Math.max(magnitude, Math.abs(value));
        }
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < columns; j++) {
                double want = expected[i * columns + j];
                float got = actual[offset + i * ld + j];
                if (!(Math.abs(got - want) <= TOLERANCE * magnitude)) {
                    fail(where + ": at (" + i + ", " + j + ") expected " + want + " but got " + got
                            + " (tolerance " + TOLERANCE * magnitude + ")");
                }
            }
        }
    }

    static float[] randomArray(Random random, int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = random.nextFloat() * 2f - 1f;
        }
        return values;
    }
}
