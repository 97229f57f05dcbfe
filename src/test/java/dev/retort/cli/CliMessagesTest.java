package dev.retort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retort.io.Checkpoints;
import dev.retort.io.Npy;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the commands say when something is wrong: the file or option, the reason, one line, before the work. */
@SuppressWarnings("try")
class CliMessagesTest {
    @TempDir
    Path dir;

    @Test
    void helpPrintsNoPicocliFormatWarnings() {
        PrintStream saved = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            for (String command : List.of("train", "distill", "demo", "eval", "calibrate", "predict", "doctor")) {
                assertEquals(0, CliFixtures.run(command, "--help").exitCode(), command);
            }
        } finally {
            System.setErr(saved);
        }
        String err = captured.toString(StandardCharsets.UTF_8);
        assertFalse(err.contains("Could not format"), err);
    }

    @Test
    void aMissingTeacherIsNamedWithTheReason() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir, 64, 16);
        CliFixtures.Run run = CliFixtures.run("distill", "--mode", "hinton", "--teacher-model", "mlp-tiny",
                "--teacher-weights", dir.resolve("absent.safetensors").toString(), "--model", "mlp-tiny", "--device",
                "cpu", "--data", data.toString(), "--out", dir.resolve("kd").toString());
        assertEquals(1, run.exitCode(), run.all());
        assertTrue(run.err().contains("--teacher-weights " + dir.resolve("absent.safetensors") + ": no such file"),
                run.err());
    }

    @Test
    void aTeacherWithNaNWeightsIsRefusedAsTheTeacher() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir, 64, 16);
        Path teacher = nanWeights("mlp-tiny");
        CliFixtures.Run run = CliFixtures.run("distill", "--mode", "hinton", "--teacher-model", "mlp-tiny",
                "--teacher-weights", teacher.toString(), "--model", "mlp-tiny", "--device", "cpu", "--data",
                data.toString(), "--out", dir.resolve("kd").toString());
        assertEquals(1, run.exitCode(), run.all());
        assertTrue(run.err().contains("--teacher-weights " + teacher + ": tensor '1.weight' holds"), run.err());
        assertTrue(run.err().contains("a teacher with non-finite weights cannot teach"), run.err());
    }

    @Test
    void aCorruptConfigJsonIsOneLineOnResume() throws IOException {
        Path out = Files.createDirectories(dir.resolve("run"));
        dev.retort.train.RetortFolder.claim(out, dev.retort.train.RetortFolder.Kind.RUN, "--out"); // a run folder
        Files.writeString(out.resolve("config.json"), "{\"training\": [1, 2,\n 3 oops}");
        Path model = Files.createDirectories(out.resolve("checkpoints").resolve("epoch-0001"));
        Files.writeString(model.resolve("model.safetensors"), "m");
        Files.writeString(model.resolve("state.safetensors"), "s");
        Path data = CliFixtures.tinyFashionMnist(dir, 64, 16);
        CliFixtures.Run run = CliFixtures.run("train", "--model", "mlp-tiny", "--device", "cpu", "--data",
                data.toString(), "--out", out.toString(), "--resume");
        assertEquals(1, run.exitCode(), run.all());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains("config.json: not a readable run configuration"), run.err());
        assertTrue(run.err().contains("at line 2"), run.err());
    }

    @Test
    void predictRefusesOneFileForBothOutputsAndWarnsOfNaNWeights() throws IOException {
        Path weights = CliFixtures.saveWeights(dir, "mlp-tiny", 3);
        Path input = dir.resolve("x.npy");
        try (Scope scope = Scope.open()) {
            Npy.write(input, Tensor.of(new float[2 * 784], 2, 784));
        }
        Path output = dir.resolve("y.npy");
        CliFixtures.Run same = CliFixtures.run("predict", "--model", "mlp-tiny", "--weights", weights.toString(),
                "--input", input.toString(), "--output", output.toString(), "--argmax",
                dir.resolve(".").resolve("y.npy").toString(), "--device", "cpu");
        CliFixtures.assertRefused(same);
        assertTrue(same.err().contains("is the --output file too"), same.err());
        assertFalse(Files.exists(output));

        CliFixtures.Run nan = CliFixtures.run("predict", "--model", "mlp-tiny", "--weights",
                nanWeights("mlp-tiny").toString(), "--input", input.toString(), "--output", output.toString(),
                "--device", "cpu");
        assertEquals(0, nan.exitCode(), nan.all());
        assertTrue(nan.err().contains("warning: --weights") && nan.err().contains("tensor '1.weight' holds 5 "
                + "non-finite values"), nan.err());
    }

    @Test
    void anUnwritableOutputFolderIsRefusedBeforeTheWork() throws IOException {
        Path readOnly = Path.of("/sys");
        boolean writable;
        try {
            Files.delete(Files.createTempFile(readOnly, "probe", ".tmp"));
            writable = true;
        } catch (IOException | UnsupportedOperationException e) {
            writable = false;
        }
        assumeTrue(Files.isDirectory(readOnly) && !writable, "needs a folder nobody can write into");
        Path weights = CliFixtures.saveWeights(dir, "mlp-tiny", 3);
        Path input = dir.resolve("x.npy");
        try (Scope scope = Scope.open()) {
            Npy.write(input, Tensor.of(new float[784], 1, 784));
        }
        CliFixtures.Run run = CliFixtures.run("predict", "--model", "mlp-tiny", "--weights", weights.toString(),
                "--input", input.toString(), "--output", "/sys/y.npy", "--device", "cpu");
        CliFixtures.assertRefused(run);
        assertTrue(run.err().contains("--output /sys/y.npy: cannot write into folder /sys"), run.err());
    }

    /** The weights of a fresh {@code name} with five NaNs in its first layer. */
    private Path nanWeights(String name) throws IOException {
        Path file = dir.resolve(name + "-nan.safetensors");
        try (Module net = Models.create(name, 3); Scope scope = Scope.open()) {
            Map<String, Tensor> values = new LinkedHashMap<>();
            net.stateDict().forEach((k, v) -> {
                float[] x = v.toFloatArray();
                if (k.equals("1.weight")) {
                    Arrays.fill(x, 0, 5, Float.NaN);
                }
                values.put(k, Tensor.of(x, v.shape()));
            });
            net.loadStateDict(values);
            Checkpoints.save(net, file, Map.of());
        }
        return file;
    }
}
