package dev.retort.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.Storage;
import dev.retort.nn.Module;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ModelOption builds reference and JSON networks, knows their input shapes, and frees what a failed load built. */
class ModelOptionTest {
    @TempDir
    Path dir;

    private static ModelOption option(String model, Path weights) {
        ModelOption o = new ModelOption();
        o.model = model;
        o.weights = weights;
        return o;
    }

    @Test
    void inputShapeOfReferenceAndJsonNetworks() throws IOException {
        assertArrayEquals(new int[] {3, 32, 32}, option("resnet8", null).inputShape());
        Path json = Files.writeString(dir.resolve("flat.json"),
                "{\"input\": [784], \"layers\": [{\"type\": \"linear\", \"out\": 10}]}");
        ModelOption o = option(json.toString(), null);
        assertArrayEquals(new int[] {784}, o.inputShape());
        assertArrayEquals(new int[] {784}, o.inputShapeFor(new int[] {1, 28, 28}, "x"));
        try (Module net = o.load(1)) {
            assertEquals(7850, net.parameterCount());
        }
    }

    @Test
    void withoutPicocliErrorsAreIllegalArguments() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> option("nope", null).load(0));
        assertTrue(e.getMessage().startsWith("--model nope: neither a reference network"), e.getMessage());
        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"input\": [784]}");
        e = assertThrows(IllegalArgumentException.class, () -> option(bad.toString(), null).load(0));
        assertTrue(e.getMessage().startsWith("--model " + bad + ": \"layers\" must be a non-empty list"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> option("mlp-tiny", null).requireWeights());
        assertTrue(e.getMessage().contains("--weights"), e.getMessage());
    }

    @Test
    void aFailedLoadFreesTheNetworkItBuilt() throws IOException {
        Path other = CliFixtures.saveWeights(dir, "cnn-student", 1);
        long baseline = Storage.liveCount() + Storage.leakedCount();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> option("mlp-student", other).load(0));
        assertTrue(e.getMessage().startsWith("--weights " + other + ": holds the weights of a different model than "
                + "--model mlp-student"), e.getMessage());
        assertEquals(baseline, Storage.liveCount() + Storage.leakedCount(), "parameters of the failed load are live");
    }

    /**
     * A --model (or --teacher-model) that is no reference network is read only if it is a file named *.json: any
     * other file, however JSON its contents, is refused unread, and a .json file that is not JSON is refused
     * without quoting it.
     */
    @Test
    void aModelThatIsNotANetworkFileIsRefusedUnreadOnEveryCommand() throws IOException {
        String flat = "{\"input\": [784], \"layers\": [{\"type\": \"linear\", \"out\": 10}]}";
        Path txt = Files.writeString(dir.resolve("net.txt"), flat);
        Path weights = CliFixtures.saveWeights(dir, "mlp-tiny", 1);
        Path data = CliFixtures.tinyFashionMnist(dir, 64, 16);
        String refused = txt + ": neither a reference network [";
        String why = "nor an existing JSON network file (FILE.json)";
        for (String[] args : new String[][] {
                {"inspect", "--model", txt.toString()},
                {"eval", "--model", txt.toString(), "--weights", weights.toString(), "--data", data.toString()},
                {"train", "--model", txt.toString(), "--data", data.toString(), "--device", "cpu", "--out",
                        dir.resolve("run").toString()},
                {"distill", "--mode", "temperature", "--teacher-model", txt.toString(), "--teacher-weights",
                        weights.toString(), "--model", "mlp-tiny", "--data", data.toString(), "--device", "cpu",
                        "--out", dir.resolve("run").toString()}}) {
            CliFixtures.Run r = CliFixtures.run(args);
            CliFixtures.assertRefused(r);
            String option = args[0].equals("distill") ? "--teacher-model " : "--model ";
            assertTrue(r.err().contains(option + refused) && r.err().contains(why), r.err());
        }
        Path notes = Files.writeString(dir.resolve("notes.json"), "secret-token\n");
        CliFixtures.Run r = CliFixtures.run("inspect", "--model", notes.toString());
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--model " + notes + ": not valid JSON: "), r.err());
        assertFalse(r.err().contains("secret"), r.err());
    }
}
