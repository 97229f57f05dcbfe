package dev.retort.backend.cuda;

import java.util.Locale;
import jcuda.driver.CUresult;

/**
 * Turns the ways the CUDA driver can be missing or unfit into one sentence that says what to install.
 *
 * <p>What JCuda 12.6.0 does without a driver (seen on a machine with no libcuda.so.1): the first use of
 * {@code jcuda.driver.JCudaDriver} runs its static initialiser, which tries {@code System.loadLibrary}
 * ("JCudaDriver-12.6.0-linux-x86_64" on java.library.path), then extracts that library from the natives
 * jar into java.io.tmpdir and {@code System.load}s it; the dynamic loader then fails on its dependency
 * {@code libcuda.so.1} and JCuda throws an {@link UnsatisfiedLinkError} whose long message nests both
 * attempts. Every later use of the class throws {@link NoClassDefFoundError} ("Could not initialize
 * class"). Neither harms the JVM; the runtime catches the first and remembers the reason.
 *
 * <p>A driver too old for a function is not a load error: HotSpot loads JNI libraries with lazy
 * binding, so a missing symbol would only fail, fatally, at its first call. That is why the runtime
 * checks {@code cuDriverGetVersion} before calling anything newer than it.
 */
final class DriverProbe {
    private DriverProbe() {}

    /** JCuda's natives and our pom cover Linux on x86-64 only. */
    static void checkPlatform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new CudaUnavailableException("Retort's CUDA backend runs on Linux x86-64 only, and this is "
                    + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        }
    }

    /** The reason for a failure to load or link JCuda's driver library. */
    static String explain(LinkageError e) {
        String message = fullMessage(e);
        if (message.contains("libcuda.so")) {
            return "the NVIDIA driver library libcuda.so.1 was not found (no NVIDIA driver is installed, or it is not "
                    + "on the loader path); install the NVIDIA driver";
        }
        if (message.contains("undefined symbol") || message.contains("version `")) {
            return "the NVIDIA driver's libcuda.so.1 is too old for Retort's JCuda 12.6 bindings ("
                    + firstLine(message.substring(Math.max(0, message.indexOf("undefined symbol")))) + "); install "
                    + "NVIDIA driver 525 or newer";
        }
        if (message.contains("No resource found")) {
            return "JCuda's native library for linux-x86_64 is missing (jcuda-natives-12.6.0-linux-x86_64.jar is not "
                    + "on the class path)";
        }
        if (e instanceof NoClassDefFoundError && message.contains("jcuda/")) {
            // An optional dependency of the engine: an embedder who wants CUDA adds it (README.md, "CUDA").
            return "the JCuda jar (org.jcuda:jcuda:12.6.0) is not on the class path; add it as a dependency to use CUDA";
        }
        return "JCuda's driver bindings could not load: " + firstLine(message);
    }

    /** The reason the driver refused to start (cuInit, or cuDriverGetVersion before it). */
    static String explainInit(int status) {
        return switch (status) {
            case CUresult.CUDA_ERROR_NO_DEVICE -> "the NVIDIA driver is installed but sees no CUDA device";
            case CUresult.CUDA_ERROR_STUB_LIBRARY -> "the libcuda.so.1 found is the CUDA toolkit's stub, not a driver "
                    + "(remove the toolkit's stubs folder from LD_LIBRARY_PATH, or install the NVIDIA driver)";
            case CUresult.CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE -> "the CUDA forward-compatibility driver does not "
                    + "support this GPU; use the system's own NVIDIA driver";
            case CUresult.CUDA_ERROR_DEVICE_UNAVAILABLE -> "the CUDA device is busy or unavailable (is it in exclusive-process "
                    + "mode and used by another program?)";
            default -> "the CUDA driver did not start: " + CudaException.describe(status);
        };
    }

    /** Parses RETORT_CUDA_DEVICE against the number of devices. */
    static int deviceOrdinal(String value, int count) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        int ordinal;
        try {
            ordinal = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new CudaUnavailableException(CudaRuntime.DEVICE_VARIABLE + "=" + value
                    + " is not a device number; use 0 to " + (count - 1));
        }
        if (ordinal < 0 || ordinal >= count) {
            throw new CudaUnavailableException(CudaRuntime.DEVICE_VARIABLE + "=" + value + " but this machine has "
                    + count + " CUDA device" + (count == 1 ? "" : "s") + "; use 0 to " + (count - 1));
        }
        return ordinal;
    }

    private static String fullMessage(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            b.append(t).append('\n');
        }
        return b.toString();
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }
}
