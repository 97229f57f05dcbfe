package dev.retort.data;

import dev.retort.testing.Fuzzer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fuzzes the CIFAR-10 tarball's way in: {@link Tar} unpacking a gzip'd ustar archive, then {@link Cifar10} records. */
class TarFuzzTest {
    @TempDir
    Path dir;

    @Test
    void onlyDocumentedErrorsEscape() throws IOException {
        Path archive = dir.resolve("cifar.tar.gz");
        Path into = Files.createDirectories(dir.resolve("out"));
        byte[] records = new byte[2 * Cifar10.RECORD];
        records[Cifar10.RECORD] = 7; // the second record's label
        byte[] tar = concat(entry("cifar-10-batches-bin/data_batch_1.bin", records),
                entry("cifar-10-batches-bin/readme.html", "<p>".getBytes(StandardCharsets.UTF_8)), new byte[1024]);
        Fuzzer.fuzz("cifar-tar", List.of(gzip(tar), tar), input -> {
            // Even inputs are fuzzed inside the compression, odd ones as the gzip bytes themselves.
            Files.write(archive, input.length % 2 == 0 ? gzip(input) : input);
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
        });
    }

    /** One ustar entry: a 512-byte header with the checksum filled in, then the data padded to 512 bytes. */
    private static byte[] entry(String name, byte[] data) {
        byte[] header = new byte[512];
        put(header, 0, name);
        put(header, 100, "0000644");
        put(header, 108, "0000000");
        put(header, 116, "0000000");
        put(header, 124, String.format("%011o", data.length));
        put(header, 136, "00000000000");
        header[156] = '0';
        put(header, 257, "ustar");
        put(header, 263, "00");
        Arrays.fill(header, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        put(header, 148, String.format("%06o", sum));
        header[154] = 0;
        byte[] padded = Arrays.copyOf(data, (data.length + 511) / 512 * 512);
        return concat(header, padded);
    }

    private static void put(byte[] header, int at, String text) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, header, at, b.length);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(raw);
        }
        return bytes.toByteArray();
    }
}
