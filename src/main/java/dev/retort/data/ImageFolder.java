package dev.retort.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * A dataset kept as image files, one folder per class, as torchvision's {@code ImageFolder} reads it:
 * {@code DIR/train/<class>/*.png} and {@code DIR/test/<class>/*.png} (PNG or JPEG, read by {@code ImageIO}).
 * Classes are the folder names in sorted order, the same for both splits. Every image must have the size of
 * the first one (no silent resizing: the error names the file and both sizes). Images are single-channel when
 * every training image is grey, else RGB; pixels are scaled to [0, 1] and normalised per channel with the
 * training split's mean and standard deviation, which the test split reuses.
 */
public final class ImageFolder {
    /** The split folder of training images, one subfolder per class. */
    public static final String TRAIN = "train";
    /** The split folder of test images, with the same class subfolders as {@link #TRAIN}. */
    public static final String TEST = "test";

    private ImageFolder() {}

    /** Whether {@code dir} looks like an image folder dataset: {@code train/} and {@code test/} of class folders. */
    public static boolean holds(Path dir) {
        return Files.isDirectory(dir.resolve(TRAIN)) && Files.isDirectory(dir.resolve(TEST))
                && !classes(dir.resolve(TRAIN)).isEmpty();
    }

    /**
     * Both splits and the training split's statistics, which normalise both.
     *
     * @param train         the training split
     * @param test          the test split
     * @param normalization the training split's per-channel mean and standard deviation
     */
    public record Splits(Dataset train, Dataset test, Normalization normalization) {}

    /** Both splits, normalised with the training split's statistics. */
    public static Splits load(Path dir) throws IOException {
        Path trainDir = dir.resolve(TRAIN);
        Path testDir = dir.resolve(TEST);
        List<String> classes = classes(trainDir);
        if (classes.isEmpty()) {
            throw new IOException(trainDir + ": no class folders (expected " + trainDir + "/<class>/<image>.png)");
        }
        List<String> testClasses = classes(testDir);
        if (!classes.containsAll(testClasses)) {
            List<String> extra = new ArrayList<>(testClasses);
            extra.removeAll(classes);
            throw new IOException(testDir + ": classes " + extra + " have no training folder in " + trainDir);
        }
        Raw train = read(trainDir, classes, null);
        Raw test = read(testDir, classes, train);
        int channels = train.grey ? 1 : 3;
        Normalization stats = statistics(train, channels);
        String name = dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
        return new Splits(train.normalised(name + "/train", channels, classes.size(), stats),
                test.normalised(name + "/test", channels, classes.size(), stats), stats);
    }

    /** The class folder names of a split, sorted. */
    public static List<String> classes(Path split) {
        if (!Files.isDirectory(split)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(split)) {
            return entries.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The images of one split as RGB pixels 0..255 with their labels, before normalisation. */
    private record Raw(List<int[]> pixels, List<Integer> labels, int height, int width, boolean grey) {
        Dataset normalised(String name, int channels, int classes, Normalization stats) {
            int per = channels * height * width;
            float[] images = new float[pixels.size() * per];
            for (int i = 0; i < pixels.size(); i++) {
                toInput(pixels.get(i), channels, stats, images, i * per);
            }
            int[] y = labels.stream().mapToInt(Integer::intValue).toArray();
            return new Dataset(name, images, y, channels, height, width, classes);
        }
    }

    /**
     * One image's RGB pixels as a network input [channels, H, W] at {@code offset}, normalised: the one conversion
     * of training, evaluation and prediction, so each sees the same numbers. Grey images have R = G = B; one
     * channel is then the grey value.
     */
    private static void toInput(int[] rgb, int channels, Normalization stats, float[] into, int offset) {
        int plane = rgb.length;
        for (int p = 0; p < plane; p++) {
            for (int c = 0; c < channels; c++) {
                int value = (rgb[p] >> (16 - 8 * c)) & 0xff;
                into[offset + c * plane + p] = stats.apply(value, c);
            }
        }
    }

    /**
     * One image file's pixels, packed RGB row-major, with its size.
     *
     * @param rgb    pixels as {@code 0xRRGGBB}, row by row
     * @param width  columns
     * @param height rows
     */
    public record Image(int[] rgb, int width, int height) {
        /** Whether every pixel has R = G = B. */
        public boolean grey() {
            return isGrey(rgb);
        }
    }

    /** Reads a PNG or JPEG file; an error names the file when ImageIO cannot read it. */
    public static Image read(Path file) throws IOException {
        BufferedImage image = ImageIO.read(file.toFile());
        if (image == null) {
            throw new IOException(file + ": not a PNG or JPEG image that ImageIO can read");
        }
        int width = image.getWidth();
        int height = image.getHeight();
        return new Image(image.getRGB(0, 0, width, height, null, 0, width), width, height);
    }

    private static Raw read(Path split, List<String> classes, Raw shapeOf) throws IOException {
        List<int[]> pixels = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        int height = shapeOf == null ? -1 : shapeOf.height;
        int width = shapeOf == null ? -1 : shapeOf.width;
        Path sizeSource = null;
        boolean grey = true;
        for (int label = 0; label < classes.size(); label++) {
            Path folder = split.resolve(classes.get(label));
            if (!Files.isDirectory(folder)) {
                continue; // a test split may lack a class
            }
            List<Path> files;
            try (Stream<Path> entries = Files.list(folder)) {
                files = entries.filter(ImageFolder::isImageFile).sorted().toList();
            }
            for (Path file : files) {
                Image image = read(file);
                if (height < 0) {
                    height = image.height();
                    width = image.width();
                    sizeSource = file;
                } else if (image.height() != height || image.width() != width) {
                    throw new IOException(file + ": " + image.width() + "×" + image.height() + " pixels, but "
                            + (sizeSource != null ? sizeSource + " is " : "the training images are ") + width + "×"
                            + height + "; every image must have one size (resize them first)");
                }
                int[] rgb = image.rgb();
                grey &= isGrey(rgb);
                pixels.add(rgb);
                labels.add(label);
            }
        }
        if (pixels.isEmpty()) {
            throw new IOException(split + ": no .png or .jpg images in its class folders " + classes);
        }
        return new Raw(pixels, labels, height, width, grey);
    }

    /** Whether {@code p} is a file with a PNG or JPEG name. */
    public static boolean isImageFile(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && (n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg"));
    }

    private static boolean isGrey(int[] rgb) {
        for (int v : rgb) {
            int r = (v >> 16) & 0xff;
            int g = (v >> 8) & 0xff;
            int b = v & 0xff;
            if (r != g || g != b) {
                return false;
            }
        }
        return true;
    }

    /** Per-channel mean and standard deviation of the training pixels in [0, 1]. */
    private static Normalization statistics(Raw train, int channels) {
        double[] sum = new double[channels];
        double[] squares = new double[channels];
        long count = 0;
        for (int[] rgb : train.pixels) {
            for (int v : rgb) {
                for (int c = 0; c < channels; c++) {
                    double x = ((v >> (16 - 8 * c)) & 0xff) / 255.0;
                    sum[c] += x;
                    squares[c] += x * x;
                }
            }
            count += rgb.length;
        }
        float[] means = new float[channels];
        float[] deviations = new float[channels];
        for (int c = 0; c < channels; c++) {
            double mean = sum[c] / count;
            double variance = Math.max(0, squares[c] / count - mean * mean);
            means[c] = (float) mean;
            // A constant channel keeps its scale rather than dividing by zero.
            deviations[c] = variance > 1e-12 ? (float) Math.sqrt(variance) : 1f;
        }
        return new Normalization(means, deviations);
    }
}
