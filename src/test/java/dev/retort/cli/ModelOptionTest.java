package dev.retort.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
