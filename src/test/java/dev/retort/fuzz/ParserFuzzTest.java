package dev.retort.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.retort.data.Idx;
import dev.retort.io.Npy;
import dev.retort.io.SafeTensors;
import dev.retort.nn.NetworkFile;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import dev.retort.train.RunFolder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fuzzes every parser of outside input — safetensors, .npy, IDX (raw and gzip), JSON network files and a run
 * folder's config.json and metrics.jsonl — with seeded mutations of valid files and of the committed regression
 * corpus ({@code src/test/resources/fuzz/<target>/}, hostile inputs that once crashed a parser). The contract:
 * an input is read, or refused with an {@link IOException} (a format error) or {@link IllegalArgumentException}
 * whose message is one line; anything else escaping — an index or size error, a null pointer, running out of
 * memory or stack — fails the test, and the input is kept under {@code target/fuzz-failures/} to replay.
 *
 * <p>{@code -Dretort.fuzz.seconds=N} sets each target's time (default 4, so {@code mvn test} spends about half a
 * minute here); {@code -Dretort.fuzz.seed=S} starts elsewhere (the CI script passes a new one on every run).
 */
class ParserFuzzTest {
    private static final double SECONDS = Double.parseDouble(System.getProperty("retort.fuzz.seconds", "4"));
    private static final long SEED = Long.getLong("retort.fuzz.seed", 20261202L);

    @TempDir
    Path dir;

    /** A parser under test: reads {@code input} (written to {@code file} for the file parsers). */
    @FunctionalInterface
    interface Target {
        void parse(Path file, byte[] input) throws Exception;
    }

    static Stream<String> targets() {
        return Stream.of("safetensors", "npy", "idx", "idx-gzip", "network", "run-folder");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void onlyDocumentedErrorsEscape(String name) throws Exception {
        List<byte[]> seeds = new ArrayList<>(validSeeds(name));
        seeds.addAll(corpus(name));
        Target target = target(name);
        // The corpus first, unmutated: each once crashed a parser.
        for (int i = 0; i < seeds.size(); i++) {
            check(name, target, seeds.get(i), "seed " + i);
        }
        SplittableRandom rng = new SplittableRandom(SEED ^ name.hashCode());
        long end = System.nanoTime() + (long) (SECONDS * 1e9);
        long iterations = 0;
        while (System.nanoTime() < end) {
            long inputSeed = rng.nextLong();
            byte[] input = Mutator.mutate(seeds.get(Math.floorMod(inputSeed, seeds.size())),
                    new SplittableRandom(inputSeed));
            check(name, target, input, "input seed " + inputSeed);
            iterations++;
        }
        assertTrue(iterations > 0 || SECONDS == 0, name + ": no input was tried");
    }

    private void check(String name, Target target, byte[] input, String label) throws IOException {
        Path file = dir.resolve(name.equals("idx-gzip") ? "input.gz" : "input");
        try {
            target.parse(file, input);
        } catch (IOException | IllegalArgumentException | UncheckedIOException e) {
            String message = e.getMessage();
            if (message == null || message.isBlank() || message.contains("\n")) {
                keepAndFail(name, input, label, "a documented error without a one-line message: " + e);
            }
        } catch (Throwable e) { // everything else is a parser bug, errors of the JVM included
            keepAndFail(name, input, label, e.toString());
        }
    }

    private static void keepAndFail(String name, byte[] input, String label, String what) throws IOException {
        Path kept = Files.createDirectories(Path.of("target", "fuzz-failures"))
                .resolve(name + "-" + label.replace(' ', '-') + ".bin");
        Files.write(kept, input);
        // The report shows control characters escaped: raw ones would corrupt surefire's channel to its fork.
        StringBuilder shown = new StringBuilder();
        what.chars().forEach(c -> shown.append(Character.isISOControl(c) ? String.format("\\x%02x", c)
                : String.valueOf((char) c)));
        fail(name + " (" + label + ", seed " + SEED + "): " + shown + "; input kept in " + kept);
    }

    private Target target(String name) {
        return switch (name) {
            case "safetensors" -> (file, input) -> {
                Files.write(file, input);
                SafeTensors.read(file).close();
            };
            case "npy" -> (file, input) -> {
                Files.write(file, input);
                Npy.read(file).close();
            };
            case "idx" -> (file, input) -> {
                Files.write(file, input);
                Idx.read(file);
            };
            case "idx-gzip" -> (file, input) -> { // the IDX parser behind the decompressor, and the gzip bytes too
                Files.write(file, input.length % 2 == 0 ? gzip(input) : input);
                Idx.read(file);
            };
            case "network" -> (file, input) -> {
                NetworkFile.parse("net.json", new String(input, StandardCharsets.UTF_8), 1).model().close();
            };
            default -> (file, input) -> { // one file, read both as a run's config.json and as its metrics.jsonl
                Path run = Files.createDirectories(dir.resolve("run"));
                Files.write(run.resolve(RunFolder.CONFIG), input);
                Files.write(run.resolve("metrics.jsonl"), input);
                RunFolder.at(run).readMetrics();
                RunFolder.at(run).readConfig();
            };
        };
    }

    /** Valid inputs of each target, written by Retort's own writers (or by hand where it has none). */
    private List<byte[]> validSeeds(String name) throws IOException {
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

    /** The committed regression corpus of a target: every file under src/test/resources/fuzz/{name}/. */
    private static List<byte[]> corpus(String name) throws IOException {
        List<byte[]> inputs = new ArrayList<>();
        String index = "/fuzz/" + name + "/index.txt";
        try (InputStream list = ParserFuzzTest.class.getResourceAsStream(index)) {
            if (list == null) {
                return inputs;
            }
            for (String file : new String(list.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (file.isBlank() || file.startsWith("#")) {
                    continue;
                }
                try (InputStream in = ParserFuzzTest.class.getResourceAsStream("/fuzz/" + name + "/" + file.strip())) {
                    assertTrue(in != null, index + " lists a missing file: " + file);
                    inputs.add(in.readAllBytes());
                }
            }
        }
        return inputs;
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

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(raw);
        }
        return bytes.toByteArray();
    }
}
