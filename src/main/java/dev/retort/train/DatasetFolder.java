package dev.retort.train;

import dev.retort.backend.DType;
import dev.retort.backend.Shapes;
import dev.retort.data.Cifar10;
import dev.retort.data.Dataset;
import dev.retort.data.DatasetSource;
import dev.retort.data.FashionMnist;
import dev.retort.data.ImageFolder;
import dev.retort.data.Normalization;
import dev.retort.io.Npy;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The dataset a command trains or evaluates on: one of the published ones (Fashion-MNIST, MNIST, CIFAR-10),
 * found in the lookup order of docs/formats.md, or a folder of the user's own — class folders of images
 * ({@link ImageFolder}) or {@code .npy} pairs ({@code x_train.npy}, {@code y_train.npy}, {@code x_test.npy},
 * {@code y_test.npy}). Each split is read once, when first asked for.
 */
public final class DatasetFolder {
    /** The kinds of dataset, by the names the {@code --dataset} option takes. */
    public static final List<String> KINDS = List.of("fashion-mnist", "mnist", "cifar-10", "images", "npy");

    private final String kind;
    private final Path folder;
    private Dataset train;
    private Dataset test;
    private Normalization normalization;

    private DatasetFolder(String kind, Path folder) {
        this.kind = kind;
        this.folder = folder;
    }

    /**
     * The dataset of {@code kind} (null: what {@code explicit} holds, or Fashion-MNIST without a folder), in
     * {@code explicit} or, for the published datasets, wherever the lookup order finds it.
     */
    public static DatasetFolder open(String kind, Path explicit) throws IOException {
        String k = kind == null ? (explicit == null ? "fashion-mnist" : detect(explicit)) : kind.toLowerCase(Locale.ROOT);
        return switch (k) {
            case "fashion-mnist", "mnist", "cifar-10" -> new DatasetFolder(k, DatasetSource.of(k, explicit).locate());
            case "images", "npy" -> {
                if (explicit == null) {
                    throw new IllegalArgumentException("--dataset " + k + " needs --data DIR: the folder that holds it");
                }
                if (!Files.isDirectory(explicit)) {
                    throw new IOException("--data " + explicit + ": no such folder");
                }
                yield new DatasetFolder(k, explicit);
            }
            default -> throw new IllegalArgumentException("--dataset " + kind + ": expected one of " + KINDS);
        };
    }

