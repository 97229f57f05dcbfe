package dev.retort.backend.cuda;

import java.util.Locale;

/**
 * What {@code retort doctor} and the logs say about the device: read once when the runtime starts.
 *
 * @param driverVersion the driver API version as cuDriverGetVersion reports it, e.g. 13000 for CUDA 13.0
 */
public record CudaDeviceInfo(int ordinal, String name, int computeMajor, int computeMinor, long totalBytes,
                             int multiprocessors, int driverVersion, long l2CacheBytes, boolean memoryPools) {

    /** "13.0" from 13000. */
    public static String formatVersion(int version) {
        return version / 1000 + "." + (version % 1000) / 10;
    }

    /**
     * The compute capability as NVIDIA writes it, e.g. "9.0"; what kernel images must have been built for.
     */
    public String computeCapability() {
        return computeMajor + "." + computeMinor;
    }

    /** One line: "cuda:0 NVIDIA H100 80GB HBM3, compute 9.0, 132 SMs, 79.1 GiB, driver CUDA 13.0". */
    public String describe() {
        return String.format(Locale.ROOT, "cuda:%d %s, compute %s, %d SMs, %.1f GiB, driver CUDA %s", ordinal, name,
                computeCapability(), multiprocessors, totalBytes / (double) (1L << 30), formatVersion(driverVersion));
    }
}
