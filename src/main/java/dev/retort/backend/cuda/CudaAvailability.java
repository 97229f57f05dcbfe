package dev.retort.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Whether the CUDA backend can run in this process, and if not, why — in one sentence that names what
 * is missing and what to install. Never throws, never crashes the JVM; each answer is computed once.
 *
 * <p>The answer is the first failing of a list of named checks, in this order: {@code driver} (JCuda
 * loads libcuda.so.1, the driver is new enough, a device exists, the runtime starts on it),
 * {@code kernels} (our fatbins are in the jar and load) and {@code bridge} (the cuBLAS/cuDNN JNI bridge
 * loads and binds its libraries). The checks are pluggable ({@link #setCheck}) so that components merged
 * later, and tests, can supply their own.
 */
public final class CudaAvailability {
    /**
     * Name of the check that JCuda loads the driver, the driver is new enough, a device exists and the
     * runtime starts.
     */
    public static final String DRIVER = "driver";
    /** Name of the check that Retort's fatbins are in the jar and load on this device. */
    public static final String KERNELS = "kernels";
    /** Name of the check that the cuBLAS/cuDNN JNI bridge loads and binds its libraries. */
    public static final String BRIDGE = "bridge";

    /** Kept for tests written against the probe; the checks now call KernelImages and NativeBridge directly. */
    static final String KERNEL_IMAGES_CLASS = "dev.retort.backend.cuda.KernelImages";
    static final String NATIVE_BRIDGE_CLASS = "dev.retort.backend.cuda.NativeBridge";
    /** Until KernelImages is merged: the folder the build packs the fatbins into. */
    static final String KERNELS_RESOURCE = "dev/retort/backend/cuda/kernels/";
    /** Until NativeBridge is merged: the folder the build packs the bridge library into. */
    static final String BRIDGE_RESOURCE = "dev/retort/backend/cuda/native/";

    /**
     * One named condition for the backend.
     *
     * @param unavailableReason null when the condition holds, else the sentence users see
     */
    public record Check(String name, Supplier<String> unavailableReason) {}

    /** A check's outcome; {@code reason} is null when it passed. */
    public record Result(String name, String reason) {
        /** Whether the condition held (no reason was given). */
        public boolean passed() {
            return reason == null;
        }
    }

    private static final List<Check> CHECKS = new CopyOnWriteArrayList<>(defaultChecks());
    private static volatile List<Result> results;

    private CudaAvailability() {}

    /** Null when the CUDA backend is usable; else the first failing check's reason. */
    public static String unavailableReason() {
        for (Result r : results()) {
            if (!r.passed()) {
                return r.reason();
            }
        }
        return null;
    }

    /**
     * Null when the driver and a device are usable and the runtime started (enough for the runtime's own
     * tests and for device information), regardless of kernels and bridge.
     */
    public static String driverUnavailableReason() {
        try {
            return CudaRuntime.tryStart();
        } catch (LinkageError e) {
            return DriverProbe.explain(e);
        }
    }

    /**
     * Every check's outcome, in order. A check after a failed {@code driver} check is still reported
     * (doctor lists what else is missing), since the kernels and bridge checks need no device.
     */
    public static List<Result> results() {
        List<Result> r = results;
        if (r == null) {
            synchronized (CudaAvailability.class) {
                r = results;
                if (r == null) {
                    r = evaluate();
                    results = r;
                }
            }
        }
        return r;
    }

    /** Replaces the check of that name (or appends a new one) and forgets cached answers. */
    public static synchronized void setCheck(String name, Supplier<String> unavailableReason) {
        Check check = new Check(name, unavailableReason);
        for (int i = 0; i < CHECKS.size(); i++) {
            if (CHECKS.get(i).name().equals(name)) {
                CHECKS.set(i, check);
                results = null;
                return;
            }
        }
        CHECKS.add(check);
        results = null;
    }

    /** Puts back the built-in checks (for tests that replaced some). */
    public static synchronized void resetChecks() {
        CHECKS.clear();
        CHECKS.addAll(defaultChecks());
        results = null;
    }

    /**
     * What a component says about itself for {@code retort doctor}: the kernel images in the jar
     * ({@link KernelImages#describe()}), the libraries the bridge bound and from where ({@link NativeBridge#describe()}).
     */
    public static String describe(String check) {
        try {
            return switch (check) {
                case KERNELS -> KernelImages.describe();
                case BRIDGE -> NativeBridge.unavailableReason() == null && bindLibraries() != null ? bindLibraries()
                        : NativeBridge.describe();
                default -> null;
            };
        } catch (RuntimeException | LinkageError e) {
            return check + ": describe failed: " + e.getMessage();
        }
    }

    private static List<Result> evaluate() {
        List<Result> out = new ArrayList<>();
        for (Check c : CHECKS) {
            String reason;
            try {
                reason = c.unavailableReason().get();
            } catch (LinkageError e) {
                // Most likely the JCuda jar itself is missing from an embedder's class path.
                reason = DriverProbe.explain(e);
            } catch (RuntimeException e) {
                reason = "the " + c.name() + " check failed: " + e.getMessage();
            }
            out.add(new Result(c.name(), reason));
        }
        return List.copyOf(out);
    }

    static List<Check> defaultChecks() {
        // A lambda, not a method reference: CudaRuntime (and with it the JCuda jar) is linked only when asked.
        return List.of(new Check(DRIVER, CudaAvailability::driverUnavailableReason),
                new Check(KERNELS, CudaAvailability::kernelsReason),
                new Check(BRIDGE, CudaAvailability::bridgeReason));
    }

    private static String kernelsReason() {
        return KernelImages.bundled().unavailableReason();
    }

    /** The bridge library must load and bind cuBLAS and cuDNN (once per process; the backend needs them anyway). */
    private static String bridgeReason() {
        String reason = NativeBridge.unavailableReason();
        if (reason != null) {
            return reason;
        }
        String failure = bindLibraries();
        if (failure == null) {
            return null;
        }
        // One line here; doctor's describe line gives the full message with what to install.
        int end = failure.indexOf('\n');
        return (end < 0 ? failure : failure.substring(0, end)) + " (retort doctor says what to install)";
    }

    /** Null when cuBLAS and cuDNN are bound, else the bridge's full message. */
    private static String bindLibraries() {
        try {
            NativeBridge.initFromEnvironment(null);
            return null;
        } catch (CudaLibraryException | IllegalStateException e) {
            return e.getMessage();
        }
    }
}
