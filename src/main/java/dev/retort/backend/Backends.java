package dev.retort.backend;

import dev.retort.backend.cpu.CpuBackend;
import dev.retort.backend.cuda.CudaAvailability;
import dev.retort.backend.cuda.CudaBackend;

/** Finds the backend that serves a device. */
public final class Backends {
    private static volatile Backend cuda;
    private static volatile Backend installedCuda;

    private Backends() {}

    /**
     * An installed backend; closing it puts back the one it replaced. Nested installations must be closed in
     * reverse order, as try-with-resources does.
     */
    public interface Installation extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * The backend for a device. Called on every tensor operation, so the CUDA answer is cached once it
     * is usable; when it is not, {@link CudaAvailability} remembers why and the exception says it
     * (the command line's --device option shows that message). A backend installed with
     * {@link #useForCuda} takes precedence.
     *
     * @throws IllegalStateException for CUDA when it is not usable here, with the reason
     */
    public static Backend of(Device device) {
        return switch (device) {
            case CPU -> CpuBackend.get();
            case CUDA -> cuda();
        };
    }

    /**
     * Serves {@link Device#CUDA} with {@code backend} until the returned installation is closed, whether or not
     * the real CUDA backend is usable here. This is the seam through which the tests run the device paths of the
     * trainer and the commands on machines without a GPU: a stand-in backend that computes with the CPU's kernels
     * behind storage labelled CUDA, and refuses any array that is not its own, shows that nothing crosses devices
     * where it should not. Tensors created while a backend is installed must be closed before it is removed.
     *
     * @throws IllegalArgumentException when the backend does not say it serves CUDA
     */
    public static Installation useForCuda(Backend backend) {
        if (backend == null || backend.device() != Device.CUDA) {
            throw new IllegalArgumentException("Backends.useForCuda: " + (backend == null ? "no backend"
                    : backend.describe() + " serves " + backend.device()) + "; it must serve cuda");
        }
        Backend previous;
        synchronized (Backends.class) {
            previous = installedCuda;
            installedCuda = backend;
        }
        return () -> {
            synchronized (Backends.class) {
                if (installedCuda != backend) {
                    throw new IllegalStateException("Backends.useForCuda: " + backend.describe() + " is no longer the "
                            + "installed CUDA backend; close installations in reverse order");
                }
                installedCuda = previous;
            }
        };
    }

    /**
     * Null when {@code Backends.of(CUDA)} has a backend to give (an installed one, or the real one when
     * {@link CudaAvailability} passes); else the reason CUDA is not usable, one sentence without advice.
     */
    public static String cudaUnavailableReason() {
        return installedCuda != null ? null : CudaAvailability.unavailableReason();
    }

    /**
     * True when this machine has no usable NVIDIA driver or device at all (or the JCuda jar is absent), as
     * opposed to a GPU that this build cannot use: what {@code --device auto} need not mention.
     */
    public static boolean cudaDriverMissing() {
        if (installedCuda != null) {
            return false;
        }
        for (CudaAvailability.Result r : CudaAvailability.results()) {
            if (r.name().equals(CudaAvailability.DRIVER)) {
                return !r.passed();
            }
        }
        return false;
    }

    /**
     * The backend that copies between arrays on {@code source} and {@code target}: the device's own when either
     * side is not the CPU, since only it can reach that memory (its {@code copy} accepts a CPU array on either
     * side); the CPU's when both are host arrays.
     */
    public static Backend forCopy(Device source, Device target) {
        return of(source == Device.CPU ? target : source);
    }

    private static Backend cuda() {
        Backend b = installedCuda;
        if (b != null) {
            return b;
        }
        b = cuda;
        if (b != null) {
            return b;
        }
        String reason = CudaAvailability.unavailableReason();
        if (reason != null) {
            throw new IllegalStateException(reason + "; use --device cpu");
        }
        b = CudaBackend.get();
        cuda = b;
        return b;
    }
}
