package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CalibrationTest {
    /** Logits of a perfectly calibrated model, sharpened by 1/T0, with labels drawn from the calibrated model. */
    private static Object[] overconfident(int rows, int classes, double t0, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] logits = new float[rows * classes];
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            double[] z = new double[classes];
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                z[c] = rng.nextGaussian() * 2;
                sum += Math.exp(z[c]);
            }
            double u = rng.nextDouble() * sum;
            int y = classes - 1;
            for (int c = 0; c < classes; c++) {
                u -= Math.exp(z[c]);
                if (u < 0) {
                    y = c;
                    break;
                }
            }
            labels[r] = y;
            for (int c = 0; c < classes; c++) {
                logits[r * classes + c] = (float) (z[c] * t0);
            }
        }
        return new Object[] {logits, labels};
    }

    @Test
    void fittedTemperatureRecoversTheSharpening() {
        Object[] data = overconfident(20000, 10, 2.5, 7);
        Calibration.Result result = Calibration.fit((float[]) data[0], (int[]) data[1], 10);
        assertEquals(2.5, result.temperature(), 0.1);
        assertTrue(result.nllAfter() < result.nllBefore());
        assertTrue(result.eceAfter() < result.eceBefore() / 3, result.toString());
    }

    @Test
    void logitsThatSayNothingOfTheLabelsEndAtTheRangesEdgeAndSaySo() {
        Object[] data = overconfident(2000, 10, 3.0, 5);
        int[] shuffled = new int[2000];
        SplittableRandom rng = new SplittableRandom(11);
        for (int r = 0; r < shuffled.length; r++) {
            shuffled[r] = rng.nextInt(10); // labels drawn apart from the logits: the best T is infinite
        }
        Calibration.Result bound = Calibration.fit((float[]) data[0], shuffled, 10);
        assertTrue(bound.atBound() && bound.temperature() > 99, bound.toString());
        assertTrue(!Calibration.fit((float[]) data[0], (int[]) data[1], 10).atBound());
    }

    @Test
    void fittedTemperatureMinimisesTheNllOnAGrid() {
        Object[] data = overconfident(2000, 5, 0.6, 3);
        float[] logits = (float[]) data[0];
        int[] labels = (int[]) data[1];
        Calibration.Result result = Calibration.fit(logits, labels, 5);
        for (double t = 0.05; t < 20; t *= 1.05) {
            assertTrue(result.nllAfter() <= Calibration.negativeLogLikelihood(logits, labels, 5, t) + 1e-9, "T=" + t);
        }
    }

    @Test
    void eceOfAHandMadeExample() {
        // Two rows with confidence 0.5 (one right, one wrong) and one row with confidence ~1 (right):
        // bins: {0.5: accuracy 0.5, confidence 0.5} and {1.0: accuracy 1, confidence ≈ 1} → ECE ≈ 0.
        float[] logits = {0, 0, 0, 0, 100, 0};
        int[] labels = {0, 1, 0};
        assertEquals(0.0, Calibration.expectedCalibrationError(logits, labels, 2, 1.0, 15), 1e-12);
        // Every row confident (~1) and one of three wrong: ECE = |2/3 − 1| = 1/3.
        float[] sure = {100, 0, 100, 0, 0, 100};
        assertEquals(1.0 / 3, Calibration.expectedCalibrationError(sure, new int[] {0, 1, 1}, 2, 1.0, 15), 1e-12);
    }

    @Test
    void nllMatchesTheDefinition() {
        float[] logits = {1, 2, 3};
        double expected = -Math.log(Math.exp(1 / 2.0) / (Math.exp(0.5) + Math.exp(1) + Math.exp(1.5)));
        assertEquals(expected, Calibration.negativeLogLikelihood(logits, new int[] {0}, 3, 2.0), 1e-12);
    }

    @Test
    void badInputIsRejectedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Calibration.fit(new float[5], new int[] {0, 1}, 3)).getMessage().contains("5 logits"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Calibration.fit(new float[6], new int[] {0, 3}, 3)).getMessage().contains("label 3 at row 1"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Calibration.negativeLogLikelihood(new float[3], new int[] {0}, 3, 0)).getMessage()
                .contains("temperature"));
    }

    @Test
    void nonFiniteLogitsAreRefusedBeforeTheFitNamingTheRow() {
        float[] logits = {1, 2, 3, 0, Float.NaN, 1, 2, Float.POSITIVE_INFINITY, 0};
        int[] labels = {0, 1, 2};
        assertEquals(1, Calibration.firstNonFiniteRow(logits, 3));
        assertEquals(-1, Calibration.firstNonFiniteRow(new float[] {1, 2, 3}, 3));
        String message = assertThrows(IllegalArgumentException.class, () -> Calibration.fit(logits, labels, 3))
                .getMessage();
        assertTrue(message.contains("row 1 holds a non-finite logit (NaN)"), message);
        float[] infinite = {1, 2, Float.NEGATIVE_INFINITY};
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Calibration.fit(infinite, new int[] {0}, 3))
                .getMessage().contains("row 0 holds a non-finite logit (-Infinity)"));
    }
}
