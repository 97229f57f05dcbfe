package dev.retort.backend.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static org.junit.jupiter.api.Assertions.assertEquals;

import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The test devices check every driver call themselves and leave JCuda's error mode alone. They
 * used to switch JCuda to exceptions for the whole JVM, which changed the runtime's own error handling (its
 * out-of-memory retry reads return codes) in every test that ran after them.
 */
@Tag("gpu")
class JCudaErrorModeGpuTest {
    @Test
    void theTestDevicesLeaveJCudaReturningErrorCodes() {
        GpuAssumptions.assumeDevice(JCudaTestDevice.unavailableReason(), "no CUDA device");
        GpuTestDevice.unavailableReason();
        try (JCudaTestDevice device = JCudaTestDevice.start()) {
            device.allocate(64);
        }
        new GpuTestDevice().close();
        // With exceptions enabled this would throw instead of returning the code the runtime checks.
        assertEquals(CUresult.CUDA_ERROR_INVALID_DEVICE, cuDeviceGet(new CUdevice(), 4096));
    }
}
