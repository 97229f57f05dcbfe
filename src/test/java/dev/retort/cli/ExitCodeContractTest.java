package dev.retort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.data.FashionMnist;
import dev.retort.io.Npy;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One exit-code contract on every command: a bad file or value — a malformed JSON network, weights of another
 * model, a data file of the wrong shape, an output that cannot be written, a thread count out of range — is exit 1
 * and one line naming the file or option, whichever command reads it. Each case runs through every command that
 * takes what it spoils, from a command line that succeeds as it is.
 */
class ExitCodeContractTest {
    /** Shared by every case: the fixtures are read, never written; outputs and run folders get fresh names. */
    @TempDir
    static Path dir;

    private static Path data;
    private static Path weights;
    private static Path otherWeights;
    private static Path badNetwork;
    private static Path input;
    private static Path npyWrongShape;
    private static Path idxWrongShape;
    private static final AtomicInteger FRESH = new AtomicInteger();

    @BeforeAll
    static void fixtures() throws IOException {
        System.setProperty("retort.progress", "off");
        data = CliFixtures.tinyFashionMnist(dir, 64, 16);
        weights = CliFixtures.saveWeights(dir, "mlp-tiny", 3);
        otherWeights = CliFixtures.saveWeights(dir, "mlp-student", 3);
        badNetwork = dir.resolve("bad-network.json");
        Files.writeString(badNetwork, "{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"flatten\"}, {\"type\": ");
        input = dir.resolve("x.npy");
        npyWrongShape = Files.createDirectories(dir.resolve("npy-wrong-shape"));
        try (Scope scope = Scope.open()) {
            Npy.write(input, Tensor.of(new float[2 * 784], 2, 784));
            // Rank 2: not images [N, C, H, W] or [N, H, W].
            Npy.write(npyWrongShape.resolve("x_train.npy"), Tensor.of(new float[8 * 5], 8, 5));
            Npy.write(npyWrongShape.resolve("y_train.npy"), Tensor.ofInts(new int[8], 8));
            Npy.write(npyWrongShape.resolve("x_test.npy"), Tensor.of(new float[4 * 5], 4, 5));
            Npy.write(npyWrongShape.resolve("y_test.npy"), Tensor.ofInts(new int[4], 4));
            Npy.write(dir.resolve("x-wrong-shape.npy"), Tensor.of(new float[2 * 5], 2, 5));
        }
        // Images of rank 2 ([count, 784]) where the format has [count, 28, 28].
        idxWrongShape = Files.createDirectories(dir.resolve("idx-wrong-shape"));
        CliFixtures.writeIdx(idxWrongShape.resolve(FashionMnist.TRAIN_IMAGES), new int[] {64, 784}, new byte[64 * 784]);
        CliFixtures.writeIdx(idxWrongShape.resolve(FashionMnist.TRAIN_LABELS), new int[] {64}, new byte[64]);
        CliFixtures.writeIdx(idxWrongShape.resolve(FashionMnist.TEST_IMAGES), new int[] {16, 784}, new byte[16 * 784]);
        CliFixtures.writeIdx(idxWrongShape.resolve(FashionMnist.TEST_LABELS), new int[] {16}, new byte[16]);
    }

    /** A command line of {@code command} that succeeds, with each option of {@code changes} set to its value. */
    private String[] commandLine(String command, Map<String, String> changes) {
        Map<String, String> options = new LinkedHashMap<>();
        switch (command) {
            case "inspect" -> {
                options.put("--model", "mlp-tiny");
                options.put("--weights", weights.toString());
            }
            case "eval" -> {
                options.put("--model", "mlp-tiny");
                options.put("--weights", weights.toString());
                options.put("--data", data.toString());
            }
            case "predict" -> {
                options.put("--model", "mlp-tiny");
                options.put("--weights", weights.toString());
                options.put("--input", input.toString());
                options.put("--output", dir.resolve("y-" + FRESH.incrementAndGet() + ".npy").toString());
            }
            case "calibrate" -> {
                options.put("--model", "mlp-tiny");
                options.put("--weights", weights.toString());
                options.put("--data", data.toString());
                options.put("--holdout", "16");
            }
            case "train", "distill" -> {
                if (command.equals("distill")) {
                    options.put("--mode", "hinton");
                    options.put("--teacher-model", "mlp-tiny");
                    options.put("--teacher-weights", weights.toString());
                }
                options.put("--model", "mlp-tiny");
                options.put("--data", data.toString());
                options.put("--epochs", "1");
                options.put("--batch-size", "16");
                options.put("--out", dir.resolve("run-" + FRESH.incrementAndGet()).toString());
            }
            default -> throw new IllegalArgumentException(command);
        }
        if (!command.equals("inspect")) {
            options.put("--device", "cpu");
        }
        options.putAll(changes);
        List<String> args = new ArrayList<>(List.of(command));
        options.forEach((option, value) -> {
            args.add(option);
            args.add(value);
        });
        return args.toArray(String[]::new);
    }

