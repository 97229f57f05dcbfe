package dev.retort.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocAsync;
import static jcuda.driver.JCudaDriver.cuMemAllocFromPoolAsync;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeAsync;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemPoolTrimTo;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import jcuda.driver.CUmemoryPool;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

/**
 * Device memory for the runtime's one stream: the driver's stream-ordered allocator underneath, and a
 * Java-side cache of freed blocks on top, keyed by rounded size.
 *
 * <p>Why the cache: docs/design.md asks for a pool whose release threshold keeps memory cached between
 * steps, but JCuda 12.6 binds neither {@code cuMemPoolSetAttribute} nor {@code cuDeviceGetDefaultMemPool},
 * so the pool's threshold stays at its default of 0 and the driver would hand memory back to the OS at
 * every synchronisation (we synchronise once a step, to read the loss). Keeping freed blocks here and
 * reusing them for the same rounded size gives the caching PyTorch's allocator gives, without a driver
 * call in the steady state. Reuse is safe without synchronisation because every kernel, copy and
 * library call runs on the runtime's one stream: work that used a block before its free is ordered
 * before work that uses it again. (The JNI bridge may later set the release threshold through
 * {@link CudaRuntime#poolAddress()}; the cache stays useful, it saves a driver call per tensor.)
 *
 * <p>Why {@link #free} touches no CUDA: it may run on the {@link java.lang.ref.Cleaner}'s thread for a
 * leaked tensor. That thread has no context bound, and a driver call racing the owning thread's stream
 * work (or a stream capture) is exactly the kind of failure that is hard to find. So a free only puts
 * the block back in the cache under this object's lock; blocks go back to the driver only in
 * {@link #releaseCached}, called by the owning thread (on an out-of-memory retry or on request).
 */
final class DeviceAllocator {
    /** How memory comes from the driver. */
    enum Source {
        /** cuMemAllocFromPoolAsync on a pool this runtime created (its handle allows a trim after release). */
        CREATED_POOL,
        /** cuMemAllocAsync on the device's default pool, when creating a pool failed. */
        DEFAULT_POOL,
        /** cuMemAlloc / cuMemFree, when the device has no memory pools (some virtualised GPUs). */
        SYNCHRONOUS
    }

    private final CUstream stream;
    private final CUmemoryPool pool;
    private final Source source;
    private final String deviceName;
    private final Map<Long, ArrayDeque<DevicePointer>> cached = new HashMap<>();
    private long bytesInUse;
    private long bytesCached;
    private long driverAllocations;
    private long reuses;

    DeviceAllocator(CUstream stream, CUmemoryPool pool, Source source, String deviceName) {
        this.stream = stream;
        this.pool = pool;
        this.source = source;
        this.deviceName = deviceName;
    }

    Source source() {
        return source;
    }

    /**
     * Rounds a request up to its size class: multiples of 512 bytes up to 4 KiB, then four classes per
     * power of two (at most 25 % over the request), so that a training loop's repeated shapes hit the
     * same class every step while odd sizes do not fragment the cache into thousands of keys.
     */
    static long sizeClass(long bytes) {
        if (bytes <= 4096) {
            return Math.max(512, (bytes + 511) & ~511L);
        }
        long power = Long.highestOneBit(bytes);
        long step = power >> 2;
        return (bytes + step - 1) / step * step;
    }

    /** A block of at least {@code bytes}; {@code bytes} must be positive. */
    synchronized DevicePointer allocate(long bytes) {
        long size = sizeClass(bytes);
        ArrayDeque<DevicePointer> free = cached.get(size);
        if (free != null && !free.isEmpty()) {
            bytesCached -= size;
            bytesInUse += size;
            reuses++;
            return free.pop();
        }
        DevicePointer p = new DevicePointer();
        int status = driverAllocate(p, size);
        if (status == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            // The cache may hold enough for this request in other size classes: give it all back and retry once.
            releaseCached();
            status = driverAllocate(p, size);
        }
        if (status == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            throw outOfMemory(bytes);
        }
        CudaException.check(status, "cuMemAlloc of " + size + " bytes (" + source + ")");
        driverAllocations++;
        bytesInUse += size;
        return p;
    }

    /** Returns a block to the cache; no driver call (see the class comment). */
    synchronized void free(DevicePointer p, long bytes) {
        long size = sizeClass(bytes);
        cached.computeIfAbsent(size, k -> new ArrayDeque<>()).push(p);
        bytesInUse -= size;
        bytesCached += size;
    }

    /** Gives every cached block back to the driver and lets the pool return it to the OS. Owning thread only. */
    synchronized void releaseCached() {
        for (ArrayDeque<DevicePointer> blocks : cached.values()) {
            for (DevicePointer p : blocks) {
                int status = source == Source.SYNCHRONOUS ? cuMemFree(p) : cuMemFreeAsync(p, stream);
                CudaException.check(status, "cuMemFree of a cached block");
            }
        }
        cached.clear();
        bytesCached = 0;
        // The frees are stream-ordered: wait for them, then trim, so the memory is really free for the retry.
        CudaException.check(cuStreamSynchronize(stream), "cuStreamSynchronize after releasing cached blocks");
        if (source == Source.CREATED_POOL) {
            CudaException.check(cuMemPoolTrimTo(pool, 0), "cuMemPoolTrimTo(0)");
        }
    }

    private int driverAllocate(DevicePointer p, long size) {
        return switch (source) {
            case CREATED_POOL -> cuMemAllocFromPoolAsync(p, size, pool, stream);
            case DEFAULT_POOL -> cuMemAllocAsync(p, size, stream);
            case SYNCHRONOUS -> cuMemAlloc(p, size);
        };
    }

    synchronized CudaMemoryStats stats() {
        int blocks = 0;
        for (ArrayDeque<DevicePointer> b : cached.values()) {
            blocks += b.size();
        }
        return new CudaMemoryStats(bytesInUse, bytesCached, blocks, driverAllocations, reuses);
    }

    private CudaOutOfMemoryException outOfMemory(long requested) {
        long[] free = new long[1];
        long[] total = new long[1];
        String device = cuMemGetInfo(free, total) == CUresult.CUDA_SUCCESS
                ? String.format(Locale.ROOT, "%s has %s free of %s", deviceName, gib(free[0]), gib(total[0]))
                : deviceName + " did not report its free memory";
        return new CudaOutOfMemoryException(String.format(Locale.ROOT,
                "CUDA out of memory: could not allocate %s (%d bytes); %s, of which Retort's live tensors hold %s. "
                        + "Use a smaller batch, close tensors you no longer need (scopes), or --device cpu",
                gib(requested), requested, device, gib(bytesInUse)), requested);
    }

    static String gib(long bytes) {
        if (bytes < (1L << 20)) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        if (bytes < (1L << 30)) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }
}
