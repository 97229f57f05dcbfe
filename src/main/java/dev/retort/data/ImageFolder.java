package dev.retort.data;

import java.awt.image.BufferedImage;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

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
    /** The side of the largest square image {@link #read} accepts. */
    public static final int MAX_SIDE = 8192;
    /**
     * The most pixels {@link #read} accepts in one image, {@link #MAX_SIDE} squared (256 MiB as packed RGB): far
     * beyond any network's input, and checked against the header so that a file claiming billions is refused
     * before anything is allocated for it.
     */
    public static final long MAX_PIXELS = (long) MAX_SIDE * MAX_SIDE;

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

    /**
     * Reads a PNG or JPEG file (or another format ImageIO knows). Its size is read from the header first, and an
     * image of more than {@link #MAX_PIXELS} is refused before anything is decoded or allocated for it. A file cut
     * short is refused as truncated, a JPEG included, which ImageIO alone would decode with its missing part grey;
     * every error names the file.
     */
    public static Image read(Path file) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new IOException(file + ": cannot be read (no such file, or no permission to read it)");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IOException(file + ": not a PNG or JPEG image that ImageIO can read");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                int width;
                int height;
                BufferedImage image;
                try {
                    width = reader.getWidth(0);
                    height = reader.getHeight(0);
                    if (width <= 0 || height <= 0 || (long) width * height > MAX_PIXELS) {
                        throw new IOException(file + ": its header claims " + width + " × " + height + " pixels; an "
                                + "image may have at most " + MAX_PIXELS + " pixels (" + MAX_SIDE + " × " + MAX_SIDE
                                + "), so the file is corrupt or not meant as a network's input (resize it first)");
                    }
                    image = reader.read(0);
                } catch (IIOException | EOFException | RuntimeException e) {
                    throw unreadable(file, reader.getFormatName(), e, warnings);
                }
                if (endedEarly(warnings)) {
                    throw truncated(file, reader.getFormatName());
                }
                return new Image(image.getRGB(0, 0, width, height, null, 0, width), width, height);
            } finally {
                reader.dispose();
            }
        }
    }

    /** The decoder's failure as one line naming the file: truncated where the data ran out, else corrupt. */
    private static IOException unreadable(Path file, String format, Exception e, List<String> warnings) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EOFException) {
                return truncated(file, format);
            }
        }
        if (endedEarly(warnings)) {
            return truncated(file, format);
        }
        String says = e.getMessage();
        // ImageIO's PNG reader wraps the real reason (a bad checksum, a bad deflate block) in a generic message.
        if (e.getCause() != null && e.getCause().getMessage() != null) {
            says += ": " + e.getCause().getMessage();
        }
        return new IOException(file + ": a corrupt " + format.toUpperCase(Locale.ROOT) + " image (the decoder says: "
                + says + ")", e);
    }

    /** Whether the decoder warned that the data ran out: the JPEG decoder's way, it fills the rest grey. */
    private static boolean endedEarly(List<String> warnings) {
        return warnings.stream().anyMatch(w -> w.contains("Truncated") || w.contains("Premature end"));
    }

    private static IOException truncated(Path file, String format) {
        return new IOException(file + ": truncated: the " + format.toUpperCase(Locale.ROOT) + " image ends before its "
                + "data does (the file was cut short; copy or save it again)");
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
