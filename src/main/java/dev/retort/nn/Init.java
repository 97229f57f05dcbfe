package dev.retort.nn;

import java.util.SplittableRandom;

/** PyTorch's default initialisations, drawn from a seeded generator so that a run is reproducible. */
public final class Init {
    private Init() {}

    /**
     * PyTorch's default for Linear and Conv2d weights and biases: kaiming_uniform with a = √5, which
     * reduces to U(−1/√fanIn, 1/√fanIn).
     */
    public static float[] defaultUniform(SplittableRandom rng, int count, int fanIn) {
        double bound = fanIn > 0 ? 1.0 / Math.sqrt(fanIn) : 0.0;
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return out;
    }

    /**
     * {@code count} copies of {@code value}: BatchNorm's initial scale and running variance (1), and its shift
     * and running mean (0).
     */
    public static float[] constant(int count, float value) {
        float[] out = new float[count];
        java.util.Arrays.fill(out, value);
        return out;
    }
}
