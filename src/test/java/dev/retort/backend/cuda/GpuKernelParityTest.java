package dev.retort.backend.cuda;


import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * The kernel parity checks on the first CUDA device, with the fatbins from the build: every kernel against the
 * CPU backend (KD kernels within 1e-4). Tagged gpu (excluded from the default test run) and skipped where no
 * CUDA device, driver or kernel image is usable.
 */
@Tag("gpu")
class GpuKernelParityTest extends KernelParityChecks {
    private static JCudaTestDevice gpu;

    @BeforeAll
    static void start() {
        String reason = JCudaTestDevice.unavailableReason();
        GpuAssumptions.assumeDevice(reason, "no usable CUDA device");
        gpu = JCudaTestDevice.start();
        System.out.println("GpuKernelParityTest on " + gpu.describe());
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
}
