package dev.retort.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retort.backend.cpu.CpuBackend;
import dev.retort.backend.cuda.CudaAvailability;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Backends.of: the CPU always, CUDA only when usable, else the reason in the exception. */
class BackendsTest {

    @AfterEach
    void restore() {
        CudaAvailability.resetChecks();
    }

    @Test
    void cpuIsAlwaysThere() {
        assertSame(CpuBackend.get(), Backends.of(Device.CPU));
    }

    @Test
    void unusableCudaThrowsWithTheReason() {
        String reason = CudaAvailability.unavailableReason();
        assumeTrue(reason != null, "CUDA is usable here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.of(Device.CUDA));
        assertEquals(reason + "; use --device cpu", e.getMessage());
    }

    @Test
    void aFailingPluggedCheckIsTheReason() {
        assumeTrue(CudaAvailability.unavailableReason() != null, "CUDA is usable here, and Backends keeps it");
        CudaAvailability.setCheck(CudaAvailability.DRIVER, () -> "no driver in this test");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.of(Device.CUDA));
        assertEquals("no driver in this test; use --device cpu", e.getMessage());
    }
}
