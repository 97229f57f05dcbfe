package dev.retort.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.DType;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Tensor;
import dev.retort.testing.Golden;
import dev.retort.testing.ScopePerTest;
import dev.retort.testing.TestData;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused losses against PyTorch's kd_temperature_* and kd_hinton_* golden cases (losses.json): total,
 * each term and the student's gradient, in float64 (≤ 1e-9) and float32 (≤ 1e-5, docs/kd-modes.md).
 */
@ExtendWith(ScopePerTest.class)
class DistillationGoldenTest {
    private static final double FLOAT64_TOLERANCE = 1e-9;
    private static final double FLOAT32_TOLERANCE = 1e-5;

    static Stream<Arguments> kdCases() {
        List<Arguments> out = new ArrayList<>();
        for (Golden.Case c : Golden.load("losses.json").cases()) {
            String loss = c.stringParam("loss");
            if (loss.equals("kd_temperature") || loss.equals("kd_hinton")) {
                for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
                    out.add(Arguments.of(c, dtype));
                }
            }
        }
        return out.stream();
    }

    @Test
    void everyModeHasGoldenCases() {
        long temperature = kdCases().filter(a -> ((Golden.Case) a.get()[0]).name().startsWith("kd_temperature")).count();
        long hinton = kdCases().filter(a -> ((Golden.Case) a.get()[0]).name().startsWith("kd_hinton")).count();
        assertTrue(temperature >= 2 * 7, "kd_temperature cases: " + temperature / 2);
        assertTrue(hinton >= 2 * 6, "kd_hinton cases: " + hinton / 2);
    }

    private static Tensor tensor(Golden.Array a, DType dtype) {
        Tensor t = Tensor.of(a.data().clone(), a.shape());
        return dtype == DType.FLOAT64 ? t : t.to(dtype);
    }

    private static Tensor teacher(Golden.Case c, DType dtype) {
        try (Autograd.NoGrad off = Autograd.noGrad()) {
            return tensor(c.tensor("teacher"), dtype);
        }
    }

    private static void expectScalar(Golden.Case c, String name, double actual, DType dtype) {
        double tol = dtype == DType.FLOAT64 ? FLOAT64_TOLERANCE : FLOAT32_TOLERANCE;
        TestData.assertClose(c.name() + " " + dtype + " " + name, c.tensor(name).data(), new double[] {actual}, tol);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("kdCases")
    void fusedLossMatchesPytorch(Golden.Case c, DType dtype) {
        Tensor student = tensor(c.tensor("student"), dtype).requiresGrad(true);
        Tensor teacher = teacher(c, dtype);
        DistillationResult r;
        if (c.stringParam("loss").equals("kd_temperature")) {
            r = DistillationLoss.temperature(student, teacher, c.doubleParam("t_student"), c.doubleParam("t_teacher"),
                    c.doubleParam("kappa"));
            expectScalar(c, "loss", r.klDivergence() * c.doubleParam("kappa"), dtype);
            assertTrue(Double.isNaN(r.crossEntropy()), "no labels, no cross-entropy");
        } else {
            Golden.Array y = c.tensor("target");
            boolean hard = c.stringParam("teacher_targets").equals("hard");
            r = DistillationLoss.hinton(student, teacher, Tensor.ofInts(y.toInts(), y.shape()),
                    c.doubleParam("temperature"), c.doubleParam("alpha"), c.doubleParam("label_smoothing"), hard);
            expectScalar(c, "loss_ce", r.crossEntropy(), dtype);
            if (hard) {
                expectScalar(c, "loss_teacher_ce", r.teacherCrossEntropy(), dtype);
                assertTrue(Double.isNaN(r.klDivergence()));
            } else {
                expectScalar(c, "loss_kl", r.klDivergence(), dtype);
                assertTrue(Double.isNaN(r.teacherCrossEntropy()));
            }
        }
        expectScalar(c, "loss", r.total(), dtype);
        expectScalar(c, "loss", r.loss().item(), dtype);
        assertEquals(dtype, r.loss().dtype());
        assertEquals(0, r.loss().rank(), "the loss is a scalar");
        r.loss().backward();
        Golden.Array grad = c.tensor("grad_student");
        assertArrayEquals(grad.shape(), student.grad().shape());
        assertEquals(dtype, student.grad().dtype());
        TestData.assertClose(c.name() + " " + dtype + " grad_student", grad.data(), student.grad().toDoubleArray(),
                dtype == DType.FLOAT64 ? FLOAT64_TOLERANCE : FLOAT32_TOLERANCE);
        assertEquals(null, teacher.grad(), "the teacher is never differentiated");
        assertFalse(teacher.requiresGrad());
    }
}
