package dev.retort.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reader of the CIFAR-10 binary format: files of 3073-byte records, each one label byte (0..9) then
 * 3072 pixel bytes in CHW order (1024 red, 1024 green, 1024 blue, rows of 32).
 */
public final class Cifar10 {
    /** Colour channels of an image: red, green, blue. */
    public static final int CHANNELS = 3;
    /** Height and width of an image, in pixels. */
    public static final int SIZE = 32;
    /** Pixel bytes per record: 3072. */
    public static final int PIXELS = CHANNELS * SIZE * SIZE;
    /** Bytes per record, the label byte included: 3073. */
    public static final int RECORD = 1 + PIXELS;
    /** The five training files of 10,000 records each, in the order they are concatenated. */
    public static final List<String> TRAIN_FILES = List.of("data_batch_1.bin", "data_batch_2.bin",
            "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin");
    /** The test file: 10,000 records. */
    public static final String TEST_FILE = "test_batch.bin";
    /** The folder the official tarball unpacks into; accepted inside any candidate folder. */
    public static final String ARCHIVE_FOLDER = "cifar-10-batches-bin";
    /** Per-channel mean and standard deviation of the training pixels scaled to [0, 1]. */
    public static final float[] MEAN = {0.4914f, 0.4822f, 0.4465f};
    /**
     * Per-channel standard deviation matching {@link #MEAN}; normalised pixels are {@code (p - MEAN[c]) /
     * STD[c]}.
     */
    public static final float[] STD = {0.2470f, 0.2435f, 0.2616f};

    private Cifar10() {}

    /** Raw records of one or more files: labels and unnormalised pixel bytes. */
    public record Records(byte[] pixels, int[] labels) {}

    /** Whether {@code dir} (or its {@code cifar-10-batches-bin} subfolder) holds all six files; returns that folder. */
    public static Path holding(Path dir) {
        for (Path d : new Path[] {dir, dir.resolve(ARCHIVE_FOLDER)}) {
            boolean all = Files.isRegularFile(d.resolve(TEST_FILE));
            for (String f : TRAIN_FILES) {
                all &= Files.isRegularFile(d.resolve(f));
            }
            if (all) {
                return d;
            }
        }
        return null;
    }

    /** The five training batches of the folder, normalised. */
    public static Dataset train(Path dir) throws IOException {
        Path d = folder(dir);
        List<Path> files = new ArrayList<>();
        for (String f : TRAIN_FILES) {
            files.add(d.resolve(f));
        }
        return normalised("cifar-10/train", read(files));
    }

    /** The 10,000 test images of {@code test_batch.bin}, normalised per channel. */
    public static Dataset test(Path dir) throws IOException {
        return normalised("cifar-10/test", read(List.of(folder(dir).resolve(TEST_FILE))));
    }

    private static Path folder(Path dir) throws IOException {
        Path d = holding(dir);
        if (d == null) {
            throw new IOException(dir + ": the CIFAR-10 binary files (" + String.join(", ", TRAIN_FILES) + ", "
                    + TEST_FILE + ") are not all there, nor in " + dir.resolve(ARCHIVE_FOLDER));
        }
        return d;
    }

    /** Reads and validates the records of the files, in order. */
    public static Records read(List<Path> files) throws IOException {
        long total = 0;
        for (Path f : files) {
            total += recordCount(f);
        }
        if (total * PIXELS > Integer.MAX_VALUE - 8) {
            throw new IOException(files + ": " + total + " records are more than one array can hold");
        }
        byte[] pixels = new byte[(int) (total * PIXELS)];
        int[] labels = new int[(int) total];
        int at = 0;
        for (Path f : files) {
            byte[] raw = Files.readAllBytes(f);
            int n = checkedCount(f, raw.length);
            for (int r = 0; r < n; r++) {
                int label = raw[r * RECORD] & 0xff;
                if (label > 9) {
                    throw new IOException(f + ": label " + label + " of record " + r + " (byte offset "
                            + (long) r * RECORD + ") is outside 0..9");
                }
                labels[at] = label;
                System.arraycopy(raw, r * RECORD + 1, pixels, at * PIXELS, PIXELS);
                at++;
            }
        }
        return new Records(pixels, labels);
    }

    private static long recordCount(Path f) throws IOException {
        if (!Files.isRegularFile(f)) {
            throw new IOException(f + ": no such file");
        }
        return checkedCount(f, Files.size(f));
    }

    private static int checkedCount(Path f, long size) throws IOException {
        if (size == 0) {
            throw new IOException(f + ": empty file, expected records of " + RECORD + " bytes (1 label + "
                    + PIXELS + " pixels)");
        }
        if (size % RECORD != 0) {
            throw new IOException(f + ": size " + size + " bytes is not a multiple of the " + RECORD
                    + "-byte record (1 label + " + PIXELS + " pixels): record " + size / RECORD
                    + " is truncated after " + size % RECORD + " bytes");
        }
        if (size / RECORD > Integer.MAX_VALUE / PIXELS) {
            throw new IOException(f + ": " + size / RECORD + " records are more than one array can hold");
        }
        return (int) (size / RECORD);
    }

    /** Scales pixels to [0, 1] and normalises each channel with {@link #MEAN} and {@link #STD}. */
    public static Dataset normalised(String name, Records records) {
        int n = records.labels().length;
        float[] images = new float[n * PIXELS];
        byte[] raw = records.pixels();
        int plane = SIZE * SIZE;
        for (int i = 0; i < images.length; i++) {
            int c = (i % PIXELS) / plane;
            images[i] = ((raw[i] & 0xff) / 255f - MEAN[c]) / STD[c];
        }
        return new Dataset(name, images, records.labels(), CHANNELS, SIZE, SIZE, 10);
    }
}
