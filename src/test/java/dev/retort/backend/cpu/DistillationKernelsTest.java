package dev.retort.backend.cpu;

import static dev.retort.testing.TestData.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.DType;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.NdArray;
import dev.retort.testing.TestData;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused distillation primitive on float32 (online-softmax kernel) against float64 (the two-pass
 * reference) with identical inputs: loss terms and gradient within 1e-5 relative (docs/kd-modes.md), for
 * odd class counts, huge logits, extreme temperatures and rows of equal logits.
 */
class DistillationKernelsTest {
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

    private NdArray track(NdArray a) {
        allocated.add(a);
        return a;
    }

    /** Terms {total, CE, teacher} and the gradient of one run. */
    private record Result(double[] terms, double[] grad) {}

    private Result run(DType dtype, double[] s, double[] t, int[] y, int rows, int cols, DistillationSpec spec) {
        NdArray student = track(dtype == DType.FLOAT32 ? B.fromHost(TestData.toFloats(s), rows, cols)
                : B.fromHost(s, rows, cols));
        NdArray teacher = track(dtype == DType.FLOAT32 ? B.fromHost(TestData.toFloats(t), rows, cols)
                : B.fromHost(t, rows, cols));
        NdArray labels = y == null ? null : track(B.fromHost(y, rows));
        NdArray terms = track(B.empty(dtype, 3));
        NdArray grad = track(B.empty(dtype, rows, cols));
        B.fill(grad, Double.NaN); // the primitive must overwrite every element
        B.distillationLoss(student, teacher, labels, spec, terms, grad);
        return new Result(B.toDoubles(terms), B.toDoubles(grad));
    }

