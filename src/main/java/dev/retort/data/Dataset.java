package dev.retort.data;

import dev.retort.tensor.Tensor;

/**
 * Labelled images in memory: float pixels [count, channels, height, width] row-major, and class
 * indices.
 */
public record Dataset(String name, float[] images, int[] labels, int channels, int height, int width, int classes) {
    /** Checks that the pixels match the count and shape and that every label is in [0, classes). */
    public Dataset {
        int per = channels * height * width;
        if (per <= 0 || images.length != labels.length * per) {
            throw new IllegalArgumentException(name + ": " + images.length + " pixel values do not match "
                    + labels.length + " images of " + channels + "×" + height + "×" + width);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of example " + i
                        + " is outside [0, " + classes + ")");
            }
        }
    }

    /** The number of examples. */
    public int size() {
        return labels.length;
    }

    /** Floats per example: channels × height × width. */
    public int imageSize() {
        return channels * height * width;
    }

    /** The first {@code count} examples. */
    public Dataset head(int count) {
        int n = Math.min(count, size());
        return new Dataset(name, java.util.Arrays.copyOf(images, n * imageSize()), java.util.Arrays.copyOf(labels, n),
                channels, height, width, classes);
    }

    /** The last {@code count} examples (a held-out split taken from the end, as {@code retort calibrate} does). */
    public Dataset tail(int count) {
        int n = Math.min(count, size());
        int from = size() - n;
        return new Dataset(name, java.util.Arrays.copyOfRange(images, from * imageSize(), size() * imageSize()),
                java.util.Arrays.copyOfRange(labels, from, size()), channels, height, width, classes);
    }

    /** A batch of the examples at the given indices, as an image tensor and an INT32 label tensor. */
    public Tensor[] batch(int[] order, int from, int to) {
        int n = to - from;
        int per = imageSize();
        float[] x = new float[n * per];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int index = order[from + i];
            System.arraycopy(images, index * per, x, i * per, per);
            y[i] = labels[index];
        }
        return new Tensor[] {Tensor.of(x, n, channels, height, width), Tensor.ofInts(y, n)};
    }
}
