package dev.retort.backend.cuda;

import java.util.List;

/**
 * A kernel image the driver will not load on this GPU: no code for its compute capability, PTX too new for
 * the driver, or a damaged image. The message names the card, its compute capability, the driver, the targets
 * the images were built for, and what to do.
 */
public final class KernelLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message the whole explanation, usually made by {@link #message} */
    public KernelLoadException(String message) {
        super(message);
    }

    /**
     * The message for a failed {@code cuModuleLoadData}.
     *
     * @param error         the CUresult name, e.g. CUDA_ERROR_NO_BINARY_FOR_GPU
     * @param driverVersion cuDriverGetVersion's value (e.g. 12040 for CUDA 12.4), or 0 when unknown
     */
    public static String message(String module, String error, String device, int ccMajor, int ccMinor,
                                 int driverVersion, List<String> targets, String nvccVersion) {
        StringBuilder sb = new StringBuilder("CUDA kernels: ").append(module).append(".fatbin cannot be loaded on ")
                .append(device).append(" (compute capability ").append(ccMajor).append('.').append(ccMinor)
                .append(", driver for CUDA ").append(driverVersion == 0 ? "?" : version(driverVersion)).append("): ")
                .append(error).append(". The kernels were built by nvcc ").append(nvccVersion).append(" for ")
                .append(targets.isEmpty() ? "unknown targets" : String.join(", ", targets)).append(". ");
        int lowest = lowestSass(targets);
        int nvccMajor = major(nvccVersion);
        boolean ptxTooNew = error.contains("UNSUPPORTED_PTX_VERSION")
                || driverVersion > 0 && nvccMajor > 0 && driverVersion / 1000 < nvccMajor;
        if (ptxTooNew) {
            sb.append("The driver is older than the toolkit that built the kernels: install an NVIDIA driver for CUDA ")
                    .append(nvccVersion).append(" or newer, or rebuild Retort with the CUDA toolkit this driver supports.");
        } else if (lowest > 0 && ccMajor * 10 + ccMinor < lowest) {
            sb.append("This GPU is older than the oldest target (sm_").append(lowest).append("): rebuild with a toolkit ")
                    .append("that supports sm_").append(ccMajor).append(ccMinor).append(" and RETORT_CUDA_ARCHS=\"")
                    .append(ccMajor).append(ccMinor).append("\" (kernels/build.sh), or use --device cpu.");
        } else {
            sb.append("Rebuild Retort with a CUDA toolkit that targets sm_").append(ccMajor).append(ccMinor)
                    .append(" (kernels/build.sh), or use --device cpu.");
        }
        return sb.toString();
    }

    /** Whether a CUresult name means the image does not suit this GPU or driver (rather than another failure). */
    public static boolean isImageMismatch(String error) {
        return error.contains("NO_BINARY_FOR_GPU") || error.contains("INVALID_IMAGE") || error.contains("INVALID_PTX")
                || error.contains("UNSUPPORTED_PTX_VERSION") || error.contains("JIT_COMPILER_NOT_FOUND")
                || error.contains("INVALID_SOURCE");
    }

    static String version(int driverVersion) {
        return driverVersion / 1000 + "." + driverVersion % 1000 / 10;
    }

    private static int major(String version) {
        try {
            return Integer.parseInt(version.split("\\.")[0]);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private static int lowestSass(List<String> targets) {
        int lowest = 0;
        for (String t : targets) {
            if (t.startsWith("sm_")) {
                try {
                    int v = Integer.parseInt(t.substring(3));
                    lowest = lowest == 0 ? v : Math.min(lowest, v);
                } catch (NumberFormatException ignored) {
                    // sm_90a and the like: not a plain number, not the lowest
                }
            }
        }
        return lowest;
    }
}
