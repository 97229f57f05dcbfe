package dev.retort.io;

import dev.retort.backend.Backend;
import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.backend.Shapes;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes NumPy {@code .npy} files, the arrays that go in and out of {@code predict}.
 *
 * <p>Reads format versions 1.0, 2.0 and 3.0 with dtypes {@code <f4}, {@code <f8}, {@code <i4},
 * {@code <i8} (as int32 when every value fits) and {@code |u1} (as float32, 0 to 255), C order only.
 * Writes {@code <f4}, {@code <f8} and {@code <i4} as version 1.0, atomically. Like {@link Tensor#of},
 * a tensor read belongs to the current {@link dev.retort.tensor.Scope} when one is open.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** NumPy pads the header so the data starts on a 64-byte boundary. */
    private static final int ALIGN = 64;
    /**
     * Longer headers are taken as corruption: a real one is a short dict (NumPy's own reader stops at 10 000
     * bytes by default), and the v2/v3 length field could otherwise ask for 4 GiB.
     */
    static final int MAX_HEADER_BYTES = 1 << 20;
    /** Deeper nesting than a shape tuple inside the dict needs is refused before it can exhaust the stack. */
    static final int MAX_NESTING = 16;

    private Npy() {}

    // ---- reading ------------------------------------------------------------------------------

    /** Reads a .npy file into a CPU tensor (docs/formats.md lists the dtypes). */
    public static Tensor read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            ByteBuffer prefix = read(channel, 0, (int) Math.min(fileSize, 12));
            for (int i = 0; i < MAGIC.length; i++) {
                if (prefix.limit() <= i || prefix.get(i) != MAGIC[i]) {
                    throw new FileFormatException(file, "magic: does not start with \\x93NUMPY; not a .npy file");
                }
            }
            if (prefix.limit() < 10) {
                throw new FileFormatException(file, "header: truncated before the format version and header length");
            }
            int major = prefix.get(6) & 0xff;
            int minor = prefix.get(7) & 0xff;
            long headerLength;
            int lengthBytes;
            if (major == 1) {
                lengthBytes = 2;
                headerLength = prefix.order(ByteOrder.LITTLE_ENDIAN).getShort(8) & 0xffff;
            } else if (major == 2 || major == 3) {
                if (prefix.limit() < 12) {
                    throw new FileFormatException(file, "header: truncated before the 4-byte header length");
                }
                lengthBytes = 4;
                headerLength = prefix.order(ByteOrder.LITTLE_ENDIAN).getInt(8) & 0xffffffffL;
            } else {
                throw new FileFormatException(file, "version " + major + "." + minor
                        + " is not supported; Retort reads versions 1.0, 2.0 and 3.0");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new FileFormatException(file, "header: length field says " + headerLength + " bytes, more than "
                        + "the " + MAX_HEADER_BYTES + " a .npy header can sensibly need; the file is corrupt");
            }
            long dataStart = 8 + lengthBytes + headerLength;
            if (dataStart > fileSize) {
                throw new FileFormatException(file, "header: truncated; its length field says " + headerLength
                        + " bytes but only " + (fileSize - 8 - lengthBytes) + " follow");
            }
            ByteBuffer headerBytes = read(channel, 8 + lengthBytes, (int) headerLength);
            String header = new String(headerBytes.array(), 0, headerBytes.limit(),
                    major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            Map<String, Object> dict = new HeaderParser(file, header).parseDict();
            Spec spec = spec(file, dict);
            long expected = spec.elements * spec.itemSize;
            long available = fileSize - dataStart;
            if (available < expected) {
                throw new FileFormatException(file, "data: truncated; shape " + Shapes.format(spec.shape) + " of '"
                        + spec.descr + "' needs " + expected + " bytes, the file holds " + available);
            }
            if (available > expected) {
                throw new FileFormatException(file, "shape " + Shapes.format(spec.shape) + " of '" + spec.descr
                        + "' needs " + expected + " bytes of data, but the file holds " + available
                        + "; the shape and the data size do not match");
            }
            if (expected > Integer.MAX_VALUE - 8) {
                throw new FileFormatException(file, "data: " + expected + " bytes, more than Retort reads into one "
                        + "array (2 GiB); split the array");
            }
            ByteBuffer data = read(channel, dataStart, (int) expected).order(ByteOrder.LITTLE_ENDIAN);
            return Tensor.wrap(decode(file, spec, data));
        }
    }

    private record Spec(String descr, int itemSize, int[] shape, long elements) {}

    private static Spec spec(Path file, Map<String, Object> dict) throws FileFormatException {
        for (String key : List.of("descr", "fortran_order", "shape")) {
            if (!dict.containsKey(key)) {
                throw new FileFormatException(file, "header: missing key '" + key + "' (has " + dict.keySet() + ")");
            }
        }
        if (!(dict.get("descr") instanceof String descr)) {
            throw new FileFormatException(file, "header: 'descr' must be a string such as '<f4', got "
                    + dict.get("descr") + " (structured arrays are not supported)");
        }
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new FileFormatException(file, "header: 'fortran_order' must be True or False, got "
                    + dict.get("fortran_order"));
        }
        if (fortran) {
            throw new FileFormatException(file, "header: fortran_order True is not supported; save a C-ordered array "
                    + "(np.save(path, np.ascontiguousarray(a)))");
        }
        int itemSize = switch (descr) {
            case "<f4", "<i4" -> 4;
            case "<f8", "<i8" -> 8;
            case "|u1", "<u1", ">u1" -> 1;
            default -> {
                if (descr.startsWith(">")) {
                    throw new FileFormatException(file, "header: 'descr' '" + descr + "' is big-endian, which Retort "
                            + "does not read; convert with a.astype(a.dtype.newbyteorder('<'))");
                }
                throw new FileFormatException(file, "header: 'descr' '" + descr + "' is not supported; Retort reads "
                        + "'<f4', '<f8', '<i4', '<i8' and '|u1'");
            }
        };
        if (!(dict.get("shape") instanceof List<?> dims)) {
            throw new FileFormatException(file, "header: 'shape' must be a tuple of integers, got " + dict.get("shape"));
        }
        int[] shape = new int[dims.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0) {
                throw new FileFormatException(file, "header: 'shape'[" + i + "] must be a non-negative integer, got "
                        + dims.get(i));
            }
            if (d > Integer.MAX_VALUE || (elements = elements * d) > Integer.MAX_VALUE) {
                throw new FileFormatException(file, "header: 'shape' " + dims + " is too large for a Retort tensor");
            }
            shape[i] = (int) (long) d;
        }
        return new Spec(descr.equals("<u1") || descr.equals(">u1") ? "|u1" : descr, itemSize, shape, elements);
    }

    private static dev.retort.backend.NdArray decode(Path file, Spec spec, ByteBuffer data) throws FileFormatException {
        Backend cpu = Backends.of(Device.CPU);
        int n = (int) spec.elements;
        switch (spec.descr) {
            case "<f4" -> {
                float[] v = new float[n];
                data.asFloatBuffer().get(v);
                return cpu.fromHost(v, spec.shape);
            }
            case "<f8" -> {
                double[] v = new double[n];
                data.asDoubleBuffer().get(v);
                return cpu.fromHost(v, spec.shape);
            }
            case "<i4" -> {
                int[] v = new int[n];
                data.asIntBuffer().get(v);
                return cpu.fromHost(v, spec.shape);
            }
            case "<i8" -> {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    long x = data.getLong(i * 8);
                    if (x != (int) x) {
                        throw new FileFormatException(file, "data: '<i8' value " + x + " at index " + i
                                + " does not fit in int32, the only integer type Retort keeps");
                    }
                    v[i] = (int) x;
                }
                return cpu.fromHost(v, spec.shape);
            }
            default -> { // |u1
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = data.get(i) & 0xff;
                }
                return cpu.fromHost(v, spec.shape);
            }
        }
    }

    private static ByteBuffer read(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                break;
            }
        }
        return buffer.flip();
    }

    /** The Python literal NumPy writes: a dict of string keys to strings, booleans, ints and tuples. */
    private static final class HeaderParser {
        private final Path file;
        private final String text;
        private int pos;
        private int depth;

        HeaderParser(Path file, String text) {
            this.file = file;
            this.text = text;
        }

        Map<String, Object> parseDict() throws FileFormatException {
            skipSpace();
            if (pos >= text.length() || text.charAt(pos) != '{') {
                throw fail("header is not a dict: " + preview());
            }
            pos++;
            Map<String, Object> out = new LinkedHashMap<>();
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    pos++;
                    break;
                }
                Object key = value();
                if (!(key instanceof String k)) {
                    throw fail("header: dict key must be a string, got " + key);
                }
                skipSpace();
                expect(':');
                if (out.put(k, value()) != null) {
                    throw fail("header: duplicate key '" + k + "'");
                }
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != '}') {
                    throw fail("header: expected ',' or '}' at offset " + pos + ": " + preview());
                }
            }
            skipSpace();
            if (pos != text.length()) {
                throw fail("header: unexpected text after the dict: " + preview());
            }
            return out;
        }

        private Object value() throws FileFormatException {
            skipSpace();
            char c = peek();
            if (c == '\'' || c == '"') {
                int end = text.indexOf(c, pos + 1);
                if (end < 0) {
                    throw fail("header: unterminated string at offset " + pos);
                }
                String s = text.substring(pos + 1, end);
                pos = end + 1;
                return s;
            }
            if (c == '(' || c == '[') {
                char close = c == '(' ? ')' : ']';
                if (++depth > MAX_NESTING) {
                    throw fail("header: tuples or lists nested more than " + MAX_NESTING + " deep at offset " + pos);
                }
                pos++;
                List<Object> items = new ArrayList<>();
                while (true) {
                    skipSpace();
                    if (peek() == close) {
                        pos++;
                        depth--;
                        return items;
                    }
                    items.add(value());
                    skipSpace();
                    if (peek() == ',') {
                        pos++;
                    } else if (peek() != close) {
                        throw fail("header: expected ',' or '" + close + "' at offset " + pos + ": " + preview());
                    }
                }
            }
            if (text.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (text.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            int start = pos;
            if (c == '-') {
                pos++;
            }
            while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
                pos++;
            }
            if (text.startsWith("L", pos)) {
                pos++; // Python 2 long literals in old files
            }
            String digits = text.substring(start, pos).replace("L", "");
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw fail("header: cannot read a value at offset " + start + ": " + preview());
            }
        }

        private char peek() throws FileFormatException {
            if (pos >= text.length()) {
                throw fail("header: ended inside the dict: " + preview());
            }
            return text.charAt(pos);
        }

        private void expect(char c) throws FileFormatException {
            if (peek() != c) {
                throw fail("header: expected '" + c + "' at offset " + pos + ": " + preview());
            }
            pos++;
        }

        private void skipSpace() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
                pos++;
            }
        }

        /** The start of the header for a message ({@link FileFormatException} shows its control characters). */
        private String preview() {
            String t = text.strip();
            return t.length() > 80 ? t.substring(0, 80) + "..." : t;
        }

        private FileFormatException fail(String message) {
            return new FileFormatException(file, message);
        }
    }

    // ---- writing ------------------------------------------------------------------------------

    /** Writes {@code tensor} as a version 1.0 .npy ({@code <f4}, {@code <f8} or {@code <i4}), atomically. */
    public static void write(Path file, Tensor tensor) throws IOException {
        if (tensor.isClosed()) {
            throw new IllegalStateException("Npy.write(" + file + "): the tensor was closed before it could be written");
        }
        String descr = switch (tensor.dtype()) {
            case FLOAT32 -> "<f4";
            case FLOAT64 -> "<f8";
            case INT32 -> "<i4";
        };
        int[] shape = tensor.shape();
        StringBuilder dims = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            dims.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        if (shape.length == 1) {
            dims.append(',');
        }
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int total = (unpadded + ALIGN - 1) / ALIGN * ALIGN;
        int headerLength = total - MAGIC.length - 4;
        if (headerLength > 0xffff) {
            throw new IllegalArgumentException("Npy.write(" + file + "): shape " + Shapes.format(shape)
                    + " makes a header too long for format version 1.0");
        }
        ByteBuffer prefix = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        prefix.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) headerLength);
        prefix.put(dict.getBytes(StandardCharsets.ISO_8859_1));
        while (prefix.position() < total - 1) {
            prefix.put((byte) ' ');
        }
        prefix.put((byte) '\n').flip();
        AtomicFiles.write(file, out -> {
            AtomicFiles.writeFully(out, prefix);
            HostData.writeLittleEndian(out, tensor);
        });
    }
}
