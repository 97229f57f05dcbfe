package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retort.data.Dataset;
import dev.retort.data.Normalization;
import dev.retort.io.Checkpoints;
import dev.retort.io.Npy;
import dev.retort.io.SafeTensors;
import dev.retort.nn.Module;
import dev.retort.nn.NetworkFile;
import dev.retort.tensor.Tensor;
import dev.retort.train.DatasetFolder;
import dev.retort.train.Evaluation;
import dev.retort.train.RunFolder;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run records how its images were normalised (config.json and the weights' metadata), and {@code predict} on a PNG
 * or a folder of them feeds the network what {@code eval} feeds it for the same images.
 */
class PredictImagesCommandTest {
    @TempDir
    static Path shared;

    private static Path data;
    private static Path net;
    private static Path runDir;

    @TempDir
    Path dir;

    @BeforeAll
    static void trainOnPngs() throws IOException {
        CliFixtures.PngRun trained = CliFixtures.trainOnPngs(shared, 2);
        data = trained.data();
        net = trained.network();
        runDir = trained.folder();
    }

    private static Path weights() {
        return runDir.resolve(RunFolder.MODEL);
    }

    /** What eval computes on the image folder's test split: the logits of every test image, in split order. */
    private static float[] evalLogits() throws IOException {
        Dataset test = DatasetFolder.open("images", data).test();
        try (Module m = NetworkFile.load(net, 0).model()) {
            Checkpoints.load(m, weights());
            return Evaluation.logits(m, test, 7, new int[] {1, CliFixtures.PNG_SIZE, CliFixtures.PNG_SIZE});
        }
    }

    @Test
    void theRunRecordsTheTrainingSplitsStatisticsInConfigAndWeights() throws IOException {
        Normalization stats = DatasetFolder.open("images", data).normalization();
        JsonNode recorded = RunFolder.at(runDir).readConfig().path("data").path("normalization");
        assertEquals(stats.mean()[0], recorded.path("mean").get(0).floatValue());
        assertEquals(stats.std()[0], recorded.path("std").get(0).floatValue());
        assertTrue(stats.mean()[0] > 0.1 && stats.std()[0] > 0.1, "grey patterns: mean " + stats.describe());
        try (SafeTensors.Contents c = SafeTensors.read(weights())) {
            Normalization fromWeights = Normalization.fromMetadata(c.metadata());
            assertArrayEquals(stats.mean(), fromWeights.mean());
            assertArrayEquals(stats.std(), fromWeights.std());
        }
    }

    @Test
    void predictOnAFolderAndOnOnePngGivesEvalsArgmax() throws IOException {
        float[] expected = evalLogits();
        Path folder = data.resolve("test").resolve("circle"); // the split's first class: its first rows
        int n;
        try (var files = Files.list(folder)) {
            n = (int) files.count();
        }
        Path out = dir.resolve("p.npy");
        Path classes = dir.resolve("c.npy");
        CliFixtures.Run r = run("predict", "--model", net.toString(), "--weights", weights().toString(), "--input",
                folder.toString(), "--output", out.toString(), "--argmax", classes.toString(), "--device", "cpu");
        assertEquals(0, r.exitCode(), r.all());
        assertEquals("", r.err());
        float[] logits = Npy.read(out).toFloatArray();
        assertEquals(n * 3, logits.length);
        float[] wanted = Arrays.copyOf(expected, n * 3);
        for (int i = 0; i < logits.length; i++) {
            assertEquals(wanted[i], logits[i], 1e-5, "logit " + i);
        }
        assertArrayEquals(PredictCommand.argmax(wanted, 3), Npy.read(classes).toIntArray());

        Path first;
        try (var files = Files.list(folder)) {
            first = files.sorted().findFirst().orElseThrow();
        }
        r = run("predict", "--model", net.toString(), "--weights", weights().toString(), "--input", first.toString(),
                "--output", out.toString(), "--argmax", classes.toString(), "--device", "cpu");
        assertEquals(0, r.exitCode(), r.all());
        assertArrayEquals(new int[] {PredictCommand.argmax(wanted, 3)[0]}, Npy.read(classes).toIntArray());
        assertEquals(wanted[0], Npy.read(out).toFloatArray()[0], 1e-5);
    }

    @Test
    void anExplicitNormalisationWinsAndWeightsWithoutOneAskForIt() throws IOException {
        Path png = data.resolve("test").resolve("wedge").resolve("0.png");
        Path recorded = dir.resolve("recorded.npy");
        Path plain = dir.resolve("plain.npy");
        assertEquals(0, run("predict", "--model", net.toString(), "--weights", weights().toString(), "--input",
                png.toString(), "--output", recorded.toString(), "--device", "cpu").exitCode());
        CliFixtures.Run r = run("predict", "--model", net.toString(), "--weights", weights().toString(), "--input",
                png.toString(), "--output", plain.toString(), "--mean", "0", "--std", "1", "--device", "cpu");
        assertEquals(0, r.exitCode(), r.all());
        assertFalse(Arrays.equals(Npy.read(recorded).toFloatArray(), Npy.read(plain).toFloatArray()),
                "--mean 0 --std 1 feeds pixel / 255, not the recorded statistics");
        assertEquals(0, run("predict", "--model", net.toString(), "--weights", weights().toString(), "--input",
                png.toString(), "--output", plain.toString(), "--normalize", "weights", "--device", "cpu").exitCode());
        assertArrayEquals(Npy.read(recorded).toFloatArray(), Npy.read(plain).toFloatArray(),
                "--normalize weights names the default for images");

        // The same weights without the metadata: the user must say how to normalise.
        Path bare = dir.resolve("bare.safetensors");
        try (SafeTensors.Contents c = SafeTensors.read(weights())) {
            SafeTensors.write(bare, c.tensors(), Map.of());
        }
        r = run("predict", "--model", net.toString(), "--weights", bare.toString(), "--input", png.toString(),
                "--output", plain.toString(), "--device", "cpu");
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--input " + png + ": images are raw pixels, and --weights " + bare
                + " records no input normalisation") && r.err().contains("--normalize fashion-mnist|mnist|cifar-10"),
                r.err());
        assertEquals(0, run("predict", "--model", net.toString(), "--weights", bare.toString(), "--input",
                png.toString(), "--output", plain.toString(), "--normalize", "fashion-mnist", "--device", "cpu")
                .exitCode());
        r = run("predict", "--model", net.toString(), "--weights", bare.toString(), "--input", png.toString(),
                "--output", plain.toString(), "--mean", "0.5", "--device", "cpu");
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--mean: goes with --std"), r.err());
    }

    @Test
    void imagesThatDoNotFitTheModelAreNamed() throws IOException {
        Path big = dir.resolve("big.png");
        ImageIO.write(new BufferedImage(13, 12, BufferedImage.TYPE_BYTE_GRAY), "png", big.toFile());
        CliFixtures.Run r = run("predict", "--model", net.toString(), "--weights", weights().toString(), "--input",
                big.toString(), "--output", dir.resolve("p.npy").toString(), "--device", "cpu");
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains(big + ": 13×12 pixels, but --model " + net + " takes 12×12; resize it first"),
                r.err());
        Files.createDirectories(dir.resolve("empty"));
        r = run("predict", "--model", net.toString(), "--weights", weights().toString(), "--input",
                dir.resolve("empty").toString(), "--output", dir.resolve("p.npy").toString(), "--device", "cpu");
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains("no .png, .jpg or .jpeg images in the folder"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
