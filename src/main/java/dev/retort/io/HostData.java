package dev.retort.io;

import dev.retort.backend.DType;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/** A tensor's values as little-endian bytes, written in bounded chunks so large tensors need no second copy. */
final class HostData {
    private static final int CHUNK_ELEMENTS = 1 << 18;

    private HostData() {}

    static void writeLittleEndian(WritableByteChannel out, Tensor tensor) throws IOException {
        DType dtype = tensor.dtype();
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK_ELEMENTS * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case FLOAT32 -> {
                float[] v = tensor.toFloatArray();
                for (int i = 0; i < v.length; i += CHUNK_ELEMENTS) {
                    buffer.clear();
                    buffer.asFloatBuffer().put(v, i, Math.min(CHUNK_ELEMENTS, v.length - i));
                    flush(out, buffer, Math.min(CHUNK_ELEMENTS, v.length - i) * 4);
                }
            }
            case FLOAT64 -> {
                double[] v = tensor.toDoubleArray();
                for (int i = 0; i < v.length; i += CHUNK_ELEMENTS) {
                    buffer.clear();
                    buffer.asDoubleBuffer().put(v, i, Math.min(CHUNK_ELEMENTS, v.length - i));
                    flush(out, buffer, Math.min(CHUNK_ELEMENTS, v.length - i) * 8);
                }
            }
            case INT32 -> {
                int[] v = tensor.toIntArray();
                for (int i = 0; i < v.length; i += CHUNK_ELEMENTS) {
                    buffer.clear();
                    buffer.asIntBuffer().put(v, i, Math.min(CHUNK_ELEMENTS, v.length - i));
                    flush(out, buffer, Math.min(CHUNK_ELEMENTS, v.length - i) * 4);
                }
            }
            default -> throw new IllegalArgumentException("no file encoding for dtype " + dtype);
        }
    }

    private static void flush(WritableByteChannel out, ByteBuffer buffer, int bytes) throws IOException {
        buffer.position(0).limit(bytes);
        AtomicFiles.writeFully(out, buffer);
    }

    /** IEEE 754 half precision to float32 (exact: every half is a float). */
    static float halfToFloat(int bits) {
        int sign = bits & 0x8000;
        int exponent = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        float magnitude;
        if (exponent == 0) {
            magnitude = mantissa * 0x1p-24f; // zero or subnormal
        } else if (exponent == 31) {
            magnitude = mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else {
            magnitude = Float.intBitsToFloat(((exponent + 112) << 23) | (mantissa << 13));
        }
        return sign != 0 ? -magnitude : magnitude;
    }

    /** bfloat16 is the top half of a float32. */
    static float bfloat16ToFloat(int bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}
