package dev.retort.backend.cpu;

import java.util.ArrayDeque;

/**
 * Per-thread reusable float arrays for packing and column buffers, so hot loops make no garbage.
 *
 * <p>Buffers are lent as a stack rather than as one array per thread: code holding a buffer may call, on the
 * same thread, a kernel that borrows from the same set (a nested {@link Parallel#forRange} runs inline), and
 * that kernel must not get the array still in use.
 */
final class ScratchBuffers {

    // Bigger arrays are lent but not kept, so one huge call does not pin its memory for good.
    private static final int MAXIMUM_KEPT_FLOATS = 1 << 24;

    private final ThreadLocal<ArrayDeque<float[]>> free = ThreadLocal.withInitial(ArrayDeque::new);

    /** An array of at least {@code length} floats with arbitrary contents; hand it back with {@link #release}. */
    float[] acquire(int length) {
        float[] buffer = free.get().pollFirst();
        if (buffer == null || buffer.length < length) {
            // Round up so that a slowly growing size does not reallocate every call.
            return new float[Math.max(length, buffer == null ? 0 : buffer.length + buffer.length / 2)];
        }
        return buffer;
    }

    void release(float[] buffer) {
        if (buffer.length <= MAXIMUM_KEPT_FLOATS) {
            free.get().addFirst(buffer);
        }
    }
}
