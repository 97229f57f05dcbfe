package dev.retort.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Pins batch-norm's four-lane float reductions to double sums, over lengths that leave every tail and offsets. */
class FloatKernelsReductionTest {

    @Test
    void reductionsMatchDoubleSumsForEveryTailLength() {
        Random random = new Random(7);
        float[] x = new float[200];
        float[] g = new float[200];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat() * 4 - 1;
            g[i] = random.nextFloat() * 2 - 1;
        }
        float mean = 0.75f;
        for (int n : new int[] {0, 1, 2, 3, 4, 5, 7, 8, 9, 17, 100, 131}) {
            for (int offset : new int[] {0, 1, 3, 50}) {
                double sum = 0;
                double squares = 0;
                double dot = 0;
                for (int i = 0; i < n; i++) {
                    sum += x[offset + i];
                    squares += ((double) x[offset + i] - mean) * ((double) x[offset + i] - mean);
                    dot += (double) g[offset + 2 + i] * ((double) x[offset + i] - mean);
                }
                String where = "n=" + n + " offset=" + offset;
                assertEquals(sum, FloatKernels.sum(x, offset, n), 1e-5 * (1 + n), "sum " + where);
                assertEquals(squares, FloatKernels.squaredDeviations(x, offset, n, mean), 1e-5 * (1 + n),
                        "squaredDeviations " + where);
                assertEquals(dot, FloatKernels.centeredDot(g, offset + 2, x, offset, n, mean), 1e-5 * (1 + n),
                        "centeredDot " + where);
            }
        }
    }
}