    private static int[] labels(Random r, int rows, int cols) {
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = r.nextInt(cols);
        }
        return y;
    }

    private static double[] logits(Random r, int n, double scale) {
        return TestData.uniform(r, n, -scale, scale);
    }

    private static void assertParity(String what, double[] s, double[] t, int[] y, int rows, int cols,
                                     DistillationSpec spec) {
        DistillationKernelsTest self = new DistillationKernelsTest();
        try {
            Result d = self.run(DType.FLOAT64, s, t, y, rows, cols, spec);
            Result f = self.run(DType.FLOAT32, s, t, y, rows, cols, spec);
            for (double v : d.terms) {
                assertTrue(Double.isFinite(v), what + ": float64 terms not finite");
            }
            for (int i = 0; i < 3; i++) {
                assertClose(what + " term " + i, new double[] {d.terms[i]}, new double[] {f.terms[i]}, TOLERANCE,
                        1e-30);
            }
            assertClose(what + " gradient", d.grad, f.grad, TOLERANCE, 1e-30);
        } finally {
            self.release();
        }
    }

    static Stream<Arguments> specs() {
        return Stream.of(
                Arguments.of("temperature Ts=4 Tt=4", DistillationSpec.temperature(4, 4, 16), false),
                Arguments.of("temperature Ts=2 Tt=8 κ=3", DistillationSpec.temperature(2, 8, 3), false),
                Arguments.of("temperature with labels", DistillationSpec.temperature(1.5, 3, 2.25), true),
                Arguments.of("hinton T=4 α=0.1", DistillationSpec.hinton(4, 0.1, 0, false), true),
                Arguments.of("hinton T=2 α=0.5 ε=0.1", DistillationSpec.hinton(2, 0.5, 0.1, false), true),
                Arguments.of("hinton hard α=0.3 ε=0.2", DistillationSpec.hinton(4, 0.3, 0.2, true), true));
    }

    static Stream<Arguments> specsAndClasses() {
        List<Arguments> out = new ArrayList<>();
        specs().forEach(a -> {
            for (int cols : new int[] {1, 3, 10, 1000, 32768}) {
                out.add(Arguments.of(a.get()[0], a.get()[1], a.get()[2], cols));
            }
        });
        return out.stream();
    }

    @ParameterizedTest(name = "{0} C={3}")
    @MethodSource("specsAndClasses")
    void float32MatchesReferenceForOddClassCounts(String name, DistillationSpec spec, boolean withLabels, int cols) {
        Random r = new Random(cols * 31L + name.hashCode());
        int rows = cols >= 1000 ? 3 : 7;
        double[] s = logits(r, rows * cols, 5);
        double[] t = logits(r, rows * cols, 5);
        assertParity(name + " C=" + cols, s, t, withLabels ? labels(r, rows, cols) : null, rows, cols, spec);
    }

    static Stream<Arguments> extremes() {
        List<Arguments> out = new ArrayList<>();
        for (double temperature : new double[] {0.05, 1, 100}) {
            for (double scale : new double[] {1, 1e2, 1e4}) {
                out.add(Arguments.of(temperature, scale));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "T={0} |z|≤{1}")
    @MethodSource("extremes")
    void hugeLogitsAndExtremeTemperaturesStayFiniteAndMatch(double temperature, double scale) {
        Random r = new Random(Double.hashCode(temperature * 7 + scale));
        int rows = 6;
        int cols = 11;
        double[] s = logits(r, rows * cols, scale);
        double[] t = logits(r, rows * cols, scale);
        s[0] = scale; // the extremes themselves
        t[1] = -scale;
        int[] y = labels(r, rows, cols);
        String what = "T=" + temperature + " |z|≤" + scale;
        assertParity(what + " temperature", s, t, null, rows, cols,
                DistillationSpec.temperature(temperature, temperature, temperature * temperature));
        assertParity(what + " temperature Tt=2Ts", s, t, null, rows, cols,
                DistillationSpec.temperature(temperature, 2 * temperature, 1));
        assertParity(what + " hinton", s, t, y, rows, cols, DistillationSpec.hinton(temperature, 0.1, 0.1, false));
        assertParity(what + " hinton hard", s, t, y, rows, cols, DistillationSpec.hinton(temperature, 0.1, 0, true));
    }

    @Test
    void equalLogitRowsGiveUniformDistributions() {
        int rows = 3;
        int cols = 9;
        double[] s = new double[rows * cols];
        double[] t = new double[rows * cols];
        java.util.Arrays.fill(s, 1e4);
        java.util.Arrays.fill(t, -7.25);
        int[] y = {0, 4, 8};
        DistillationSpec spec = DistillationSpec.hinton(4, 0.25, 0, false);
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            Result res = run(dtype, s, t, y, rows, cols, spec);
            // Both softmaxes are uniform: KL = 0 and CE = log C; the gradient is α/B·(1/C − onehot).
            assertEquals(0.0, res.terms[2], 1e-12, dtype + " KL");
            assertEquals(Math.log(cols), res.terms[1], 1e-6 * Math.log(cols), dtype + " CE");
            assertEquals(0.25 * Math.log(cols), res.terms[0], 1e-6, dtype + " total");
            double[] expected = new double[rows * cols];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    expected[r * cols + c] = 0.25 / rows * (1.0 / cols - (c == y[r] ? 1 : 0));
                }
            }
            assertClose(dtype + " gradient", expected, res.grad, TOLERANCE);
        }
        assertParity("equal logits", s, t, y, rows, cols, spec);
    }

    @Test
    void oneClassGivesZeroLossAndGradient() {
        double[] s = {3, -2, 1e4};
        double[] t = {-1, 5, 0};
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            Result res = run(dtype, s, t, new int[] {0, 0, 0}, 3, 1, DistillationSpec.hinton(4, 0.1, 0.1, false));
            assertEquals(0.0, Math.abs(res.terms[0]) + Math.abs(res.terms[1]) + Math.abs(res.terms[2]), 1e-12);
            for (double g : res.grad) {
                assertEquals(0.0, g, 1e-12);
            }
        }
    }

    @Test
    void temperatureModeWithoutLabelsReportsNoCrossEntropy() {
        Random r = new Random(5);
        double[] s = logits(r, 20, 3);
        double[] t = logits(r, 20, 3);
        Result res = run(DType.FLOAT64, s, t, null, 4, 5, DistillationSpec.temperature(4, 4, 16));
        assertEquals(0.0, res.terms[1]);
        assertEquals(16 * res.terms[2], res.terms[0], 1e-15);
    }
}
