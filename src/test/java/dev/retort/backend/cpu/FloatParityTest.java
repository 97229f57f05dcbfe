package dev.retort.backend.cpu;

import static dev.retort.testing.TestData.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retort.backend.BinaryOp;
import dev.retort.backend.ConvGeometry;
import dev.retort.backend.ConvSpec;
import dev.retort.backend.CounterRng;
import dev.retort.backend.DType;
import dev.retort.backend.NdArray;
import dev.retort.backend.PoolSpec;
import dev.retort.backend.Shapes;
import dev.retort.backend.UnaryOp;
import dev.retort.testing.TestData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every primitive of {@link CpuBackend} on float32 arrays (the fast kernels) against the same
 * primitive on float64 arrays ({@link ReferenceKernels}, the specification), with identical inputs:
 * relative error ≤ 1e-5 of the reference's largest magnitude. The build runs this suite with the
 * Vector API and again with {@code -Dretort.vector=false}.
 */
class FloatParityTest {
    private static final double TOLERANCE = 1e-5;
    private static final CpuBackend B = CpuBackend.get();

    private final List<NdArray> allocated = new ArrayList<>();

    @AfterEach
    void release() {
        for (NdArray a : allocated) {
            a.storage().release();
        }
        allocated.clear();
    }

    /** One input or output in both dtypes, holding the same values. */
    private record Pair(NdArray f, NdArray d) {}

    private NdArray track(NdArray a) {
        allocated.add(a);
        return a;
    }

    private Pair in(double[] values, int... shape) {
        return new Pair(track(B.fromHost(TestData.toFloats(values), shape)),
                track(B.fromHost(toFloatPrecision(values), shape)));
    }

    private Pair in(Random r, double lo, double hi, int... shape) {
        return in(TestData.uniform(r, Shapes.size(shape), lo, hi), shape);
    }

    private Pair out(int... shape) {
        return new Pair(track(B.empty(DType.FLOAT32, shape)), track(B.empty(DType.FLOAT64, shape)));
    }

    private static double[] toFloatPrecision(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }

    private static void same(String what, Pair p) {
        assertEquals(DType.FLOAT32, p.f.dtype());
        assertEquals(DType.FLOAT64, p.d.dtype());
        assertClose(what, B.toDoubles(p.d), B.toDoubles(p.f), TOLERANCE);
    }

    private static double[] awayFromZero(Random r, int n) {
        return TestData.awayFromZero(r, n, 0.25, 4);
    }

    // ---- memory -------------------------------------------------------------------------------

    @Test
    void fillCopyAndCountNonFinite() {
        Pair x = out(3, 5);
        B.fill(x.f, -2.5);
        B.fill(x.d, -2.5);
        same("fill", x);
        Random r = new Random(1);
        Pair src = in(r, -3, 3, 3, 5);
        Pair converted = out(3, 5);
        B.copy(src.d, converted.f);
        B.copy(src.f, converted.d);
        assertArrayEquals(B.toDoubles(src.d), B.toDoubles(converted.f));
        assertArrayEquals(B.toDoubles(src.f), B.toDoubles(converted.d));
        Pair bad = in(new double[] {1, Double.NaN, Double.POSITIVE_INFINITY, -0.0, Double.NEGATIVE_INFINITY}, 5);
        assertEquals(3, B.countNonFinite(bad.f));
        assertEquals(3, B.countNonFinite(bad.d));
    }

    // ---- elementwise ----------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @EnumSource(UnaryOp.class)
    void unary(UnaryOp op) {
        Random r = new Random(op.ordinal());
        // The large shape crosses the kernels' parallel grain.
        for (int[] shape : new int[][] {{7, 13}, {3, 131, 97}}) {
            int n = Shapes.size(shape);
            double[] v = op.positiveOnly() ? TestData.uniform(r, n, 1e-3, 100)
                    : op == UnaryOp.EXP ? TestData.uniform(r, n, -10, 10) // past float32's exp(±88) is not the point
                    : TestData.uniform(r, n, -5, 5);
            if (op == UnaryOp.RELU) {
                v[0] = 0;
                v[1] = -0.0;
            }
            Pair x = in(v, shape);
            Pair y = out(shape);
            B.unary(op, x.f, y.f);
            B.unary(op, x.d, y.d);
            same(op + " " + Arrays.toString(shape), y);
        }
    }

