package dev.retort.data;

import dev.retort.tensor.Tensor;

/**
 * Images in memory: float pixels [count, channels, height, width] row-major, and class indices, where
 * {@link #UNLABELLED} marks an example whose label a run may not use (a transfer-set image, as with
 * {@code distill --labelled N}).
 */
public record Dataset(String name, float[] images, int[] labels, int channels, int height, int width, int classes) {
    /** The label of an example without one: distillation's label terms skip it, cross-entropy refuses it. */
    public static final int UNLABELLED = -1;

    /** Checks that the pixels match the count and shape and that every label is in [0, classes). */
    public Dataset {
        int per = channels * height * width;
        if (per <= 0 || images.length != labels.length * per) {
            throw new IllegalArgumentException(name + ": " + images.length + " pixel values do not match "
                    + labels.length + " images of " + channels + "×" + height + "×" + width);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] != UNLABELLED && (labels[i] < 0 || labels[i] >= classes)) {
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

    /** How many examples carry a label. */
    public int labelledCount() {
        int n = 0;
        for (int y : labels) {
            n += y == UNLABELLED ? 0 : 1;
        }
        return n;
    }

    /**
     * The same images with the labels of only {@code count} of them kept, the others {@link #UNLABELLED}: as
     * even a share per class as the classes allow (the first {@code count mod classes} classes get one more; a class
     * with too few labelled images gives all it has and the others share the rest), each class's examples drawn by
     * a generator seeded with {@code seed}. Errors name {@code --labelled}.
     */
    public Dataset keepLabels(int count, long seed) {
        if (count <= 0) {
            throw new IllegalArgumentException("--labelled must be positive, got " + count);
        }
        int labelled = labelledCount();
        if (count > labelled) {
            throw new IllegalArgumentException("--labelled " + count + ": " + name + " has only " + labelled
                    + " labelled training images");
        }
        int[][] byClass = new int[classes][];
        int[] counts = new int[classes];
        for (int y : labels) {
            if (y != UNLABELLED) {
                counts[y]++;
            }
        }
        for (int c = 0; c < classes; c++) {
            byClass[c] = new int[counts[c]];
            counts[c] = 0;
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] != UNLABELLED) {
                byClass[labels[i]][counts[labels[i]]++] = i;
            }
        }
        // Quotas: one label per class in turn, skipping classes with none left, until count are given out.
        int[] quota = new int[classes];
        for (int given = 0, c = 0; given < count; c = (c + 1) % classes) {
            if (quota[c] < byClass[c].length) {
                quota[c]++;
                given++;
            }
        }
        int[] kept = new int[labels.length];
        java.util.Arrays.fill(kept, UNLABELLED);
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        for (int c = 0; c < classes; c++) {
            int[] pool = byClass[c];
            for (int i = 0; i < quota[c]; i++) { // the first quota entries of a Fisher–Yates shuffle
                int j = i + rng.nextInt(pool.length - i);
                int swap = pool[i];
                pool[i] = pool[j];
                pool[j] = swap;
                kept[pool[i]] = labels[pool[i]];
            }
        }
        return new Dataset(name + " (" + count + " labelled)", images, kept, channels, height, width, classes);
    }

    /** The examples that carry a label, in their order. */
    public Dataset labelledOnly() {
        int n = labelledCount();
        int per = imageSize();
        float[] x = new float[n * per];
        int[] y = new int[n];
        int at = 0;
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] != UNLABELLED) {
                System.arraycopy(images, i * per, x, at * per, per);
                y[at++] = labels[i];
            }
        }
        return new Dataset(name, x, y, channels, height, width, classes);
    }

    /**
     * The examples repeated in order up to {@code count} of them: a small labelled set trained for as many steps
     * per epoch as the transfer set it was taken from.
     */
    public Dataset repeat(int count) {
        if (size() == 0 || count <= 0) {
            throw new IllegalArgumentException(name + ": cannot repeat " + size() + " examples to " + count);
        }
        int per = imageSize();
        float[] x = new float[Math.multiplyExact(count, per)];
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            int from = i % size();
            System.arraycopy(images, from * per, x, i * per, per);
            y[i] = labels[from];
        }
        return new Dataset(name, x, y, channels, height, width, classes);
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
