package dev.retort.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.optim.Sgd;
import dev.retort.tensor.Losses;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PruningTest {
    @Test
    void theScheduleIsZhuAndGuptasCubic() {
        try (Module m = Models.create("mlp-tiny", 1); Pruning p = new Pruning(m, 0.8, 1000)) {
            assertEquals(0.0, p.sparsityAt(0), 1e-15);
            assertEquals(0.8 * (1 - Math.pow(0.5, 3)), p.sparsityAt(500), 1e-15);
            assertEquals(0.8, p.sparsityAt(1000), 1e-15);
            assertEquals(0.8, p.sparsityAt(5000), 1e-15);
        }
    }

    @Test
    void masksTheSmallestWeightsAndKeepsThemAtZeroWhileTraining() {
        try (Module m = Models.create("mlp-tiny", 3); Sgd sgd = new Sgd(m.parameters(), 0.1, 0.9);
             Pruning p = new Pruning(m, 0.5, 20)) {
            SplittableRandom rng = new SplittableRandom(4);
            float[] x = new float[16 * 784];
            int[] y = new int[16];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rng.nextGaussian();
            }
            for (int i = 0; i < y.length; i++) {
                y[i] = rng.nextInt(10);
            }
            for (long step = 1; step <= 30; step++) {
                try (Scope scope = Scope.open()) {
                    Tensor loss = Losses.crossEntropy(m.forward(Tensor.of(x, 16, 784)), Tensor.ofInts(y, 16), 0);
                    sgd.zeroGrad();
                    loss.backward();
                    sgd.step();
                    p.afterStep(step);
                }
            }
            // Every layer lands on ⌊0.5·n⌋ zeros: 0.5 overall, and the momentum did not revive any.
            assertEquals(0.5, p.sparsity(), 1e-3);
            float[] first = m.namedParameters().get("1.weight").toFloatArray();
            float smallestKept = Float.MAX_VALUE;
            int zeros = 0;
            for (float v : first) {
                if (v == 0f) {
                    zeros++;
                } else {
                    smallestKept = Math.min(smallestKept, Math.abs(v));
                }
            }
            assertEquals(first.length / 2, zeros);
            assertTrue(smallestKept > 0);
        }
    }

    @Test
    void badOptionsAreNamed() {
        try (Module m = Models.create("mlp-tiny", 1)) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new Pruning(m, 1.0, 10)).getMessage()
                    .contains("prune"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new Pruning(m, 0.5, 0)).getMessage()
                    .contains("positive number of steps"));
        }
    }
}
