package dev.retort.data;

import java.util.SplittableRandom;

/**
 * A generated stand-in for an image dataset when no real one is installed: each class is a fixed
 * random pattern of blobs, and each example is its class's pattern shifted by up to two pixels with
 * noise added. Learnable, but not trivially: a linear model does markedly worse than a CNN.
 */
public final class SyntheticImages {
    private SyntheticImages() {}

    /**
     * {@code count} generated single-channel images of {@code size}², {@code classes} classes, reproducible from
     * {@code seed}.
     */
    public static Dataset generate(String name, int count, int classes, int size, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[][] templates = new float[classes][size * size];
        for (int c = 0; c < classes; c++) {
            for (int blob = 0; blob < 4; blob++) {
                double cy = 4 + rng.nextDouble() * (size - 8);
                double cx = 4 + rng.nextDouble() * (size - 8);
                double radius = 2 + rng.nextDouble() * 4;
                double sign = rng.nextBoolean() ? 1 : -1;
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        double d2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
                        templates[c][y * size + x] += (float) (sign * Math.exp(-d2 / (2 * radius * radius)));
                    }
                }
            }
        }
        // Every example is drawn from its own generator so the dataset does not depend on thread order.
        SplittableRandom examples = new SplittableRandom(rng.nextLong());
        float[] images = new float[count * size * size];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            int c = examples.nextInt(classes);
            labels[i] = c;
            int dy = examples.nextInt(5) - 2;
            int dx = examples.nextInt(5) - 2;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    int sy = Math.floorMod(y - dy, size);
                    int sx = Math.floorMod(x - dx, size);
                    images[i * size * size + y * size + x] = templates[c][sy * size + sx]
                            + (float) (examples.nextGaussian() * 0.6);
                }
            }
        }
        return new Dataset(name, images, labels, 1, size, size, classes);
    }
}
