package dev.retort.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.retort.backend.DType;
import dev.retort.tensor.Tensor;
import dev.retort.testing.MiniJson;
import dev.retort.testing.ScopePerTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** SafeTensors reads what PyTorch writes, writes what it reads, and rejects broken files naming file and field. */
@ExtendWith(ScopePerTest.class)
class SafeTensorsTest {
    @TempDir
    Path dir;

    /** A safetensors file from a header given as JSON text and the raw data after it. */
    static byte[] craft(String headerJson, byte[] data) {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).put(data).array();
    }

    static byte[] littleEndian(int bytesPerValue, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * bytesPerValue).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (bytesPerValue) {
                case 2 -> b.putShort((short) v);
                case 4 -> b.putInt((int) v);
                case 8 -> b.putLong(v);
                default -> throw new IllegalArgumentException();
            }
        }
        return b.array();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    // ---- round trips --------------------------------------------------------------------------

    @Test
    void theSameMetadataInAnyMapOrderGivesTheSameBytes() throws IOException {
        Map<String, Tensor> tensors = Map.of("w", Tensor.of(new float[] {1f, 2f}, 2));
        Map<String, String> forward = new LinkedHashMap<>();
        Map<String, String> backward = new LinkedHashMap<>();
        for (String key : List.of("epoch", "format", "model", "step")) {
            forward.put(key, key + "-value");
        }
        for (String key : List.of("step", "model", "format", "epoch")) {
            backward.put(key, key + "-value");
        }
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        SafeTensors.write(a, tensors, forward);
        SafeTensors.write(b, tensors, backward);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    @Test
    void roundTripKeepsEveryDtypeShapeOrderAndMetadata() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("z.weight", Tensor.of(new float[] {1.5f, -2f, Float.MIN_VALUE, Float.MAX_VALUE, -0f, 3e-8f}, 2, 3));
        tensors.put("a.double", Tensor.of(new double[] {Math.PI, -1e300, 4.9e-324}, 3));
        tensors.put("m.ints", Tensor.ofInts(new int[] {Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE}, 2, 1, 2));
        tensors.put("scalar", Tensor.of(new float[] {7f}));
        tensors.put("empty", Tensor.of(new float[0], 0, 4));
        Map<String, String> metadata = Map.of("format", "pt", "note", "héllo \"quoted\"");
        Path p = dir.resolve("all.safetensors");
        SafeTensors.write(p, tensors, metadata);
        try (SafeTensors.Contents c = SafeTensors.read(p)) {
            assertEquals(List.copyOf(tensors.keySet()), List.copyOf(c.tensors().keySet()), "order of names");
            assertEquals(metadata, c.metadata());
            for (var e : tensors.entrySet()) {
                Tensor back = c.tensors().get(e.getKey());
                assertEquals(e.getValue().dtype(), back.dtype(), e.getKey());
                assertArrayEquals(e.getValue().shape(), back.shape(), e.getKey());
            }
            assertArrayEquals(tensors.get("z.weight").toFloatArray(), c.tensors().get("z.weight").toFloatArray());
            assertArrayEquals(tensors.get("a.double").toDoubleArray(), c.tensors().get("a.double").toDoubleArray());
            assertArrayEquals(tensors.get("m.ints").toIntArray(), c.tensors().get("m.ints").toIntArray());
            assertArrayEquals(new float[] {7f}, c.tensors().get("scalar").toFloatArray());
        }
    }

    @Test
    void writtenFileFollowsTheFormatByteForByte() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", Tensor.of(new float[] {1f, 2f}, 2));
        tensors.put("i", Tensor.ofInts(new int[] {-3}, 1));
        Path p = dir.resolve("w.safetensors");
        SafeTensors.write(p, tensors, Map.of("k", "v"));
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) b.getLong(0);
        assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");
        String json = new String(b.array(), 8, n, StandardCharsets.UTF_8);
        @SuppressWarnings("unchecked")
        Map<String, Object> header = (Map<String, Object>) MiniJson.parse(json.strip());
        assertEquals(Map.of("k", "v"), header.get("__metadata__"));
        assertEquals(Map.of("dtype", "F32", "shape", List.of(2.0), "data_offsets", List.of(0.0, 8.0)), header.get("w"));
        assertEquals(Map.of("dtype", "I32", "shape", List.of(1.0), "data_offsets", List.of(8.0, 12.0)), header.get("i"));
        assertEquals(8 + n + 12, b.capacity());
        assertEquals(1f, b.getFloat(8 + n));
        assertEquals(2f, b.getFloat(8 + n + 4));
        assertEquals(-3, b.getInt(8 + n + 8));
    }

    // ---- conversions --------------------------------------------------------------------------

    @Test
    void float16ConvertsToKnownFloat32Values() throws IOException {
        long[] bits = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x3555, 0x8000, 0x7c00, 0xfc00, 0x7e00};
        float[] expected = {1f, -2f, 65504f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, 0.333251953125f, -0f,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        Path p = file("h.safetensors", craft("{\"h\":{\"dtype\":\"F16\",\"shape\":[11],\"data_offsets\":[0,22]}}",
                littleEndian(2, bits)));
        try (SafeTensors.Contents c = SafeTensors.read(p)) {
            Tensor h = c.tensors().get("h");
            assertEquals(DType.FLOAT32, h.dtype());
            assertArrayEquals(expected, h.toFloatArray());
        }
    }

    @Test
    void bfloat16ConvertsToKnownFloat32Values() throws IOException {
        long[] bits = {0x3f80, 0xc040, 0x4049, 0x0001, 0x7f7f, 0x8000, 0x7f80, 0x7fc0};
        float[] expected = {1f, -3f, 3.140625f, Float.intBitsToFloat(0x00010000), Float.intBitsToFloat(0x7f7f0000), -0f,
            Float.POSITIVE_INFINITY, Float.NaN};
        Path p = file("b.safetensors", craft("{\"b\":{\"dtype\":\"BF16\",\"shape\":[2,4],\"data_offsets\":[0,16]}}",
                littleEndian(2, bits)));
        try (SafeTensors.Contents c = SafeTensors.read(p)) {
            assertArrayEquals(new int[] {2, 4}, c.tensors().get("b").shape());
            assertArrayEquals(expected, c.tensors().get("b").toFloatArray());
        }
    }

    @Test
    void int64BecomesInt32WhenEveryValueFits() throws IOException {
        Path p = file("i.safetensors", craft("{\"n\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,24]}}",
                littleEndian(8, Integer.MIN_VALUE, 7, Integer.MAX_VALUE)));
        try (SafeTensors.Contents c = SafeTensors.read(p)) {
            assertEquals(DType.INT32, c.tensors().get("n").dtype());
            assertArrayEquals(new int[] {Integer.MIN_VALUE, 7, Integer.MAX_VALUE}, c.tensors().get("n").toIntArray());
        }
    }

    @Test
    void int64OutOfInt32RangeIsRejectedNamingTheTensor() throws IOException {
        Path p = file("big.safetensors", craft("{\"n\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}",
                littleEndian(8, 1, 1L << 31)));
        FileFormatException e = assertThrows(FileFormatException.class, () -> SafeTensors.read(p));
        assertMessage(e, "big.safetensors", "'n'", "2147483648", "int32");
    }

    // ---- validation ---------------------------------------------------------------------------

    static Stream<Arguments> brokenHeaders() {
        String ok = "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]";
        return Stream.of(
                Arguments.of("invalid JSON", "{\"w\":{" + ok + "}", 8, "not valid JSON"),
                Arguments.of("header not an object", "[1, 2]", 8, "must be a JSON object"),
                Arguments.of("entry not an object", "{\"w\":3}", 8, "'w'"),
                Arguments.of("missing dtype", "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'w' has no dtype"),
                Arguments.of("missing shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "'w' has no shape"),
                Arguments.of("missing offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "'w' has no data_offsets"),
                Arguments.of("unknown dtype", "{\"w\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                        "'w'.dtype 'Q7'"),
                Arguments.of("negative dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
                        "'w'.shape[0] is negative"),
                Arguments.of("fractional dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8,
                        "'w'.shape[0] must be an integer"),
                Arguments.of("offsets out of order", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8,
                        "'w'.data_offsets [8,0] are out of order"),
                Arguments.of("offsets not a pair", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
                        "'w'.data_offsets must be [begin, end]"),
                Arguments.of("negative offset", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8,
                        "'w'.data_offsets[0] must be a non-negative"),
                Arguments.of("offsets past the data", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 8,
                        "'w'.data_offsets [0,12] end past the 8 bytes"),
                Arguments.of("byte length mismatch", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
                        "'w'.data_offsets [0,8] span 8 bytes, but F32 x [3] needs 12"),
                Arguments.of("overlap", "{\"a\":{" + ok + "},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                        8, "overlap tensor 'a'"),
                Arguments.of("hole", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
                        "data bytes [0, 4) are not covered"),
                Arguments.of("trailing bytes", "{\"w\":{" + ok + "}}", 12, "trailing bytes: 4 bytes"),
                Arguments.of("duplicate names", "{\"w\":{" + ok + "},\"w\":{" + ok + "}}", 8,
                        "header: duplicate key \"w\" at line 1"),
                Arguments.of("duplicate field of a tensor", "{\"w\":{" + ok + ",\"dtype\":\"F64\"}}", 8,
                        "header: duplicate key \"dtype\""),
                Arguments.of("text after the header's object", "{\"w\":{" + ok + "}} {}", 8,
                        "header: more text after the JSON value at line 1"),
                Arguments.of("non-string metadata", "{\"__metadata__\":{\"epoch\":3},\"w\":{" + ok + "}}", 8,
                        "__metadata__.epoch must be a string"),
                Arguments.of("metadata not an object", "{\"__metadata__\":[],\"w\":{" + ok + "}}", 8,
                        "__metadata__ must be an object"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenHeaders")
    void brokenHeaderIsRejectedNamingFileAndField(String label, String header, int dataBytes, String field)
            throws IOException {
        Path p = file("bad.safetensors", craft(header, new byte[dataBytes]));
        FileFormatException e = assertThrows(FileFormatException.class, () -> SafeTensors.read(p), label);
        assertMessage(e, "bad.safetensors", field);
    }

    @Test
    void fileShorterThanTheLengthFieldIsRejected() throws IOException {
        Path p = file("short.safetensors", new byte[] {1, 2, 3});
        assertMessage(assertThrows(FileFormatException.class, () -> SafeTensors.read(p)), "short.safetensors",
                "header length");
    }

    @Test
    void headerLengthLargerThanTheFileIsRejected() throws IOException {
        byte[] bytes = craft("{}", new byte[0]);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000);
        Path p = file("long.safetensors", bytes);
        assertMessage(assertThrows(FileFormatException.class, () -> SafeTensors.read(p)), "long.safetensors",
                "header length 1000 is larger than the 2 bytes");
    }

    @Test
    void absurdHeaderLengthIsRejectedBeforeAllocating() throws IOException {
        for (long length : new long[] {SafeTensors.MAX_HEADER_BYTES + 1, -1L}) {
            byte[] bytes = craft("{}", new byte[0]);
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
            Path p = file("absurd.safetensors", bytes);
            FileFormatException e = assertThrows(FileFormatException.class, () -> SafeTensors.read(p));
            assertMessage(e, "absurd.safetensors", "header length", "absurd");
            assertFalse(e.getMessage().contains(Long.toUnsignedString(length)), "the file's first bytes are not shown: "
                    + e.getMessage());
        }
    }

    @Test
    void aFileThatIsNotSafetensorsIsRefusedWithoutShowingItsBytes() throws IOException {
        // A text file: its first 8 bytes make an absurd header length, and are not shown as a number.
        Path text = file("passwd", "root:x:0:0:root:/root:/bin/bash\n".getBytes(StandardCharsets.UTF_8));
        FileFormatException e = assertThrows(FileFormatException.class, () -> SafeTensors.read(text));
        assertMessage(e, "passwd", "header length is absurd");
        // A plausible length before text that is not JSON: what and where, none of the text.
        Path notJson = file("secret.safetensors", craft("secret-token here", new byte[0]));
        e = assertThrows(FileFormatException.class, () -> SafeTensors.read(notJson));
        assertMessage(e, "secret.safetensors", "header: not valid JSON", "line 1, column");
        assertFalse(e.getMessage().contains("secret-token"), e.getMessage());
    }

    @Test
    void emptyHeaderWithNoDataIsAnEmptyFile() throws IOException {
        Path p = file("empty.safetensors", craft("{}  ", new byte[0]));
        try (SafeTensors.Contents c = SafeTensors.read(p)) {
            assertTrue(c.tensors().isEmpty());
            assertTrue(c.metadata().isEmpty());
        }
    }

    // ---- atomic writes ------------------------------------------------------------------------

    private Path previousCheckpoint() throws IOException {
        Path p = dir.resolve("model.safetensors");
        SafeTensors.write(p, Map.of("w", Tensor.of(new float[] {1, 2, 3}, 3)), Map.of("epoch", "1"));
        return p;
    }

    private void assertOnlyFile(Path p, byte[] before) throws IOException {
        assertArrayEquals(before, Files.readAllBytes(p), "previous file changed");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(p.getFileName().toString()), files.map(f -> f.getFileName().toString()).toList(),
                    "temporary file left behind");
        }
    }

    @Test
    void writeFailingMidwayLeavesThePreviousFileIdentical() throws IOException {
        Path p = previousCheckpoint();
        byte[] before = Files.readAllBytes(p);
        Map<String, Tensor> next = new LinkedHashMap<>();
        next.put("w", Tensor.of(new float[] {9, 9, 9}, 3));
        next.put("v", Tensor.of(new float[4096], 4096));
        IOException e = assertThrows(IOException.class, () -> SafeTensors.write(p, next, Map.of("epoch", "2"),
                channel -> new FailAfter(channel, 100)));
        assertMessage(e, "model.safetensors");
        assertOnlyFile(p, before);
    }

    @Test
    void writeOfAClosedTensorFailsAndLeavesThePreviousFileIdentical() throws IOException {
        Path p = previousCheckpoint();
        byte[] before = Files.readAllBytes(p);
        Tensor closed = Tensor.of(new float[] {4, 5, 6}, 3);
        closed.close();
        Map<String, Tensor> next = new LinkedHashMap<>();
        next.put("a", Tensor.of(new float[] {1}, 1));
        next.put("w", closed);
        RuntimeException e = assertThrows(IllegalStateException.class, () -> SafeTensors.write(p, next, Map.of()));
        assertMessage(e, "model.safetensors", "'w'", "closed");
        assertOnlyFile(p, before);
    }

    @Test
    void writeIntoAReadOnlyFolderFailsAndLeavesThePreviousFileIdentical() throws IOException {
        Path p = previousCheckpoint();
        byte[] before = Files.readAllBytes(p);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeFalse(Files.isWritable(dir), "running as a user that ignores folder permissions (root)");
            IOException e = assertThrows(IOException.class,
                    () -> SafeTensors.write(p, Map.of("w", Tensor.of(new float[] {7}, 1)), Map.of()));
            assertMessage(e, "model.safetensors");
            assertArrayEquals(before, Files.readAllBytes(p));
        } finally {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        assertOnlyFile(p, before);
    }

    @Test
    void writeReplacesAnExistingFile() throws IOException {
        Path p = previousCheckpoint();
        SafeTensors.write(p, Map.of("x", Tensor.ofInts(new int[] {5}, 1)), Map.of());
        try (SafeTensors.Contents c = SafeTensors.read(p)) {
            assertEquals(List.of("x"), List.copyOf(c.tensors().keySet()));
        }
        assertOnlyFile(p, Files.readAllBytes(p));
    }

    /** A channel that accepts {@code limit} bytes and then fails as a full disk would. */
    static final class FailAfter implements WritableByteChannel {
        private final WritableByteChannel inner;
        private long left;

        FailAfter(WritableByteChannel inner, long limit) {
            this.inner = inner;
            this.left = limit;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (left <= 0) {
                throw new IOException("No space left on device (simulated)");
            }
            int allowed = (int) Math.min(left, src.remaining());
            ByteBuffer slice = src.slice().limit(allowed);
            int n = inner.write(slice);
            src.position(src.position() + n);
            left -= n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return inner.isOpen();
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }

    static void assertMessage(Throwable e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(part),
                    "message should contain \"" + part + "\": " + e.getMessage());
        }
    }
}
