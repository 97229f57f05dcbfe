package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.retort.data.Dataset;
import dev.retort.data.FashionMnist;
import dev.retort.io.Checkpoints;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import dev.retort.train.Calibration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code retort calibrate} fits T* on the last --holdout training examples, reports and writes it. */
class CalibrateCommandTest {
    @TempDir
    Path dir;

    private Path weights;
    private Path data;

    @BeforeEach
    void fixtures() throws IOException {
        try (Module labeller = Models.create("mlp-tiny", 21)) {
            data = CliFixtures.fashionMnist(dir, labeller, 80, 30, 0.25, 8);
            // Sharpened logits: right on three quarters of the examples but far too confident.
            try (Scope scope = Scope.open()) {
                Map<String, Tensor> state = new LinkedHashMap<>(labeller.stateDict());
                state.replaceAll((name, t) -> name.startsWith("5.") ? t.mul(40.0) : t);
                labeller.loadStateDict(state);
            }
            weights = dir.resolve("sharp.safetensors");
            Checkpoints.save(labeller, weights, Map.of());
        }
    }

    @Test
    void fitsOnTheLastHoldoutTrainingExamplesAndImprovesTheirNll() throws IOException {
        Path json = dir.resolve("t.json");
        CliFixtures.Run r = run("calibrate", "--model", "mlp-tiny", "--weights", weights.toString(), "--data",
                data.toString(), "--holdout", "50", "--batch-size", "16", "--output", json.toString());
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("the last 50 of 80 training examples"), r.out());
        // The fit the command should have made, recomputed from the last 50 training examples.
        Dataset train = FashionMnist.train(data);
        float[] all;
        try (Module net = Models.create("mlp-tiny", 0)) {
            Checkpoints.load(net, weights);
            all = CliFixtures.forward(net, train.images());
        }
        float[] held = Arrays.copyOfRange(all, 30 * 10, 80 * 10);
        int[] labels = Arrays.copyOfRange(train.labels(), 30, 80);
        Calibration.Result expected = Calibration.fit(held, labels, 10);

        Matcher t = Pattern.compile("T\\* = ([0-9.]+)").matcher(r.out());
        assertTrue(t.find(), r.out());
        assertEquals(String.format(Locale.ROOT, "%.4f", expected.temperature()), t.group(1));
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        double fitted = root.get("temperature").asDouble();
        // Logits forty times too sharp: T* must soften them.
        assertTrue(fitted > 1 && fitted < 100, "T* = " + fitted);
        assertEquals(expected.temperature(), fitted, 1e-9);
        JsonNode h = root.get("holdout");
        assertEquals(50, h.get("examples").asInt());
        assertTrue(h.get("nll_after").asDouble() <= h.get("nll_before").asDouble(), h.toString());
        assertEquals(expected.nllBefore(), h.get("nll_before").asDouble(), 1e-5);
        assertEquals(expected.nllAfter(), h.get("nll_after").asDouble(), 1e-5);
        assertEquals(30, root.get("test").get("examples").asInt());
        assertTrue(root.get("test").has("ece_after"));
        assertTrue(r.out().contains("wrote " + json), r.out());
    }

    @Test
    void holdoutLargerThanTheTrainingSplitIsAnOptionError() {
        CliFixtures.Run r = run("calibrate", "--model", "mlp-tiny", "--weights", weights.toString(), "--data",
                data.toString(), "--holdout", "81");
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--holdout 81: the training split in " + data + " has only 80 examples"),
                r.err());
        r = run("calibrate", "--model", "mlp-tiny", "--weights", weights.toString(), "--holdout", "-1");
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--holdout -1: must be a positive integer"), r.err());
    }

    @Test
    void anOutputInAMissingFolderFailsBeforeAnyWork() {
        Path json = dir.resolve("no/such/folder/t.json");
        CliFixtures.Run r = run("calibrate", "--model", "mlp-tiny", "--weights", weights.toString(), "--data",
                data.toString(), "--output", json.toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--output " + json + ": folder " + json.getParent() + " does not exist"),
                r.err());
        assertFalse(r.out().contains("T* ="), r.out());
        assertFalse(Files.exists(json));
    }

    @Test
    void helpSaysWhichExamplesAreHeldOut() {
        CliFixtures.Run r = run("calibrate", "--help");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().replaceAll("\\s+", " ").contains("the LAST --holdout examples of the training split "
                + "(of Fashion-MNIST, or of --data)"), r.out());
    }

    @Test
    void nanWeightsAreRefusedNamingTheTensorAndWriteNoOutput() throws IOException {
        Path nan = layersTimes("nan.safetensors", t -> Float.NaN);
        Path json = dir.resolve("t.json");
        CliFixtures.Run r = run("calibrate", "--model", "mlp-tiny", "--weights", nan.toString(), "--data",
                data.toString(), "--holdout", "50", "--output", json.toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--weights " + nan + ": tensor '3.weight' holds"), r.err());
        assertTrue(r.err().contains("no temperature can be fitted to NaN or infinite logits"), r.err());
        assertFalse(r.out().contains("T* ="), r.out());
        assertFalse(Files.exists(json));
    }

    @Test
    void finiteWeightsWhoseLogitsOverflowAreRefusedNamingTheFirstExample() throws IOException {
        // Every weight finite, the largest of each hidden and output tensor half of Float.MAX_VALUE: sums overflow.
        Path huge = layersTimes("huge.safetensors", t -> (double) Float.MAX_VALUE / 2 / maxAbs(t));
        Path json = dir.resolve("t.json");
        CliFixtures.Run r = run("calibrate", "--model", "mlp-tiny", "--weights", huge.toString(), "--data",
                data.toString(), "--holdout", "50", "--output", json.toString());
        CliFixtures.assertRefused(r);
        assertTrue(Pattern.compile("--weights " + Pattern.quote(huge.toString()) + ": the logits of held-out example "
                + "(\\d+) \\(training example (\\d+) of " + Pattern.quote(data.toString()) + "\\) are not finite; "
                + "no temperature can be fitted").matcher(r.err()).find(), r.err());
        assertFalse(r.out().contains("T* ="), r.out());
        assertFalse(Files.exists(json));
    }

    /** The fixture's weights with each tensor of the last two layers multiplied by {@code factor} of it. */
    private Path layersTimes(String name, ToDoubleFunction<Tensor> factor) throws IOException {
        Path file = dir.resolve(name);
        try (Module net = Models.create("mlp-tiny", 0); Scope scope = Scope.open()) {
            Checkpoints.load(net, weights);
            Map<String, Tensor> state = new LinkedHashMap<>(net.stateDict());
            state.replaceAll((k, t) -> k.startsWith("3.") || k.startsWith("5.") ? times(t, factor.applyAsDouble(t)) : t);
            net.loadStateDict(state);
            Checkpoints.save(net, file, Map.of());
        }
        return file;
    }

    /** In double precision: a factor above Float.MAX_VALUE still scales small values to finite floats. */
    private static Tensor times(Tensor t, double factor) {
        float[] x = t.toFloatArray();
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (x[i] * factor);
        }
        return Tensor.of(x, t.shape());
    }

    private static float maxAbs(Tensor t) {
        float max = 0;
        for (float v : t.toFloatArray()) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
