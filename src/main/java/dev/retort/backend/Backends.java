package dev.retort.backend;

import dev.retort.backend.cpu.CpuBackend;
import dev.retort.backend.cuda.CudaAvailability;
import dev.retort.backend.cuda.CudaBackend;

/** Finds the backend that serves a device. */
public final class Backends {
    private static volatile Backend cuda;

    private Backends() {}

    /**
     * The backend for a device. Called on every tensor operation, so the CUDA answer is cached once it
     * is usable; when it is not, {@link CudaAvailability} remembers why and the exception says it
     * (the command line's --device option shows that message).
     *
     * @throws IllegalStateException for CUDA when it is not usable here, with the reason
     */
    public static Backend of(Device device) {
        return switch (device) {
            case CPU -> CpuBackend.get();
            case CUDA -> cuda();
        };
    }

    private static Backend cuda() {
        Backend b = cuda;
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
