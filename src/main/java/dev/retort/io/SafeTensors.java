package dev.retort.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retort.backend.Backend;
import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.backend.Shapes;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Reads and writes safetensors files, the format PyTorch users keep weights in: an 8-byte
 * little-endian header length, a JSON header {@code {name: {dtype, shape, data_offsets}}} with an
 * optional {@code "__metadata__"} string map, then the raw little-endian data.
 *
 * <p>Reads F32, F64 and I32 as they are, F16 and BF16 as float32, and I64 as int32 when every value
 * fits. Writes F32, F64 and I32, atomically (see {@link AtomicFiles}).
 */
public final class SafeTensors {
    /** Headers past this size are taken as corruption, not as a model. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final String METADATA = "__metadata__";
    /** Writes headers; they are read by {@link StrictJson}. */
    private static final JsonMapper JSON = new JsonMapper();

    /** The tensors of a file, in header order, and its metadata. Closing it frees the tensors. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) implements AutoCloseable {
        @Override
        public void close() {
            for (Tensor t : tensors.values()) {
                t.close();
            }
        }
    }

    private enum FileDType {
        F32(4), F64(8), I32(4), I64(8), F16(2), BF16(2);

        final int bytes;

        FileDType(int bytes) {
            this.bytes = bytes;
        }
    }

    private record Entry(String name, FileDType dtype, int[] shape, long begin, long end) {}

    private SafeTensors() {}

    // ---- reading ------------------------------------------------------------------------------

    /**
     * Reads every tensor of {@code file} into persistent CPU tensors (close the result to free them).
     *
     * @throws FileFormatException when the file breaks the format; the message names the file and field
     */
    public static Contents read(Path file) throws IOException {
        return read(file, name -> false);
    }

