package dev.retort.backend.cpu;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps released float arrays for reuse by size, the CPU's counterpart of a caching GPU allocator: a
 * training step allocates the same activation sizes every time, and reusing them saves the JVM
 * zeroing fresh arrays and the collector reclaiming them. Bounded by {@code retort.pool.mb}
 * (default a quarter of the heap).
 */
final class HostArrayPool {
    /** Smaller arrays are cheap to allocate and not worth the bookkeeping. */
    private static final int MIN_POOLED = 1 << 12;
    private static final long CAPACITY_BYTES = Long.getLong("retort.pool.mb",
            Runtime.getRuntime().maxMemory() / 4 / (1 << 20)) << 20;

    private static final Map<Integer, ArrayDeque<float[]>> FREE = new HashMap<>();
    private static long pooledBytes;

    private HostArrayPool() {}

    /** An array of exactly {@code size} elements with undefined contents. */
    static float[] take(int size) {
        if (size >= MIN_POOLED) {
            synchronized (FREE) {
                ArrayDeque<float[]> free = FREE.get(size);
                if (free != null && !free.isEmpty()) {
                    pooledBytes -= 4L * size;
                    return free.pop();
                }
            }
        }
        return new float[size];
    }

    static void give(float[] array) {
        if (array.length < MIN_POOLED) {
            return;
        }
        synchronized (FREE) {
            if (pooledBytes + 4L * array.length > CAPACITY_BYTES) {
                // Full: drop everything rather than keep stale sizes forever.
                FREE.clear();
                pooledBytes = 0;
            }
            FREE.computeIfAbsent(array.length, n -> new ArrayDeque<>()).push(array);
            pooledBytes += 4L * array.length;
        }
    }
}
