package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retort.train.RunFolder;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --config FILE}: a run's config.json replays it; options given beside it win. */
class ConfigReplayTest {
    @TempDir
    Path dir;

    private static JsonNode config(Path run) throws IOException {
        return RunFolder.at(run).readConfig();
    }

    @Test
    void aTrainRunReplaysToTheSameConfigAndNumbersAndAGivenOptionWins() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir);
        Path first = dir.resolve("first");
        CliFixtures.Run r = run("train", "--model", "mlp-tiny", "--epochs", "2", "--batch-size", "32", "--lr", "0.02",
                "--optimizer", "adamw", "--schedule", "step", "--seed", "7", "--no-nesterov", "--label-smoothing", "0.1",
                "--data", data.toString(), "--device", "cpu", "--out", first.toString());
        assertEquals(0, r.exitCode(), r.all());
        Path replay = dir.resolve("replay");
        r = run("train", "--config", first.resolve("config.json").toString(), "--out", replay.toString());
        assertEquals(0, r.exitCode(), r.all());
        assertEquals(config(first).get("training"), config(replay).get("training"));
        assertEquals(config(first).get("data"), config(replay).get("data"));
        assertEquals(RunFolder.at(first).readMetrics().get(1).get("test_accuracy"),
                RunFolder.at(replay).readMetrics().get(1).get("test_accuracy"), "a replay computes the same numbers");

        Path seed2 = dir.resolve("seed2");
        r = run("train", "--config", first.resolve("config.json").toString(), "--seed", "2", "--out", seed2.toString());
        assertEquals(0, r.exitCode(), r.all());
        ObjectNode expected = ((ObjectNode) config(first).get("training")).put("seed", 2);
        assertEquals(expected, config(seed2).get("training"));
    }

    @Test
    void aDistillRunReplaysItsModeAndTemperatures() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir);
        Path teacher = CliFixtures.saveWeights(dir, "cnn-student", 5);
        Path first = dir.resolve("kd");
        CliFixtures.Run r = run("distill", "--mode", "temperature", "--teacher-model", "cnn-student",
                "--teacher-weights", teacher.toString(), "--model", "mlp-tiny", "--student-temperature", "2",
                "--teacher-temperature", "3", "--epochs", "1", "--batch-size", "64", "--data", data.toString(),
                "--device", "cpu", "--out", first.toString());
        assertEquals(0, r.exitCode(), r.all());
        Path replay = dir.resolve("kd-replay");
        r = run("distill", "--config", first.resolve("config.json").toString(), "--out", replay.toString());
        assertEquals(0, r.exitCode(), r.all());
        assertEquals(config(first).get("distillation"), config(replay).get("distillation"));
        assertEquals(config(first).get("training"), config(replay).get("training"));

        r = run("train", "--model", "mlp-tiny", "--epochs", "1", "--data", data.toString(), "--device", "cpu", "--out",
                dir.resolve("plain").toString());
        assertEquals(0, r.exitCode(), r.all());
        r = run("distill", "--config", dir.resolve("plain").resolve("config.json").toString(), "--out",
                dir.resolve("wrong").toString());
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains("a train run's configuration; distill needs a distill run's"), r.err());
        r = run("distill", "--teacher-weights", teacher.toString(), "--data", data.toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("Missing required option: '--mode"), r.err());
    }
}
