package dev.retort.backend.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A device the kernel parity tests run on: the emulator (the real kernel sources compiled for the CPU) or a
 * real GPU through JCuda. Memory is addressed by raw device addresses, as {@link CudaKernels} takes them.
 */
interface KernelTestDevice extends AutoCloseable {
    /** The kernels, launching on this device. */
    CudaKernels kernels();

    /** A zero-filled allocation of at least {@code bytes} bytes, aligned to at least 16 bytes. */
    long allocate(long bytes);

    void write(long address, byte[] bytes);

    byte[] read(long address, int bytes);

    /** Waits for every launch so far (a no-op for the emulator, which runs launches synchronously). */
    void synchronize();

    /** A one-line description for test names and logs. */
    String describe();

    @Override
    void close();

    default long upload(float[] values) {
        long a = allocate(Math.max(4, 4L * values.length));
        writeFloats(a, values);
        return a;
    }

    default long upload(int[] values) {
        long a = allocate(Math.max(4, 4L * values.length));
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(values);
        write(a, b.array());
        return a;
    }

    default void writeFloats(long address, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        write(address, b.array());
    }

    default float[] floats(long address, int n) {
        synchronize();
        float[] out = new float[n];
        ByteBuffer.wrap(read(address, 4 * n)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    default int[] ints(long address, int n) {
        synchronize();
        int[] out = new int[n];
        ByteBuffer.wrap(read(address, 4 * n)).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
        return out;
    }

    default double[] doubles(long address, int n) {
        synchronize();
        double[] out = new double[n];
        ByteBuffer.wrap(read(address, 8 * n)).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(out);
        return out;
    }

    default long[] longs(long address, int n) {
        synchronize();
        long[] out = new long[n];
        ByteBuffer.wrap(read(address, 8 * n)).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
        return out;
    }
}