    /** The command line with {@code changes} is refused by the contract, its line holding every fragment. */
    private void assertRefusedNaming(String command, Map<String, String> changes, String... fragments) {
        CliFixtures.Run run = CliFixtures.run(commandLine(command, changes));
        CliFixtures.assertRefused(run);
        assertTrue(run.err().startsWith("retort " + command + ": "), run.err());
        for (String fragment : fragments) {
            assertTrue(run.err().contains(fragment), "'" + fragment + "' missing from: " + run.err());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"inspect", "eval", "predict", "calibrate", "train", "distill"})
    void theUnspoiltCommandLineSucceeds(String command) {
        CliFixtures.Run run = CliFixtures.run(commandLine(command, Map.of()));
        assertEquals(0, run.exitCode(), run.all());
    }

    @ParameterizedTest
    @ValueSource(strings = {"inspect", "eval", "predict", "calibrate", "train", "distill"})
    void aMalformedJsonNetworkIsOneLineNamingTheFile(String command) {
        assertRefusedNaming(command, Map.of("--model", badNetwork.toString()), badNetwork.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"inspect", "eval", "predict", "calibrate", "distill"})
    void weightsOfAnotherModelAreOneLineNamingTheFile(String command) {
        String option = command.equals("distill") ? "--teacher-weights" : "--weights";
        assertRefusedNaming(command, Map.of(option, otherWeights.toString()), otherWeights.toString(),
                "different model");
    }

    @ParameterizedTest
    @ValueSource(strings = {"predict", "eval", "calibrate", "train", "distill"})
    void anNpyFileOfTheWrongShapeIsOneLineNamingTheFile(String command) {
        if (command.equals("predict")) {
            Path wrong = dir.resolve("x-wrong-shape.npy");
            assertRefusedNaming(command, Map.of("--input", wrong.toString()), "--input " + wrong,
                    "examples of shape [5]");
        } else {
            // The test split is checked against the training split, so every command reads x_train.npy first.
            assertRefusedNaming(command, Map.of("--data", npyWrongShape.toString()),
                    npyWrongShape.resolve("x_train.npy") + ": expected images [N, C, H, W] or [N, H, W], got [8, 5]");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"eval", "calibrate", "train", "distill"})
    void anIdxFileOfTheWrongShapeIsOneLineNamingTheFile(String command) {
        String images = command.equals("eval") ? FashionMnist.TEST_IMAGES : FashionMnist.TRAIN_IMAGES;
        assertRefusedNaming(command, Map.of("--data", idxWrongShape.toString()),
                idxWrongShape.resolve(images) + ": expected a rank-3 image array");
    }

    @ParameterizedTest
    @ValueSource(strings = {"predict", "calibrate"})
    void anOutputThatCannotBeWrittenIsOneLineNamingIt(String command) throws IOException {
        Path inMissingFolder = dir.resolve("no-such-folder").resolve("out.npy");
        assertRefusedNaming(command, Map.of("--output", inMissingFolder.toString()), "--output " + inMissingFolder);
        Path folder = Files.createDirectories(dir.resolve("a-folder-" + command));
        assertRefusedNaming(command, Map.of("--output", folder.toString()), "--output " + folder);
    }

    @ParameterizedTest
    @ValueSource(strings = {"eval", "predict", "calibrate", "train", "distill"})
    void aThreadCountOutOfRangeIsOneLineNamingTheOption(String command) {
        assertRefusedNaming(command, Map.of("--threads", "0"), "--threads 0");
        assertRefusedNaming(command, Map.of("--threads", "100000"), "--threads 100000");
    }
}
