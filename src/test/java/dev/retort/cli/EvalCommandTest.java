package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.data.Dataset;
import dev.retort.data.FashionMnist;
import dev.retort.io.Checkpoints;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.train.Calibration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code retort eval} reports what a hand count finds, and rejects bad models, weights and options clearly. */
class EvalCommandTest {
    @TempDir
    Path dir;

    private Path weights;
    private Path data;

    @BeforeEach
    void fixtures() throws IOException {
        weights = CliFixtures.saveWeights(dir, "mlp-tiny", 11);
        try (Module labeller = Models.create("mlp-tiny", 11)) {
            data = CliFixtures.fashionMnist(dir, labeller, 60, 37, 0.3, 5);
        }
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no match for " + regex + " in:\n" + text);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void accuracyNllAndEceMatchAHandCountOnTheTestSplit() throws IOException {
        CliFixtures.Run r = run("eval", "--model", "mlp-tiny", "--weights", weights.toString(), "--data",
                data.toString(), "--batch-size", "8");
        assertEquals(0, r.exitCode(), r.all());
        Dataset test = FashionMnist.test(data);
        float[] logits;
        try (Module net = Models.create("mlp-tiny", 99)) {
            Checkpoints.load(net, weights);
            logits = CliFixtures.forward(net, test.images());
        }
        int[] predicted = CliFixtures.argmax(logits, 10);
        int correct = 0;
        for (int i = 0; i < predicted.length; i++) {
            correct += predicted[i] == test.labels()[i] ? 1 : 0;
        }
        assertTrue(r.out().contains("(" + correct + " of 37 correct)"), r.out());
        assertEquals(100.0 * correct / 37, number(r.out(), "accuracy\\s+([0-9.]+)%"), 0.006);
        assertEquals(Calibration.negativeLogLikelihood(logits, test.labels(), 10, 1.0),
                number(r.out(), "NLL\\s+([0-9.]+)"), 1e-4);
        assertEquals(Calibration.expectedCalibrationError(logits, test.labels(), 10, 1.0, 15),
                number(r.out(), "ECE\\s+([0-9.]+) \\(15 bins\\)"), 1e-4);
    }

    @Test
    void trainSplitAndAJsonNetworkOfTheSameLayoutGiveTheSameNumbers() throws IOException {
        // The JSON network takes flat [784] inputs: eval must reshape the 1×28×28 images to fit.
        Path json = Files.writeString(dir.resolve("tiny.json"), "{\"input\": [784], \"layers\": ["
                + "{\"type\": \"flatten\"}, {\"type\": \"linear\", \"out\": 30}, {\"type\": \"relu\"},"
                + "{\"type\": \"linear\", \"out\": 30}, {\"type\": \"relu\"}, {\"type\": \"linear\", \"out\": 10}]}");
        CliFixtures.Run reference = run("eval", "--model", "mlp-tiny", "--weights", weights.toString(), "--data",
                data.toString(), "--split", "train");
        CliFixtures.Run fromJson = run("eval", "--model", json.toString(), "--weights", weights.toString(),
                "--data", data.toString(), "--split", "train");
        assertEquals(0, reference.exitCode(), reference.all());
        assertEquals(0, fromJson.exitCode(), fromJson.all());
        assertTrue(reference.out().contains("of 60 correct"), reference.out());
        for (String metric : new String[] {"accuracy.*", "NLL.*", "ECE.*"}) {
            Matcher a = Pattern.compile(metric).matcher(reference.out());
            Matcher b = Pattern.compile(metric).matcher(fromJson.out());
            assertTrue(a.find() && b.find());
            assertEquals(a.group(), b.group());
        }
    }

    @Test
    void autoDeviceSaysWhyItChoseCpuAndCudaFailsWithTheReason() {
        CliFixtures.Run auto = run("eval", "--model", "mlp-tiny", "--weights", weights.toString(), "--data",
                data.toString());
        assertEquals(0, auto.exitCode(), auto.all());
        // Where a GPU is there but unusable, auto says why; with no driver at all it says nothing.
        assertEquals(!dev.retort.backend.Backends.cudaDriverMissing(),
                auto.out().contains("device: cpu (CUDA is not usable: "), auto.out());
        CliFixtures.Run cpu = run("eval", "--model", "mlp-tiny", "--weights", weights.toString(), "--data",
                data.toString(), "--device", "cpu");
        assertFalse(cpu.out().contains("device:"), cpu.out());
        CliFixtures.Run cuda = run("eval", "--model", "mlp-tiny", "--weights", weights.toString(), "--data",
                data.toString(), "--device", "cuda");
        Assumptions.assumeTrue(cuda.exitCode() != 0, "CUDA is usable here");
        assertEquals(1, cuda.exitCode(), "the option is right, the machine lacks CUDA");
        assertTrue(cuda.err().startsWith("retort eval: --device cuda: CUDA is not usable: "), cuda.err());
        assertEquals(1, cuda.err().lines().count(), cuda.err());
        assertFalse(cuda.err().contains("Exception"), cuda.err());
        CliFixtures.Run bad = run("eval", "--model", "mlp-tiny", "--weights", weights.toString(), "--device", "tpu");
        CliFixtures.assertRefused(bad);
        assertTrue(bad.err().contains("--device tpu: expected cpu, cuda or auto"), bad.err());
    }

