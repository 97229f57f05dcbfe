package dev.retort.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.DType;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Losses;
import dev.retort.tensor.Tensor;
import dev.retort.testing.GradCheck;
import dev.retort.testing.ScopePerTest;
import dev.retort.testing.TestData;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused losses against the composed (unfused) path of Losses.klDiv and Losses.crossEntropy, a
 * finite-difference check of their gradient, defaults, and stability at huge logits and extreme temperatures.
 */
@ExtendWith(ScopePerTest.class)
class DistillationLossTest {

    /** One configuration of either mode; a NaN alpha marks mode temperature. */
    private record Config(String name, double ts, double tt, double kappa, double alpha, double eps, boolean hard) {
        boolean hinton() {
            return !Double.isNaN(alpha);
        }

        DistillationResult fused(Tensor s, Tensor t, Tensor y) {
            return hinton() ? DistillationLoss.hinton(s, t, y, ts, alpha, eps, hard)
                    : DistillationLoss.temperature(s, t, ts, tt, kappa);
        }

        /** docs/kd-modes.md written with the unfused losses. */
        Tensor composed(Tensor s, Tensor t, Tensor y) {
            if (!hinton()) {
                return Losses.klDiv(s, t, ts, tt).mul(kappa);
            }
            Tensor ce = Losses.crossEntropy(s, y, eps).mul(alpha);
            if (hard) {
                return ce.add(Losses.crossEntropy(s, t.argmax(), 0).mul(1 - alpha));
            }
            return ce.add(Losses.klDiv(s, t, ts, ts).mul((1 - alpha) * ts * ts));
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Config> configs() {
        return Stream.of(
                new Config("temperature Ts=Tt=4", 4, 4, 16, Double.NaN, 0, false),
                new Config("temperature Ts=2 Tt=8 κ=3", 2, 8, 3, Double.NaN, 0, false),
                new Config("temperature Ts=0.5 Tt=1 κ=0", 0.5, 1, 0, Double.NaN, 0, false),
                new Config("hinton T=4 α=0.1", 4, 4, 16, 0.1, 0, false),
                new Config("hinton T=3 α=0.7 ε=0.2", 3, 3, 9, 0.7, 0.2, false),
                new Config("hinton T=1 α=0 ε=1", 1, 1, 1, 0, 1, false),
                new Config("hinton T=2 α=1", 2, 2, 4, 1, 0, false),
                new Config("hinton hard α=0.1", 4, 4, 16, 0.1, 0, true),
                new Config("hinton hard α=0.4 ε=0.1", 4, 4, 16, 0.4, 0.1, true));
    }

    private static Tensor noGrad(Tensor t) {
        try (Autograd.NoGrad off = Autograd.noGrad()) {
            return t.mul(1.0);
        }
    }

    private static int[] labels(Random r, int rows, int cols) {
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = r.nextInt(cols);
        }
        return y;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void fusedMatchesComposedLosses(Config c) {
        Random r = new Random(c.name().hashCode());
        for (int cols : new int[] {1, 3, 10, 101}) {
            int rows = 6;
            double[] sv = TestData.uniform(r, rows * cols, -6, 6);
            Tensor teacher = noGrad(Tensor.of(TestData.uniform(r, rows * cols, -6, 6), rows, cols));
            Tensor y = Tensor.ofInts(labels(r, rows, cols), rows);
            Tensor s1 = TestData.leaf(sv, rows, cols);
            Tensor s2 = TestData.leaf(sv, rows, cols);
            DistillationResult fused = c.fused(s1, teacher, y);
            Tensor composed = c.composed(s2, teacher, y);
            String what = c + " C=" + cols;
            TestData.assertClose(what + " loss", new double[] {composed.item()}, new double[] {fused.total()}, 1e-12,
                    1e-12);
            fused.loss().backward();
            composed.backward();
            TestData.assertClose(what + " gradient", s2.grad().toDoubleArray(), s1.grad().toDoubleArray(), 1e-12,
                    1e-12);
            if (c.hinton()) {
                TestData.assertClose(what + " CE term", new double[] {Losses.crossEntropy(s2, y, c.eps()).item()},
                        new double[] {fused.crossEntropy()}, 1e-12, 1e-12);
            }
            if (!c.hard()) {
                TestData.assertClose(what + " KL term", new double[] {Losses.klDiv(s2, teacher, c.ts(), c.tt()).item()},
                        new double[] {fused.klDivergence()}, 1e-12, 1e-12);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void gradientMatchesFiniteDifferences(Config c) {
        Random r = new Random(c.name().hashCode() + 1);
        int rows = 3;
        int cols = 7;
        Tensor student = TestData.leaf(TestData.uniform(r, rows * cols, -3, 3), rows, cols);
        Tensor teacher = noGrad(Tensor.of(TestData.uniform(r, rows * cols, -3, 3), rows, cols));
        Tensor y = Tensor.ofInts(labels(r, rows, cols), rows);
        GradCheck.of("fused " + c, () -> c.fused(student, teacher, y).loss()).wrt("student", student).run();
        // The rule scales the stored gradient by the upstream one: check through a non-linear use of the loss.
        GradCheck.of("fused " + c + " squared", () -> c.fused(student, teacher, y).loss().square().mul(-0.75))
                .wrt("student", student).run();
    }

    @Test
    void defaultsAreT2Alpha01KappaTs2() {
        Random r = new Random(3);
        Tensor s = TestData.leaf(r, 4, 5);
        Tensor t = noGrad(TestData.constant(r, 4, 5));
        Tensor y = Tensor.ofInts(new int[] {0, 1, 2, 4}, 4);
        assertEquals(DistillationLoss.temperature(s, t, 2, 2, 4).total(), DistillationLoss.temperature(s, t).total());
        assertEquals(DistillationLoss.temperature(s, t, 3, 5, 9).total(),
                DistillationLoss.temperature(s, t, 3, 5).total());
        assertEquals(DistillationLoss.hinton(s, t, y, 2, 0.1, 0, false).total(),
                DistillationLoss.hinton(s, t, y).total());
        DistillationMode cli = DistillationMode.parse("temperature", DistillationMode.Options.NONE);
        assertEquals(new DistillationMode.Temperature(2, 2, 4), cli, "the command line's defaults are the same");
        assertEquals(new DistillationMode.Hinton(2, 0.1, false),
                DistillationMode.parse("hinton", DistillationMode.Options.NONE));
        DistillationResult withLabels = DistillationLoss.temperature(s, t, y, 2, 2, 4);
        assertEquals(DistillationLoss.temperature(s, t).total(), withLabels.total(), "labels do not enter the loss");
        assertEquals(Losses.crossEntropy(s, y, 0).item(), withLabels.crossEntropy(), 1e-12);
    }

    @Test
    void rowsWithoutALabelHaveNoLabelTermAndTheCrossEntropyIsStillABatchMean() {
        Random r = new Random(5);
        int rows = 5;
        int cols = 4;
        double[] sv = TestData.uniform(r, rows * cols, -4, 4);
        Tensor t = noGrad(Tensor.of(TestData.uniform(r, rows * cols, -4, 4), rows, cols));
        int[] y = {2, -1, 0, -1, 3}; // rows 1 and 3 have no label (Dataset.UNLABELLED)
        Tensor s1 = TestData.leaf(sv, rows, cols);
        DistillationResult fused = DistillationLoss.hinton(s1, t, Tensor.ofInts(y, rows), 2, 0.3, 0.1, false);
        // Composed: CE summed over the labelled rows, divided by all five rows, plus the soft term on every row.
        Tensor s2 = TestData.leaf(sv, rows, cols);
        Tensor pick = Tensor.of(new double[] {1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1}, 3, rows); // rows 0, 2, 4
        Tensor ce = Losses.crossEntropy(pick.matmul(s2), Tensor.ofInts(new int[] {2, 0, 3}, 3), 0.1).mul(3.0 / rows);
        Tensor composed = ce.mul(0.3).add(Losses.klDiv(s2, t, 2, 2).mul(0.7 * 4));
        TestData.assertClose("loss", new double[] {composed.item()}, new double[] {fused.total()}, 1e-12, 1e-12);
        TestData.assertClose("CE term", new double[] {ce.item()}, new double[] {fused.crossEntropy()}, 1e-12, 1e-12);
        fused.loss().backward();
        composed.backward();
        TestData.assertClose("gradient", s2.grad().toDoubleArray(), s1.grad().toDoubleArray(), 1e-12, 1e-12);
        GradCheck.of("fused hinton with unlabelled rows",
                () -> DistillationLoss.hinton(s1, t, Tensor.ofInts(y, rows), 2, 0.3, 0.1, false).loss())
                .wrt("student", s1).run();
    }

    @Test
    void noGraphWithoutAStudentGradient() {
        Random r = new Random(4);
        Tensor s = TestData.constant(r, 2, 3);
        DistillationResult res = DistillationLoss.temperature(s, TestData.constant(r, 2, 3));
        assertEquals(null, res.loss().gradFn());
        assertTrue(res.total() >= 0);
    }

    static Stream<Arguments> extremes() {
        List<Arguments> out = new ArrayList<>();
        for (double temperature : new double[] {0.05, 1, 100}) {
            for (double scale : new double[] {10, 1e4}) {
                out.add(Arguments.of(temperature, scale));
            }
        }
        return out.stream();
    }

    /** float32 fused against the float64 composed path: finite and within 1e-5 (docs/kd-modes.md). */
    @ParameterizedTest(name = "T={0} |z|≤{1}")
    @MethodSource("extremes")
    void hugeLogitsAndExtremeTemperaturesAreFiniteAndAccurate(double temperature, double scale) {
        Random r = new Random(Double.hashCode(temperature) * 31 + Double.hashCode(scale));
        int rows = 5;
        int cols = 13;
        double[] sv = TestData.uniform(r, rows * cols, -scale, scale);
        double[] tv = TestData.uniform(r, rows * cols, -scale, scale);
        sv[3] = scale;
        tv[4] = -scale;
        java.util.Arrays.fill(sv, cols, 2 * cols, scale); // a row of equal huge logits
        Tensor y = Tensor.ofInts(labels(r, rows, cols), rows);
        for (Config c : new Config[] {
                new Config("temperature", temperature, temperature, temperature * temperature, Double.NaN, 0, false),
                new Config("temperature Tt=3Ts", temperature, 3 * temperature, 1, Double.NaN, 0, false),
                new Config("hinton", temperature, temperature, temperature * temperature, 0.1, 0.1, false),
                new Config("hinton hard", temperature, temperature, temperature * temperature, 0.1, 0, true)}) {
            String what = c + " T=" + temperature + " |z|≤" + scale;
            Tensor sRef = TestData.leaf(sv, rows, cols);
            Tensor reference = c.composed(sRef, noGrad(Tensor.of(tv, rows, cols)), y);
            reference.backward();
            Tensor s32 = Tensor.of(TestData.toFloats(sv), rows, cols).requiresGrad(true);
            DistillationResult fused = c.fused(s32, noGrad(Tensor.of(TestData.toFloats(tv), rows, cols)), y);
            assertTrue(Double.isFinite(fused.total()), what + ": loss " + fused.total());
            assertEquals(0, fused.loss().countNonFinite(), what);
            fused.loss().backward();
            assertEquals(0, s32.grad().countNonFinite(), what + ": gradient not finite");
            TestData.assertClose(what + " loss", new double[] {reference.item()}, new double[] {fused.total()}, 1e-5);
            TestData.assertClose(what + " gradient", sRef.grad().toDoubleArray(), s32.grad().toDoubleArray(), 1e-5);
            assertEquals(DType.FLOAT32, s32.grad().dtype());
        }
    }
}
