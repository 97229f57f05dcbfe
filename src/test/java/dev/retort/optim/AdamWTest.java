package dev.retort.optim;

import static dev.retort.optim.OptimizerGolden.assertNamesOption;
import static dev.retort.optim.OptimizerGolden.parameter;
import static dev.retort.optim.OptimizerGolden.setGradient;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.retort.tensor.Tensor;
import dev.retort.testing.Golden;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** AdamW follows torch.optim.AdamW step for step and rejects bad hyperparameters. */
class AdamWTest {

    static List<Golden.Case> cases() {
        return OptimizerGolden.cases("adamw");
    }

    @ParameterizedTest
    @MethodSource("cases")
    void trajectoryMatchesPyTorch(Golden.Case c) {
        OptimizerGolden.replay(c, ps -> new AdamW(ps, c.doubleParam("lr"), c.doubleParam("beta1"),
                c.doubleParam("beta2"), c.doubleParam("eps"), c.doubleParam("weight_decay")));
    }

    @Test
    void defaultsArePyTorchs() {
        Golden.Case c = Golden.load("optim.json").get("adamw_weight_decay0.01");
        assertEquals(0.9, c.doubleParam("beta1"));
        assertEquals(0.999, c.doubleParam("beta2"));
        assertEquals(1e-8, c.doubleParam("eps"));
        OptimizerGolden.replay(c, ps -> new AdamW(ps, c.doubleParam("lr")));
    }

    @Test
    void firstStepMovesEachParameterByTheLearningRate() {
        // Step 1: m̂ = g and v̂ = g², so the update is lr·g/(|g| + eps): a unit step when lr = 1. Large
        // and small gradients alike; an error in (1 − β₂) shows here as a step of 1 − δ/2.
        float[] g = {1, -3, 1e-3f, 250, -0.0625f};
        Tensor p = parameter(new float[g.length], g.length);
        try (AdamW adamw = new AdamW(List.of(p), 1.0, 0.9, 0.999, 1e-8, 0)) {
            setGradient(p, g);
            adamw.step();
            float[] actual = p.toFloatArray();
            for (int i = 0; i < g.length; i++) {
                double expected = -g[i] / (Math.abs(g[i]) + 1e-8);
                assertEquals(expected, actual[i], 1e-6, "parameter " + i + " with gradient " + g[i]);
            }
        } finally {
            p.close();
        }
    }

    @Test
    void parametersWithoutAGradientAreSkipped() {
        Tensor a = parameter(new float[] {1, 2}, 2);
        Tensor b = parameter(new float[] {3, 4}, 2);
        try (AdamW adamw = new AdamW(List.of(a, b), 0.1, 0.9, 0.999, 1e-8, 0.5)) {
            setGradient(a, new float[] {1, -1});
            adamw.step();
            // First step: m̂ = g, v̂ = g², so the update is lr·sign(g), after decay by 1 − lr·wd.
            assertArrayEquals(new float[] {0.95f - 0.1f, 1.9f + 0.1f}, a.toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {3, 4}, b.toFloatArray(), "b has no gradient: no decay either");
            // b's first gradient is its first step (its own step count), whatever a has done.
            setGradient(b, new float[] {-2, 0.5f});
            a.zeroGrad();
            adamw.step();
            assertArrayEquals(new float[] {2.85f + 0.1f, 3.8f - 0.1f}, b.toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {0.85f, 2.0f}, a.toFloatArray(), 1e-6f);
        } finally {
            a.close();
            b.close();
        }
    }

    @Test
    void badHyperparametersAreRejectedNamingTheOption() {
        Tensor a = parameter(new float[] {1}, 1);
        try {
            List<Tensor> ps = List.of(a);
            assertNamesOption(assertThrows(IllegalArgumentException.class, () -> new AdamW(ps, -1e-3)), "learning rate");
            assertNamesOption(assertThrows(IllegalArgumentException.class, () -> new AdamW(ps, Double.NaN)),
                    "learning rate");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new AdamW(ps, 1e-3, 1.0, 0.999, 1e-8, 0)), "beta1");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new AdamW(ps, 1e-3, -0.1, 0.999, 1e-8, 0)), "beta1");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new AdamW(ps, 1e-3, Double.NaN, 0.999, 1e-8, 0)), "beta1");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new AdamW(ps, 1e-3, 0.9, 1.0, 1e-8, 0)), "beta2");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new AdamW(ps, 1e-3, 0.9, 1.5, 1e-8, 0)), "beta2");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new AdamW(ps, 1e-3, 0.9, 0.999, 0, 0)), "eps");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new AdamW(ps, 1e-3, 0.9, 0.999, Double.NaN, 0)), "eps");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new AdamW(ps, 1e-3, 0.9, 0.999, 1e-8, -0.01)), "weight decay");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new AdamW(ps, 1e-3, 0.9, 0.999, 1e-8, Double.NaN)), "weight decay");
        } finally {
            a.close();
        }
    }
}