    static Stream<Arguments> broadcastPatterns() {
        List<Object[]> patterns = List.of(
                new Object[] {"same shape", new int[] {5, 7}, new int[] {5, 7}},
                new Object[] {"same shape, large", new int[] {4, 3, 64, 50}, new int[] {4, 3, 64, 50}},
                new Object[] {"scalar []", new int[] {5, 7}, new int[] {}},
                new Object[] {"scalar [1]", new int[] {5, 7}, new int[] {1}},
                new Object[] {"scalar on the left", new int[] {}, new int[] {5, 7}},
                new Object[] {"bias", new int[] {6, 5}, new int[] {5}},
                new Object[] {"bias [1, C]", new int[] {6, 5}, new int[] {1, 5}},
                new Object[] {"bias, large", new int[] {300, 1201}, new int[] {1201}},
                new Object[] {"channel", new int[] {2, 3, 4, 5}, new int[] {1, 3, 1, 1}},
                new Object[] {"channel, large", new int[] {8, 16, 24, 24}, new int[] {1, 16, 1, 1}},
                new Object[] {"channel [C, 1, 1]", new int[] {2, 3, 4, 5}, new int[] {3, 1, 1}},
                new Object[] {"column", new int[] {4, 6}, new int[] {4, 1}},
                new Object[] {"general [3,1]x[1,4]", new int[] {3, 1}, new int[] {1, 4}},
                new Object[] {"middle broadcast", new int[] {2, 3, 5}, new int[] {2, 1, 5}},
                new Object[] {"bias on the left", new int[] {5}, new int[] {6, 5}},
                new Object[] {"channel on the left", new int[] {1, 3, 1, 1}, new int[] {2, 3, 4, 5}});
        return Stream.of(BinaryOp.values()).flatMap(op -> patterns.stream().map(p -> Arguments.of(op, p[0], p[1],
                p[2])));
    }

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource("broadcastPatterns")
    void binary(BinaryOp op, String pattern, int[] aShape, int[] bShape) {
        Random r = new Random(op.ordinal() * 31L + pattern.hashCode());
        int[] outShape = Shapes.broadcast("test", aShape, bShape);
        Pair a = in(TestData.uniform(r, Shapes.size(aShape), -3, 3), aShape);
        double[] bv = op.nonZeroRight() ? awayFromZero(r, Shapes.size(bShape))
                : TestData.uniform(r, Shapes.size(bShape), -3, 3);
        if (op == BinaryOp.RELU_BACKWARD) {
            for (int i = 0; i < bv.length; i += 3) {
                bv[i] = 0; // the ReLU's output is exactly 0 where its input was negative
            }
        }
        Pair b = in(bv, bShape);
        Pair y = out(outShape);
        B.binary(op, a.f, b.f, y.f);
        B.binary(op, a.d, b.d, y.d);
        same(op + " " + pattern, y);
    }

    @Test
    void broadcastTo() {
        Random r = new Random(3);
        int[][][] cases = {{{3, 1}, {2, 3, 4}}, {{1}, {5, 2}}, {{1, 3, 1, 1}, {2, 3, 2, 2}}, {{4}, {3, 4}},
                {{2, 1, 3}, {2, 5, 3}}, {{}, {2, 2}}};
        for (int[][] c : cases) {
            Pair x = in(r, -2, 2, c[0]);
            Pair y = out(c[1]);
            B.broadcastTo(x.f, y.f);
            B.broadcastTo(x.d, y.d);
            same("broadcastTo " + Arrays.toString(c[0]) + "→" + Arrays.toString(c[1]), y);
        }
    }

    @Test
    void affineAndAccumulate() {
        Random r = new Random(5);
        for (int[] shape : new int[][] {{7, 9}, {40000}}) {
            Pair x = in(r, -3, 3, shape);
            Pair y = out(shape);
            B.affine(x.f, -1.5, 0.25, y.f);
            B.affine(x.d, -1.5, 0.25, y.d);
            same("affine", y);
            Pair acc = in(r, -3, 3, shape);
            B.accumulate(x.f, 0.7, acc.f);
            B.accumulate(x.d, 0.7, acc.d);
            same("accumulate", acc);
        }
    }

