package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.retort.data.Cifar10;
import dev.retort.data.Dataset;
import dev.retort.data.Normalization;
import dev.retort.io.Checkpoints;
import dev.retort.io.Npy;
import dev.retort.io.SafeTensors;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.train.Evaluation;
import dev.retort.train.RunFolder;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CIFAR-10's binary batches on every command: a run records CIFAR-10's per-channel statistics, eval and calibrate
 * replay it, and predict on an RGB PNG of a test image gives the logits eval computes for that image.
 */
class CifarCommandTest {
    private static final int PER_FILE = 8;

    @TempDir
    Path dir;

    @BeforeAll
    static void quiet() {
        System.setProperty("retort.progress", "off");
    }

    /** Random RGB records, labels cycling through the ten classes. */
    private static byte[] records(int count, long seed) {
        byte[] out = new byte[count * Cifar10.RECORD];
        SplittableRandom rng = new SplittableRandom(seed);
        for (int r = 0; r < count; r++) {
            out[r * Cifar10.RECORD] = (byte) (r % 10);
            for (int p = 1; p < Cifar10.RECORD; p++) {
                out[r * Cifar10.RECORD + p] = (byte) rng.nextInt(256);
            }
        }
        return out;
    }

    @Test
    void aRunOnCifarRecordsItsStatisticsAndPredictOnAPngMatchesEval() throws IOException {
        Path data = Files.createDirectories(dir.resolve("cifar"));
        long seed = 1;
        for (String file : Cifar10.TRAIN_FILES) {
            Files.write(data.resolve(file), records(PER_FILE, seed++));
        }
        byte[] test = records(PER_FILE, 99);
        Files.write(data.resolve(Cifar10.TEST_FILE), test);
        Path runDir = dir.resolve("run");
        CliFixtures.Run r = run("train", "--model", "resnet8", "--dataset", "cifar-10", "--data", data.toString(),
                "--epochs", "1", "--batch-size", "8", "--device", "cpu", "--out", runDir.toString());
        assertEquals(0, r.exitCode(), r.all());
        Path config = runDir.resolve(RunFolder.CONFIG);
        Normalization recorded;
        try (SafeTensors.Contents weights = SafeTensors.read(runDir.resolve(RunFolder.MODEL))) {
            recorded = Normalization.fromMetadata(weights.metadata());
        }
        assertArrayEquals(Cifar10.MEAN, recorded.mean());
        assertArrayEquals(Cifar10.STD, recorded.std());
        assertEquals(3, RunFolder.at(runDir).readConfig().path("data").path("normalization").path("mean").size());

        r = run("eval", "--config", config.toString());
        assertEquals(0, r.exitCode(), r.all());
        r = run("calibrate", "--config", config.toString(), "--holdout", "10");
        assertEquals(0, r.exitCode(), r.all());

        // The first test image as an RGB PNG: CIFAR-10 keeps 1024 red, 1024 green, then 1024 blue bytes.
        BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        for (int p = 0; p < 1024; p++) {
            int red = test[1 + p] & 0xff;
            int green = test[1 + 1024 + p] & 0xff;
            int blue = test[1 + 2048 + p] & 0xff;
            image.setRGB(p % 32, p / 32, red << 16 | green << 8 | blue);
        }
        Path png = dir.resolve("first.png");
        ImageIO.write(image, "png", png.toFile());
        Path out = dir.resolve("p.npy");
        r = run("predict", "--config", config.toString(), "--input", png.toString(), "--output", out.toString());
        assertEquals(0, r.exitCode(), r.all());
        Dataset testSplit = Cifar10.test(data);
        float[] expected;
        try (Module net = Models.create("resnet8", 0)) {
            Checkpoints.load(net, runDir.resolve(RunFolder.MODEL));
            expected = Evaluation.logits(net, testSplit.head(1), 1, new int[] {3, 32, 32});
        }
        float[] got = Npy.read(out).toFloatArray();
        assertEquals(expected.length, got.length);
        for (int i = 0; i < got.length; i++) {
            assertEquals(expected[i], got[i], 1e-4, "logit " + i);
        }
    }
}
