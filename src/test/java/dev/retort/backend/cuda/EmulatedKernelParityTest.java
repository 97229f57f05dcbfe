package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The kernel parity checks on the emulator: the real kernels/*.cu sources compiled for the CPU by g++, so their
 * arithmetic, indexing, reductions and parameter types are verified on machines without a GPU. Skipped where
 * g++ is missing.
 */
class EmulatedKernelParityTest extends KernelParityChecks {
    private static EmulatedGpu gpu;

    @BeforeAll
    static void start() {
        String reason = EmulatedGpu.unavailableReason();
        assumeTrue(reason == null, () -> "kernel emulator unavailable: " + reason);
        gpu = EmulatedGpu.start();
    }

    @AfterAll
    static void stop() {
        if (gpu != null) {
            gpu.close();
        }
    }

    @Override
    protected KernelTestDevice device() {
        return gpu;
    }

    /** One OS thread per CUDA thread: the largest rows and reductions are left to the GPU run. */
    @Override
    protected boolean large() {
        return false;
    }
}