    /** What a folder holds, by its files; an error lists what each kind needs when none fits. */
    static String detect(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("x_train.npy"))) {
            return "npy";
        }
        if (Cifar10.holding(dir) != null) {
            return "cifar-10";
        }
        if (ImageFolder.holds(dir)) {
            return "images";
        }
        if (Files.isDirectory(dir)) {
            return "fashion-mnist"; // IDX files; DatasetSource names the missing ones
        }
        throw new IOException("--data " + dir + ": no such folder");
    }

    /** The kind, as {@code --dataset} names it. */
    public String kind() {
        return kind;
    }

    /** The folder the files are in. */
    public Path folder() {
        return folder;
    }

    /** Where the data came from, for logs and config.json. */
    public String describe() {
        return kind + " from " + folder;
    }

    /**
     * The {@link DataFingerprint} of the files this dataset reads: the four IDX files (the {@code .gz} ones where
     * both are there, as the loader reads them), CIFAR-10's six batches, the four {@code .npy} files, or one entry
     * per class folder of an image folder. Names are relative to {@link #folder}, so the same files elsewhere agree.
     */
    public Map<String, Object> fingerprint() throws IOException {
        List<String> files = new ArrayList<>();
        switch (kind) {
            case "fashion-mnist", "mnist" -> {
                for (String name : List.of(FashionMnist.TRAIN_IMAGES, FashionMnist.TRAIN_LABELS,
                        FashionMnist.TEST_IMAGES, FashionMnist.TEST_LABELS)) {
                    files.add(Files.isRegularFile(folder.resolve(name + ".gz")) ? name + ".gz" : name);
                }
            }
            case "cifar-10" -> {
                Path batches = Cifar10.holding(folder);
                String prefix = batches == null || batches.equals(folder) ? "" : Cifar10.ARCHIVE_FOLDER + "/";
                for (String name : Cifar10.TRAIN_FILES) {
                    files.add(prefix + name);
                }
                files.add(prefix + Cifar10.TEST_FILE);
            }
            case "images" -> {
                Map<String, Object> out = new LinkedHashMap<>();
                for (String split : List.of(ImageFolder.TRAIN, ImageFolder.TEST)) {
                    for (String c : ImageFolder.classes(folder.resolve(split))) {
                        Path classFolder = folder.resolve(split).resolve(c);
                        List<Path> images;
                        try (Stream<Path> entries = Files.list(classFolder)) {
                            images = entries.filter(ImageFolder::isImageFile).sorted().toList();
                        }
                        out.put(split + "/" + c + "/", DataFingerprint.ofFolder(classFolder, images));
                    }
                }
                return out;
            }
            default -> files.addAll(List.of("x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy"));
        }
        return DataFingerprint.ofFiles(folder, files);
    }

    /** The training split. */
    public Dataset train() throws IOException {
        if (train == null) {
            switch (kind) {
                case "fashion-mnist", "mnist" -> train = FashionMnist.train(folder);
                case "cifar-10" -> train = Cifar10.train(folder);
                case "images" -> loadImages();
                default -> train = npy("train", null);
            }
        }
        return train;
    }

    /** The test split. */
    public Dataset test() throws IOException {
        if (test == null) {
            switch (kind) {
                case "fashion-mnist", "mnist" -> test = FashionMnist.test(folder);
                case "cifar-10" -> test = Cifar10.test(folder);
                case "images" -> loadImages();
                default -> test = npy("test", train());
            }
        }
        return test;
    }

    /** The test split is normalised with the training split's statistics, so both are read together. */
    private void loadImages() throws IOException {
        ImageFolder.Splits both = ImageFolder.load(folder);
        train = both.train();
        test = both.test();
        normalization = both.normalization();
    }

    /**
     * How the loader turned raw pixels into the examples: the published datasets' fixed statistics, an image
     * folder's training-split ones, or null for {@code .npy} pairs, whose values are used as they are.
     */
    public Normalization normalization() throws IOException {
        if (kind.equals("images")) {
            train();
            return normalization;
        }
        return Normalization.of(kind);
    }

    /**
     * One split of {@code .npy} pairs: x [N, C, H, W] (or [N, H, W], one channel) of floats used as they are,
     * y [N] of integer class indices. The test split must match the training split's example shape.
     */
    private Dataset npy(String split, Dataset trainSplit) throws IOException {
        Path xFile = folder.resolve("x_" + split + ".npy");
        Path yFile = folder.resolve("y_" + split + ".npy");
        for (Path f : new Path[] {xFile, yFile}) {
            if (!Files.isRegularFile(f)) {
                throw new IOException("--data " + folder + ": " + f.getFileName() + " is missing (an npy dataset is "
                        + "x_train.npy, y_train.npy, x_test.npy and y_test.npy)");
            }
        }
        int[] xShape;
        float[] x;
        int[] y;
        try (Tensor xs = Npy.read(xFile); Tensor ys = Npy.read(yFile)) {
            xShape = xs.shape();
            x = xs.toFloatArray();
            if (ys.dtype() != DType.INT32 || ys.rank() != 1) {
                throw new IOException(yFile + ": expected integer class indices of shape [N], got " + ys.dtype()
                        + " " + Shapes.format(ys.shape()));
            }
            y = ys.toIntArray();
        }
        if (xShape.length != 3 && xShape.length != 4) {
            throw new IOException(xFile + ": expected images [N, C, H, W] or [N, H, W], got " + Shapes.format(xShape));
        }
        if (xShape[0] != y.length) {
            throw new IOException(xFile + " holds " + xShape[0] + " examples, " + yFile + " " + y.length + " labels");
        }
        int channels = xShape.length == 4 ? xShape[1] : 1;
        int height = xShape[xShape.length - 2];
        int width = xShape[xShape.length - 1];
        int classes = 0;
        for (int i = 0; i < y.length; i++) {
            if (y[i] < 0) {
                // Dataset would take −1 as "unlabelled" and the loss refuse it later, naming neither file nor row.
                throw new IOException(yFile + ": label " + y[i] + " at row " + i + " is negative; labels are class "
                        + "indices 0, 1, 2, ...");
            }
            classes = Math.max(classes, y[i] + 1);
        }
        if (trainSplit != null) {
            if (trainSplit.channels() != channels || trainSplit.height() != height || trainSplit.width() != width) {
                throw new IOException(xFile + ": examples of " + channels + "×" + height + "×" + width + ", but the "
                        + "training split's are " + trainSplit.channels() + "×" + trainSplit.height() + "×"
                        + trainSplit.width());
            }
            for (int i = 0; i < y.length; i++) {
                if (y[i] >= trainSplit.classes()) {
                    throw new IOException(yFile + ": label " + y[i] + " at row " + i + " does not occur in the "
                            + "training split (" + trainSplit.classes() + " classes)");
                }
            }
            classes = trainSplit.classes();
        }
        return new Dataset("npy/" + split, x, y, channels, height, width, Math.max(classes, 1));
    }
}
