package dev.retort.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.retort.data.TarFuzzTest;
import dev.retort.testing.Fuzzer;
import dev.retort.train.RunFolder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing of the parsers of outside input with Jazzer, beside the seeded loop of
 * {@link ParserFuzzTest} and {@code TarFuzzTest}: the same targets, the same contract ({@link Fuzzer#parse}: an
 * input is read, or refused with an {@link IOException}, {@link UncheckedIOException} or
 * {@link IllegalArgumentException} whose message is one line; anything else escaping is a finding) and the same
 * seeds: the valid files of each target and the committed regression corpus under {@code src/test/resources/fuzz/}.
 *
 * <p>In {@code mvn test} every {@code @FuzzTest} runs in Jazzer's regression mode: once on each seed, on the empty
 * input, and on each file under {@code src/test/resources/dev/retort/fuzz/JazzerParserFuzzTestInputs/<method>/},
 * where Jazzer writes what it finds ({@code crash-<sha1>}; committed once fixed, it stays a regression test). With
 * {@code JAZZER_FUZZ=1} the one selected target is fuzzed for its {@code maxDuration}; {@code .ci/run} does so for
 * each, one JVM apiece:
 * {@code JAZZER_FUZZ=1 mvn -B surefire:test@default-test -Dtest='JazzerParserFuzzTest#npy'}.
 */
class JazzerParserFuzzTest {
    /** How long each target fuzzes under {@code JAZZER_FUZZ=1}; no effect in regression mode. */
    private static final String DURATION = "25s";

    @TempDir
    Path dir;

    @MethodSource("safetensorsSeeds")
    @FuzzTest(maxDuration = DURATION)
    void safetensors(byte[] input) throws Throwable {
        Fuzzer.parse(ParserFuzzTest.target("safetensors", dir), input);
    }

    @MethodSource("npySeeds")
    @FuzzTest(maxDuration = DURATION)
    void npy(byte[] input) throws Throwable {
        Fuzzer.parse(ParserFuzzTest.target("npy", dir), input);
    }

    @MethodSource("idxSeeds")
    @FuzzTest(maxDuration = DURATION)
    void idx(byte[] input) throws Throwable {
        Fuzzer.parse(ParserFuzzTest.target("idx", dir), input);
    }

    /** A {@code .gz} IDX file: inputs of even length are gzip'd first, so both the gzip bytes and what is inside are fuzzed. */
    @MethodSource("idxGzipSeeds")
    @FuzzTest(maxDuration = DURATION)
    void idxGzip(byte[] input) throws Throwable {
        Fuzzer.parse(ParserFuzzTest.target("idx-gzip", dir), input);
    }

    /** The CIFAR-10 tarball: unpacked, then its records read (even-length inputs gzip'd first, as above). */
    @MethodSource("cifarTarSeeds")
    @FuzzTest(maxDuration = DURATION)
    void cifarTar(byte[] input) throws Throwable {
        Fuzzer.parse(TarFuzzTest.target(dir), input);
    }

    @MethodSource("networkSeeds")
    @FuzzTest(maxDuration = DURATION)
    void network(byte[] input) throws Throwable {
        Fuzzer.parse(ParserFuzzTest.target("network", dir), input);
    }

    /** A run folder's {@code config.json}, as {@code --resume} reads it. */
    @MethodSource("runFolderSeeds")
    @FuzzTest(maxDuration = DURATION)
    void config(byte[] input) throws Throwable {
        Path run = Files.createDirectories(dir.resolve("run"));
        Fuzzer.parse(in -> {
            Files.write(run.resolve(RunFolder.CONFIG), in);
            RunFolder.at(run).readConfig();
        }, input);
    }

    /** A run folder's {@code metrics.jsonl}, as {@code --resume} and the reports read it. */
    @MethodSource("runFolderSeeds")
    @FuzzTest(maxDuration = DURATION)
    void metrics(byte[] input) throws Throwable {
        Path run = Files.createDirectories(dir.resolve("run"));
        Fuzzer.parse(in -> {
            Files.write(run.resolve("metrics.jsonl"), in);
            RunFolder.at(run).readMetrics();
        }, input);
    }

    static Stream<Arguments> safetensorsSeeds() throws IOException {
        return seeds("safetensors");
    }

    static Stream<Arguments> npySeeds() throws IOException {
        return seeds("npy");
    }

    static Stream<Arguments> idxSeeds() throws IOException {
        return seeds("idx");
    }

    static Stream<Arguments> idxGzipSeeds() throws IOException {
        return seeds("idx-gzip");
    }

    static Stream<Arguments> networkSeeds() throws IOException {
        return seeds("network");
    }

    static Stream<Arguments> runFolderSeeds() throws IOException {
        return seeds("run-folder");
    }

    static Stream<Arguments> cifarTarSeeds() throws IOException {
        return named("cifar-tar", TarFuzzTest.seeds());
    }

    /** The valid files of a target of {@link ParserFuzzTest}, then its committed corpus. */
    private static Stream<Arguments> seeds(String name) throws IOException {
        Path scratch = Files.createTempDirectory("retort-jazzer-seeds");
        try {
            return named(name, ParserFuzzTest.validSeeds(name, scratch));
        } finally {
            try (Stream<Path> files = Files.walk(scratch)) {
                for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                    Files.delete(p);
                }
            }
        }
    }

    /** Each seed named in the test report: "valid-N", or the corpus file's name. */
    private static Stream<Arguments> named(String name, List<byte[]> valid) throws IOException {
        List<Arguments> all = new ArrayList<>();
        for (int i = 0; i < valid.size(); i++) {
            all.add(Arguments.of(Named.of("valid-" + (i + 1), valid.get(i))));
        }
        for (Map.Entry<String, byte[]> e : Fuzzer.corpusFiles(name).entrySet()) {
            all.add(Arguments.of(Named.of(e.getKey(), e.getValue())));
        }
        return all.stream();
    }
}
