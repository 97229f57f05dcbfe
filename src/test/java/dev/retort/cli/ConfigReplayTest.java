package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retort.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code --config FILE}: a run's config.json replays it; options given beside it win. Values are taken exactly as
 * typed, paths only as the kind of file they name, and a bad file or field is one line that quotes none of a file
 * that is not a config.
 */
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
        assertEquals(0, config(first).path("training").path("labelled").intValue(), "every label is recorded as 0");
        Path replay = dir.resolve("replay"); // which replays as every label, not as --labelled 0

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

    /**
     * Row by row: a field of config.json of the wrong type (12.5 for a whole number, "yes" for a switch, a number
     * out of range, null) and a path that names the wrong kind of file; {@code FILE} (as %FILE%) in a value is a regular file
     * that is neither a network nor weights.
     */
    static Stream<Arguments> wrongFields() {
        return Stream.of(
                Arguments.of("train", "training", "batchSize", "12.5", "training.batchSize is 12.5; expected a whole "
                        + "number (--batch-size)"),
                Arguments.of("train", "training", "flip", "\"yes\"", "training.flip is \"yes\"; expected true or false "
                        + "(--flip)"),
                Arguments.of("train", "training", "nesterov", "1", "training.nesterov is 1; expected true or false"),
                Arguments.of("train", "training", "seed", "1.5", "training.seed is 1.5; expected a whole number "
                        + "(--seed)"),
                Arguments.of("train", "training", "seed", "\"one\"", "training.seed is \"one\"; expected a whole number"),
                Arguments.of("train", "training", "seed", "99999999999999999999", "training.seed is "
                        + "99999999999999999999; expected a whole number from -9223372036854775808 to "
                        + "9223372036854775807 (--seed)"),
                Arguments.of("train", "training", "model", "null", "training.model is null; expected a string "
                        + "(--model)"),
                Arguments.of("train", "training", "learningRate", "\"fast\"", "training.learningRate is \"fast\"; "
                        + "expected a finite number (--lr)"),
                Arguments.of("train", "training", "learningRate", "1e400", "training.learningRate is Infinity; "
                        + "expected a finite number (--lr)"),
                Arguments.of("train", "training", "epochs", "1e12", "training.epochs is 1.0E12; expected a whole "
                        + "number (--epochs)"),
                Arguments.of("train", "training", "epochs", "1000000000000", "training.epochs is 1000000000000; "
                        + "expected a whole number from -2147483648 to 2147483647 (--epochs)"),
                Arguments.of("train", "training", "labelled", "0.0", "training.labelled is 0.0; expected a whole "
                        + "number (--labelled)"),
                Arguments.of("train", "training", "labelled", "null", "training.labelled is null"),
                Arguments.of("train", "training", "optimizer", "[\"sgd\"]", "training.optimizer is [\"sgd\"]; "
                        + "expected a string (--optimizer)"),
                Arguments.of("train", "training", "optimizer", "\"sgd\\u009b\"", "training.optimizer is "
                        + "\"sgd\\u009B\"; expected a string without control characters (--optimizer)"),
                Arguments.of("train", "training", "model", "\"../../../../../../etc/passwd\"", "training.model is "
                        + "\"../../../../../../etc/passwd\"; expected a reference network"),
                Arguments.of("train", "training", "model", "\"%FILE%\"", "or an existing JSON network file (FILE.json) "
                        + "(--model)"),
                Arguments.of("train", "training", "model", "\"%FILE%/missing.json\"", "(--model)"),
                Arguments.of("train", "data", "folder", "\"%FILE%\"", "data.folder is \"%FILE%\"; expected an existing "
                        + "folder (--data)"),
                Arguments.of("train", "data", "folder", "\"\"", "data.folder is \"\"; expected a path (--data)"),
                Arguments.of("train", "data", "folder", "7", "data.folder is 7; expected a path (a string) (--data)"),
                Arguments.of("distill", "distillation", "teacher-weights", "\"%FILE%\"", "distillation.teacher-weights "
                        + "is \"%FILE%\"; expected an existing FILE.safetensors (--teacher-weights)"),
                Arguments.of("distill", "distillation", "teacher-model", "\"%FILE%\"", "distillation.teacher-model is "
                        + "\"%FILE%\"; expected a reference network"),
                Arguments.of("distill", "distillation", "alpha", "\"0.1\"", "distillation.alpha is \"0.1\"; expected "
                        + "a finite number (--alpha)"),
                Arguments.of("distill", "distillation", "pairs", "5", "distillation.pairs is 5; expected a string of "
                        + "STUDENT=TEACHER pairs"),
                Arguments.of("distill", "distillation", "pairs", "[\"5=13\", 7]", "expected a list of strings "
                        + "(--pairs)"),
                Arguments.of("eval", "training", "model", "null", "training.model is null; expected a string "
                        + "(--model)"),
                Arguments.of("eval", "training", "evalBatchSize", "\"500\"", "training.evalBatchSize is \"500\"; "
                        + "expected a whole number (--batch-size)"),
                Arguments.of("predict", "training", "model", "\"%FILE%\"", "training.model is \"%FILE%\"; expected a "
                        + "reference network"),
                Arguments.of("inspect", "training", "model", "\"%FILE%\"", "training.model is \"%FILE%\""),
                Arguments.of("calibrate", "data", "folder", "\"%FILE%\"", "data.folder is \"%FILE%\"; expected an "
                        + "existing folder (--data)"));
    }

    @ParameterizedTest(name = "{0} {1}.{2} = {3}")
    @MethodSource("wrongFields")
    void aFieldOfTheWrongTypeOrKindIsRefusedNamingTheFieldTheTypeAndTheOption(String command, String section,
            String key, String json, String expected) throws IOException {
        Path secret = Files.writeString(dir.resolve("secret"), "root:x:0:0:root:/root:/bin/bash\n");
        json = json.replace("%FILE%", secret.toString());
        expected = expected.replace("%FILE%", secret.toString());
        String training = key.equals("model") ? "\"seed\": 1" : "\"model\": \"mlp-tiny\"";
        String distillation = "\"mode\": \"hinton\"";
        String data = "\"dataset\": \"fashion-mnist\"";
        String field = "\"" + key + "\": " + json;
        switch (section) {
            case "training" -> training += ", " + field;
            case "distillation" -> distillation += ", " + field;
            default -> data += ", " + field;
        }
        Path config = Files.writeString(dir.resolve("config.json"), "{\"retort\": \"0.1.0\", \"data\": {" + data
                + "}, \"training\": {" + training + "}, \"distillation\": {" + distillation + "}}");
        Files.writeString(dir.resolve(RunFolder.MODEL), "weights beside the config");
        List<String> args = new ArrayList<>(List.of(command, "--config", config.toString()));
        if (command.equals("train") || command.equals("distill")) {
            args.addAll(List.of("--out", dir.resolve("out").toString()));
        }
        if (command.equals("predict")) {
            args.addAll(List.of("--input", secret.toString(), "--output", dir.resolve("out").toString()));
        }
        CliFixtures.Run r = run(args.toArray(String[]::new));
        CliFixtures.assertRefused(r);
        assertTrue(r.err().startsWith("retort " + command + ": --config " + config + ": "), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertFalse(r.err().contains("root:x") || r.err().contains("bash"), "quotes the file it names: " + r.err());
        assertFalse(Files.exists(dir.resolve("out")), "nothing written");
    }

    @Test
    void aConfigThatIsNotJsonOrHasADuplicateOrTrailingTextIsRefusedQuotingNone() throws IOException {
        Path passwd = Files.writeString(dir.resolve("passwd"), "root:x:0:0:root:/root:/bin/bash\n");
        CliFixtures.Run r = run("train", "--config", passwd.toString(), "--out", dir.resolve("out").toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--config " + passwd + ": not a run's config.json: not valid JSON: "), r.err());
        assertTrue(r.err().contains("at line 1, column "), r.err());
        assertFalse(r.err().contains("root") || r.err().contains("bash"), r.err());

        Path twice = Files.writeString(dir.resolve("twice.json"), "{\"training\": {\"model\": \"mlp-tiny\",\n"
                + "  \"seed\": 1, \"seed\": 2}}");
        r = run("train", "--config", twice.toString(), "--out", dir.resolve("out").toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--config " + twice + ": not a run's config.json: duplicate key \"seed\" at line 2"),
                r.err());

        Path trailing = Files.writeString(dir.resolve("trailing.json"), "{\"training\": {\"model\": \"mlp-tiny\"}}\n"
                + "{\"training\": {}}");
        r = run("eval", "--config", trailing.toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--config " + trailing + ": not a run's config.json: more text after the JSON "
                + "value at line 2, column 1"), r.err());

        r = run("eval", "--config", dir.resolve("none.json").toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--config " + dir.resolve("none.json") + ": no such file"), r.err());
        r = run("predict", "--config", dir.toString(), "--input", passwd.toString(), "--output",
                dir.resolve("out").toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--config " + dir + ": a folder, not a file"), r.err());
        assertFalse(Files.exists(dir.resolve("out")), "nothing written");
    }

    @Test
    void aJsonFileThatIsNotANetworkIsRefusedWithoutQuotingIt() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir);
        Path net = Files.writeString(dir.resolve("notes.json"), "secret-token, not a network\n");
        Path config = Files.writeString(dir.resolve("config.json"), "{\"data\": {\"folder\": \"" + data + "\"}, "
                + "\"training\": {\"model\": \"" + net + "\", \"epochs\": 1}}");
        CliFixtures.Run r = run("train", "--config", config.toString(), "--device", "cpu", "--out",
                dir.resolve("out").toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--model " + net + ": not valid JSON: a word that is not a JSON value"), r.err());
        assertFalse(r.err().contains("secret"), r.err());
    }
}
