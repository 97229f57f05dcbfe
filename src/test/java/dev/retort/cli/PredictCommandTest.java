package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.DType;
import dev.retort.io.Checkpoints;
import dev.retort.io.Npy;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Tensor;
import dev.retort.testing.ScopePerTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code retort predict} writes what the model's forward pass computes, in any accepted input layout. */
@ExtendWith(ScopePerTest.class)
class PredictCommandTest {
    private static final int N = 7;

    @TempDir
    Path dir;

    private Path weights;
    private byte[] raw;
    private float[] images;
    private float[] expected;

    @BeforeEach
    void fixtures() throws IOException {
        weights = CliFixtures.saveWeights(dir, "cnn-student", 3);
        raw = CliFixtures.randomPixels(N, 17);
        images = CliFixtures.normalised(raw);
        try (Module net = Models.create("cnn-student", 0)) {
            Checkpoints.load(net, weights);
            expected = CliFixtures.forward(net, images);
        }
    }

    private Path npy(String name, Tensor t) throws IOException {
        Path file = dir.resolve(name);
        Npy.write(file, t);
        return file;
    }

    private CliFixtures.Run predict(Path input, Path output, String... more) {
        String[] base = {"predict", "--model", "cnn-student", "--weights", weights.toString(), "--input",
                input.toString(), "--output", output.toString(), "--batch-size", "3"};
        String[] args = new String[base.length + more.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        return run(args);
    }

    private static void assertClose(float[] want, float[] got, double tolerance) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tolerance * Math.max(1, Math.abs(want[i])), "element " + i);
        }
    }

    @Test
    void logitsEqualTheModelsForwardPass() throws IOException {
        Path out = dir.resolve("logits.npy");
        CliFixtures.Run r = predict(npy("x.npy", Tensor.of(images, N, 1, 28, 28)), out);
        assertEquals(0, r.exitCode(), r.all());
        Tensor logits = Npy.read(out);
        assertEquals(DType.FLOAT32, logits.dtype());
        assertArrayEquals(new int[] {N, 10}, logits.shape());
        assertClose(expected, logits.toFloatArray(), 1e-5);
        assertTrue(r.out().contains("wrote " + out + ": logits [7, 10] float32"), r.out());
    }

    @Test
    void flatAndChannellessFloat64InputsGiveTheSameLogits() throws IOException {
        double[] wide = new double[images.length];
        for (int i = 0; i < wide.length; i++) {
            wide[i] = images[i];
        }
        for (int[] shape : new int[][] {{N, 784}, {N, 28, 28}}) {
            Path out = dir.resolve("out-" + shape.length + ".npy");
            CliFixtures.Run r = predict(npy("x" + shape.length + ".npy", Tensor.of(wide, shape)), out);
            assertEquals(0, r.exitCode(), r.all());
            assertClose(expected, Npy.read(out).toFloatArray(), 1e-5);
        }
    }

    @Test
    void probabilitiesAreTheTemperedSoftmaxAndArgmaxTheBestClass() throws IOException {
        Path out = dir.resolve("p.npy");
        Path classes = dir.resolve("classes.npy");
        CliFixtures.Run r = predict(npy("x.npy", Tensor.of(images, N, 1, 28, 28)), out, "--probabilities",
                "--temperature", "2.5", "--argmax", classes.toString());
        assertEquals(0, r.exitCode(), r.all());
        float[] p = Npy.read(out).toFloatArray();
        for (int row = 0; row < N; row++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < 10; c++) {
                max = Math.max(max, expected[row * 10 + c]);
            }
            double sum = 0;
            for (int c = 0; c < 10; c++) {
                sum += Math.exp((expected[row * 10 + c] - max) / 2.5);
            }
            double total = 0;
            for (int c = 0; c < 10; c++) {
                assertEquals(Math.exp((expected[row * 10 + c] - max) / 2.5) / sum, p[row * 10 + c], 1e-5);
                total += p[row * 10 + c];
            }
            assertEquals(1.0, total, 1e-5);
        }
        Tensor predicted = Npy.read(classes);
        assertEquals(DType.INT32, predicted.dtype());
        assertArrayEquals(new int[] {N}, predicted.shape());
        assertArrayEquals(CliFixtures.argmax(expected, 10), predicted.toIntArray());
    }

    @Test
    void normalizeTurnsRawPixelsIntoWhatTheLoaderFeeds() throws IOException {
        float[] pixels = rawPixels();
        Path out = dir.resolve("logits.npy");
        CliFixtures.Run r = predict(npy("raw.npy", Tensor.of(pixels, N, 28, 28)), out, "--normalize",
                "fashion-mnist");
        assertEquals(0, r.exitCode(), r.all());
        assertClose(expected, Npy.read(out).toFloatArray(), 1e-5);
        r = predict(npy("raw.npy", Tensor.of(pixels, N, 28, 28)), out, "--normalize", "cifar-10");
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--normalize cifar-10: needs examples of shape [3, H, W]"), r.err());
        assertEquals("", predict(npy("raw.npy", Tensor.of(pixels, N, 28, 28)), out, "--normalize", "fashion-mnist")
                .err());
    }

    /** The fixture's images as raw 0..255 pixel values. */
    private float[] rawPixels() {
        float[] pixels = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            pixels[i] = raw[i] & 0xff;
        }
        return pixels;
    }

    @Test
    void rawPixelsWithoutNormalizeAreNamedNotSilentlyPredicted() throws IOException {
        float[] pixels = rawPixels();
        Path out = dir.resolve("logits.npy");
        CliFixtures.Run r = predict(npy("raw.npy", Tensor.of(pixels, N, 28, 28)), out);
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.err().contains("holds whole numbers in 0..255, like raw pixels") && r.err().contains("--normalize"),
                r.err());
        assertEquals("", predict(npy("normalised.npy", Tensor.of(CliFixtures.normalised(raw), N, 28, 28)), out).err());
    }

    @Test
    void aShapeThatDoesNotFitNamesTheFileAndBothShapes() throws IOException {
        Path input = npy("small.npy", Tensor.of(new float[2 * 27 * 27], 2, 27, 27));
        Path out = dir.resolve("never.npy");
        CliFixtures.Run r = predict(input, out);
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--input " + input + ": examples of shape [27, 27] (729 values) do not fit "
                + "--model cnn-student, which takes [1, 28, 28] (784 values per example); give the inputs as "
                + "[N, 1, 28, 28] or [N, 784]"), r.err());
        assertFalse(Files.exists(out));
        Path single = npy("single.npy", Tensor.of(new float[784], 784));
        r = predict(single, out);
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--input " + single + ": shape [784] has no example axis"), r.err());
    }

    @Test
    void temperatureMustBePositiveAndGoWithProbabilities() throws IOException {
        Path input = npy("x.npy", Tensor.of(images, N, 1, 28, 28));
        Path out = dir.resolve("p.npy");
        for (String t : new String[] {"0", "-1", "NaN", "Infinity"}) {
            CliFixtures.Run r = predict(input, out, "--probabilities", "--temperature", t);
            CliFixtures.assertRefused(r);
            assertTrue(r.err().contains("--temperature " + Double.parseDouble(t) + ": must be a positive finite "
                    + "number"), r.err());
        }
        CliFixtures.Run r = predict(input, out, "--temperature", "2");
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--temperature 2.0: only applies with --probabilities"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void unreadableInputIsOneLineNamingTheFile() throws IOException {
        Path bogus = Files.writeString(dir.resolve("bogus.npy"), "not numpy");
        CliFixtures.Run r = predict(bogus, dir.resolve("p.npy"));
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().startsWith("retort predict: " + bogus + ": magic"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        Path missing = dir.resolve("missing.npy");
        r = predict(missing, dir.resolve("p.npy"));
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--input " + missing + ": no such file"), r.err());
    }

    @Test
    void anExistingOutputIsReplacedWhole() throws IOException {
        Path out = Files.writeString(dir.resolve("old.npy"), "previous contents");
        CliFixtures.Run r = predict(npy("x.npy", Tensor.of(images, N, 1, 28, 28)), out);
        assertEquals(0, r.exitCode(), r.all());
        assertClose(expected, Npy.read(out).toFloatArray(), 1e-5);
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")), "temporary file left");
        }
    }
}
