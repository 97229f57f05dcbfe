package dev.retort.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Finds and loads Fashion-MNIST (or MNIST, same files) from the places design.md lists, in order. */
public final class FashionMnist {
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    /** Mean and standard deviation of the training pixels (scaled to [0, 1]), used to normalise. */
    public static final float MEAN = 0.2860f;
    public static final float STD = 0.3530f;

    private FashionMnist() {}

    /** Candidate folders: the explicit one, $RETORT_DATA, ~/.cache/retort/fashion-mnist, Debian's package. */
    public static List<Path> candidates(Path explicit) {
        List<Path> out = new ArrayList<>();
        if (explicit != null) {
            out.add(explicit);
        }
        String env = System.getenv("RETORT_DATA");
        if (env != null && !env.isBlank()) {
            out.add(Path.of(env));
        }
        out.add(Path.of(System.getProperty("user.home"), ".cache", "retort", "fashion-mnist"));
        out.add(Path.of("/usr/share/datasets/fashion-mnist"));
        return out;
    }

    /**
     * The explicit folder when given (it must hold all four files: another dataset is never used in its
     * place), else the first candidate folder holding them, or an error saying where it looked and what
     * to install.
     */
    public static Path locate(Path explicit) throws IOException {
        List<Path> tried = explicit != null ? List.of(explicit) : candidates(null);
        for (Path dir : tried) {
            if (find(dir, TRAIN_IMAGES) != null && find(dir, TRAIN_LABELS) != null && find(dir, TEST_IMAGES) != null
                    && find(dir, TEST_LABELS) != null) {
                return dir;
            }
        }
        if (explicit != null) {
            throw new IOException("--data " + explicit + ": the four Fashion-MNIST IDX files (" + TRAIN_IMAGES
                    + "[.gz] and the others) are not all there");
        }
        throw new IOException("Fashion-MNIST not found in " + tried + "; install Debian's package "
                + "(apt-get install dataset-fashion-mnist) or pass --data DIR");
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

    public static Dataset train(Path dir) throws IOException {
        return load(dir, TRAIN_IMAGES, TRAIN_LABELS, "fashion-mnist/train");
    }

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