    /** As {@link #read(Path)}, leaving out (validated but not decoded) the tensors {@code skip} accepts. */
    static Contents read(Path file, Predicate<String> skip) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw new FileFormatException(file, "header length: file has " + fileSize
                        + " bytes, fewer than the 8-byte header length; not a safetensors file");
            }
            long headerLength = readFully(channel, 0, 8, file, "header length").order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
                // The value is not shown: it is the file's first 8 bytes, and a file this far off may be anything.
                throw new FileFormatException(file, "header length is absurd (more than the limit of "
                        + MAX_HEADER_BYTES + " bytes); the file is corrupt or not safetensors");
            }
            if (headerLength > fileSize - 8) {
                throw new FileFormatException(file, "header length " + headerLength + " is larger than the "
                        + (fileSize - 8) + " bytes that follow it; the file is truncated or not safetensors");
            }
            ByteBuffer headerBytes = readFully(channel, 8, (int) headerLength, file, "header");
            JsonNode header;
            try {
                header = StrictJson.parse(headerBytes.array());
            } catch (StrictJson.Malformed e) { // what and where, none of the bytes: the file may be anything
                throw new FileFormatException(file, "header: " + e.getMessage(), e);
            }
            if (header == null || !header.isObject()) {
                throw new FileFormatException(file, "header must be a JSON object of tensors, got "
                        + (header == null ? "nothing" : header.getNodeType()));
            }
            long dataStart = 8 + headerLength;
            long dataSize = fileSize - dataStart;
            Map<String, String> metadata = parseMetadata(file, header.get(METADATA));
            List<Entry> entries = parseEntries(file, header, dataSize);
            checkCoverage(file, entries, dataSize);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            try {
                for (Entry e : entries) {
                    if (skip.test(e.name)) {
                        continue;
                    }
                    ByteBuffer bytes = readFully(channel, dataStart + e.begin, (int) (e.end - e.begin), file,
                            "tensor '" + e.name + "' data");
                    tensors.put(e.name, decode(file, e, bytes.order(ByteOrder.LITTLE_ENDIAN)));
                }
            } catch (IOException | RuntimeException ex) {
                tensors.values().forEach(Tensor::close);
                throw ex;
            }
            return new Contents(Collections.unmodifiableMap(tensors), metadata);
        }
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node) throws FileFormatException {
        Map<String, String> metadata = new LinkedHashMap<>();
        if (node == null) {
            return Collections.unmodifiableMap(metadata);
        }
        if (!node.isObject()) {
            throw new FileFormatException(file, METADATA + " must be an object of strings, got " + node.getNodeType());
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new FileFormatException(file, METADATA + "." + e.getKey() + " must be a string, got "
                        + e.getValue().getNodeType() + " " + e.getValue());
            }
            metadata.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static List<Entry> parseEntries(Path file, JsonNode header, long dataSize) throws FileFormatException {
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            if (name.equals(METADATA)) {
                continue;
            }
            String where = "tensor '" + name + "'";
            JsonNode info = field.getValue();
            if (!info.isObject()) {
                throw new FileFormatException(file, where + " must be an object with dtype, shape and data_offsets");
            }
            JsonNode dtypeNode = required(file, info, where, "dtype");
            if (!dtypeNode.isTextual()) {
                throw new FileFormatException(file, where + ".dtype must be a string, got " + dtypeNode);
            }
            FileDType dtype;
            try {
                dtype = FileDType.valueOf(dtypeNode.textValue());
            } catch (IllegalArgumentException e) {
                throw new FileFormatException(file, where + ".dtype '" + dtypeNode.textValue()
                        + "' is unknown or unsupported; Retort reads " + Arrays.toString(FileDType.values()));
            }
            JsonNode shapeNode = required(file, info, where, "shape");
            if (!shapeNode.isArray()) {
                throw new FileFormatException(file, where + ".shape must be an array of integers, got " + shapeNode);
            }
            int[] shape = new int[shapeNode.size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong()) {
                    throw new FileFormatException(file, where + ".shape[" + i + "] must be an integer, got " + d);
                }
                long dim = d.longValue();
                if (dim < 0) {
                    throw new FileFormatException(file, where + ".shape[" + i + "] is negative: " + shapeNode);
                }
                if (dim > Integer.MAX_VALUE) {
                    throw new FileFormatException(file, where + ".shape[" + i + "] = " + dim
                            + " is too large for a Retort tensor");
                }
                shape[i] = (int) dim;
                elements = multiply(file, where, elements, dim);
            }
            if (elements > Integer.MAX_VALUE) {
                throw new FileFormatException(file, where + ".shape " + shapeNode + " has " + elements
                        + " elements, more than a Retort tensor holds (" + Integer.MAX_VALUE + ")");
            }
            JsonNode offsets = required(file, info, where, "data_offsets");
            if (!offsets.isArray() || offsets.size() != 2) {
                throw new FileFormatException(file, where + ".data_offsets must be [begin, end], got " + offsets);
            }
            long[] be = new long[2];
            for (int i = 0; i < 2; i++) {
                JsonNode o = offsets.get(i);
                if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
                    throw new FileFormatException(file, where + ".data_offsets[" + i
                            + "] must be a non-negative integer, got " + o);
                }
                be[i] = o.longValue();
            }
            if (be[1] < be[0]) {
                throw new FileFormatException(file, where + ".data_offsets " + offsets
                        + " are out of order: end before begin");
            }
            if (be[1] > dataSize) {
                throw new FileFormatException(file, where + ".data_offsets " + offsets + " end past the "
                        + dataSize + " bytes of data; the file is truncated or the header is wrong");
            }
            long expected = elements * dtype.bytes;
            if (be[1] - be[0] != expected) {
                throw new FileFormatException(file, where + ".data_offsets " + offsets + " span " + (be[1] - be[0])
                        + " bytes, but " + dtype + " x " + Shapes.format(shape) + " needs " + expected);
            }
            if (expected > Integer.MAX_VALUE - 8) {
                throw new FileFormatException(file, where + " holds " + expected + " bytes, more than Retort reads "
                        + "into one array (2 GiB); split the tensor");
            }
            entries.add(new Entry(name, dtype, shape, be[0], be[1]));
        }
        return entries;
    }

    private static JsonNode required(Path file, JsonNode info, String where, String key) throws FileFormatException {
        JsonNode node = info.get(key);
        if (node == null || node.isNull()) {
            throw new FileFormatException(file, where + " has no " + key);
        }
        return node;
    }

    private static long multiply(Path file, String where, long a, long b) throws FileFormatException {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new FileFormatException(file, where + ".shape overflows a 64-bit element count");
        }
    }

    /** Tensors must tile the data exactly: no overlap, no hole, nothing after the last one. */
    private static void checkCoverage(Path file, List<Entry> entries, long dataSize) throws FileFormatException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin < covered) {
                throw new FileFormatException(file, "tensor '" + e.name + "'.data_offsets [" + e.begin + ", " + e.end
                        + "] overlap tensor '" + previous.name + "' [" + previous.begin + ", " + previous.end + "]");
            }
            if (e.begin > covered) {
                throw new FileFormatException(file, "data bytes [" + covered + ", " + e.begin
                        + ") are not covered by any tensor (before tensor '" + e.name + "')");
            }
            covered = e.end;
            previous = e;
        }
        if (covered != dataSize) {
            throw new FileFormatException(file, "trailing bytes: " + (dataSize - covered) + " bytes of data after "
                    + "the last tensor's data_offsets end (" + covered + ") are not covered by any tensor");
        }
    }

    private static Tensor decode(Path file, Entry e, ByteBuffer bytes) throws FileFormatException {
        Backend cpu = Backends.of(Device.CPU);
        int n = (int) ((e.end - e.begin) / e.dtype.bytes);
        return Tensor.wrapPersistent(switch (e.dtype) {
            case F32 -> {
                float[] v = new float[n];
                bytes.asFloatBuffer().get(v);
                yield cpu.fromHost(v, e.shape);
            }
            case F64 -> {
                double[] v = new double[n];
                bytes.asDoubleBuffer().get(v);
                yield cpu.fromHost(v, e.shape);
            }
            case I32 -> {
                int[] v = new int[n];
                bytes.asIntBuffer().get(v);
                yield cpu.fromHost(v, e.shape);
            }
            case I64 -> {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    long x = bytes.getLong(i * 8);
                    if (x != (int) x) {
                        throw new FileFormatException(file, "tensor '" + e.name + "' (I64): value " + x + " at index "
                                + i + " does not fit in int32, the only integer type Retort keeps");
                    }
                    v[i] = (int) x;
                }
                yield cpu.fromHost(v, e.shape);
            }
            case F16, BF16 -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    int bits = bytes.getShort(i * 2) & 0xffff;
                    v[i] = e.dtype == FileDType.F16 ? HostData.halfToFloat(bits) : HostData.bfloat16ToFloat(bits);
                }
                yield cpu.fromHost(v, e.shape);
            }
        });
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length, Path file, String what)
            throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw new FileFormatException(file, what + ": file ended early");
            }
        }
        return buffer.flip();
    }

    // ---- writing ------------------------------------------------------------------------------

    /**
     * Writes {@code tensors} (FLOAT32, FLOAT64 or INT32; in map order) and {@code metadata} to
     * {@code file}, replacing it atomically: a failure leaves any previous file unchanged.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        write(file, tensors, metadata, UnaryOperator.identity());
    }

    static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata,
            UnaryOperator<WritableByteChannel> wrap) throws IOException {
        byte[] header = header(file, tensors, metadata);
        AtomicFiles.write(file, out -> {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            AtomicFiles.writeFully(out, length);
            AtomicFiles.writeFully(out, ByteBuffer.wrap(header));
            for (Tensor t : tensors.values()) {
                HostData.writeLittleEndian(out, t);
            }
        }, wrap);
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes as the reference writer does. */
    private static byte[] header(Path file, Map<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject(METADATA);
            // Sorted by key: the same metadata gives the same bytes whatever map it came in (Map.of's order
            // changes from one JVM to the next), so identical runs write identical, hashable checkpoints.
            List<Map.Entry<String, String>> sorted = new ArrayList<>(metadata.entrySet());
            sorted.sort(Map.Entry.comparingByKey(Comparator.nullsFirst(Comparator.naturalOrder())));
            for (var e : sorted) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("SafeTensors.write(" + file + "): metadata key and value must "
                            + "not be null: " + e.getKey() + "=" + e.getValue());
                }
                meta.put(e.getKey(), e.getValue());
            }
        }
        long offset = 0;
        for (var e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty() || name.equals(METADATA)) {
                throw new IllegalArgumentException("SafeTensors.write(" + file + "): invalid tensor name '" + name + "'");
            }
            Tensor t = e.getValue();
            if (t.isClosed()) {
                throw new IllegalStateException("SafeTensors.write(" + file + "): tensor '" + name
                        + "' was closed before it could be written");
            }
            String dtype = switch (t.dtype()) {
                case FLOAT32 -> "F32";
                case FLOAT64 -> "F64";
                case INT32 -> "I32";
            };
            ObjectNode info = root.putObject(name);
            info.put("dtype", dtype);
            ArrayNode shape = info.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            long bytes = (long) t.size() * t.dtype().bytes();
            info.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(root);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }
}
