package dev.retort.io;

import static dev.retort.io.SafeTensorsTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.DType;
import dev.retort.tensor.Tensor;
import dev.retort.testing.ScopePerTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Npy reads what NumPy writes (versions 1.0 and 2.0), writes what NumPy reads, and rejects broken files. */
@ExtendWith(ScopePerTest.class)
class NpyTest {
    @TempDir
    Path dir;

    // Written by NumPy 1.24 (np.lib.format.write_array), kept as hex so the test needs no Python.
    /** version 2.0, '<f4', shape (1, 3): [[1.5, -2.0, 3.25]]. */
    private static final String NUMPY_V2_F4 =
            "934e554d50590200740000007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a204661"
            + "6c73652c20277368617065273a2028312c2033292c207d20202020202020202020202020202020202020202020202020"
            + "202020202020202020202020202020202020202020202020202020202020200a0000c03f000000c000005040";
    /** version 1.0, '<i8', shape (2, 2): [[-1, 2**31-1], [-2**31, 0]]. */
    private static final String NUMPY_V1_I8 =
            "934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73"
            + "652c20277368617065273a2028322c2032292c207d202020202020202020202020202020202020202020202020202020"
            + "202020202020202020202020202020202020202020202020202020202020200affffffffffffffffffffff7f00000000"
            + "00000080ffffffff0000000000000000";
    /** version 1.0, '|u1', shape (3,): [0, 7, 255]. */
    private static final String NUMPY_V1_U1 =
            "934e554d5059010076007b276465736372273a20277c7531272c2027666f727472616e5f6f72646572273a2046616c73"
            + "652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020"
            + "202020202020202020202020202020202020202020202020202020202020200a0007ff";

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** A .npy file of the given version with {@code dict} as its header (padded to 64 bytes) and the data after it. */
    static byte[] npy(int major, String dict, byte[] data) {
        int lengthBytes = major == 1 ? 2 : 4;
        int unpadded = 8 + lengthBytes + dict.length() + 1;
        int total = (unpadded + 63) / 64 * 64;
        int headerLength = total - 8 - lengthBytes;
        ByteBuffer b = ByteBuffer.allocate(total + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            b.putShort((short) headerLength);
        } else {
            b.putInt(headerLength);
        }
        b.put(dict.getBytes(StandardCharsets.ISO_8859_1));
        while (b.position() < total - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n').put(data);
        return b.array();
    }

    @Test
    void readsNumpyVersion2Float32() throws IOException {
        Tensor t = Npy.read(file("v2.npy", HexFormat.of().parseHex(NUMPY_V2_F4)));
        assertEquals(DType.FLOAT32, t.dtype());
        assertArrayEquals(new int[] {1, 3}, t.shape());
        assertArrayEquals(new float[] {1.5f, -2f, 3.25f}, t.toFloatArray());
    }

    @Test
    void readsNumpyInt64AsInt32() throws IOException {
        Tensor t = Npy.read(file("i8.npy", HexFormat.of().parseHex(NUMPY_V1_I8)));
        assertEquals(DType.INT32, t.dtype());
        assertArrayEquals(new int[] {2, 2}, t.shape());
        assertArrayEquals(new int[] {-1, Integer.MAX_VALUE, Integer.MIN_VALUE, 0}, t.toIntArray());
    }

    @Test
    void readsNumpyUnsignedBytesAsFloat32() throws IOException {
        Tensor t = Npy.read(file("u1.npy", HexFormat.of().parseHex(NUMPY_V1_U1)));
        assertEquals(DType.FLOAT32, t.dtype());
        assertArrayEquals(new int[] {3}, t.shape());
        assertArrayEquals(new float[] {0f, 7f, 255f}, t.toFloatArray());
    }

    @Test
    void writeMatchesNumpyByteForByte() throws IOException {
        Path p = dir.resolve("out.npy");
        Npy.write(p, Tensor.of(new float[] {1.5f, -2f, 3.25f}, 1, 3));
        byte[] numpyV1 = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }",
                HexFormat.of().parseHex("0000c03f000000c000005040"));
        assertArrayEquals(numpyV1, Files.readAllBytes(p));
        Npy.write(p, Tensor.of(new float[] {0f, 7f, 255f}, 3));
        byte[] oneDim = Files.readAllBytes(p);
        byte[] numpy = HexFormat.of().parseHex(NUMPY_V1_U1);
        assertArrayEquals(java.util.Arrays.copyOf(numpy, 10), java.util.Arrays.copyOf(oneDim, 10), "prefix");
        String header = new String(oneDim, 10, 118, StandardCharsets.ISO_8859_1);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", header.strip());
    }

    static Stream<Tensor> everyDtype() {
        return Stream.of(
                Tensor.of(new float[] {1f, -0f, Float.MAX_VALUE, Float.MIN_VALUE, Float.NaN, 1e-30f}, 2, 3),
                Tensor.of(new double[] {Math.E, -1e300, 4.9e-324}, 3, 1),
                Tensor.ofInts(new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE, -5}, 4),
                Tensor.of(new float[] {42f}),
                Tensor.of(new float[0], 2, 0, 3));
    }

    @ParameterizedTest
    @MethodSource("everyDtype")
    void roundTripKeepsDtypeShapeAndBits(Tensor t) throws IOException {
        Path p = dir.resolve("rt.npy");
        Npy.write(p, t);
        assertEquals(0, (Files.readAllBytes(p).length - t.size() * t.dtype().bytes()) % 64, "data 64-byte aligned");
        Tensor back = Npy.read(p);
        assertEquals(t.dtype(), back.dtype());
        assertArrayEquals(t.shape(), back.shape());
        switch (t.dtype()) {
            case FLOAT32 -> assertArrayEquals(t.toFloatArray(), back.toFloatArray());
            case FLOAT64 -> assertArrayEquals(t.toDoubleArray(), back.toDoubleArray());
            case INT32 -> assertArrayEquals(t.toIntArray(), back.toIntArray());
        }
    }

    @Test
    void readsHandWrittenVersion1And2Headers() throws IOException {
        byte[] data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.25).putDouble(-8).array();
        for (int major : new int[] {1, 2}) {
            Tensor t = Npy.read(file("v" + major + ".npy",
                    npy(major, "{\"shape\": (2,), \"descr\": \"<f8\", \"fortran_order\": False}", data)));
            assertEquals(DType.FLOAT64, t.dtype());
            assertArrayEquals(new double[] {0.25, -8}, t.toDoubleArray(), "version " + major);
        }
    }

    static Stream<Arguments> brokenFiles() {
        byte[] eight = new byte[8];
        String f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        byte[] goodV1 = npy(1, f4, eight);
        byte[] badMagic = goodV1.clone();
        badMagic[1] = 'X';
        byte[] badVersion = goodV1.clone();
        badVersion[6] = 9;
        byte[] longHeaderLength = goodV1.clone();
        longHeaderLength[8] = (byte) 0xff;
        longHeaderLength[9] = (byte) 0x7f;
        return Stream.of(
                Arguments.of("bad magic", badMagic, "magic"),
                Arguments.of("too short for the prefix", new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1}, "header"),
                Arguments.of("unsupported version", badVersion, "version 9.0"),
                Arguments.of("truncated header", longHeaderLength, "header: truncated"),
                Arguments.of("header not a dict", npy(1, "['descr', '<f4']", eight), "header is not a dict"),
                Arguments.of("missing descr", npy(1, "{'fortran_order': False, 'shape': (2,), }", eight),
                        "missing key 'descr'"),
                Arguments.of("missing fortran_order", npy(1, "{'descr': '<f4', 'shape': (2,), }", eight),
                        "missing key 'fortran_order'"),
                Arguments.of("missing shape", npy(1, "{'descr': '<f4', 'fortran_order': False, }", eight),
                        "missing key 'shape'"),
                Arguments.of("big-endian", npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", eight),
                        "'descr' '>f4' is big-endian"),
                Arguments.of("fortran order", npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", eight),
                        "fortran_order True"),
                Arguments.of("unsupported dtype", npy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
                        eight), "'descr' '<c8' is not supported"),
                Arguments.of("negative dim", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }",
                        eight), "'shape'[0]"),
                Arguments.of("shape not a tuple", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': 2, }",
                        eight), "'shape' must be a tuple"),
                Arguments.of("garbage in header", npy(1, "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}",
                        eight), "header: cannot read a value"),
                Arguments.of("truncated data", npy(1, f4, new byte[5]), "data: truncated"),
                Arguments.of("shape/data size mismatch", npy(1, f4, new byte[12]), "shape and the data size do not match"),
                Arguments.of("nested thousands deep", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
                        + "(".repeat(5000) + ")".repeat(5000) + "}", eight), "nested more than 16 deep"),
                Arguments.of("int64 out of range", npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
                        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-(1L << 40)).array()),
                        "does not fit in int32"));
    }

    @Test
    void aHeaderWithControlCharactersIsQuotedOnOneLine() throws IOException {
        Path p = file("control.npy", npy(1, "Y\nv\r{'descr': '<f4'}", new byte[0]));
        FileFormatException e = assertThrows(FileFormatException.class, () -> Npy.read(p));
        assertMessage(e, "control.npy", "header is not a dict: Y\\x0av\\x0d{'descr'");
        assertTrue(!e.getMessage().contains("\n") && !e.getMessage().contains("\r"), e.getMessage());
    }

    @Test
    void aVersion2HeaderLengthOfGigabytesIsRefusedBeforeAllocating() throws IOException {
        Path p = dir.resolve("huge-header.npy");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0});
            f.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0x80000010).array());
            f.setLength(0x80000100L); // sparse: the length field is not contradicted by the file's size
        }
        FileFormatException e = assertThrows(FileFormatException.class, () -> Npy.read(p));
        assertMessage(e, "huge-header.npy", "header: length field says 2147483664 bytes");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenFiles")
    void brokenFileIsRejectedNamingFileAndField(String label, byte[] bytes, String field) throws IOException {
        Path p = file("bad.npy", bytes);
        FileFormatException e = assertThrows(FileFormatException.class, () -> Npy.read(p), label);
        assertMessage(e, "bad.npy", field);
    }

    @Test
    void writeOfAClosedTensorLeavesThePreviousFileIdentical() throws IOException {
        Path p = dir.resolve("x.npy");
        Npy.write(p, Tensor.of(new float[] {1, 2}, 2));
        byte[] before = Files.readAllBytes(p);
        Tensor closed = Tensor.of(new float[] {3}, 1);
        closed.close();
        assertMessage(assertThrows(IllegalStateException.class, () -> Npy.write(p, closed)), "x.npy", "closed");
        assertArrayEquals(before, Files.readAllBytes(p));
    }
}
