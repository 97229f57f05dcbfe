package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.io.Npy;
import dev.retort.tensor.Tensor;
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
 * The commands on a user's own data: class folders of PNG images and .npy pairs train, distill, evaluate and
 * calibrate; a network that takes other inputs than the data holds is refused before any work.
 */
class OwnDatasetCommandTest {
    private static final int SIZE = CliFixtures.PNG_SIZE;

    @TempDir
    Path dir;

    @BeforeAll
    static void quiet() {
        System.setProperty("retort.progress", "off");
    }

    private Path pngDataset(int perClass) throws IOException {
        return CliFixtures.pngDataset(dir.resolve("pngs"), perClass);
    }

    private Path network(String name, int hidden) throws IOException {
        return CliFixtures.convNetwork(dir.resolve(name + ".json"), hidden);
    }

    @Test
    void aFolderOfPngsTrainsDistillsEvaluatesAndCalibrates() throws IOException {
        Path data = pngDataset(24);
        Path teacherNet = network("teacher", 8);
        Path studentNet = network("student", 2);
        Path teacher = dir.resolve("teacher");
        CliFixtures.Run r = run("train", "--model", teacherNet.toString(), "--data", data.toString(), "--epochs", "4",
                "--batch-size", "8", "--device", "cpu", "--out", teacher.toString());
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("data: images from " + data), r.out());
        double accuracy = RunFolder.at(teacher).readMetrics().get(3).get("test_accuracy") instanceof Number n
                ? n.doubleValue() : -1;
        assertTrue(accuracy > 0.6, "three easy patterns, 4 epochs: test accuracy " + accuracy);

        Path weights = teacher.resolve("model.safetensors");
        r = run("distill", "--mode", "hinton", "--teacher-model", teacherNet.toString(), "--teacher-weights",
                weights.toString(), "--model", studentNet.toString(), "--data", data.toString(), "--epochs", "2",
                "--batch-size", "8", "--device", "cpu", "--out", dir.resolve("kd").toString());
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(Files.isRegularFile(dir.resolve("kd").resolve("model.safetensors")));

        r = run("eval", "--model", teacherNet.toString(), "--weights", weights.toString(), "--data", data.toString(),
                "--device", "cpu");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("accuracy"), r.out());
        r = run("calibrate", "--model", teacherNet.toString(), "--weights", weights.toString(), "--data",
                data.toString(), "--holdout", "24", "--device", "cpu");
        assertEquals(0, r.exitCode(), r.all());
    }

    @Test
    void imagesOfAnotherSizeAreRefusedNamingTheFile() throws IOException {
        Path data = pngDataset(2);
        Path odd = data.resolve("train").resolve("wedge").resolve("odd.png");
        ImageIO.write(new BufferedImage(SIZE + 1, SIZE, BufferedImage.TYPE_BYTE_GRAY), "png", odd.toFile());
        CliFixtures.Run r = run("train", "--model", network("n", 2).toString(), "--data", data.toString(), "--epochs",
                "1", "--device", "cpu", "--out", dir.resolve("t").toString());
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains(odd + ": 13×12 pixels") && r.err().contains("resize them first"), r.err());
    }

    @Test
    void npyPairsTrainAndEvaluate() throws IOException {
        Path data = Files.createDirectories(dir.resolve("npy"));
        SplittableRandom rng = new SplittableRandom(5);
        for (String split : new String[] {"train", "test"}) {
            int n = split.equals("train") ? 96 : 30;
            float[] x = new float[n * SIZE * SIZE];
            int[] y = new int[n];
            for (int i = 0; i < n; i++) {
                y[i] = i % 3;
                for (int p = 0; p < SIZE * SIZE; p++) {
                    x[i * SIZE * SIZE + p] = (float) ((p % 3 == y[i] ? 1.5 : -0.5) + 0.3 * rng.nextGaussian());
                }
            }
            Npy.write(data.resolve("x_" + split + ".npy"), Tensor.of(x, n, SIZE, SIZE));
            Npy.write(data.resolve("y_" + split + ".npy"), Tensor.ofInts(y, n));
        }
        Path out = dir.resolve("run");
        CliFixtures.Run r = run("train", "--model", network("n", 4).toString(), "--data", data.toString(), "--epochs",
                "3", "--batch-size", "16", "--device", "cpu", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("data: npy from " + data), r.out());
        r = run("eval", "--model", network("n", 4).toString(), "--weights", out.resolve("model.safetensors").toString(),
                "--data", data.toString(), "--dataset", "npy", "--device", "cpu");
        assertEquals(0, r.exitCode(), r.all());
    }

    @Test
    void aNetworkForOtherInputsIsRefusedBeforeAnyWork() throws IOException {
        Path data = pngDataset(2);
        Path out = dir.resolve("resnet");
        CliFixtures.Run r = run("train", "--model", "resnet8", "--data", data.toString(), "--epochs", "1", "--device",
                "cpu", "--out", out.toString());
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains("--model resnet8 takes inputs of [3, 32, 32], but pngs/train holds [1, 12, 12]"),
                r.err());
        assertTrue(!Files.exists(out.resolve("config.json")), "no run was started");
    }
}
