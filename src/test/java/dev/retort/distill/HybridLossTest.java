package dev.retort.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.PoolSpec;
import dev.retort.tensor.Functional;
import dev.retort.tensor.Losses;
import dev.retort.tensor.Tensor;
import dev.retort.testing.GradCheck;
import dev.retort.testing.ScopePerTest;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ScopePerTest.class)
class HybridLossTest {
    private static Tensor random64(long seed, double scale, int... shape) {
        Random r = new Random(seed);
        double[] v = new double[dev.retort.backend.Shapes.size(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextGaussian() * scale;
        }
        return Tensor.of(v, shape);
    }

    private static final DistillationMode.Hybrid DEFAULTS =
            (DistillationMode.Hybrid) DistillationMode.parse("hybrid", DistillationMode.Options.NONE.withTemperature(4));

    private static Tensor labels() {
        return Tensor.ofInts(new int[] {0, 4, 2}, 3);
    }

    @Test
    void outputTermsEqualTheComposedDefinition() {
        Tensor s = random64(1, 3, 3, 5);
        Tensor t = random64(2, 3, 3, 5);
        DistillationMode.Hybrid w = new DistillationMode.Hybrid(2.5, 0.3, 0.5, 1, List.of(), 0);
        HybridLoss.Result r = HybridLoss.compute(s, t, labels(), List.of(), List.of(), List.of(), w);
        double expected = 0.3 * Losses.crossEntropy(s, labels(), 0).item()
                + 0.5 * 2.5 * 2.5 * Losses.klDiv(s, t, 2.5, 2.5).item();
        assertEquals(expected, r.total(), 1e-12);
        assertEquals(Losses.crossEntropy(s, labels(), 0).item(), r.crossEntropy(), 1e-12);
        assertEquals(0.0, r.feature());
    }

    @Test
    void featureTermPoolsTheLargerMapAndIsDifferentiable() {
        Tensor s = random64(3, 2, 3, 5).requiresGrad(true);
        Tensor t = random64(4, 2, 3, 5);
        Tensor hs = random64(5, 1, 3, 2, 2, 2).requiresGrad(true);
        Tensor ht = random64(6, 1, 3, 2, 4, 4);
        FeatureRegressor identity = new FeatureRegressor(new int[] {2, 2, 2}, new int[] {2, 4, 4},
                new SplittableRandom(1));
        assertTrue(identity.isIdentity());
        DistillationMode.Hybrid w = DEFAULTS;
        HybridLoss.Result r = HybridLoss.compute(s, t, labels(), List.of(hs), List.of(ht), List.of(identity), w);
        double feature = Losses.mse(hs, Functional.avgPool2d(ht, new PoolSpec(2, 2, 2, 2, 0, 0))).item();
        assertEquals(feature, r.feature(), 1e-12);
        GradCheck.check("hybrid", () -> HybridLoss.compute(s, t, labels(), List.of(hs), List.of(ht),
                List.of(identity), w).loss(), s, hs);
    }

    @Test
    void aConvolutionRegressorMapsStudentChannelsToTheTeacherAndTrains() {
        Tensor s = Tensor.of(new float[3 * 5], 3, 5);
        Tensor t = Tensor.of(new float[3 * 5], 3, 5);
        Tensor hs = Tensor.ones(3, 16, 7, 7).requiresGrad(true);
        Tensor ht = Tensor.zeros(3, 64, 14, 14);
        FeatureRegressor conv = new FeatureRegressor(new int[] {16, 7, 7}, new int[] {64, 14, 14},
                new SplittableRandom(2));
        assertArrayEquals(new int[] {64, 16, 1, 1}, conv.namedParameters().get("conv.weight").shape());
        HybridLoss.Result r = HybridLoss.compute(s, t, labels(), List.of(hs), List.of(ht), List.of(conv),
                DEFAULTS);
        r.loss().backward();
        assertNotNull(conv.namedParameters().get("conv.weight").grad());
        assertNotNull(hs.grad());
        assertTrue(r.feature() > 0);
        conv.close();
    }

    @Test
    void badWeightsAndPairsAreNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new DistillationMode.Hybrid(4, 1.5, 0.9, 1, List.of(), 0)).getMessage().contains("--alpha"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new DistillationMode.Hybrid(4, 0.1, 0.9, -1, List.of(), 0)).getMessage().contains("--gamma"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new DistillationMode.Hybrid(0, 0.1, 0.9, 1, List.of(), 0)).getMessage().contains("--temperature"));
        Tensor s = Tensor.of(new float[15], 3, 5);
        Tensor hs = Tensor.ones(3, 2, 3, 3);
        Tensor ht = Tensor.ones(3, 2, 4, 4);
        FeatureRegressor identity = new FeatureRegressor(new int[] {2, 3, 3}, new int[] {2, 4, 4},
                new SplittableRandom(1));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HybridLoss.compute(s, s, labels(),
                List.of(hs), List.of(ht), List.of(identity), DEFAULTS)).getMessage()
                .contains("not integer multiples"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HybridLoss.compute(s, s, labels(),
                List.of(hs), List.of(), List.of(identity), DEFAULTS)).getMessage()
                .contains("must pair up"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FeatureRegressor(new int[] {16, 7, 7},
                new int[] {64}, new SplittableRandom(1))).getMessage().contains("feature pair"));
    }
}
