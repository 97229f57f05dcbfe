package dev.retort.cli;

import dev.retort.data.FashionMnist;
import dev.retort.io.Checkpoints;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import picocli.CommandLine;

/** In-process runs of {@code retort} and the small files they read: saved weights, a tiny Fashion-MNIST, PNGs. */
final class CliFixtures {
    private CliFixtures() {}

    /** What a run printed and returned. */
    record Run(int exitCode, String out, String err) {
        String all() {
            return out + err;
        }
    }

    /**
     * The contract for anything a command itself refuses (a bad value or file, a clash): exit 1, one line on
     * stderr naming the command, no usage and no stack trace.
     */
    static void assertRefused(Run run) {
        org.junit.jupiter.api.Assertions.assertEquals(1, run.exitCode(), run.all());
        String err = run.err();
        org.junit.jupiter.api.Assertions.assertEquals(1, err.strip().lines().count(), "one line: " + err);
        org.junit.jupiter.api.Assertions.assertTrue(err.startsWith("retort "), err);
        org.junit.jupiter.api.Assertions.assertFalse(err.contains("Usage:") || err.contains("Exception"), err);
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** The side of {@link #pngDataset}'s images. */
    static final int PNG_SIZE = 12;
    private static final String[] PNG_CLASSES = {"circle", "stripes", "wedge"};

    /**
     * Grey PNG_SIZE² images in {@code root} whose class (circle, stripes, wedge) is a pattern, with noise: train/
     * (perClass a class) and test/ (half as many) folders of class folders.
     */
    static Path pngDataset(Path root, int perClass) throws IOException {
        SplittableRandom rng = new SplittableRandom(3);
        for (String split : new String[] {"train", "test"}) {
            for (int c = 0; c < PNG_CLASSES.length; c++) {
                Path folder = Files.createDirectories(root.resolve(split).resolve(PNG_CLASSES[c]));
                for (int i = 0; i < (split.equals("train") ? perClass : perClass / 2); i++) {
                    BufferedImage image = new BufferedImage(PNG_SIZE, PNG_SIZE, BufferedImage.TYPE_BYTE_GRAY);
                    for (int y = 0; y < PNG_SIZE; y++) {
                        for (int x = 0; x < PNG_SIZE; x++) {
                            boolean on = switch (c) {
                                case 0 -> (x - 6) * (x - 6) + (y - 6) * (y - 6) < 16;
                                case 1 -> y % 4 < 2;
                                default -> x > y;
                            };
                            int v = Math.max(0, Math.min(255, (on ? 200 : 40) + rng.nextInt(-30, 31)));
                            image.getRaster().setSample(x, y, 0, v);
                        }
                    }
                    ImageIO.write(image, "png", folder.resolve(i + ".png").toFile());
                }
            }
        }
        return root;
    }

    /** A JSON network for {@link #pngDataset}'s images: one conv layer of {@code hidden} channels, three classes. */
    static Path convNetwork(Path file, int hidden) throws IOException {
        Files.writeString(file, "{\"input\": [1, " + PNG_SIZE + ", " + PNG_SIZE + "], \"layers\": ["
                + "{\"type\": \"conv2d\", \"out\": " + hidden + ", \"kernel\": 3, \"padding\": 1}, {\"type\": \"relu\"},"
                + "{\"type\": \"maxpool2d\", \"kernel\": 2}, {\"type\": \"flatten\"},"
                + "{\"type\": \"linear\", \"out\": 3}]}");
        return file;
    }

    /** A run trained by {@code retort train} on {@link #pngDataset}: the data, the network file, the run folder. */
    record PngRun(Path data, Path network, Path folder) {}

    /** Trains {@link #convNetwork} for {@code epochs} on an 18-a-class {@link #pngDataset}, all under {@code root}. */
    static PngRun trainOnPngs(Path root, int epochs) throws IOException {
        System.setProperty("retort.progress", "off");
        Path data = pngDataset(root.resolve("pngs"), 18);
        Path net = convNetwork(root.resolve("net.json"), 4);
        Path folder = root.resolve("run");
        Run r = run("train", "--model", net.toString(), "--data", data.toString(), "--epochs",
                Integer.toString(epochs), "--batch-size", "8", "--device", "cpu", "--out", folder.toString());
        if (r.exitCode() != 0) {
            throw new IllegalStateException("training on the PNGs failed: " + r.all());
        }
        return new PngRun(data, net, folder);
    }

    /** A small Fashion-MNIST-shaped dataset in {@code dir} (256 train, 64 test), labelled by a cnn-student. */
    static Path tinyFashionMnist(Path dir) throws IOException {
        try (Module labeller = Models.create("cnn-student", 5)) {
            return fashionMnist(dir, labeller, 256, 64, 0.1, 9);
        }
    }

    /** Saves the freshly initialised reference network {@code name} and returns the file. */
    static Path saveWeights(Path dir, String name, long seed) throws IOException {
        Path file = dir.resolve(name + "-" + seed + ".safetensors");
        try (Module net = Models.create(name, seed)) {
            Checkpoints.save(net, file, Map.of());
        }
        return file;
    }

    /** Raw 28×28 pixels, uniformly random bytes. */
    static byte[] randomPixels(int count, long seed) {
        byte[] b = new byte[count * 28 * 28];
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) rng.nextInt(256);
        }
        return b;
    }