    @Test
    void unknownModelNameListsTheNetworks() {
        CliFixtures.Run r = run("eval", "--model", "mlp-huge", "--weights", weights.toString(), "--data",
                data.toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--model mlp-huge: neither a reference network [cnn-teacher"), r.err());
        assertTrue(r.err().contains("mlp-tiny"), r.err());
    }

    @Test
    void missingOrAbsentWeightsAreOptionErrors() {
        Path missing = dir.resolve("nowhere.safetensors");
        CliFixtures.Run r = run("eval", "--model", "mlp-tiny", "--weights", missing.toString(), "--data",
                data.toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--weights " + missing + ": no such file"), r.err());
        r = run("eval", "--model", "mlp-tiny", "--data", data.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().startsWith("Missing required option: '--weights=FILE.safetensors'"), r.err());
    }

    @Test
    void weightsOfAnotherArchitectureNameTheFileAndSaySo() throws IOException {
        Path student = CliFixtures.saveWeights(dir, "cnn-student", 1);
        CliFixtures.Run r = run("eval", "--model", "mlp-tiny", "--weights", student.toString(), "--data",
                data.toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--weights " + student + ": holds the weights of a different model than "
                + "--model mlp-tiny"), r.err());
        assertTrue(r.err().contains("missing keys"), r.err());
        // Same names, other shapes: a JSON network with 31 hidden units.
        Path json = Files.writeString(dir.resolve("wide.json"), "{\"input\": [1, 28, 28], \"layers\": ["
                + "{\"type\": \"flatten\"}, {\"type\": \"linear\", \"out\": 31}, {\"type\": \"relu\"},"
                + "{\"type\": \"linear\", \"out\": 30}, {\"type\": \"relu\"}, {\"type\": \"linear\", \"out\": 10}]}");
        r = run("eval", "--model", json.toString(), "--weights", weights.toString(), "--data", data.toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--weights " + weights + ": holds the weights of a different model"), r.err());
        assertTrue(r.err().contains("'1.weight' has shape [30, 784], the module expects [31, 784]"), r.err());
    }

    @Test
    void aCorruptWeightsFileIsOneLineWithExitCodeOne() throws IOException {
        Path corrupt = Files.write(dir.resolve("corrupt.safetensors"), new byte[] {1, 2, 3});
        CliFixtures.Run r = run("eval", "--model", "mlp-tiny", "--weights", corrupt.toString(), "--data",
                data.toString());
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().startsWith("retort eval: " + corrupt), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void aNetworkForOtherImagesNamesBothShapes() throws IOException {
        Path resnet = CliFixtures.saveWeights(dir, "resnet8", 1);
        CliFixtures.Run r = run("eval", "--model", "resnet8", "--weights", resnet.toString(), "--data",
                data.toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("fashion-mnist/test in " + data + ": examples of shape [1, 28, 28] (784 values) "
                + "do not fit --model resnet8, which takes [3, 32, 32]"), r.err());
    }

    @Test
    void badSplitAndBatchSizeAreOptionErrors() {
        CliFixtures.Run r = run("eval", "--model", "mlp-tiny", "--weights", weights.toString(), "--split", "dev");
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--split dev: expected test or train"), r.err());
        r = run("eval", "--model", "mlp-tiny", "--weights", weights.toString(), "--batch-size", "0");
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--batch-size 0: must be a positive integer"), r.err());
    }

    @Test
    void helpDescribesTheMetrics() {
        CliFixtures.Run r = run("eval", "--help");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("expected calibration error") && r.out().contains("--split"), r.out());
    }

    @Test
    void onTheRealDatasetWhenInstalled() {
        Path real = Path.of("/usr/share/datasets/fashion-mnist");
        Assumptions.assumeTrue(Files.isDirectory(real), "Fashion-MNIST is not installed");
        CliFixtures.Run r = run("eval", "--model", "mlp-tiny", "--weights", weights.toString(), "--data",
                real.toString(), "--device", "cpu");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("of 10000 correct"), r.out());
    }
}
