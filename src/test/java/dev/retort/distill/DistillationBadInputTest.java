package dev.retort.distill;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.DType;
import dev.retort.tensor.Tensor;
import dev.retort.testing.ScopePerTest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every bad option or shape is an IllegalArgumentException whose message names the option or the shapes. */
@ExtendWith(ScopePerTest.class)
class DistillationBadInputTest {

    private static Tensor logits(int rows, int cols) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.sin(i);
        }
        return Tensor.of(v, rows, cols);
    }

    private static Tensor labels(int... y) {
        return Tensor.ofInts(y, y.length);
    }

    private static void rejects(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should mention '" + f + "'");
        }
    }

    static Stream<Double> badTemperatures() {
        return Stream.of(0.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY);
    }

    @ParameterizedTest(name = "T={0}")
    @MethodSource("badTemperatures")
    void temperatureMustBePositiveAndFinite(double temperature) {
        Tensor s = logits(2, 3);
        Tensor t = logits(2, 3);
        Tensor y = labels(0, 2);
        rejects(() -> DistillationLoss.temperature(s, t, temperature, 4, 1), "--student-temperature (T_s)",
                String.valueOf(temperature));
        rejects(() -> DistillationLoss.temperature(s, t, 4, temperature, 1), "--teacher-temperature (T_t)");
        rejects(() -> DistillationLoss.temperature(s, t, temperature, 4), "temperature");
        rejects(() -> DistillationLoss.hinton(s, t, y, temperature, 0.1, 0, false), "--temperature (T)");
    }

    @Test
    void alphaSmoothingAndKappaMustBeInRange() {
        Tensor s = logits(2, 3);
        Tensor t = logits(2, 3);
        Tensor y = labels(0, 2);
        for (double alpha : new double[] {-0.01, 1.01, Double.NaN}) {
            rejects(() -> DistillationLoss.hinton(s, t, y, 4, alpha, 0, false), "alpha", "[0, 1]");
        }
        for (double eps : new double[] {-0.1, 1.5, Double.NaN}) {
            rejects(() -> DistillationLoss.hinton(s, t, y, 4, 0.1, eps, false), "--label-smoothing (ε)", "[0, 1]");
        }
        for (double kappa : new double[] {-1, Double.NaN, Double.POSITIVE_INFINITY}) {
            rejects(() -> DistillationLoss.temperature(s, t, 4, 4, kappa), "kappa");
        }
    }

    @Test
    void studentAndTeacherMustScoreTheSameClassesAndBatch() {
        Tensor y = labels(0, 1);
        rejects(() -> DistillationLoss.temperature(logits(2, 10), logits(2, 7)), "student has 10 classes",
                "teacher has 7", "[2, 10]", "[2, 7]");
        rejects(() -> DistillationLoss.hinton(logits(2, 10), logits(2, 7), y), "classes", "[2, 10]", "[2, 7]");
        rejects(() -> DistillationLoss.temperature(logits(2, 4), logits(3, 4)), "rows", "[2, 4]", "[3, 4]");
        rejects(() -> DistillationLoss.temperature(logits(2, 4).reshape(8), logits(2, 4).reshape(8)), "[B, C]", "[8]");
        rejects(() -> DistillationLoss.temperature(logits(0, 4), logits(0, 4)), "at least one row", "[0, 4]");
        rejects(() -> DistillationLoss.temperature(logits(2, 4), logits(2, 4).to(DType.FLOAT32)), "dtypes");
        rejects(() -> DistillationLoss.temperature(logits(2, 4), null), "teacher");
    }

    @Test
    void labelsMustBePresentIntegralCountedAndInRange() {
        Tensor s = logits(3, 4);
        Tensor t = logits(3, 4);
        rejects(() -> DistillationLoss.hinton(s, t, null), "labels are required", "[3]");
        rejects(() -> DistillationLoss.hinton(s, t, labels(0, 4, 1)), "label 4 at row 1", "[0, 4)");
        rejects(() -> DistillationLoss.hinton(s, t, labels(0, -2, 1)), "label -2");
        rejects(() -> DistillationLoss.hinton(s, t, labels(0, 1)), "labels", "[3]");
        rejects(() -> DistillationLoss.hinton(s, t, Tensor.of(new double[] {0, 1, 2}, 3)), "INT32");
        rejects(() -> DistillationLoss.temperature(s, t, labels(9, 0, 0), 4, 4, 16), "label 9");
    }

    @Test
    void temperatureModeNeedsNoLabels() {
        DistillationResult r = DistillationLoss.temperature(logits(3, 4), logits(3, 4).mul(2));
        assertTrue(Double.isFinite(r.total()) && r.total() > 0);
        assertTrue(Double.isNaN(r.crossEntropy()));
    }
}