    @Test
    void sumTo() {
        Random r = new Random(7);
        int[][][] cases = {
                {{6, 5}, {5}}, {{6, 5}, {1, 5}}, {{300, 1201}, {1201}}, // bias
                {{2, 3, 4, 5}, {1, 3, 1, 1}}, {{2, 3, 4, 5}, {3, 1, 1}}, // channel
                {{64, 3, 16, 16}, {1, 3, 1, 1}}, // channel, large
                {{2, 3, 4}, {2, 1, 4}}, {{2, 3, 4}, {3, 1}}, {{3, 1, 4}, {1, 1, 4}}, // general
                {{2, 3, 4}, {}}, {{2, 3, 4}, {2, 1, 1}}, {{2, 3, 4}, {2, 3, 4}}, {{1, 3}, {1, 1}}};
        for (int[][] c : cases) {
            Pair x = in(r, -1, 1, c[0]);
            Pair y = out(c[1]);
            B.sumTo(x.f, y.f);
            B.sumTo(x.d, y.d);
            same("sumTo " + Arrays.toString(c[0]) + "→" + Arrays.toString(c[1]), y);
        }
    }

    @Test
    void argmaxIsExactAndTakesTheFirstOfTies() {
        Random r = new Random(9);
        double[] v = TestData.uniform(r, 7 * 11, -3, 3);
        Arrays.fill(v, 22, 33, 1.5); // row 2: all equal
        v[45] = 9;
        v[49] = 9; // row 4: a tie between columns 1 and 5
        Pair x = in(v, 7, 11);
        NdArray f = track(B.empty(DType.INT32, 7));
        NdArray d = track(B.empty(DType.INT32, 7));
        B.argmaxLastDim(x.f, f);
        B.argmaxLastDim(x.d, d);
        assertArrayEquals(B.toInts(d), B.toInts(f));
        assertEquals(0, B.toInts(f)[2]);
        assertEquals(1, B.toInts(f)[4]);
    }

    // ---- linear algebra -----------------------------------------------------------------------

    static Stream<Arguments> matmulCases() {
        List<int[]> sizes = List.of(new int[] {0, 7, 9, 13}, new int[] {3, 5, 6, 11}, new int[] {0, 61, 71, 67},
                new int[] {0, 1, 1, 1}, new int[] {2, 1, 33, 7});
        return sizes.stream().flatMap(s -> Stream.of(new boolean[] {false, false}, new boolean[] {true, false},
                new boolean[] {false, true}, new boolean[] {true, true}).map(t -> Arguments.of(s, t[0], t[1])));
    }

    @ParameterizedTest(name = "batch,m,n,k={0} transA={1} transB={2}")
    @MethodSource("matmulCases")
    void matmul(int[] size, boolean transA, boolean transB) {
        int batch = size[0];
        int m = size[1];
        int n = size[2];
        int k = size[3];
        Random r = new Random(Arrays.hashCode(size) + (transA ? 1 : 0) + (transB ? 2 : 0));
        int[] as = transA ? new int[] {k, m} : new int[] {m, k};
        int[] bs = transB ? new int[] {n, k} : new int[] {k, n};
        int[] os = {m, n};
        if (batch > 0) {
            as = new int[] {batch, as[0], as[1]};
            bs = new int[] {batch, bs[0], bs[1]};
            os = new int[] {batch, m, n};
        }
        Pair a = in(r, -1, 1, as);
        Pair b = in(r, -1, 1, bs);
        Pair y = out(os);
        B.fill(y.f, Float.NaN); // beta = 0: the output is written, never read
        B.matmul(a.f, transA, b.f, transB, y.f);
        B.matmul(a.d, transA, b.d, transB, y.d);
        same("matmul", y);
    }

