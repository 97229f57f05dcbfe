package dev.retort.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Schedules give their closed-form values and reject arguments that make no schedule. */
class LearningRateScheduleTest {

    @Test
    void constantIsConstant() {
        LearningRateSchedule s = LearningRateSchedule.constant(0.03);
        for (long step : new long[] {0, 1, 17, 1_000_000}) {
            assertEquals(0.03, s.at(step));
        }
    }

    @Test
    void stepMultipliesByGammaEveryPeriod() {
        LearningRateSchedule s = LearningRateSchedule.step(0.1, 3, 0.5);
        // PyTorch's StepLR: base · gamma^⌊step / period⌋.
        double[] expected = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125};
        for (int step = 0; step < expected.length; step++) {
            assertEquals(expected[step], s.at(step), 1e-15, "step " + step);
        }
        assertEquals(0.1 * Math.pow(0.5, 33), s.at(100), 1e-25);
        LearningRateSchedule every = LearningRateSchedule.step(2.0, 1, 0.9);
        assertEquals(2.0 * 0.9 * 0.9 * 0.9, every.at(3), 1e-15);
    }

    @Test
    void warmupCosineRisesLinearlyThenFollowsTheCosine() {
        double base = 0.4;
        double minimum = 0.01;
        long warmup = 4;
        long total = 14;
        LearningRateSchedule s = LearningRateSchedule.warmupCosine(base, warmup, total, minimum);
        // Warm-up: base·(step + 1)/warmup, reaching base at the last warm-up step.
        assertEquals(0.1, s.at(0), 1e-15);
        assertEquals(0.2, s.at(1), 1e-15);
        assertEquals(0.4, s.at(3), 1e-15);
        // Cosine: minimum + (base − minimum)·(1 + cos(π·(step − warmup)/(total − warmup)))/2.
        assertEquals(base, s.at(4), 1e-15);
        assertEquals(minimum + (base - minimum) * (1 + Math.cos(Math.PI * 0.2)) / 2, s.at(6), 1e-15);
        assertEquals((base + minimum) / 2, s.at(9), 1e-15, "halfway");
        assertEquals(minimum + (base - minimum) * (1 + Math.cos(Math.PI * 0.9)) / 2, s.at(13), 1e-15);
        assertEquals(minimum, s.at(14), 1e-15);
        assertEquals(minimum, s.at(1000), 1e-15, "held after total");
        for (long step = warmup; step < total; step++) {
            assertTrue(s.at(step + 1) < s.at(step), "decreasing after warm-up, step " + step);
        }
    }

    @Test
    void warmupCosineWithoutWarmupStartsAtBase() {
        LearningRateSchedule s = LearningRateSchedule.warmupCosine(1.0, 0, 10, 0.0);
        assertEquals(1.0, s.at(0), 1e-15);
        assertEquals(0.5, s.at(5), 1e-15);
        assertEquals(0.0, s.at(10), 1e-15);
    }

    @Test
    void badStepArgumentsAreRejected() {
        rejects(() -> LearningRateSchedule.step(0.1, 0, 0.5), "period");
        rejects(() -> LearningRateSchedule.step(0.1, -3, 0.5), "period");
        rejects(() -> LearningRateSchedule.step(0.1, 3, 0), "gamma");
        rejects(() -> LearningRateSchedule.step(0.1, 3, -0.5), "gamma");
        rejects(() -> LearningRateSchedule.step(0.1, 3, Double.NaN), "gamma");
        rejects(() -> LearningRateSchedule.step(-0.1, 3, 0.5), "rate");
        rejects(() -> LearningRateSchedule.step(Double.NaN, 3, 0.5), "rate");
    }

    @Test
    void badWarmupCosineArgumentsAreRejected() {
        rejects(() -> LearningRateSchedule.warmupCosine(0.1, -1, 10, 0), "warmup");
        rejects(() -> LearningRateSchedule.warmupCosine(0.1, 10, 10, 0), "total");
        rejects(() -> LearningRateSchedule.warmupCosine(0.1, 5, 3, 0), "total");
        rejects(() -> LearningRateSchedule.warmupCosine(-0.1, 1, 10, 0), "rate");
        rejects(() -> LearningRateSchedule.warmupCosine(Double.POSITIVE_INFINITY, 1, 10, 0), "rate");
        rejects(() -> LearningRateSchedule.warmupCosine(0.1, 1, 10, -0.01), "minimum");
        rejects(() -> LearningRateSchedule.warmupCosine(0.1, 1, 10, 0.2), "minimum");
        rejects(() -> LearningRateSchedule.warmupCosine(0.1, 1, 10, Double.NaN), "minimum");
    }

    @Test
    void constantRejectsBadRates() {
        rejects(() -> LearningRateSchedule.constant(-1), "rate");
        rejects(() -> LearningRateSchedule.constant(Double.NaN), "rate");
    }

    private static void rejects(Executable call, String option) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(option), "message does not name '" + option + "': " + e.getMessage());
    }
}
