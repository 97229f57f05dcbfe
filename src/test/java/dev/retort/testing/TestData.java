package dev.retort.testing;

import dev.retort.backend.Shapes;
import dev.retort.tensor.Tensor;
import java.util.Random;

/** Seeded random test data: values rounded to float32 so both dtypes see the same numbers. */
public final class TestData {
    private TestData() {}

    /** Uniform in [lo, hi), rounded to float32. */
    public static double[] uniform(Random random, int n, double lo, double hi) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + (hi - lo) * random.nextDouble());
        }
        return v;
    }

    /** Values in ±[minAbs, maxAbs): away from a kink (ReLU at 0) or a pole (1/x, log). */
    public static double[] awayFromZero(Random random, int n, double minAbs, double maxAbs) {
        double[] v = uniform(random, n, minAbs, maxAbs);
        for (int i = 0; i < n; i++) {
            if (random.nextBoolean()) {
                v[i] = -v[i];
            }
        }
        return v;
    }

    /**
     * Distinct values spaced {@code step} apart in a random order, centred on 0: no two elements of
     * a pooling window tie, so a small perturbation never moves the maximum.
     */
    public static double[] distinct(Random random, int n, double step) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((i - n / 2.0) * step);
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            double t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return v;
    }

    public static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    /** A float64 leaf that requires a gradient. */
    public static Tensor leaf(double[] values, int... shape) {
        return Tensor.of(values, shape).requiresGrad(true);
    }

    /** A float64 leaf of uniform values in [-1, 1) that requires a gradient. */
    public static Tensor leaf(Random random, int... shape) {
        return leaf(uniform(random, Shapes.size(shape), -1, 1), shape);
    }

    /** A float64 constant (no gradient) of uniform values in [-1, 1). */
    public static Tensor constant(Random random, int... shape) {
        return Tensor.of(uniform(random, Shapes.size(shape), -1, 1), shape);
    }

    /** Largest absolute difference over the largest reference magnitude (or {@code tiny} if larger). */
    public static double relativeError(double[] reference, double[] actual, double tiny) {
        if (reference.length != actual.length) {
            throw new IllegalArgumentException("lengths differ: " + reference.length + " vs " + actual.length);
        }
        double maxDiff = 0;
        double maxRef = tiny;
        for (int i = 0; i < reference.length; i++) {
            double d = Math.abs(reference[i] - actual[i]);
            if (!(d <= maxDiff)) {
                maxDiff = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
            }
            maxRef = Math.max(maxRef, Math.abs(reference[i]));
        }
        return maxDiff / maxRef;
    }

    /** Index of the largest difference, for failure messages. */
    public static int worstIndex(double[] reference, double[] actual) {
        int worst = 0;
        double max = -1;
        for (int i = 0; i < reference.length; i++) {
            double d = Math.abs(reference[i] - actual[i]);
            if (Double.isNaN(d)) {
                return i;
            }
            if (d > max) {
                max = d;
                worst = i;
            }
        }
        return worst;
    }

    /** Fails unless {@code actual} matches {@code reference} within {@code tolerance} relative error. */
    public static void assertClose(String what, double[] reference, double[] actual, double tolerance) {
        assertClose(what, reference, actual, tolerance, 1e-30);
    }

    /** As {@link #assertClose(String, double[], double[], double)}, measured against max(max|ref|, floor). */
    public static void assertClose(String what, double[] reference, double[] actual, double tolerance,
                                   double floor) {
        if (reference.length != actual.length) {
            throw new AssertionError(what + ": " + actual.length + " values, expected " + reference.length);
        }
        double err = relativeError(reference, actual, floor);
        if (!(err <= tolerance)) {
            int i = worstIndex(reference, actual);
            throw new AssertionError(what + ": relative error " + err + " > " + tolerance + " (worst at element " + i
                    + ": expected " + reference[i] + ", got " + actual[i] + ")");
        }
    }
}
