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

/** SGD follows torch.optim.SGD step for step and rejects bad hyperparameters. */
class SgdTest {

    static List<Golden.Case> cases() {
        return OptimizerGolden.cases("sgd");
    }

    @ParameterizedTest
    @MethodSource("cases")
    void trajectoryMatchesPyTorch(Golden.Case c) {
        OptimizerGolden.replay(c, ps -> new Sgd(ps, c.doubleParam("lr"), c.doubleParam("momentum"),
                c.doubleParam("dampening"), c.doubleParam("weight_decay"), c.boolParam("nesterov")));
    }

    @Test
    void parametersWithoutAGradientAreSkipped() {
        Tensor a = parameter(new float[] {1, 2}, 2);
        Tensor b = parameter(new float[] {3, 4}, 2);
        try (Sgd sgd = new Sgd(List.of(a, b), 0.5, 0.9)) {
            setGradient(a, new float[] {1, -1});
            sgd.step();
            assertArrayEquals(new float[] {0.5f, 2.5f}, a.toFloatArray());
            assertArrayEquals(new float[] {3, 4}, b.toFloatArray(), "b has no gradient");
            // b's first gradient starts its momentum buffer as on a first step: buffer = g.
            setGradient(a, new float[] {0, 0});
            setGradient(b, new float[] {2, 2});
            sgd.step();
            assertArrayEquals(new float[] {2, 3}, b.toFloatArray());
            // a's buffer carried over: buffer = 0.9·[1, −1] + [0, 0].
            assertArrayEquals(new float[] {0.5f - 0.45f, 2.5f + 0.45f}, a.toFloatArray(), 1e-6f);
        } finally {
            a.close();
            b.close();
        }
    }

    @Test
    void learningRateCanChangeBetweenSteps() {
        Tensor a = parameter(new float[] {1}, 1);
        try (Sgd sgd = new Sgd(List.of(a), 0.1, 0)) {
            setGradient(a, new float[] {1});
            sgd.step();
            sgd.setLearningRate(0.25);
            assertEquals(0.25, sgd.learningRate());
            sgd.step();
            assertEquals(1 - 0.1 - 0.25, a.toFloatArray()[0], 1e-7);
        } finally {
            a.close();
        }
    }

    @Test
    void badHyperparametersAreRejectedNamingTheOption() {
        Tensor a = parameter(new float[] {1}, 1);
        try {
            List<Tensor> ps = List.of(a);
            assertNamesOption(assertThrows(IllegalArgumentException.class, () -> new Sgd(ps, -0.1, 0)), "learning rate");
            assertNamesOption(assertThrows(IllegalArgumentException.class, () -> new Sgd(ps, Double.NaN, 0)),
                    "learning rate");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new Sgd(ps, Double.POSITIVE_INFINITY, 0)), "learning rate");
            assertNamesOption(assertThrows(IllegalArgumentException.class, () -> new Sgd(ps, 0.1, 1.5)), "momentum");
            assertNamesOption(assertThrows(IllegalArgumentException.class, () -> new Sgd(ps, 0.1, -0.5)), "momentum");
            assertNamesOption(assertThrows(IllegalArgumentException.class, () -> new Sgd(ps, 0.1, Double.NaN)),
                    "momentum");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new Sgd(ps, 0.1, 0.9, 1.5, 0, false)), "dampening");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new Sgd(ps, 0.1, 0.9, 0, -1e-4, false)), "weight decay");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new Sgd(ps, 0.1, 0.9, 0, Double.NaN, false)), "weight decay");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new Sgd(ps, 0.1, 0, 0, 0, true)), "Nesterov");
            assertNamesOption(assertThrows(IllegalArgumentException.class,
                    () -> new Sgd(ps, 0.1, 0.9, 0.1, 0, true)), "Nesterov");
            try (Sgd sgd = new Sgd(ps, 0.1, 0.9)) {
                assertNamesOption(assertThrows(IllegalArgumentException.class, () -> sgd.setLearningRate(-1)),
                        "learning rate");
                assertEquals(0.1, sgd.learningRate(), "a rejected rate leaves the old one");
            }
            assertNamesOption(assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(), 0.1, 0)),
                    "no parameters");
            try (Tensor frozen = Tensor.wrapPersistent(dev.retort.backend.Backends.of(dev.retort.backend.Device.CPU)
                    .fromHost(new float[] {1}, 1))) {
                assertNamesOption(assertThrows(IllegalArgumentException.class,
                        () -> new Sgd(List.of(frozen), 0.1, 0)), "does not require a gradient");
            }
        } finally {
            a.close();
        }
    }
}
