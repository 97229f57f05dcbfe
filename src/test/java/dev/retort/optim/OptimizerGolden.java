package dev.retort.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import dev.retort.testing.Golden;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Replays an optim.json trajectory on float32 parameters and compares every step with PyTorch. */
@SuppressWarnings("try") // the scope owns what is created inside it without being referenced
final class OptimizerGolden {
    /** Float32 parameters against float64 PyTorch: relative to the value, absolute below 1. */
    static final double TOLERANCE = 1e-6;

    private OptimizerGolden() {}

    /** A persistent float32 leaf that requires a gradient, as a Module's parameter is. */
    static Tensor parameter(float[] values, int... shape) {
        return Tensor.wrapPersistent(Backends.of(Device.CPU).fromHost(values, shape)).requiresGrad(true);
    }

    /** Gives p exactly the gradient g, through autograd: d/dp sum(p·g) = g. */
    static void setGradient(Tensor p, float[] g) {
        p.zeroGrad();
        try (Scope scope = Scope.open()) {
            p.mul(Tensor.of(g, p.shape())).sum().backward();
        }
    }

    /** Runs the case's steps with the optimizer built by {@code make}; returns the largest error relative to max(1, |expected|). */
    static double replay(Golden.Case c, Function<List<Tensor>, Optimizer> make) {
        int count = c.intParam("parameters");
        List<Tensor> params = new ArrayList<>();
        double worst = 0;
        try {
            for (int i = 0; i < count; i++) {
                Golden.Array a = c.tensor("p" + i);
                params.add(parameter(a.toFloats(), a.shape()));
            }
            try (Optimizer optimizer = make.apply(params)) {
                for (int step = 1; step <= c.intParam("steps"); step++) {
                    for (int i = 0; i < count; i++) {
                        setGradient(params.get(i), c.tensor("p" + i + "_grad" + step).toFloats());
                    }
                    optimizer.step();
                    for (int i = 0; i < count; i++) {
                        double[] expected = c.tensor("p" + i + "_step" + step).data();
                        float[] actual = params.get(i).toFloatArray();
                        for (int k = 0; k < expected.length; k++) {
                            double error = Math.abs(actual[k] - expected[k]) / Math.max(1, Math.abs(expected[k]));
                            worst = Math.max(worst, error);
                            assertTrue(error <= TOLERANCE, c.name() + ": p" + i + "[" + k + "] after step " + step
                                    + " is " + actual[k] + ", PyTorch " + expected[k] + " (error " + error + ")");
                        }
                    }
                }
            }
        } finally {
            params.forEach(Tensor::close);
        }
        return worst;
    }

    static List<Golden.Case> cases(String optimizer) {
        List<Golden.Case> out = new ArrayList<>();
        for (Golden.Case c : Golden.load("optim.json").cases()) {
            if (c.stringParam("optimizer").equals(optimizer)) {
                out.add(c);
            }
        }
        assertTrue(!out.isEmpty(), "no " + optimizer + " cases in optim.json");
        return out;
    }

    static void assertNamesOption(IllegalArgumentException e, String option) {
        assertTrue(e.getMessage().contains(option), "message does not name '" + option + "': " + e.getMessage());
    }

    static void assertClose(double expected, double actual) {
        assertEquals(expected, actual, 1e-12 * Math.max(1, Math.abs(expected)));
    }
}
