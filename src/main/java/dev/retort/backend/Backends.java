package dev.retort.backend;

import dev.retort.backend.cpu.CpuBackend;

/** Finds the backend that serves a device. */
public final class Backends {
    private Backends() {}

    public static Backend of(Device device) {
        return switch (device) {
            case CPU -> CpuBackend.get();
            case CUDA -> throw new IllegalStateException(
                    "the CUDA backend is not part of this build yet; use --device cpu");
        };
    }
}
