package dev.retort.fuzz;

import dev.retort.data.Idx;
import dev.retort.io.Npy;
import dev.retort.io.SafeTensors;
import dev.retort.nn.NetworkFile;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import dev.retort.testing.Fuzzer;
import dev.retort.train.RunFolder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fuzzes every parser of outside input — safetensors, .npy, IDX (raw and gzip), JSON network files and a run
 * folder's config.json and metrics.jsonl — with {@link Fuzzer}: seeded mutations of valid files and of the
 * committed regression corpus ({@code src/test/resources/fuzz/<target>/}, hostile inputs that once crashed a
 * parser), about four seconds a target in {@code mvn test}. The JSON parsers (safetensors headers, networks, run
 * folders) are held to one more rule: no refusal quotes the input in Jackson's words.
 */
class ParserFuzzTest {
    @TempDir
    Path dir;

    static Stream<String> targets() {
        return Stream.of("safetensors", "npy", "idx", "idx-gzip", "network", "run-folder");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void onlyDocumentedErrorsEscape(String name) throws Exception {
        Fuzzer.fuzz(name, validSeeds(name, dir), target(name, dir));
    }

    /**
     * A parser under test, reading each input from a file in {@code dir} where it reads files (shared with
     * {@link JazzerParserFuzzTest}).
     */
    static Fuzzer.Target target(String name, Path dir) {
        Fuzzer.Target target = parser(name, dir);
        return List.of("safetensors", "network", "run-folder").contains(name) ? quotingNoJson(target) : target;
    }

    /** Jackson's own words, which quote the input: none may reach a message (StrictJson says what and where). */
    private static final List<String> JACKSON_PHRASES = List.of("Unrecognized token", "Unexpected character (",
            "[Source:", "Duplicate field", "Trailing token", "was expecting", "Illegal unquoted character");

    /**
     * {@code target}, failing where a refusal's message carries one of {@link #JACKSON_PHRASES} that the input itself
     * does not hold (a layer type or a key of a valid file may be named in a message, and may be any text).
     */
    private static Fuzzer.Target quotingNoJson(Fuzzer.Target target) {
        return input -> {
            try {
                target.parse(input);
            } catch (IOException | IllegalArgumentException e) {
                String message = String.valueOf(e.getMessage());
                String text = new String(input, java.nio.charset.StandardCharsets.ISO_8859_1);
                for (String phrase : JACKSON_PHRASES) {
                    if (message.contains(phrase) && !text.contains(phrase)) {
                        throw new AssertionError("a message quotes the input (\"" + phrase + "\"): " + message, e);
                    }
                }
                throw e;
            }
        };
    }

    private static Fuzzer.Target parser(String name, Path dir) {
        Path file = dir.resolve(name.equals("idx-gzip") ? "input.gz" : "input");
        return switch (name) {
            case "safetensors" -> input -> {
                Files.write(file, input);
                SafeTensors.read(file).close();
            };
            case "npy" -> input -> {
                Files.write(file, input);
                Npy.read(file).close();
            };
            case "idx" -> input -> {
                Files.write(file, input);
                Idx.read(file);
            };
            case "idx-gzip" -> input -> { // the IDX parser behind the decompressor, and the gzip bytes too
                Files.write(file, input.length % 2 == 0 ? Fuzzer.gzip(input) : input);
                Idx.read(file);
            };
            case "network" -> input ->
                    NetworkFile.parse("net.json", new String(input, StandardCharsets.UTF_8), 1).model().close();
            default -> input -> { // one file, read both as a run's config.json and as its metrics.jsonl
                Path run = Files.createDirectories(dir.resolve("run"));
                Files.write(run.resolve(RunFolder.CONFIG), input);
                Files.write(run.resolve("metrics.jsonl"), input);
                RunFolder.at(run).readMetrics();
                RunFolder.at(run).readConfig();
            };
        };
    }

    /** Valid inputs of each target, written into {@code dir} by Retort's own writers (or by hand where it has none). */
    static List<byte[]> validSeeds(String name, Path dir) throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        switch (name) {
            case "safetensors" -> {
                try (Scope scope = Scope.open()) {
                    Map<String, Tensor> tensors = new LinkedHashMap<>();
                    tensors.put("0.weight", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
                    tensors.put("0.bias", Tensor.of(new double[] {0.5, -1}, 2));
                    tensors.put("labels", Tensor.ofInts(new int[] {7}, 1));
                    Path file = dir.resolve("seed.safetensors");
                    SafeTensors.write(file, tensors, Map.of("epoch", "1", "format", "retort-checkpoint-1"));
                    seeds.add(Files.readAllBytes(file));
                }
            }
            case "npy" -> {
                try (Scope scope = Scope.open()) {
                    for (Tensor t : List.of(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3),
                            Tensor.ofInts(new int[] {1, -2, 3}, 3), Tensor.of(new double[] {0.25}, 1, 1, 1))) {
                        Path file = dir.resolve("seed.npy");
                        Npy.write(file, t);
                        seeds.add(Files.readAllBytes(file));
                    }
                }
            }
            case "idx", "idx-gzip" -> {
                seeds.add(idx(new int[] {2, 3, 4}, 24));
                seeds.add(idx(new int[] {5}, 5));
            }
            case "network" -> {
                seeds.add(("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"conv2d\", \"out\": 8, \"kernel\": 3, "
                        + "\"padding\": 1}, {\"type\": \"batchnorm2d\"}, {\"type\": \"relu\"}, {\"type\": \"maxpool2d\", "
                        + "\"kernel\": 2}, {\"type\": \"avgpool2d\", \"kernel\": 2, \"stride\": 1}, {\"type\": "
                        + "\"dropout\", \"p\": 0.25}, {\"type\": \"flatten\"}, {\"type\": \"linear\", \"out\": 10, "
                        + "\"bias\": false}]}").getBytes(StandardCharsets.UTF_8));
                seeds.add(("{\"input\": [3, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"out\": 4, \"kernel\": 3, "
                        + "\"stride\": 2}, {\"type\": \"globalavgpool2d\"}, {\"type\": \"linear\", \"out\": 2}]}")
                        .getBytes(StandardCharsets.UTF_8));
                seeds.add("{\"input\": [784], \"layers\": [{\"type\": \"linear\", \"out\": 10}]}"
                        .getBytes(StandardCharsets.UTF_8));
            }
            default -> {
                seeds.add(("{\"retort\": \"0.1.0\", \"command\": \"train\", \"data\": {\"train\": 64, \"test\": 16}, "
                        + "\"training\": {\"model\": \"mlp-tiny\", \"epochs\": 1, \"lr\": 0.05, \"flip\": false}}")
                        .getBytes(StandardCharsets.UTF_8));
                seeds.add(("{\"epoch\": 1, \"step\": 2, \"train_loss\": 2.3, \"test_accuracy\": 0.1}\n"
                        + "{\"epoch\": 2, \"step\": 4, \"train_loss\": 2.1, \"test_accuracy\": 0.2}\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        return seeds;
    }

    private static byte[] idx(int[] dims, int count) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + count);
        b.putInt(0x00000800 | dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        for (int i = 0; i < count; i++) {
            b.put((byte) (i * 37));
        }
        return b.array();
    }
}
