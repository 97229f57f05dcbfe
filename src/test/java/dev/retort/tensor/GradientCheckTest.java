package dev.retort.tensor;

import static dev.retort.testing.GradCheck.project;
import static dev.retort.testing.TestData.leaf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.ConvSpec;
import dev.retort.backend.PoolSpec;
import dev.retort.backend.Shapes;
import dev.retort.backend.UnaryOp;
import dev.retort.testing.GradCheck;
import dev.retort.testing.ScopePerTest;
import dev.retort.testing.TestData;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.BinaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every differentiable operation against central differences in float64, on small random shapes with
 * odd sizes, each input checked.
 */
@ExtendWith(ScopePerTest.class)
class GradientCheckTest {

    private static double[] away(Random r, int[] shape) {
        return TestData.awayFromZero(r, Shapes.size(shape), 0.5, 2.0);
    }

    // ---- the checker itself ---------------------------------------------------------------------

    @Test
    void checkerReportsAWrongBackwardRuleWithInputElementAndValues() {
        Tensor x = leaf(new double[] {0.5, -1.5, 2.0}, 3);
        // x² recorded with the wrong rule dx = g·x (the factor 2 is missing).
        GradCheck.ScalarFunction wrong = () -> {
            Tensor y = x.detach().square();
            return Tensor.record("badSquare", y.data().view(y.shape()), g -> new Tensor[] {g.mul(x)}, x).sum();
        };
        AssertionError e = assertThrows(AssertionError.class, () -> GradCheck.of("badSquare", wrong).wrt("x", x).run());
        String m = e.getMessage();
        assertTrue(m.contains("badSquare") && m.contains("x [3] element 0") && m.contains("analytic 0.5")
                && m.contains("numeric 1.0"), m);
    }

    @Test
    void checkerPassesOnACorrectRuleAndRestoresTheInputs() {
        double[] values = {0.5, -1.5, 2.0};
        Tensor x = leaf(values.clone(), 3);
        GradCheck.check("square", () -> x.square().sum(), x);
        assertArrayEquals(values, x.toDoubleArray());
        assertEquals(null, x.grad());
    }

    // ---- elementwise with broadcasting ------------------------------------------------------