    @Test
    void scalarAndVectorGemmAgree() {
        FloatMath vector;
        try {
            vector = FloatMathProvider.vector();
        } catch (IllegalStateException unavailable) {
            assumeTrue(false, unavailable.getMessage());
            return;
        }
        FloatMath scalar = FloatMathProvider.scalar();
        Random r = new Random(11);
        for (int[] s : new int[][] {{37, 45, 29}, {6, 32, 8}, {1, 100, 3}, {13, 1, 50}}) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    int m = s[0];
                    int n = s[1];
                    int k = s[2];
                    float[] a = TestData.toFloats(TestData.uniform(r, m * k, -1, 1));
                    float[] b = TestData.toFloats(TestData.uniform(r, k * n, -1, 1));
                    float[] c0 = TestData.toFloats(TestData.uniform(r, m * n, -1, 1));
                    float[] c1 = c0.clone();
                    scalar.gemm(ta, tb, m, n, k, 0.5f, a, 0, ta ? m : k, b, 0, tb ? k : n, 2f, c0, 0, n);
                    vector.gemm(ta, tb, m, n, k, 0.5f, a, 0, ta ? m : k, b, 0, tb ? k : n, 2f, c1, 0, n);
                    double[] d0 = new double[c0.length];
                    double[] d1 = new double[c1.length];
                    for (int i = 0; i < c0.length; i++) {
                        d0[i] = c0[i];
                        d1[i] = c1[i];
                    }
                    assertClose("gemm " + Arrays.toString(s) + " ta=" + ta + " tb=" + tb, d0, d1, TOLERANCE);
                }
            }
        }
    }

    @Test
    void transposeLastTwoIsExact() {
        Random r = new Random(13);
        for (int[] shape : new int[][] {{4, 6}, {3, 5, 7}, {1, 9}}) {
            Pair x = in(r, -1, 1, shape);
            int[] t = shape.clone();
            t[t.length - 1] = shape[shape.length - 2];
            t[t.length - 2] = shape[shape.length - 1];
            Pair y = out(t);
            B.transposeLastTwo(x.f, y.f);
            B.transposeLastTwo(x.d, y.d);
            assertArrayEquals(B.toDoubles(y.d), B.toDoubles(y.f));
        }
    }

    // ---- convolution and pooling --------------------------------------------------------------

    static Stream<Arguments> convCases() {
        // N, C, H, W, K, kh, kw, strideH, strideW, padH, padW
        return Stream.of(
                Arguments.of((Object) new int[] {2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1}),
                Arguments.of((Object) new int[] {1, 2, 9, 8, 3, 5, 3, 2, 2, 2, 2}),
                Arguments.of((Object) new int[] {3, 4, 5, 5, 2, 1, 1, 1, 1, 0, 0}),
                Arguments.of((Object) new int[] {2, 2, 7, 6, 3, 3, 3, 2, 1, 1, 0}),
                Arguments.of((Object) new int[] {1, 1, 28, 28, 8, 3, 3, 1, 1, 1, 1}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void conv2dForwardAndBothBackwards(int[] g) {
        Random r = new Random(Arrays.hashCode(g));
        ConvSpec spec = new ConvSpec(g[7], g[8], g[9], g[10]);
        ConvGeometry geometry = new ConvGeometry(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10]);
        int oh = geometry.outHeight();
        int ow = geometry.outWidth();
        Pair x = in(r, -1, 1, g[0], g[1], g[2], g[3]);
        Pair w = in(r, -1, 1, g[4], g[1], g[5], g[6]);
        Pair b = in(r, -1, 1, g[4]);
        Pair y = out(g[0], g[4], oh, ow);
        B.conv2dForward(x.f, w.f, b.f, spec, y.f);
        B.conv2dForward(x.d, w.d, b.d, spec, y.d);
        same("conv2d forward", y);
        B.conv2dForward(x.f, w.f, null, spec, y.f);
        B.conv2dForward(x.d, w.d, null, spec, y.d);
        same("conv2d forward without bias", y);

        Pair gy = in(r, -1, 1, g[0], g[4], oh, ow);
        Pair gx = out(g[0], g[1], g[2], g[3]);
        B.conv2dBackwardInput(gy.f, w.f, spec, gx.f);
        B.conv2dBackwardInput(gy.d, w.d, spec, gx.d);
        same("conv2d backward input", gx);
        Pair gw = out(g[4], g[1], g[5], g[6]);
        Pair gb = out(g[4]);
        B.conv2dBackwardWeight(gy.f, x.f, spec, gw.f, gb.f);
        B.conv2dBackwardWeight(gy.d, x.d, spec, gw.d, gb.d);
        same("conv2d backward weight", gw);
        same("conv2d backward bias", gb);
        B.conv2dBackwardWeight(gy.f, x.f, spec, gw.f, null);
        B.conv2dBackwardWeight(gy.d, x.d, spec, gw.d, null);
        same("conv2d backward weight without bias", gw);
    }

    static Stream<Arguments> poolCases() {
        return Stream.of(new PoolSpec(2, 2, 2, 2, 0, 0), new PoolSpec(3, 3, 2, 2, 1, 1), new PoolSpec(3, 3, 1, 1, 0, 0),
                new PoolSpec(3, 2, 1, 2, 1, 1)).flatMap(s -> Stream.of(Arguments.of(s, false), Arguments.of(s, true)));
    }

    @ParameterizedTest(name = "{0} ties={1}")
    @MethodSource("poolCases")
    void pooling(PoolSpec spec, boolean ties) {
        Random r = new Random(spec.hashCode());
        int[] shape = {2, 3, 9, 7};
        double[] v = TestData.uniform(r, Shapes.size(shape), -2, 2);
        if (ties) {
            for (int i = 0; i < v.length; i++) {
                v[i] = Math.round(v[i] * 2) / 2.0; // many equal values: the first maximum must win in both
            }
        }
        Pair x = in(v, shape);
        int[] os = ConvGeometry.pool("pool2d", new int[] {2, 3, 9, 7}, spec).outputShape();
        Pair y = out(os);
        B.maxPool2dForward(x.f, spec, y.f);
        B.maxPool2dForward(x.d, spec, y.d);
        same("maxPool2d forward", y);
        Pair gy = in(r, -1, 1, os);
        Pair gx = out(shape);
        B.fill(gx.f, Float.NaN); // pooled arrays hold garbage: the backward pass must write every cell
        B.maxPool2dBackward(gy.f, x.f, spec, gx.f);
        B.maxPool2dBackward(gy.d, x.d, spec, gx.d);
        same("maxPool2d backward", gx);
        B.avgPool2dForward(x.f, spec, y.f);
        B.avgPool2dForward(x.d, spec, y.d);
        same("avgPool2d forward", y);
        B.avgPool2dBackward(gy.f, spec, gx.f);
        B.avgPool2dBackward(gy.d, spec, gx.d);
        same("avgPool2d backward", gx);
    }

    // ---- normalisation --------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("batchNormShapes")
    void batchNormTrainEvalAndBackward(int[] shape) {
        Random r = new Random(Arrays.hashCode(shape));
        int c = shape[1];
        Pair x = in(r, -2, 5, shape); // an offset mean: the variance must not cancel
        Pair gamma = in(r, 0.5, 1.5, c);
        Pair beta = in(r, -1, 1, c);
        Pair y = out(shape);
        Pair mean = out(c);
        Pair var = out(c);
        B.batchNormTrainForward(x.f, gamma.f, beta.f, 1e-5, y.f, mean.f, var.f);
        B.batchNormTrainForward(x.d, gamma.d, beta.d, 1e-5, y.d, mean.d, var.d);
        same("batchNorm train output", y);
        same("batchNorm train mean", mean);
        same("batchNorm train variance", var);

        Pair gy = in(r, -1, 1, shape);
        for (boolean training : new boolean[] {true, false}) {
            Pair gx = out(shape);
            Pair gg = out(c);
            Pair gb = out(c);
            // Each dtype differentiates at its own statistics, as the engine does.
            B.batchNormBackward(gy.f, x.f, gamma.f, mean.f, var.f, 1e-5, training, gx.f, gg.f, gb.f);
            B.batchNormBackward(gy.d, x.d, gamma.d, mean.d, var.d, 1e-5, training, gx.d, gg.d, gb.d);
            same("batchNorm backward input training=" + training, gx);
            same("batchNorm backward gamma training=" + training, gg);
            same("batchNorm backward beta training=" + training, gb);
        }

        Pair runningMean = in(r, -1, 1, c);
        Pair runningVar = in(r, 0.5, 2, c);
        B.batchNormEvalForward(x.f, gamma.f, beta.f, runningMean.f, runningVar.f, 1e-5, y.f);
        B.batchNormEvalForward(x.d, gamma.d, beta.d, runningMean.d, runningVar.d, 1e-5, y.d);
        same("batchNorm eval output", y);
    }

    static Stream<int[]> batchNormShapes() {
        return Stream.of(new int[] {4, 3, 5, 5}, new int[] {8, 6}, new int[] {1, 4, 3, 3}, new int[] {32, 8, 14, 14});
    }

    // ---- softmax and losses ---------------------------------------------------------------------

    /** Random rows, a row of huge logits (|z| up to 1e4), a row of equal logits, a dominant entry. */
    private static double[] logits(Random r, int rows, int cols) {
        double[] v = TestData.uniform(r, rows * cols, -5, 5);
        for (int c = 0; c < cols; c++) {
            v[cols + c] = (float) (r.nextBoolean() ? 1e4 * r.nextDouble() : -1e4 * r.nextDouble());
            v[2 * cols + c] = 3.25;
        }
        v[3 * cols + 1] = 40;
        return v;
    }

    static Stream<Arguments> softmaxCases() {
        return Stream.of(0.05, 1.0, 100.0).flatMap(t -> Stream.of(Arguments.of(t, false), Arguments.of(t, true)));
    }

    @ParameterizedTest(name = "T={0} log={1}")
    @MethodSource("softmaxCases")
    void softmaxForwardAndBackward(double temperature, boolean log) {
        Random r = new Random(Double.hashCode(temperature) + (log ? 1 : 0));
        for (int[] shape : new int[][] {{6, 37}, {5, 1}, {4, 3, 10}, {400, 100}}) {
            int cols = shape[shape.length - 1];
            int rows = Shapes.size(shape) / cols;
            Pair x = in(rows >= 4 ? logits(r, rows, cols) : TestData.uniform(r, rows * cols, -5, 5), shape);
            Pair y = out(shape);
            B.softmax(x.f, temperature, log, y.f);
            B.softmax(x.d, temperature, log, y.d);
            String what = (log ? "logSoftmax" : "softmax") + " T=" + temperature + " " + Arrays.toString(shape);
            same(what + " forward", y);
            Pair gy = in(r, -1, 1, shape);
            Pair gx = out(shape);
            // Each dtype differentiates from its own forward output, as the engine does.
            B.softmaxBackward(gy.f, y.f, temperature, log, gx.f);
            B.softmaxBackward(gy.d, y.d, temperature, log, gx.d);
            same(what + " backward", gx);
        }
    }

    @Test
    void softmaxBackwardOfSaturatedRowsKeepsItsRelativeAccuracy() {
        // At T = 0.05 logits one apart saturate every row: the largest output rounds to 1 in float32 and
        // the whole gradient is tiny (~1e-8), so y·(g − Σ y g) computed naively cancels to noise.
        Random r = new Random(29);
        int rows = 8;
        int cols = 10;
        double[] v = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            double[] row = TestData.distinct(r, cols, 1.0);
            System.arraycopy(row, 0, v, i * cols, cols);
        }
        Pair x = in(v, rows, cols);
        Pair y = out(rows, cols);
        B.softmax(x.f, 0.05, false, y.f);
        B.softmax(x.d, 0.05, false, y.d);
        Pair gy = in(r, -1, 1, rows, cols);
        Pair gx = out(rows, cols);
        B.softmaxBackward(gy.f, y.f, 0.05, false, gx.f);
        B.softmaxBackward(gy.d, y.d, 0.05, false, gx.d);
        same("saturated softmax backward", gx);
    }

    @ParameterizedTest(name = "eps={0}")
    @ValueSource(doubles = {0, 0.1})
    void nllForwardAndBackward(double smoothing) {
        Random r = new Random(17);
        int rows = 9;
        int cols = 11;
        Pair x = in(logits(r, rows, cols), rows, cols);
        Pair logp = out(rows, cols);
        B.softmax(x.d, 1, true, logp.d);
        B.copy(logp.d, logp.f);
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = r.nextInt(cols);
        }
        NdArray labels = track(B.fromHost(y, rows));
        Pair loss = out(rows);
        B.nllForward(logp.f, labels, smoothing, loss.f);
        B.nllForward(logp.d, labels, smoothing, loss.d);
        same("nll forward", loss);
        Pair g = in(r, -1, 1, rows);
        Pair gx = out(rows, cols);
        B.nllBackward(g.f, labels, smoothing, gx.f);
        B.nllBackward(g.d, labels, smoothing, gx.d);
        same("nll backward", gx);
    }

    @ParameterizedTest(name = "p={0}")
    @ValueSource(doubles = {0.1, 0.3, 0.5, 0.7, 0.9})
    void dropoutMaskPatternIsIdenticalAcrossDtypes(double p) {
        int n = 50_000;
        Pair mask = out(n);
        B.dropoutMask(42, p, mask.f);
        B.dropoutMask(42, p, mask.d);
        double[] f = B.toDoubles(mask.f);
        double[] d = B.toDoubles(mask.d);
        int kept = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(d[i] == 0, f[i] == 0, "element " + i + " kept in one dtype only");
            if (d[i] != 0) {
                kept++;
                assertEquals(1 / (1 - p), d[i], 1e-12);
                assertEquals(1 / (1 - p), f[i], 1e-6 / (1 - p));
            }
        }
        double rate = kept / (double) n;
        assertTrue(Math.abs(rate - (1 - p)) < 0.01, "keep rate " + rate + " for p = " + p);
    }

    @Test
    void dropoutMaskComparesWithTheUnroundedProbability() {
        // p just above a uniform draw u: u < p, so the element is dropped, although float(p) == u.
        long seed = 0;
        while (CounterRng.uniform(seed, 0) < 0.5) {
            seed++;
        }
        double u = CounterRng.uniform(seed, 0);
        double p = u + 0x1.0p-26;
        assertEquals(u, (double) (float) p, "the test needs float(p) == u");
        Pair mask = out(4);
        B.dropoutMask(seed, p, mask.f);
        B.dropoutMask(seed, p, mask.d);
        assertEquals(0.0, B.toDoubles(mask.d)[0], "float64 mask");
        assertEquals(0.0, B.toDoubles(mask.f)[0], "float32 mask");
    }

    // ---- optimizers -----------------------------------------------------------------------------

    static Stream<Arguments> sgdCases() {
        // momentum, dampening, weight decay, nesterov
        return Stream.of(
                Arguments.of(0.0, 0.0, 0.0, false),
                Arguments.of(0.0, 0.0, 1e-2, false),
                Arguments.of(0.9, 0.0, 0.0, false),
                Arguments.of(0.9, 0.0, 5e-4, true),
                Arguments.of(0.9, 0.1, 1e-2, false));
    }

    @ParameterizedTest(name = "momentum={0} dampening={1} wd={2} nesterov={3}")
    @MethodSource("sgdCases")
    void sgdStep(double momentum, double dampening, double weightDecay, boolean nesterov) {
        Random r = new Random(19);
        int n = 40_000;
        Pair param = in(r, -1, 1, n);
        Pair buffer = momentum == 0 ? null : out(n);
        for (int step = 0; step < 3; step++) {
            Pair grad = in(r, -1, 1, n);
            boolean first = step == 0;
            B.sgdStep(param.f, grad.f, buffer == null ? null : buffer.f, 0.1, momentum, dampening, weightDecay,
                    nesterov, first);
            B.sgdStep(param.d, grad.d, buffer == null ? null : buffer.d, 0.1, momentum, dampening, weightDecay,
                    nesterov, first);
            same("sgd param after step " + step, param);
            if (buffer != null) {
                same("sgd momentum buffer after step " + step, buffer);
            }
        }
    }

    @Test
    void adamwStep() {
        Random r = new Random(23);
        int n = 40_000;
        Pair param = in(r, -1, 1, n);
        Pair m = out(n);
        Pair v = out(n);
        B.fill(m.f, 0);
        B.fill(m.d, 0);
        B.fill(v.f, 0);
        B.fill(v.d, 0);
        for (int step = 1; step <= 4; step++) {
            double[] g = TestData.uniform(r, n, -1, 1);
            g[0] = 0; // a zero gradient divides 0 by eps
            Pair grad = in(g, n);
            B.adamwStep(param.f, grad.f, m.f, v.f, 0.05, 0.9, 0.999, 1e-8, 1e-2, step);
            B.adamwStep(param.d, grad.d, m.d, v.d, 0.05, 0.9, 0.999, 1e-8, 1e-2, step);
            same("adamw param after step " + step, param);
            same("adamw first moment after step " + step, m);
            same("adamw second moment after step " + step, v);
        }
    }

    @Test
    void describeNamesTheFloatMath() {
        String d = B.describe();
        assertTrue(d.startsWith("cpu: ") && d.contains(FloatMath.get().name()), d);
        if ("false".equals(System.getProperty(FloatMathProvider.VECTOR_PROPERTY))) {
            assertEquals(FloatMathProvider.scalar(), FloatMath.get(), "retort.vector=false must force the scalar path");
        }
    }
}
