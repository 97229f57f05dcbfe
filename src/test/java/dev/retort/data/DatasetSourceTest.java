package dev.retort.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lookup order of docs/formats.md, and downloads from a loopback HTTP server serving fixtures: a good copy
 * lands in the cache, a corrupted one is refused naming both hashes, a 404 names the URL, and a refused
 * connection says what to install. Nothing here contacts any address but 127.0.0.1.
 */
class DatasetSourceTest {
    @TempDir
    Path dir;

    private HttpServer server;
    private final Map<String, byte[]> served = new HashMap<>();
    private final List<String> requested = new ArrayList<>();

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            synchronized (requested) {
                requested.add(path);
            }
            byte[] body = served.get(path);
            if (body == null) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private String base(String folder) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + folder + "/";
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(raw);
        }
        return bytes.toByteArray();
    }

    private static byte[] idx(int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(0x00000800 | dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        return b.array();
    }

    private static String sha256(byte[] bytes) throws IOException {
        Path scratch = Files.createTempFile("retort-sha", ".bin");
        try {
            return DatasetSource.copyHashing(new ByteArrayInputStream(bytes), scratch);
        } finally {
            Files.delete(scratch);
        }
    }

    /** Four tiny Fashion-MNIST-shaped IDX gz files, served under /{folder}/, and a spec pinning their hashes. */
    private DatasetSource.Spec serveFashion(String folder) throws IOException {
        Map<String, byte[]> files = new java.util.LinkedHashMap<>();
        files.put("train-images-idx3-ubyte.gz", gzip(idx(new int[] {3, 2, 2}, new byte[12])));
        files.put("train-labels-idx1-ubyte.gz", gzip(idx(new int[] {3}, new byte[] {1, 2, 9})));
        files.put("t10k-images-idx3-ubyte.gz", gzip(idx(new int[] {1, 2, 2}, new byte[4])));
        files.put("t10k-labels-idx1-ubyte.gz", gzip(idx(new int[] {1}, new byte[] {7})));
        List<DatasetSource.RemoteFile> pins = new ArrayList<>();
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            served.put("/" + folder + "/" + f.getKey(), f.getValue());
            pins.add(new DatasetSource.RemoteFile(f.getKey(), sha256(f.getValue())));
        }
        return DatasetSource.FASHION_MNIST.withDownloads(pins);
    }

    /** The machine may have Debian's package installed: tests search a stand-in system folder instead. */
    private DatasetSource source(DatasetSource.Spec spec, Path explicit, String retortData, String mirror) {
        return new DatasetSource(spec.withSystemFolders(List.of(system())), explicit, retortData, dir.resolve("cache"), mirror, Duration.ofSeconds(5),
                message -> { });
    }

    private Path system() {
        return dir.resolve("system-datasets");
    }

    private static List<String> listing(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aGoodDownloadLandsInTheCacheAndLoads() throws IOException {
        DatasetSource source = source(serveFashion("fm"), null, null, base("fm"));
        Path found = source.locate();
        assertEquals(dir.resolve("cache").resolve("fashion-mnist"), found);
        assertEquals(List.of("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                "train-labels-idx1-ubyte.gz"), listing(found), "no temporary files left");
        assertArrayEquals(new int[] {1, 2, 9}, FashionMnist.train(found).labels());
        // A second lookup finds the cache and downloads nothing.
        int before = requested.size();
        assertEquals(found, source(serveFashion("fm"), null, null, base("nothing-here")).locate());
        assertEquals(before, requested.size());
    }

    @Test
    void aCorruptedDownloadIsRefusedWithBothHashesAndLeavesNoFile() throws IOException {
        DatasetSource.Spec spec = serveFashion("bad");
        String path = "/bad/train-labels-idx1-ubyte.gz";
        byte[] corrupt = served.get(path).clone();
        corrupt[corrupt.length / 2] ^= 0x40;
        served.put(path, corrupt);
        String expected = spec.downloads().get(1).sha256();
        IOException e = assertThrows(IOException.class, () -> source(spec, null, null, base("bad")).locate());
        String m = e.getMessage();
        assertTrue(m.contains(expected) && m.contains(sha256(corrupt)) && m.contains(base("bad")
                + "train-labels-idx1-ubyte.gz"), m);
        Path cache = dir.resolve("cache").resolve("fashion-mnist");
        assertFalse(Files.exists(cache.resolve("train-labels-idx1-ubyte.gz")));
        assertEquals(List.of("train-images-idx3-ubyte.gz"), listing(cache), "only the verified file, no .part");
    }

    @Test
    void aMissingFileNamesTheUrlAndStatus() throws IOException {
        DatasetSource.Spec spec = serveFashion("fm");
        served.remove("/fm/t10k-images-idx3-ubyte.gz");
        IOException e = assertThrows(IOException.class, () -> source(spec, null, null, base("fm")).locate());
        assertTrue(e.getMessage().contains(base("fm") + "t10k-images-idx3-ubyte.gz")
                && e.getMessage().contains("404"), e.getMessage());
    }

    @Test
    void aRefusedConnectionSaysWhereItLookedAndWhatToInstall() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String mirror = "http://127.0.0.1:" + port + "/";
        Path env = Files.createDirectory(dir.resolve("env"));
        DatasetSource source = source(DatasetSource.FASHION_MNIST, null, env.toString(), mirror);
        IOException e = assertThrows(IOException.class, source::locate);
        String m = e.getMessage();
        assertTrue(m.contains("apt-get install dataset-fashion-mnist") && m.contains("--data DIR")
                && m.contains(env.toString()) && m.contains(dir.resolve("cache").resolve("fashion-mnist").toString())
                && m.contains(system().toString()) && m.contains("offline")
                && m.contains(mirror + "train-images-idx3-ubyte.gz"), m);
    }

    @Test
    void lookupOrderIsRetortDataThenCacheAndExplicitFolderIsNeverReplaced() throws IOException {
        DatasetSource.Spec spec = serveFashion("fm");
        Path cache = Files.createDirectories(dir.resolve("cache").resolve("fashion-mnist"));
        Path env = Files.createDirectories(dir.resolve("env"));
        Path envNamed = Files.createDirectories(env.resolve("fashion-mnist"));
        DatasetSource bare = source(spec, null, env.toString(), base("none"));
        assertEquals(List.of(envNamed, env, cache, system()), bare.candidates());
        assertEquals(List.of(Path.of("/usr/share/datasets/fashion-mnist")),
                DatasetSource.FASHION_MNIST.systemFolders(), "Debian's dataset-fashion-mnist folder is searched");
        for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte"}) {
            Files.write(cache.resolve(f + ".gz"), new byte[0]);
            Files.write(env.resolve(f), new byte[0]);
        }
        assertEquals(env, bare.findLocal());
        assertEquals(cache, source(spec, null, null, base("none")).findLocal());
        Path empty = Files.createDirectory(dir.resolve("explicit"));
        IOException e = assertThrows(IOException.class, () -> source(spec, empty, env.toString(), base("fm")).locate());
        assertTrue(e.getMessage().contains("--data " + empty), e.getMessage());
        assertTrue(requested.isEmpty(), "nothing downloaded: " + requested);
    }

    @Test
    void cifarTarballIsVerifiedAndUnpackedFlatIntoTheCache() throws IOException {
        Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
        entries.put("cifar-10-batches-bin/", null);
        for (int i = 1; i <= 5; i++) {
            entries.put("cifar-10-batches-bin/data_batch_" + i + ".bin", Cifar10Test.records(i, 0));
        }
        entries.put("cifar-10-batches-bin/test_batch.bin", Cifar10Test.records(9));
        entries.put("cifar-10-batches-bin/batches.meta.txt", "airplane\n".getBytes(StandardCharsets.US_ASCII));
        entries.put("cifar-10-batches-bin/readme.html", new byte[700]);
        byte[] archive = gzip(tar(entries));
        served.put("/cifar/" + DatasetSource.CIFAR_ARCHIVE, archive);
        DatasetSource.Spec spec = DatasetSource.CIFAR_10.withDownloads(
                List.of(new DatasetSource.RemoteFile(DatasetSource.CIFAR_ARCHIVE, sha256(archive))));
        Path found = source(spec, null, null, base("cifar")).locate();
        assertEquals(dir.resolve("cache").resolve("cifar-10"), found);
        assertEquals(List.of("batches.meta.txt", "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"), listing(found));
        assertArrayEquals(new int[] {1, 0, 2, 0, 3, 0, 4, 0, 5, 0}, Cifar10.train(found).labels());
    }

    @Test
    void aCorruptTarHeaderNamesTheArchiveAndEntry() throws IOException {
        Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
        entries.put("x/data_batch_1.bin", new byte[10]);
        byte[] t = tar(entries);
        t[130] = '9'; // inside the octal size field
        Path bad = dir.resolve("bad.tar.gz");
        Files.write(bad, gzip(t));
        IOException e = assertThrows(IOException.class, () -> Tar.extractGzip(bad, dir, n -> true));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("x/data_batch_1.bin")
                && e.getMessage().contains("size"), e.getMessage());
        byte[] cut = Arrays.copyOf(tar(entries), 512 + 5);
        Files.write(bad, gzip(cut));
        e = assertThrows(IOException.class, () -> Tar.extractGzip(bad, dir, n -> true));
        assertTrue(e.getMessage().contains("declares 10 bytes"), e.getMessage());
    }

    @Test
    void unknownDatasetNamesTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DatasetSource.spec("imagenet"));
        assertTrue(e.getMessage().contains("imagenet") && e.getMessage().contains("cifar-10"), e.getMessage());
        assertNull(source(DatasetSource.MNIST, null, null, null).holding(dir));
    }

    /** A ustar archive: null content makes a directory entry. */
    static byte[] tar(Map<String, byte[]> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            byte[] content = e.getValue() == null ? new byte[0] : e.getValue();
            byte[] h = new byte[512];
            put(h, 0, e.getKey());
            put(h, 100, "0000644");
            put(h, 108, "0000000");
            put(h, 116, "0000000");
            put(h, 124, String.format("%011o", content.length));
            put(h, 136, "00000000000");
            h[156] = (byte) (e.getValue() == null ? '5' : '0');
            put(h, 257, "ustar");
            put(h, 263, "00");
            Arrays.fill(h, 148, 156, (byte) ' ');
            int sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            put(h, 148, String.format("%06o", sum));
            h[154] = 0;
            out.writeBytes(h);
            out.writeBytes(content);
            out.writeBytes(new byte[(512 - content.length % 512) % 512]);
        }
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    private static void put(byte[] h, int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, at, b.length);
    }
}
