package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * How a gpu-tagged test reacts to a missing CUDA device: it skips with the reason, except where the emulated device
 * must be there (CI sets {@code -Dretort.emulated.required=true}), so that a CI run whose tests all skipped cannot
 * pass for one that ran them.
 */
public final class GpuAssumptions {
    /** The system property that turns a missing device into a failure. */
    public static final String REQUIRED_PROPERTY = "retort.emulated.required";

    private GpuAssumptions() {}

    /** Skips (or fails, when required) the calling test when {@code reason} is not null. */
    public static void assumeDevice(String reason, String what) {
        if (reason == null) {
            return;
        }
        if (Boolean.getBoolean(REQUIRED_PROPERTY)) {
            fail(what + ": " + reason + " (the emulated CUDA device is required in this run)");
        }
        assumeTrue(false, () -> what + ": " + reason);
    }

    /** True in a run on the emulated CUDA device (the emulated-gpu execution sets RETORT_EMULATED_CUDA=1). */
    public static boolean emulated() {
        return "1".equals(System.getenv("RETORT_EMULATED_CUDA"));
    }
}
