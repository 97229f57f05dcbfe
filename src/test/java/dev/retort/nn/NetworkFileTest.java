package dev.retort.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NetworkFileTest {
    private static final String CNN_STUDENT = """
            {"input": [1, 28, 28], "layers": [
              {"type": "conv2d", "out": 8, "kernel": 3, "padding": 1}, {"type": "relu"},
              {"type": "maxpool2d", "kernel": 2},
              {"type": "conv2d", "out": 16, "kernel": 3, "padding": 1}, {"type": "relu"},
              {"type": "maxpool2d", "kernel": 2},
              {"type": "flatten"}, {"type": "linear", "out": 10}]}
            """;

    @Test
    void describesTheReferenceStudentWithItsPytorchStateDict(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("student.json");
        Files.writeString(file, CNN_STUDENT);
        NetworkFile.Network network = NetworkFile.load(file, 1);
        try (Module reference = Models.create("cnn-student", 1); Module described = network.model();
             Scope scope = Scope.open()) {
            Map<String, Tensor> expected = reference.stateDict();
            Map<String, Tensor> actual = described.stateDict();
            assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()));
            for (String key : expected.keySet()) {
                assertArrayEquals(expected.get(key).shape(), actual.get(key).shape(), key);
            }
            // Same seed, same layer order: the same initial weights, hence the same logits.
            Tensor x = Tensor.of(new float[2 * 784], 2, 1, 28, 28);
            assertArrayEquals(reference.forward(x).toFloatArray(), described.forward(x).toFloatArray());
            assertArrayEquals(new int[] {1, 28, 28}, network.inputShape());
        }
    }

    @Test
    void everyLayerTypeBuildsAndRuns() {
        String text = """
                {"input": [3, 9, 9], "layers": [
                  {"type": "conv2d", "out": 4, "kernel": 3, "stride": 2, "padding": 1, "bias": false},
                  {"type": "batchnorm2d"}, {"type": "relu"}, {"type": "avgpool2d", "kernel": 2, "stride": 1},
                  {"type": "maxpool2d", "kernel": 3, "stride": 1, "padding": 1}, {"type": "globalavgpool2d"},
                  {"type": "dropout", "p": 0.25}, {"type": "linear", "out": 5, "bias": false}]}
                """;
        try (Module m = NetworkFile.parse("all.json", text, 3).model(); Scope scope = Scope.open()) {
            assertArrayEquals(new int[] {2, 5}, m.forward(Tensor.of(new float[2 * 3 * 81], 2, 3, 9, 9)).shape());
        }
    }

    private static void rejects(String text, String... fragments) {
        String message = assertThrows(IllegalArgumentException.class, () -> NetworkFile.parse("net.json", text, 1))
                .getMessage();
        for (String f : fragments) {
            assertTrue(message.contains(f), "message should contain '" + f + "': " + message);
        }
    }

    @Test
    void badDescriptionsNameTheLayerAndField() {
        rejects("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"conv3d\"}]}", "net.json", "layer 0 (conv3d)",
                "unknown layer type");
        rejects("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"conv2d\", \"kernel\": 3}]}", "layer 0 (conv2d)",
                "missing \"out\"");
        rejects("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"linear\", \"out\": 10}]}", "layer 0 (linear)",
                "flatten");
        rejects("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"conv2d\", \"out\": 4, \"kernal\": 3}]}",
                "unknown field \"kernal\"");
        rejects("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"conv2d\", \"out\": -4, \"kernel\": 3}]}",
                "\"out\" must be a positive integer");
        rejects("{\"input\": [1, 4, 4], \"layers\": [{\"type\": \"conv2d\", \"out\": 4, \"kernel\": 7}]}",
                "kernel 7 is larger");
        rejects("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"dropout\", \"p\": 1.5}]}", "\"p\" must be");
        rejects("{\"input\": [0, 28], \"layers\": [{\"type\": \"relu\"}]}", "\"input\"[0]");
        rejects("{\"input\": [1, 28, 28], \"layers\": []}", "\"layers\" must be a non-empty list");
        rejects("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"relu\"}],}", "not valid JSON", "line 1");
    }

    @Test
    void hostileDescriptionsAreRefusedInOneLineBeforeAllocating() {
        String deep = "[".repeat(1001) + "]".repeat(1001);
        rejects("{\"input\": [1, 28, 28], \"layers\": " + deep + "}", "net.json", "not valid JSON", "nesting depth");
        rejects("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"flatten\"}, {\"type\": \"linear\", "
                + "\"out\": 3000000}]}", "layer 1 (linear)", "2355000000 parameters");
        rejects("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"conv2d\", \"out\": 8, \"kernel\": 3, "
                + "\"padding\": 1000000000}]}", "layer 0 (conv2d)", "output [8, 2000000026, 2000000026]");
        rejects("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"conv2d\", \"out\": 1000000000, "
                + "\"kernel\": 3, \"padding\": 1}]}", "layer 0 (conv2d)", "output [1000000000, 28, 28]");
        rejects("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"flatten\"}, {\"type\": \"batchnorm2d\"}]}",
                "layer 1 (batchnorm2d)", "needs a [channels, height, width] input, got [784]");
    }

    @Test
    void aNetworkDeclaredForFlatInputsTakesImages() {
        String text = "{\"input\": [784], \"layers\": [{\"type\": \"linear\", \"out\": 10}]}";
        try (Module m = NetworkFile.parse("flat.json", text, 3).model(); Scope scope = Scope.open()) {
            Tensor images = Tensor.of(new float[2 * 784], 2, 1, 28, 28);
            assertArrayEquals(new int[] {2, 10}, m.forward(images).shape());
            assertArrayEquals(new int[] {2, 10}, m.forward(Tensor.of(new float[2 * 784], 2, 784)).shape());
            assertEquals(List.of("0.weight", "0.bias"), List.copyOf(m.stateDict().keySet()), "names unchanged");
        }
    }

    @Test
    void aDuplicateKeyOrTextAfterTheObjectIsRefusedNamingTheKeyAndLine() {
        rejects("{\"input\": [784],\n \"layers\": [{\"type\": \"linear\", \"out\": 10}],\n \"input\": [1, 28, 28]}",
                "net.json: duplicate key \"input\" at line 3");
        rejects("{\"input\": [784], \"layers\": [{\"type\": \"linear\", \"out\": 10, \"out\": 3}]}",
                "duplicate key \"out\" at line 1");
        rejects("{\"input\": [784], \"layers\": [{\"type\": \"linear\", \"out\": 10}]}\n{\"input\": [1]}",
                "net.json: more text after the JSON value at line 2, column 1");
        rejects("{\"input\": [784], \"layers\": [{\"type\": \"linear\", \"out\": 10}]} trailing-garbage",
                "more text after the JSON value at line 1");
    }

    @Test
    void textThatIsNotJsonIsRefusedWithoutQuotingIt() {
        for (String text : List.of("root:x:0:0:root:/root:/bin/bash", "{\"input\": secret-token}", "[1, 2,",
                "{\"input\": \"a\u0001b\"}", "")) {
            String message = assertThrows(IllegalArgumentException.class, () -> NetworkFile.parse("net.json", text, 1))
                    .getMessage();
            assertTrue(message.startsWith("net.json: not valid JSON: ") || message.startsWith("net.json: no JSON value"),
                    message);
            for (String secret : List.of("root", "secret", "bash", "\u0001")) {
                assertFalse(message.contains(secret), "quotes the file: " + message);
            }
        }
    }

    @Test
    void onlyARegularFileNamedJsonIsRead(@TempDir Path dir) throws IOException {
        String flat = "{\"input\": [784], \"layers\": [{\"type\": \"linear\", \"out\": 10}]}";
        Path passwd = Files.writeString(dir.resolve("passwd"), flat);
        String message = assertThrows(IllegalArgumentException.class, () -> NetworkFile.load(passwd, 1)).getMessage();
        assertTrue(message.contains("passwd: not a network file (a network file's name ends in .json)"), message);
        Path folder = Files.createDirectories(dir.resolve("folder.json"));
        assertTrue(assertThrows(IOException.class, () -> NetworkFile.load(folder, 1)).getMessage()
                .contains("folder.json: a folder, not a file"));
        try (Module m = NetworkFile.load(Files.writeString(dir.resolve("Flat.JSON"), flat), 1).model()) {
            assertEquals(2, m.stateDict().size(), "the suffix in any case");
        }
        assertFalse(NetworkFile.isFileName(".json"));
        assertTrue(NetworkFile.isFileName("nets/a.json"));
    }

    @Test
    void aMissingFileNamesIt(@TempDir Path dir) {
        Path missing = dir.resolve("none.json");
        assertTrue(assertThrows(IOException.class, () -> NetworkFile.load(missing, 1)).getMessage()
                .contains(missing.toString()));
    }
}
