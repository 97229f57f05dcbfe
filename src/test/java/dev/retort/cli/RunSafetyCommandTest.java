package dev.retort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.io.SafeTensors;
import dev.retort.tensor.Tensor;
import dev.retort.train.RunFolder;
import dev.retort.train.RunLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the command line refuses so that no run folder is ever mixed, overwritten or resumed as another run. */
class RunSafetyCommandTest {
    @TempDir
    Path dir;

    private Path tinyData() throws IOException {
        return CliFixtures.tinyFashionMnist(dir, 128, 32);
    }

    private static void assertOneLineFailure(CliFixtures.Run run, String... fragments) {
        assertEquals(1, run.exitCode(), run.all());
        String err = run.err();
        assertEquals(1, err.lines().count(), "one line: " + err);
        for (String f : fragments) {
            assertTrue(err.contains(f), "'" + f + "' in: " + err);
        }
    }

    private CliFixtures.Run train(Path data, Path out, String... more) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train", "--model", "mlp-tiny",
                "--device", "cpu", "--data", data.toString(), "--out", out.toString()));
        java.util.List<String> given = java.util.List.of(more);
        for (String[] fallback : new String[][] {{"--epochs", "1"}, {"--batch-size", "64"}}) {
            if (!given.contains(fallback[0])) {
                args.addAll(java.util.List.of(fallback));
            }
        }
        args.addAll(given);
        return CliFixtures.run(args.toArray(String[]::new));
    }

    @Test
    void aSecondWriterIntoTheSameFolderIsRefusedNamingTheHolder() throws IOException {
        Path data = tinyData();
        Path out = dir.resolve("run");
        try (RunLock held = RunLock.acquire(out, "train mlp-student --out " + out)) {
            assertOneLineFailure(train(data, out), "in use by another run", "pid " + ProcessHandle.current().pid(),
                    "train mlp-student");
        }
        assertFalse(Files.exists(out.resolve("config.json")), "the refused run wrote nothing");
        assertEquals(0, train(data, out).exitCode(), "the folder is free once the holder is gone");
        try (RunLock held = RunLock.acquire(out, "train mlp-student --out " + out)) {
            assertOneLineFailure(train(data, out, "--resume", "--epochs", "2"), "in use by another run");
        }
    }

    @Test
    void aResumeOfAnotherConfigurationIsRefusedAndTheConfigKept() throws IOException {
        Path data = tinyData();
        Path out = dir.resolve("run");
        assertEquals(0, train(data, out).exitCode());
        String config = Files.readString(out.resolve("config.json"));

        assertOneLineFailure(train(data, out, "--resume", "--batch-size", "32"),
                "was run with --batch-size 64, this command asks for 32");
        assertOneLineFailure(train(data, out, "--resume", "--optimizer", "adamw"), "--optimizer 'sgd'");
        assertOneLineFailure(train(data, out, "--resume", "--lr", "0.5"), "--lr 0.05");
        assertOneLineFailure(train(data, out, "--resume", "--flip"), "--flip false");
        Path teacher = out.resolve("model.safetensors");
        Path kd = dir.resolve("kd");
        assertEquals(0, CliFixtures.run("distill", "--mode", "hinton", "--teacher-model", "mlp-tiny",
                "--teacher-weights", teacher.toString(), "--model", "mlp-tiny", "--epochs", "1", "--batch-size", "64",
                "--device", "cpu", "--data", data.toString(), "--out", kd.toString()).exitCode());
        assertOneLineFailure(train(data, kd, "--resume", "--epochs", "2"), "holds a distill run, this is train");
        assertOneLineFailure(CliFixtures.run("distill", "--mode", "temperature", "--teacher-model", "mlp-tiny",
                "--teacher-weights", teacher.toString(), "--model", "mlp-tiny", "--epochs", "2", "--batch-size", "64",
                "--device", "cpu", "--data", data.toString(), "--out", kd.toString(), "--resume"),
                "--mode 'hinton', this command asks for 'temperature'");

        CliFixtures.Run longer = train(data, out, "--resume", "--epochs", "2");
        assertEquals(0, longer.exitCode(), longer.all());
        assertEquals(config, Files.readString(out.resolve("config.json")), "config.json is the run's own");
        assertEquals(2, RunFolder.at(out).readMetrics().size());
    }

    @Test
    void aCheckpointWhoseMetadataEpochDisagreesWithItsFolderIsRefused() throws IOException {
        Path data = tinyData();
        Path out = dir.resolve("run");
        assertEquals(0, train(data, out).exitCode());
        Path model = RunFolder.at(out).latestCheckpoint().orElseThrow().model();
        try (SafeTensors.Contents contents = SafeTensors.read(model)) {
            Map<String, String> metadata = new LinkedHashMap<>(contents.metadata());
            metadata.put("epoch", "-5");
            Map<String, Tensor> tensors = new LinkedHashMap<>(contents.tensors());
            SafeTensors.write(model, tensors, metadata);
        }
        assertOneLineFailure(train(data, out, "--resume", "--epochs", "2"), "metadata says epoch -5",
                "epoch-0001");
    }

    @Test
    void aJsonNetworkDeclaredForFlatInputsTrains() throws IOException {
        Path data = tinyData();
        Path net = Files.writeString(dir.resolve("flat.json"),
                "{\"input\": [784], \"layers\": [{\"type\": \"linear\", \"out\": 10}]}");
        CliFixtures.Run run = CliFixtures.run("train", "--model", net.toString(), "--epochs", "1", "--batch-size", "64",
                "--device", "cpu", "--data", data.toString(), "--out", dir.resolve("flat").toString());
        assertEquals(0, run.exitCode(), run.all());
    }
}
