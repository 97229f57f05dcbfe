package dev.retort.backend.cuda;

/**
 * A snapshot of the runtime's device-memory cache, for tests and {@code retort doctor}.
 *
 * @param bytesInUse        held by live storages (counted in size classes)
 * @param bytesCached       freed by Retort and kept for reuse, not returned to the driver
 * @param cachedBlocks      how many blocks the cache holds
 * @param driverAllocations blocks obtained from the driver so far
 * @param reuses            allocations served from the cache without a driver call
 */
public record CudaMemoryStats(long bytesInUse, long bytesCached, int cachedBlocks, long driverAllocations,
                              long reuses) {}
