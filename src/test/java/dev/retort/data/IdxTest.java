package dev.retort.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The IDX reader reads raw and gzip files and rejects malformed ones naming the file and the field. */
class IdxTest {
    @TempDir
    Path dir;

    /** An IDX file of unsigned bytes: magic 0x000008rr, big-endian dimensions, then the data. */
    private static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        return b.array();
    }

    private static byte[] idx(int[] dims, byte[] data) {
        return idx(0x00000800 | dims.length, dims, data);
    }

    private static byte[] counting(int n) {
        byte[] data = new byte[n];
        for (int i = 0; i < n; i++) {
            data[i] = (byte) (i * 37 + 200);
        }
        return data;
    }

    private Path write(String name, byte[] content) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, content);
        return file;
    }

    private Path writeGzip(String name, byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(content);
        }
        return write(name, bytes.toByteArray());
    }

    @Test
    void readsARawFile() throws IOException {
        byte[] data = counting(2 * 3 * 4);
        Idx.Array a = Idx.read(write("images-idx3-ubyte", idx(new int[] {2, 3, 4}, data)));
        assertArrayEquals(new int[] {2, 3, 4}, a.shape());
        assertArrayEquals(data, a.data());
    }

    @Test
    void readsAGzipFile() throws IOException {
        byte[] data = counting(5);
        Idx.Array a = Idx.read(writeGzip("labels-idx1-ubyte.gz", idx(new int[] {5}, data)));
        assertArrayEquals(new int[] {5}, a.shape());
        assertArrayEquals(data, a.data());
        byte[] big = counting(7 * 11 * 13 * 3);
        Idx.Array b = Idx.read(writeGzip("rank4.gz", idx(new int[] {7, 11, 13, 3}, big)));
        assertArrayEquals(new int[] {7, 11, 13, 3}, b.shape());
        assertArrayEquals(big, b.data());
    }

    @Test
    void gzipIsRecognisedByContentNotName() throws IOException {
        byte[] data = counting(6);
        assertArrayEquals(data, Idx.read(writeGzip("no-suffix", idx(new int[] {2, 3}, data))).data());
        assertArrayEquals(data, Idx.read(write("raw.gz", idx(new int[] {2, 3}, data))).data());
    }

    @Test
    void rejectsAWrongMagicNumber() throws IOException {
        Path f = write("bad-magic", idx(0x01000801, new int[] {3}, counting(3)));
        assertMessage(f, "magic number");
        Path floats = write("float-type", idx(0x00000D01, new int[] {3}, counting(12)));
        assertMessage(floats, "magic number", "unsigned bytes");
        Path gz = writeGzip("bad-magic.gz", idx(0x00000901, new int[] {3}, counting(3)));
        assertMessage(gz, "magic number");
    }

    @Test
    void rejectsRankZeroAndRankFive() throws IOException {
        assertMessage(write("rank0", idx(0x00000800, new int[0], new byte[0])), "rank 0");
        assertMessage(write("rank5", idx(0x00000805, new int[] {1, 1, 1, 1, 1}, new byte[1])), "rank 5");
    }

    @Test
    void rejectsZeroOrNegativeDimensions() throws IOException {
        assertMessage(write("zero-dim", idx(new int[] {2, 0, 3}, new byte[0])), "dimension 1", "0");
        assertMessage(write("negative-dim", idx(new int[] {-4}, new byte[0])), "dimension 0", "-4");
    }

    @Test
    void rejectsAHeaderDeclaringTooManyElements() throws IOException {
        assertMessage(write("huge", idx(new int[] {65536, 65536}, new byte[0])), "header", "2^31");
    }

    @Test
    void rejectsATruncatedHeader() throws IOException {
        assertMessage(write("empty", new byte[0]), "magic number");
        assertMessage(write("two-bytes", new byte[] {0, 0}), "magic number");
        byte[] full = idx(new int[] {2, 3, 4}, counting(24));
        assertMessage(write("cut-in-dims", Arrays.copyOf(full, 4 + 4 + 2)), "dimension 1", "header");
        byte[] gz = idx(new int[] {2, 3, 4}, counting(24));
        assertMessage(writeGzip("cut-in-dims.gz", Arrays.copyOf(gz, 4 + 4 * 2)), "dimension 2", "header");
    }

    @Test
    void rejectsTruncatedData() throws IOException {
        byte[] full = idx(new int[] {2, 3, 4}, counting(24));
        assertMessage(write("short", Arrays.copyOf(full, full.length - 5)), "truncated data", "24", "19");
        assertMessage(writeGzip("short.gz", Arrays.copyOf(full, full.length - 1)), "truncated data", "23");
    }

    @Test
    void aHeaderClaimingMoreThanTheFileHoldsIsRefusedBeforeAllocating() throws IOException {
        // 37 bytes of gzip claiming 2.7 million images: refused from the gzip trailer, not by running out of memory.
        Path gz = writeGzip("claims.gz", idx(new int[] {2_700_000, 28, 28}, new byte[0]));
        assertMessage(gz, "truncated data", "2116800000 bytes", "the gzip stream holds 0");
        Path raw = write("claims", idx(new int[] {2_700_000, 28, 28}, new byte[3]));
        assertMessage(raw, "truncated data", "file holds 3");
    }

    /** Run as a child JVM with a small heap: reads args[0] and prints the error, or "read" when it loaded. */
    public static void main(String[] args) {
        try {
            Idx.read(Path.of(args[0]));
            System.out.println("read");
        } catch (IOException e) {
            System.out.println(e.getMessage());
        }
    }

    @Test
    void aGzipBombLargerThanTheHeapIsRefusedBeforeAllocating() throws Exception {
        // 256 MiB of zeros, truly in the stream (its trailer agrees), about 250 KB on disk; the reader runs with 64 MiB.
        int[] dims = {4096, 256, 256};
        long total = (long) dims[0] * dims[1] * dims[2];
        Path bomb = dir.resolve("bomb.gz");
        try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(bomb), 1 << 16)) {
            gz.write(idx(dims, new byte[0]));
            byte[] zeros = new byte[1 << 20];
            for (long left = total; left > 0; left -= zeros.length) {
                gz.write(zeros, 0, (int) Math.min(zeros.length, left));
            }
        }
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(javaBin, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                IdxTest.class.getName(), bomb.toString()).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(child.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), output);
        assertTrue(output.contains(bomb + ": holds 256 MiB of data, more than the"), output);
        assertTrue(output.contains("MiB of Java heap left"), output);
    }

    @Test
    void rejectsTrailingBytes() throws IOException {
        byte[] full = idx(new int[] {2, 3}, counting(6));
        assertMessage(write("long", Arrays.copyOf(full, full.length + 1)), "trailing bytes");
        assertMessage(writeGzip("long.gz", Arrays.copyOf(full, full.length + 3)), "trailing bytes");
    }

    @Test
    void rejectsACorruptGzipStream() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(idx(new int[] {100}, counting(100)));
        }
        byte[] cut = Arrays.copyOf(bytes.toByteArray(), bytes.size() / 2);
        assertMessage(write("cut.gz", cut));
    }

    @Test
    void aGzipFileCutShortIsCalledTruncatedWhereverItIsCut() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(idx(new int[] {40, 28, 28}, randomBytes(40 * 28 * 28)));
        }
        byte[] full = bytes.toByteArray();
        // Cut in half, its last four bytes are compressed data, not the trailer's size: the size must not be quoted.
        Path half = write("half.gz", Arrays.copyOf(full, full.length / 2));
        assertMessage(half, "truncated: the gzip stream stops after", "of the 31360 data bytes its header declares "
                + "([40, 28, 28])", "cut short");
        for (int cut = 2; cut < full.length; cut += 7) {
            assertMessage(write("cut.gz", Arrays.copyOf(full, cut)), "truncated");
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new java.util.Random(4).nextBytes(b);
        return b;
    }

    @Test
    void aMissingFileIsNamed() {
        Path f = dir.resolve("absent-idx1-ubyte");
        IOException e = assertThrows(IOException.class, () -> Idx.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    /** The read fails with a message that names the file and contains each fragment. */
    private static void assertMessage(Path file, String... fragments) {
        IOException e = assertThrows(IOException.class, () -> Idx.read(file), file.toString());
        String m = e.getMessage();
        assertTrue(m != null && m.contains(file.toString()), "message does not name the file: " + m);
        for (String f : fragments) {
            assertTrue(m.contains(f), "message lacks '" + f + "': " + m);
        }
    }
}
