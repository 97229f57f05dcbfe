package dev.retort.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads Fashion-MNIST (or MNIST: the same four IDX files) from a folder, normalised. */
public final class FashionMnist {
    /** The 60,000 training images, 28 × 28 bytes each (IDX, uncompressed). */
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    /** The training labels, one byte (0..9) per image. */
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    /** The 10,000 test images. */
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    /** The test labels. */
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    /** Mean and standard deviation of the training pixels (scaled to [0, 1]), used to normalise. */
    public static final float MEAN = 0.2860f;
    /** Standard deviation matching {@link #MEAN}; normalised pixels are {@code (p - MEAN) / STD}. */
    public static final float STD = 0.3530f;

    private FashionMnist() {}

    /**
     * The folder holding Fashion-MNIST, found in {@link DatasetSource}'s order (an explicit folder must hold
     * the files), or downloaded into the cache with checksums verified when no local copy exists.
     */
    public static Path locate(Path explicit) throws IOException {
        return DatasetSource.of("fashion-mnist", explicit).locate();
    }

    private static Path find(Path dir, String name) {
        for (String suffix : new String[] {".gz", ""}) {
            Path p = dir.resolve(name + suffix);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /** The 60,000 training images of the IDX files in {@code dir}, normalised. */
    public static Dataset train(Path dir) throws IOException {
        return load(dir, TRAIN_IMAGES, TRAIN_LABELS, "fashion-mnist/train");
    }

    /** The 10,000 test images of the IDX files in {@code dir}, normalised. */
    public static Dataset test(Path dir) throws IOException {
        return load(dir, TEST_IMAGES, TEST_LABELS, "fashion-mnist/test");
    }

    private static Dataset load(Path dir, String imagesName, String labelsName, String name) throws IOException {
        Path imagesFile = find(dir, imagesName);
        Path labelsFile = find(dir, labelsName);
        if (imagesFile == null || labelsFile == null) {
            throw new IOException(dir + ": missing " + (imagesFile == null ? imagesName : labelsName) + "[.gz]");
        }
        Idx.Array images = Idx.read(imagesFile);
        Idx.Array labels = Idx.read(labelsFile);
        if (images.shape().length != 3) {
            throw new IOException(imagesFile + ": expected a rank-3 image array [count, height, width], got rank "
                    + images.shape().length);
        }
        if (labels.shape().length != 1) {
            throw new IOException(labelsFile + ": expected a rank-1 label array, got rank " + labels.shape().length);
        }
        int count = images.shape()[0];
        if (labels.shape()[0] != count) {
            throw new IOException(labelsFile + ": " + labels.shape()[0] + " labels for " + count + " images in "
                    + imagesFile);
        }
        int h = images.shape()[1];
        int w = images.shape()[2];
        float[] pixels = new float[count * h * w];
        byte[] raw = images.data();
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = ((raw[i] & 0xff) / 255f - MEAN) / STD;
        }
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            y[i] = labels.data()[i] & 0xff;
            if (y[i] > 9) {
                throw new IOException(labelsFile + ": label " + y[i] + " at index " + i + " is outside 0..9");
            }
        }
        return new Dataset(name, pixels, y, 1, h, w, 10);
    }
}
