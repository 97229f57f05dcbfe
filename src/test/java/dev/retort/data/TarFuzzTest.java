package dev.retort.data;

import dev.retort.testing.Fuzzer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes the CIFAR-10 tarball's way in: {@link Tar} unpacking a gzip'd ustar archive, then {@link Cifar10} records.
 * Public for {@code dev.retort.fuzz.JazzerParserFuzzTest}, which fuzzes the same target with Jazzer.
 */
public class TarFuzzTest {
    @TempDir
    Path dir;

    @Test
    void onlyDocumentedErrorsEscape() throws IOException {
        Fuzzer.fuzz("cifar-tar", seeds(), target(dir));
    }

    /** A valid archive of two records, gzip'd and not. */
    public static List<byte[]> seeds() throws IOException {
        byte[] records = new byte[2 * Cifar10.RECORD];
        records[Cifar10.RECORD] = 7; // the second record's label
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("cifar-10-batches-bin/", null);
        entries.put("cifar-10-batches-bin/data_batch_1.bin", records);
        entries.put("cifar-10-batches-bin/readme.html", "<p>".getBytes(StandardCharsets.UTF_8));
        byte[] tar = DatasetSourceTest.tar(entries);
        return List.of(Fuzzer.gzip(tar), tar);
    }

    /** The target, unpacking into a folder of {@code dir} and emptying it again after each input. */
    public static Fuzzer.Target target(Path dir) throws IOException {
        Path archive = dir.resolve("cifar.tar.gz");
        Path into = Files.createDirectories(dir.resolve("out"));
        return input -> {
            // Even inputs are fuzzed inside the compression, odd ones as the gzip bytes themselves.
            Files.write(archive, input.length % 2 == 0 ? Fuzzer.gzip(input) : input);
            try {
                List<Path> bins = new ArrayList<>();
                for (Path f : Tar.extractGzip(archive, into, name -> name.endsWith(".bin") || name.endsWith(".txt"))) {
                    if (f.toString().endsWith(".bin")) {
                        bins.add(f);
                    }
                }
                if (!bins.isEmpty()) {
                    Cifar10.read(bins);
                }
            } finally {
                try (var left = Files.list(into)) {
                    for (Path p : (Iterable<Path>) left::iterator) {
                        Files.delete(p);
                    }
                }
            }
        };
    }
}