    static Stream<Arguments> broadcastPairs() {
        List<int[][]> shapes = List.of(
                new int[][] {{2, 3}, {2, 3}},
                new int[][] {{3, 1}, {1, 4}},
                new int[][] {{4, 5}, {5}},
                new int[][] {{5}, {4, 5}},
                new int[][] {{2, 3, 2, 3}, {1, 3, 1, 1}},
                new int[][] {{1, 3, 1, 1}, {2, 3, 2, 3}},
                new int[][] {{3, 4}, {}},
                new int[][] {{}, {3, 4}},
                new int[][] {{2, 1, 3}, {5, 1}});
        return Stream.of("add", "sub", "mul", "div")
                .flatMap(op -> shapes.stream().map(s -> Arguments.of(op, s[0], s[1])));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("broadcastPairs")
    void binaryOpsWithBroadcasting(String op, int[] aShape, int[] bShape) {
        Random r = new Random(Arrays.hashCode(aShape) * 31L + Arrays.hashCode(bShape) + op.hashCode());
        Tensor a = leaf(away(r, aShape), aShape);
        Tensor b = leaf(away(r, bShape), bShape);
        BinaryOperator<Tensor> f = switch (op) {
            case "add" -> Tensor::add;
            case "sub" -> Tensor::sub;
            case "mul" -> Tensor::mul;
            case "div" -> Tensor::div;
            default -> throw new IllegalArgumentException(op);
        };
        GradCheck.of(op, () -> project(f.apply(a, b))).wrt("a", a).wrt("b", b).run();
    }

    @Test
    void binaryOpsWhereOnlyOneSideRequiresGrad() {
        Random r = new Random(3);
        Tensor a = leaf(away(r, new int[] {3, 4}), 3, 4);
        Tensor b = Tensor.of(away(r, new int[] {4}), 4);
        GradCheck.check("sub(a, const)", () -> project(a.sub(b)), a);
        GradCheck.check("div(a, const)", () -> project(a.div(b)), a);
        GradCheck.check("sub(const, a)", () -> project(b.sub(a)), a);
        GradCheck.check("div(const, a)", () -> project(b.div(a)), a);
        GradCheck.check("mul(const, a)", () -> project(b.mul(a)), a);
    }

    @Test
    void affineAndScalarArithmetic() {
        Random r = new Random(5);
        Tensor x = leaf(r, 3, 5);
        GradCheck.check("affine", () -> project(x.affine(-1.75, 0.3)), x);
        GradCheck.check("affine alpha 1", () -> project(x.affine(1, 2.5)), x);
        GradCheck.check("add(double)", () -> project(x.add(3.25)), x);
        GradCheck.check("mul(double)", () -> project(x.mul(-0.4)), x);
    }

    /** Every UnaryOp through {@link Tensor#apply}, its inputs drawn from the op's own domain. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(UnaryOp.class)
    void unaryOps(UnaryOp op) {
        Random r = new Random(op.name().toLowerCase(java.util.Locale.ROOT).hashCode());
        int[] shape = {3, 7};
        double[] v = away(r, shape); // |x| ≥ 0.5: away from ReLU's kink and from log/sqrt's pole
        if (op.positiveOnly()) {
            v = Arrays.stream(v).map(Math::abs).toArray();
        }
        Tensor x = leaf(v, shape);
        GradCheck.check(op.name(), () -> project(x.apply(op)), x);
    }

    // ---- shape ----------------------------------------------------------------------------------

    @Test
    void reshapeFlattenTransposeExpand() {
        Random r = new Random(11);
        Tensor x = leaf(r, 2, 3, 5);
        GradCheck.check("reshape", () -> project(x.reshape(5, -1)), x);
        GradCheck.check("flatten(1)", () -> project(x.flatten(1)), x);
        GradCheck.check("flatten(0)", () -> project(x.flatten(0)), x);
        GradCheck.check("transpose 3-D", () -> project(x.transpose()), x);
        Tensor m = leaf(r, 3, 5);
        GradCheck.check("transpose 2-D", () -> project(m.transpose().mul(m.transpose())), m);
        Tensor c = leaf(r, 3, 1);
        GradCheck.check("expand [3,1]→[2,3,4]", () -> project(c.expand(2, 3, 4)), c);
        Tensor s = leaf(r);
        GradCheck.check("expand []→[3,2]", () -> project(s.expand(3, 2)), s);
    }

    @Test
    void sumToAndFullReductions() {
        Random r = new Random(13);
        Tensor x = leaf(r, 2, 3, 5);
        GradCheck.check("sumTo [3,1]", () -> project(x.sumTo(3, 1)), x);
        GradCheck.check("sumTo [5]", () -> project(x.sumTo(5)), x);
        GradCheck.check("sumTo [2,1,5]", () -> project(x.sumTo(2, 1, 5)), x);
        GradCheck.check("sumTo []", () -> x.sumTo().mul(1.5), x);
        GradCheck.check("sum()", () -> x.sum().square(), x);
        GradCheck.check("mean()", () -> x.mean().square(), x);
    }

    @ParameterizedTest(name = "keepDim={0}")
    @ValueSource(booleans = {true, false})
    void sumAndMeanOverDimensions(boolean keepDim) {
        Random r = new Random(17);
        Tensor x = leaf(r, 3, 2, 5);
        for (int[] dims : new int[][] {{0}, {1, 2}, {-1}, {0, 2}, {0, 1, 2}}) {
            String d = Arrays.toString(dims);
            GradCheck.check("sum " + d, () -> project(x.sum(keepDim, dims)), x);
            GradCheck.check("mean " + d, () -> project(x.mean(keepDim, dims)), x);
        }
    }

    // ---- linear algebra -----------------------------------------------------------------------

    @Test
    void matmul2d() {
        Random r = new Random(19);
        Tensor a = leaf(r, 3, 5);
        Tensor b = leaf(r, 5, 4);
        GradCheck.of("matmul", () -> project(a.matmul(b))).wrt("a", a).wrt("b", b).run();
    }

    @Test
    void matmulBatched3d() {
        Random r = new Random(23);
        Tensor a = leaf(r, 2, 3, 5);
        Tensor b = leaf(r, 2, 5, 1);
        GradCheck.of("batched matmul", () -> project(a.matmul(b))).wrt("a", a).wrt("b", b).run();
    }

    @ParameterizedTest(name = "transA={0} transB={1} batched={2}")
    @MethodSource("transposeFlags")
    void matmulTransposedVariants(boolean transA, boolean transB, boolean batched) {
        Random r = new Random(29);
        int m = 3;
        int k = 5;
        int n = 2;
        int[] as = transA ? new int[] {k, m} : new int[] {m, k};
        int[] bs = transB ? new int[] {n, k} : new int[] {k, n};
        if (batched) {
            as = new int[] {2, as[0], as[1]};
            bs = new int[] {2, bs[0], bs[1]};
        }
        Tensor a = leaf(r, as);
        Tensor b = leaf(r, bs);
        GradCheck.of("matmul", () -> project(Tensor.matmul(a, transA, b, transB))).wrt("a", a).wrt("b", b).run();
    }

    static Stream<Arguments> transposeFlags() {
        return Stream.of(true, false).flatMap(batched -> Stream.of(
                Arguments.of(false, false, batched), Arguments.of(true, false, batched),
                Arguments.of(false, true, batched), Arguments.of(true, true, batched)));
    }

    @Test
    void linearWithAndWithoutBiasAndOnOtherRanks() {
        Random r = new Random(31);
        Tensor x = leaf(r, 4, 3);
        Tensor w = leaf(r, 5, 3);
        Tensor b = leaf(r, 5);
        GradCheck.of("linear", () -> project(Functional.linear(x, w, b))).wrt("x", x).wrt("w", w).wrt("b", b).run();
        GradCheck.of("linear no bias", () -> project(Functional.linear(x, w, null))).wrt("x", x).wrt("w", w).run();
        Tensor x3 = leaf(r, 2, 3, 3);
        GradCheck.of("linear 3-D input", () -> project(Functional.linear(x3, w, b)))
                .wrt("x", x3).wrt("w", w).wrt("b", b).run();
        Tensor x1 = leaf(r, 3);
        GradCheck.of("linear 1-D input", () -> project(Functional.linear(x1, w, b)))
                .wrt("x", x1).wrt("w", w).wrt("b", b).run();
    }

    // ---- softmax --------------------------------------------------------------------------------

    @ParameterizedTest(name = "T={0}")
    @ValueSource(doubles = {0.5, 1, 4})
    void softmaxAndLogSoftmax(double temperature) {
        Random r = new Random(37);
        Tensor x = leaf(TestData.uniform(r, 21, -3, 3), 3, 7);
        GradCheck.check("softmax T=" + temperature, () -> project(x.softmax(temperature)), x);
        GradCheck.check("logSoftmax T=" + temperature, () -> project(x.logSoftmax(temperature)), x);
        Tensor x3 = leaf(TestData.uniform(r, 30, -3, 3), 2, 3, 5);
        GradCheck.check("softmax 3-D T=" + temperature, () -> project(x3.softmax(temperature)), x3);
        Tensor one = leaf(TestData.uniform(r, 3, -3, 3), 3, 1);
        GradCheck.check("logSoftmax C=1 T=" + temperature, () -> project(one.logSoftmax(temperature)), one);
    }

    // ---- convolution and pooling --------------------------------------------------------------

    static Stream<Arguments> convCases() {
        // batch, channels in, H, W, channels out, kh, kw, stride, padding, bias
        return Stream.of(
                Arguments.of(1, 2, 5, 5, 3, 3, 3, 1, 0, true),
                Arguments.of(3, 2, 5, 6, 2, 3, 3, 1, 1, true),
                Arguments.of(1, 1, 7, 5, 2, 3, 3, 2, 1, false),
                Arguments.of(3, 2, 5, 7, 2, 3, 2, 2, 0, true),
                Arguments.of(1, 3, 4, 5, 2, 2, 3, 1, 2, false),
                Arguments.of(3, 1, 6, 5, 1, 1, 1, 2, 0, true),
                Arguments.of(1, 2, 5, 5, 2, 5, 3, 2, 2, true));
    }

    @ParameterizedTest(name = "N{0} C{1} {2}x{3} K{4} {5}x{6} s{7} p{8} bias={9}")
    @MethodSource("convCases")
    void conv2d(int n, int c, int h, int w, int k, int kh, int kw, int stride, int pad, boolean withBias) {
        Random r = new Random(Arrays.hashCode(new int[] {n, c, h, w, k, kh, kw, stride, pad}));
        Tensor x = leaf(r, n, c, h, w);
        Tensor weight = leaf(r, k, c, kh, kw);
        Tensor bias = withBias ? leaf(r, k) : null;
        ConvSpec spec = new ConvSpec(stride, stride, pad, pad);
        GradCheck check = GradCheck.of("conv2d", () -> project(Functional.conv2d(x, weight, bias, spec)))
                .wrt("input", x).wrt("weight", weight);
        if (withBias) {
            check.wrt("bias", bias);
        }
        check.run();
    }

    @Test
    void conv2dWithOnlyTheWeightRequiringGrad() {
        Random r = new Random(41);
        Tensor x = TestData.constant(r, 2, 2, 5, 4);
        Tensor weight = leaf(r, 3, 2, 3, 3);
        Tensor bias = TestData.constant(r, 3);
        ConvSpec spec = new ConvSpec(1, 1, 1, 1);
        GradCheck.check("conv2d weight", () -> project(Functional.conv2d(x, weight, bias, spec)), weight);
    }

    static Stream<Arguments> poolSpecs() {
        return Stream.of(
                Arguments.of("k2s2", new PoolSpec(2, 2, 2, 2, 0, 0)),
                Arguments.of("k3s2p1", new PoolSpec(3, 3, 2, 2, 1, 1)),
                Arguments.of("k3s1", new PoolSpec(3, 3, 1, 1, 0, 0)),
                Arguments.of("k3x2s1x2p1x0", new PoolSpec(3, 2, 1, 2, 1, 0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("poolSpecs")
    void maxPool2d(String name, PoolSpec spec) {
        Random r = new Random(name.hashCode());
        int[] shape = {2, 2, 7, 5};
        // Distinct values 0.01 apart: no window has a tie for its maximum.
        Tensor x = leaf(TestData.distinct(r, Shapes.size(shape), 0.01), shape);
        GradCheck.check("maxPool2d " + name, () -> project(Functional.maxPool2d(x, spec)), x);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("poolSpecs")
    void avgPool2d(String name, PoolSpec spec) {
        Random r = new Random(name.hashCode());
        Tensor x = leaf(r, 2, 2, 7, 5);
        GradCheck.check("avgPool2d " + name, () -> project(Functional.avgPool2d(x, spec)), x);
    }

    @Test
    void globalAvgPool2d() {
        Random r = new Random(43);
        Tensor x = leaf(r, 3, 2, 5, 3);
        GradCheck.check("globalAvgPool2d", () -> project(Functional.globalAvgPool2d(x)), x);
    }

    // ---- normalisation and dropout ------------------------------------------------------------

    static Stream<Arguments> batchNormCases() {
        return Stream.of(true, false).flatMap(training -> Stream.of(
                Arguments.of(training, new int[] {6, 4}),
                Arguments.of(training, new int[] {3, 2, 3, 5}),
                Arguments.of(training, new int[] {1, 3, 2, 3})));
    }

    @ParameterizedTest(name = "training={0} {1}")
    @MethodSource("batchNormCases")
    void batchNorm(boolean training, int[] shape) {
        Random r = new Random(47 + Arrays.hashCode(shape));
        int c = shape[1];
        Tensor x = leaf(TestData.uniform(r, Shapes.size(shape), -2, 3), shape);
        Tensor gamma = leaf(TestData.uniform(r, c, 0.5, 1.5), c);
        Tensor beta = leaf(r, c);
        Tensor runningMean = Tensor.of(TestData.uniform(r, c, -0.5, 0.5), c);
        Tensor runningVar = Tensor.of(TestData.uniform(r, c, 0.5, 2), c);
        GradCheck.of("batchNorm training=" + training, () -> project(Functional.batchNorm(x, gamma, beta,
                        runningMean, runningVar, training, 0.1, 1e-5)))
                .wrt("input", x).wrt("gamma", gamma).wrt("beta", beta).run();
    }

    @Test
    void dropoutWithAFixedSeedIsADeterministicMask() {
        Random r = new Random(53);
        Tensor x = leaf(r, 4, 9);
        GradCheck.check("dropout p=0.3", () -> project(Functional.dropout(x, 0.3, true, 1234)), x);
        GradCheck.check("dropout p=0.7", () -> project(Functional.dropout(x, 0.7, true, 99)), x);
        GradCheck.check("dropout p=1", () -> project(Functional.dropout(x, 1.0, true, 99).add(x)), x);
        GradCheck.check("dropout eval", () -> project(Functional.dropout(x, 0.5, false, 99)), x);
    }

    // ---- losses ---------------------------------------------------------------------------------

    @ParameterizedTest(name = "eps={0}")
    @ValueSource(doubles = {0, 0.1})
    void crossEntropy(double smoothing) {
        Random r = new Random(59);
        Tensor logits = leaf(TestData.uniform(r, 35, -3, 3), 5, 7);
        Tensor labels = Tensor.ofInts(new int[] {0, 6, 3, 3, 1}, 5);
        GradCheck.check("crossEntropy", () -> Losses.crossEntropy(logits, labels, smoothing), logits);
        Tensor single = leaf(TestData.uniform(r, 3, -3, 3), 3, 1);
        Tensor zeros = Tensor.ofInts(new int[] {0, 0, 0}, 3);
        GradCheck.check("crossEntropy C=1", () -> Losses.crossEntropy(single, zeros, smoothing), single);
    }

    @ParameterizedTest(name = "eps={0}")
    @ValueSource(doubles = {0, 0.25})
    void nllLoss(double smoothing) {
        Random r = new Random(61);
        Tensor scores = leaf(TestData.uniform(r, 12, -3, 0), 3, 4);
        Tensor labels = Tensor.ofInts(new int[] {3, 0, 2}, 3);
        GradCheck.check("nllLoss", () -> Losses.nllLoss(scores, labels, smoothing), scores);
    }

    @ParameterizedTest(name = "Ts={0} Tt={1}")
    @MethodSource("temperaturePairs")
    void klDivWithBothStudentAndTeacherRequiringGrad(double ts, double tt) {
        Random r = new Random(67);
        Tensor s = leaf(TestData.uniform(r, 28, -3, 3), 4, 7);
        Tensor t = leaf(TestData.uniform(r, 28, -3, 3), 4, 7);
        GradCheck.of("klDiv", () -> Losses.klDiv(s, t, ts, tt)).wrt("student", s).wrt("teacher", t).run();
    }

    static Stream<Arguments> temperaturePairs() {
        return Stream.of(Arguments.of(1.0, 1.0), Arguments.of(4.0, 4.0), Arguments.of(2.0, 8.0),
                Arguments.of(0.5, 0.5), Arguments.of(3.0, 1.0));
    }

    @Test
    void mse() {
        Random r = new Random(71);
        Tensor a = leaf(r, 2, 3, 3);
        Tensor b = leaf(r, 2, 3, 3);
        GradCheck.of("mse", () -> Losses.mse(a, b)).wrt("input", a).wrt("target", b).run();
    }

    // ---- random shapes ----------------------------------------------------------------------------

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void randomShapesThroughBroadcastMatmulConvPoolAndSoftmax(long seed) {
        Random r = new Random(seed);
        int n = 1 + r.nextInt(3);
        int c = 1 + r.nextInt(3);
        int h = 3 + r.nextInt(4);
        int w = 3 + r.nextInt(4);
        int k = 1 + r.nextInt(3);
        int[] shape = {n, c, h, w};
        String dims = Arrays.toString(shape) + " K" + k;
        // Elementwise with a channel broadcast both ways.
        Tensor x = leaf(away(r, shape), shape);
        Tensor ch = leaf(away(r, new int[] {1, c, 1, 1}), 1, c, 1, 1);
        GradCheck.of("div " + dims, () -> project(ch.div(x).sub(x.mul(ch)))).wrt("x", x).wrt("channel", ch).run();
        // A convolution of a random kernel size and stride, then pooling.
        int kh = 1 + r.nextInt(Math.min(3, h));
        int kw = 1 + r.nextInt(Math.min(3, w));
        ConvSpec spec = new ConvSpec(1 + r.nextInt(2), 1 + r.nextInt(2), r.nextInt(2), r.nextInt(2));
        Tensor weight = leaf(r, k, c, kh, kw);
        Tensor bias = leaf(r, k);
        GradCheck.of("conv2d+avgPool " + dims + " kernel " + kh + "x" + kw + " " + spec,
                        () -> project(Functional.avgPool2d(Functional.conv2d(x, weight, bias, spec),
                                new PoolSpec(1, 2, 1, 1, 0, 1))))
                .wrt("x", x).wrt("weight", weight).wrt("bias", bias).run();
        // A batched product and a softmax over its last dimension.
        int m = 1 + r.nextInt(4);
        int p = 1 + r.nextInt(5);
        Tensor a = leaf(r, n, m, w);
        Tensor b = leaf(r, n, w, p);
        double t = 0.5 + 3 * r.nextDouble();
        GradCheck.of("matmul+logSoftmax " + dims + " m" + m + " p" + p + " T" + t,
                () -> project(a.matmul(b).logSoftmax(t))).wrt("a", a).wrt("b", b).run();
    }

    // ---- composites -----------------------------------------------------------------------------

    @Test
    void tensorUsedTwiceAccumulatesBothContributions() {
        double[] v = {0.5, -1.25, 2.0, 3.5};
        Tensor x = leaf(v, 4);
        Tensor y = x.mul(x).add(x).sum();
        y.backward();
        double[] expected = Arrays.stream(v).map(e -> 2 * e + 1).toArray();
        assertArrayEquals(expected, x.grad().toDoubleArray(), 1e-15);
        GradCheck.check("x*x + x", () -> project(x.mul(x).add(x)), x);
        GradCheck.check("x + x", () -> project(x.add(x)), x);
    }

    @Test
    void twoLayerMlpWithCrossEntropy() {
        Random r = new Random(73);
        Tensor x = TestData.constant(r, 5, 6);
        Tensor w1 = leaf(TestData.uniform(r, 42, -0.8, 0.8), 7, 6);
        Tensor b1 = leaf(r, 7);
        Tensor w2 = leaf(TestData.uniform(r, 21, -0.8, 0.8), 3, 7);
        Tensor b2 = leaf(r, 3);
        Tensor labels = Tensor.ofInts(new int[] {0, 2, 1, 1, 2}, 5);
        GradCheck.ScalarFunction net = () -> Losses.crossEntropy(
                Functional.linear(Functional.linear(x, w1, b1).relu(), w2, b2), labels, 0.0);
        // The hidden pre-activations stay away from ReLU's kink at 0 by much more than the step.
        try (Scope s = Scope.open(); var off = Autograd.noGrad()) {
            double[] pre = Functional.linear(x, w1, b1).toDoubleArray();
            assertTrue(Arrays.stream(pre).allMatch(v -> Math.abs(v) > 1e-4), "a pre-activation is near 0");
        }
        GradCheck.of("mlp", net).wrt("w1", w1).wrt("b1", b1).wrt("w2", w2).wrt("b2", b2).run();
    }

    @Test
    void smallConvNet() {
        Random r = new Random(79);
        Tensor x = TestData.constant(r, 2, 1, 6, 6);
        Tensor w = leaf(r, 2, 1, 3, 3);
        Tensor gamma = leaf(TestData.uniform(r, 2, 0.5, 1.5), 2);
        Tensor beta = leaf(r, 2);
        Tensor rm = Tensor.of(new double[2], 2);
        Tensor rv = Tensor.of(new double[] {1, 1}, 2);
        Tensor fc = leaf(r, 3, 2 * 3 * 3);
        Tensor labels = Tensor.ofInts(new int[] {1, 2}, 2);
        GradCheck.ScalarFunction net = () -> {
            Tensor h = Functional.conv2d(x, w, null, new ConvSpec(1, 1, 1, 1));
            h = Functional.batchNorm(h, gamma, beta, rm, rv, true, 0.1, 1e-5);
            h = Functional.avgPool2d(h.square(), new PoolSpec(2, 2, 2, 2, 0, 0));
            return Losses.crossEntropy(Functional.linear(h.flatten(1), fc, null), labels, 0.1);
        };
        GradCheck.of("conv-bn-pool-linear", net).wrt("w", w).wrt("gamma", gamma).wrt("beta", beta).wrt("fc", fc).run();
    }
}
