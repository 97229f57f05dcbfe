package dev.retort.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.ConvSpec;
import dev.retort.backend.DType;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Functional;
import dev.retort.tensor.Tensor;
import dev.retort.testing.Golden;
import dev.retort.testing.ScopePerTest;
import dev.retort.testing.TestData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Mode {@code hybrid} ({@link HybridLoss}) against PyTorch's kd_hybrid golden cases (kd_hybrid.json): the total,
 * the three reported terms and the gradients w.r.t. the student logits, every student feature and every
 * regressor's weight and bias, in float64 (≤ 1e-9) and float32 (≤ 1e-5, docs/kd-modes.md).
 *
 * <p>In float32 the regressors are real {@link FeatureRegressor}s with the fixture's weights loaded through
 * {@code loadStateDict}. Module parameters are always float32 in Retort, so in float64 a learned regressor is
 * applied with the same functional op its module calls ({@link Functional#conv2d} with a 1×1 kernel, stride 1,
 * no padding; {@link Functional#linear}) on float64 leaves holding the fixture's weights, and HybridLoss is
 * given that regressed feature with an identity regressor.
 */
@ExtendWith(ScopePerTest.class)
class HybridGoldenTest {
    private static final double FLOAT64_TOLERANCE = 1e-9;
    private static final double FLOAT32_TOLERANCE = 1e-5;

    /** The cases make_golden.py's kd_hybrid_cases writes; each must be present. */
    private static final List<String> CASES = List.of(
            "kd_hybrid_default_conv3to5",
            "kd_hybrid_student_map_larger_6x6_to_3x3",
            "kd_hybrid_teacher_map_larger_6x6_to_3x2",
            "kd_hybrid_identity_equal_channels",
            "kd_hybrid_two_pairs",
            "kd_hybrid_a0.6_b0.8_g0.3_T2",
            "kd_hybrid_features_only_a0_b0",
            "kd_hybrid_flat_linear6to4_a0.25_b0.5_g2_T3");

    static Stream<Arguments> hybridCases() {
        List<Arguments> out = new ArrayList<>();
        for (Golden.Case c : Golden.load("kd_hybrid.json").cases()) {
            for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
                out.add(Arguments.of(c, dtype));
            }
        }
        return out.stream();
    }

    @Test
    void everyListedCaseIsPresent() {
        Golden golden = Golden.load("kd_hybrid.json");
        List<String> names = golden.cases().stream().map(Golden.Case::name).toList();
        for (String name : CASES) {
            assertTrue(names.contains(name), "kd_hybrid.json lacks case " + name + " (has " + names + ")");
        }
        for (Golden.Case c : golden.cases()) {
            assertEquals("kd_hybrid", c.stringParam("loss"), c.name());
        }
        List<String> kinds = golden.cases().stream()
                .flatMap(c -> regressorKinds(c).stream()).distinct().sorted().toList();
        assertEquals(List.of("conv", "identity", "linear"), kinds, "every kind of regressor is covered");
    }

    private static List<String> regressorKinds(Golden.Case c) {
        List<?> raw = (List<?>) c.param("regressors");
        return raw.stream().map(o -> (String) o).toList();
    }

    private static Tensor tensor(Golden.Array a, DType dtype) {
        Tensor t = Tensor.of(a.data().clone(), a.shape());
        return dtype == DType.FLOAT64 ? t : t.to(dtype);
    }

    private static Tensor leaf(Golden.Array a, DType dtype) {
        return tensor(a, dtype).requiresGrad(true);
    }

    private static Tensor constant(Golden.Array a, DType dtype) {
        try (Autograd.NoGrad off = Autograd.noGrad()) {
            return tensor(a, dtype);
        }
    }

    private static double tolerance(DType dtype) {
        return dtype == DType.FLOAT64 ? FLOAT64_TOLERANCE : FLOAT32_TOLERANCE;
    }

    private static void expectScalar(Golden.Case c, String name, double actual, DType dtype) {
        TestData.assertClose(c.name() + " " + dtype + " " + name, c.tensor(name).data(), new double[] {actual},
                tolerance(dtype));
    }

    private static void expectGradient(Golden.Case c, String name, Tensor of, DType dtype) {
        Golden.Array expected = c.tensor(name);
        Tensor grad = of.grad();
        assertNotNull(grad, c.name() + " " + dtype + ": no " + name);
        assertArrayEquals(expected.shape(), grad.shape(), c.name() + " " + dtype + " " + name + " shape");
        assertEquals(dtype, grad.dtype(), c.name() + " " + name + " dtype");
        TestData.assertClose(c.name() + " " + dtype + " " + name, expected.data(), grad.toDoubleArray(),
                tolerance(dtype));
    }

    /** One example's shape: the fixture's shape without the batch axis. */
    private static int[] example(int[] shape) {
        return Arrays.copyOfRange(shape, 1, shape.length);
    }

    private static DistillationMode.Hybrid hybrid(double alpha, double beta, double gamma, double temperature) {
        return new DistillationMode.Hybrid(temperature, alpha, beta, gamma, List.of(), 0);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("hybridCases")
    void hybridLossMatchesPytorch(Golden.Case c, DType dtype) {
        DistillationMode.Hybrid w = hybrid(c.doubleParam("alpha"), c.doubleParam("beta"), c.doubleParam("gamma"),
                c.doubleParam("temperature"));
        Tensor student = leaf(c.tensor("student"), dtype);
        Tensor teacher = constant(c.tensor("teacher"), dtype);
        Golden.Array y = c.tensor("target");
        Tensor labels = Tensor.ofInts(y.toInts(), y.shape());

        List<String> kinds = regressorKinds(c);
        List<Tensor> studentFeatures = new ArrayList<>();
        List<Tensor> teacherFeatures = new ArrayList<>();
        List<Tensor> lossInputs = new ArrayList<>();
        List<FeatureRegressor> regressors = new ArrayList<>();
        List<Tensor> weights = new ArrayList<>();
        List<Tensor> biases = new ArrayList<>();
        try {
            for (int i = 0; i < kinds.size(); i++) {
                String kind = kinds.get(i);
                Tensor hs = leaf(c.tensor("student_feature" + i), dtype);
                Tensor ht = constant(c.tensor("teacher_feature" + i), dtype);
                studentFeatures.add(hs);
                teacherFeatures.add(ht);
                int[] studentShape = example(hs.shape());
                int[] teacherShape = example(ht.shape());
                if (kind.equals("identity")) {
                    assertFalse(c.hasTensor("regressor" + i + "_weight"), "an identity regressor has no weights");
                    FeatureRegressor r = new FeatureRegressor(studentShape, teacherShape, new SplittableRandom(i));
                    assertTrue(r.isIdentity(), c.name() + " pair " + i);
                    regressors.add(r);
                    lossInputs.add(hs);
                    weights.add(null);
                    biases.add(null);
                    continue;
                }
                Golden.Array wa = c.tensor("regressor" + i + "_weight");
                Golden.Array ba = c.tensor("regressor" + i + "_bias");
                String prefix = kind.equals("conv") ? "conv." : "linear.";
                if (dtype == DType.FLOAT32) {
                    FeatureRegressor r = new FeatureRegressor(studentShape, teacherShape, new SplittableRandom(i));
                    assertFalse(r.isIdentity(), c.name() + " pair " + i);
                    Map<String, Tensor> state = new LinkedHashMap<>();
                    state.put(prefix + "weight", Tensor.of(wa.toFloats(), wa.shape()));
                    state.put(prefix + "bias", Tensor.of(ba.toFloats(), ba.shape()));
                    r.loadStateDict(state);
                    regressors.add(r);
                    lossInputs.add(hs);
                    weights.add(r.namedParameters().get(prefix + "weight"));
                    biases.add(r.namedParameters().get(prefix + "bias"));
                } else {
                    Tensor wt = leaf(wa, dtype);
                    Tensor bt = leaf(ba, dtype);
                    Tensor regressed = kind.equals("conv") ? Functional.conv2d(hs, wt, bt, new ConvSpec(1, 1, 0, 0))
                            : Functional.linear(hs, wt, bt);
                    FeatureRegressor r = new FeatureRegressor(example(regressed.shape()), teacherShape,
                            new SplittableRandom(i));
                    assertTrue(r.isIdentity(), c.name() + " pair " + i + ": regressed channels match the teacher's");
                    regressors.add(r);
                    lossInputs.add(regressed);
                    weights.add(wt);
                    biases.add(bt);
                }
            }

            HybridLoss.Result r = HybridLoss.compute(student, teacher, labels, lossInputs, teacherFeatures,
                    regressors, w);
            assertEquals(dtype, r.loss().dtype());
            assertEquals(0, r.loss().rank(), "the loss is a scalar");
            expectScalar(c, "loss", r.total(), dtype);
            expectScalar(c, "loss", r.loss().item(), dtype);
            expectScalar(c, "loss_feature", r.feature(), dtype);
            if (w.alpha() + w.beta() > 0) {
                expectScalar(c, "loss_ce", r.crossEntropy(), dtype);
                expectScalar(c, "loss_kl", r.klDivergence(), dtype);
            } else {
                // α = β = 0: the output kernel is not run and its unweighted terms are reported as NaN.
                assertTrue(Double.isNaN(r.crossEntropy()) && Double.isNaN(r.klDivergence()),
                        "α = β = 0: CE " + r.crossEntropy() + ", KL " + r.klDivergence());
            }

            r.loss().backward();
            if (student.grad() == null) {
                // Only when the output terms have no weight, where PyTorch's gradient is exactly zero.
                assertEquals(0.0, w.alpha() + w.beta(), c.name() + " " + dtype + ": no gradient on the logits");
                for (double v : c.tensor("grad_student").data()) {
                    assertEquals(0.0, v, c.name() + ": PyTorch's logit gradient is not zero");
                }
            } else {
                expectGradient(c, "grad_student", student, dtype);
            }
            for (int i = 0; i < kinds.size(); i++) {
                expectGradient(c, "grad_student_feature" + i, studentFeatures.get(i), dtype);
                if (weights.get(i) != null) {
                    expectGradient(c, "grad_regressor" + i + "_weight", weights.get(i), dtype);
                    expectGradient(c, "grad_regressor" + i + "_bias", biases.get(i), dtype);
                }
                assertNull(teacherFeatures.get(i).grad(), "the teacher's features are never differentiated");
                assertFalse(teacherFeatures.get(i).requiresGrad());
            }
            assertNull(teacher.grad(), "the teacher is never differentiated");
            assertFalse(teacher.requiresGrad());
        } finally {
            for (FeatureRegressor r : regressors) {
                r.close();
            }
        }
    }
}
