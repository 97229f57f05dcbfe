package dev.retort.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

/**
 * The fuzzing loop of the parser fuzz tests: the committed regression corpus and valid seeds first, then
 * seeded {@link Mutator} mutations of them for a bounded time. The contract it checks: an input is read, or
 * refused with an {@link IOException} (a format error) or {@link IllegalArgumentException} whose message is one
 * line; anything else escaping — an index or size error, a null pointer, running out of memory or stack — fails
 * the test, and the input is kept under {@code target/fuzz-failures/} to replay.
 *
 * <p>{@code -Dretort.fuzz.seconds=N} sets each target's time (default 4); {@code -Dretort.fuzz.seed=S} starts
 * elsewhere. Both are for runs by hand ({@code mvn -B surefire:test@default-test -Dtest=ParserFuzzTest,TarFuzzTest
 * -Dretort.fuzz.seconds=30 -Dretort.fuzz.seed=$(date +%s)}); CI fuzzes longer with Jazzer ({@code .ci/jazzer-fuzz}).
 */
public final class Fuzzer {
    public static final double SECONDS = Double.parseDouble(System.getProperty("retort.fuzz.seconds", "4"));
    public static final long SEED = Long.getLong("retort.fuzz.seed", 20261202L);

    /** A parser under test, given one input. */
    @FunctionalInterface
    public interface Target {
        void parse(byte[] input) throws Exception;
    }

    private Fuzzer() {}

    /** Runs {@code target} on {@code seeds} and the corpus of {@code name}, then on mutations of them. */
    public static void fuzz(String name, List<byte[]> seeds, Target target) throws IOException {
        List<byte[]> all = new ArrayList<>(seeds);
        all.addAll(corpus(name));
        for (int i = 0; i < all.size(); i++) {
            check(name, target, all.get(i), "seed " + i);
        }
        SplittableRandom rng = new SplittableRandom(SEED ^ name.hashCode());
        long end = System.nanoTime() + (long) (SECONDS * 1e9);
        long iterations = 0;
        while (System.nanoTime() < end) {
            long inputSeed = rng.nextLong();
            byte[] input = Mutator.mutate(all.get(Math.floorMod(inputSeed, all.size())), new SplittableRandom(inputSeed));
            check(name, target, input, "input seed " + inputSeed);
            iterations++;
        }
        assertTrue(iterations > 0 || SECONDS == 0, name + ": no input was tried");
    }

    private static void check(String name, Target target, byte[] input, String label) throws IOException {
        try {
            parse(target, input);
        } catch (UndocumentedError e) {
            keepAndFail(name, input, label, e.getMessage());
        } catch (Throwable e) { // everything else is a parser bug, errors of the JVM included
            keepAndFail(name, input, label, e.toString());
        }
    }

    /**
     * The contract on one input, for this loop and for the Jazzer targets ({@code JazzerParserFuzzTest}):
     * {@code target} reads {@code input}, or refuses it with an {@link IOException}, {@link UncheckedIOException}
     * or {@link IllegalArgumentException} whose message is one line, and this returns. Anything else escapes as
     * it was thrown (a parser bug, errors of the JVM included), or as an {@link UndocumentedError} where a
     * documented error had no one-line message.
     */
    public static void parse(Target target, byte[] input) throws Throwable {
        try {
            target.parse(input);
        } catch (IOException | IllegalArgumentException | UncheckedIOException e) {
            String message = e.getMessage();
            if (message == null || message.isBlank() || message.contains("\n")) {
                throw new UndocumentedError("a documented error without a one-line message: " + e, e);
            }
        }
    }

    /** A documented exception type that broke the one-line-message part of the contract. */
    public static final class UndocumentedError extends AssertionError {
        private static final long serialVersionUID = 1L;

        UndocumentedError(String message, Throwable cause) {
            super(message, cause);
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

    /** {@code raw} gzip-compressed: targets that read gzip fuzz both the compressed bytes and what is inside. */
    public static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(raw);
        }
        return bytes.toByteArray();
    }

    /** The committed regression corpus of a target: the files listed in src/test/resources/fuzz/{name}/index.txt. */
    private static List<byte[]> corpus(String name) throws IOException {
        return new ArrayList<>(corpusFiles(name).values());
    }

    /** {@link #corpus} by file name, in the order of the index. */
    public static Map<String, byte[]> corpusFiles(String name) throws IOException {
        Map<String, byte[]> inputs = new LinkedHashMap<>();
        String index = "/fuzz/" + name + "/index.txt";
        try (InputStream list = Fuzzer.class.getResourceAsStream(index)) {
            if (list == null) {
                return inputs;
            }
            for (String file : new String(list.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (file.isBlank() || file.startsWith("#")) {
                    continue;
                }
                try (InputStream in = Fuzzer.class.getResourceAsStream("/fuzz/" + name + "/" + file.strip())) {
                    assertTrue(in != null, index + " lists a missing file: " + file);
                    inputs.put(file.strip(), in.readAllBytes());
                }
            }
        }
        return inputs;
    }
}