    /** Pixels as FashionMnist's loader normalises them. */
    static float[] normalised(byte[] raw) {
        float[] x = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            x[i] = ((raw[i] & 0xff) / 255f - FashionMnist.MEAN) / FashionMnist.STD;
        }
        return x;
    }

    /** Logits of {@code net} in eval mode on [count, 1, 28, 28] images, in one forward pass. */
    static float[] forward(Module net, float[] images) {
        net.eval();
        try (Autograd.NoGrad ignored = Autograd.noGrad(); Scope scope = Scope.open()) {
            return net.forward(Tensor.of(images, images.length / 784, 1, 28, 28)).toFloatArray();
        } finally {
            net.train();
        }
    }

    static int[] argmax(float[] logits, int classes) {
        int[] out = new int[logits.length / classes];
        for (int r = 0; r < out.length; r++) {
            for (int c = 1; c < classes; c++) {
                if (logits[r * classes + c] > logits[r * classes + out[r]]) {
                    out[r] = c;
                }
            }
        }
        return out;
    }

    /**
     * A Fashion-MNIST folder of random images whose labels are the given model's predictions, except
     * for a {@code noise} fraction drawn at random: the model is right on most examples, as a trained
     * one would be, so calibration has something to fit.
     */
    static Path fashionMnist(Path dir, Module labeller, int train, int test, double noise, long seed)
            throws IOException {
        Path folder = Files.createDirectories(dir.resolve("fashion-" + seed));
        SplittableRandom rng = new SplittableRandom(seed);
        writeSplit(folder, FashionMnist.TRAIN_IMAGES, FashionMnist.TRAIN_LABELS, labeller, train, noise, rng);
        writeSplit(folder, FashionMnist.TEST_IMAGES, FashionMnist.TEST_LABELS, labeller, test, noise, rng);
        return folder;
    }

    /** A small {@link #fashionMnist} labelled by a fresh cnn-student: enough for a run through the commands. */
    static Path tinyFashionMnist(Path dir, int train, int test) throws IOException {
        try (Module labeller = Models.create("cnn-student", 5)) {
            return fashionMnist(dir, labeller, train, test, 0.1, 9);
        }
    }

    private static void writeSplit(Path folder, String imagesName, String labelsName, Module labeller, int count,
            double noise, SplittableRandom rng) throws IOException {
        byte[] pixels = randomPixels(count, rng.nextLong());
        int[] predicted = argmax(forward(labeller, normalised(pixels)), 10);
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++) {
            labels[i] = (byte) (rng.nextDouble() < noise ? rng.nextInt(10) : predicted[i]);
        }
        writeIdx(folder.resolve(imagesName), new int[] {count, 28, 28}, pixels);
        writeIdx(folder.resolve(labelsName), new int[] {count}, labels);
    }

    static void writeIdx(Path file, int[] dims, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(0x00000800 | dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        Files.write(file, b.array());
    }
}
