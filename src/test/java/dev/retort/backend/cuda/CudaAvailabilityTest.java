package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** CudaAvailability on a machine without a GPU: one-sentence reasons, no crash, pluggable checks. */
class CudaAvailabilityTest {

    @AfterEach
    void restore() {
        CudaAvailability.resetChecks();
    }

    /** Whether the loader could find a driver library here (the common folders and LD_LIBRARY_PATH). */
    static boolean libcudaPresent() {
        List<String> dirs = new ArrayList<>(List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64",
                "/usr/local/nvidia/lib64", "/usr/lib/wsl/lib", "/lib/x86_64-linux-gnu"));
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            dirs.addAll(List.of(ld.split(":")));
        }
        for (String d : dirs) {
            if (!d.isEmpty() && new File(d, "libcuda.so.1").exists()) {
                return true;
            }
        }
        return false;
    }

    @Test
    void withoutLibcudaTheDriverCheckSaysSoInOneSentence() {
        assumeFalse(libcudaPresent(), "this machine has libcuda.so.1");
        String reason = CudaAvailability.driverUnavailableReason();
        assertTrue(reason.contains("libcuda.so.1") && reason.contains("install the NVIDIA driver"), reason);
        assertFalse(reason.contains("\n"), reason);
        assertEquals(reason, CudaAvailability.unavailableReason(), "the driver is the first check");
        // Asked again, the answer is the remembered one, and the JVM is still here to ask.
        assertEquals(reason, CudaAvailability.driverUnavailableReason());
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, CudaRuntime::get);
        assertEquals(reason, e.getMessage());
        assertThrows(CudaUnavailableException.class, CudaBackend::get);
    }

    @Test
    void everyReasonIsOneShortLine() {
        for (CudaAvailability.Result r : CudaAvailability.results()) {
            if (!r.passed()) {
                assertFalse(r.reason().contains("\n"), r.name() + ": " + r.reason());
                assertTrue(r.reason().length() < 300, r.name() + ": " + r.reason());
            }
        }
        assertEquals(List.of("driver", "kernels", "bridge"),
                CudaAvailability.results().stream().map(CudaAvailability.Result::name).toList());
    }

    @Test
    void checksArePluggableAndTheFirstFailureWins() {
        CudaAvailability.setCheck(CudaAvailability.DRIVER, () -> null);
        CudaAvailability.setCheck(CudaAvailability.KERNELS, () -> "kernels missing");
        CudaAvailability.setCheck(CudaAvailability.BRIDGE, () -> "bridge missing");
        assertEquals("kernels missing", CudaAvailability.unavailableReason());
        CudaAvailability.setCheck(CudaAvailability.KERNELS, () -> null);
        assertEquals("bridge missing", CudaAvailability.unavailableReason());
        CudaAvailability.setCheck(CudaAvailability.BRIDGE, () -> null);
        assertNull(CudaAvailability.unavailableReason());
    }

    @Test
    void aCheckThatThrowsBecomesAReason() {
        CudaAvailability.setCheck(CudaAvailability.DRIVER, () -> {
            throw new IllegalStateException("boom");
        });
        assertEquals("the driver check failed: boom", CudaAvailability.unavailableReason());
    }

    @Test
    void kernelsAndBridgeAreJudgedByKernelImagesAndNativeBridge() {
        assertEquals(KernelImages.bundled().unavailableReason(), CudaAvailability.results().get(1).reason());
        String bridge = CudaAvailability.results().get(2).reason();
        if (NativeBridge.unavailableReason() != null) {
            assertEquals(NativeBridge.unavailableReason(), bridge);
        }
        assertTrue(CudaAvailability.describe(CudaAvailability.KERNELS) != null);
        assertTrue(CudaAvailability.describe(CudaAvailability.BRIDGE) != null);
    }

    @Test
    void driverProbeNamesAnOldDriverAndAStub() {
        String old = DriverProbe.explain(new UnsatisfiedLinkError(
                "/tmp/libJCudaDriver-12.6.0-linux-x86_64.so: undefined symbol: cuMemAllocAsync"));
        assertTrue(old.contains("too old") && old.contains("cuMemAllocAsync"), old);
        assertTrue(DriverProbe.explainInit(34).contains("stub"));
        assertTrue(DriverProbe.explainInit(100).contains("no CUDA device"));
        assertTrue(DriverProbe.explainInit(999).startsWith("the CUDA driver did not start: CUDA_ERROR_UNKNOWN"),
                DriverProbe.explainInit(999));
        assertTrue(DriverProbe.explain(new UnsatisfiedLinkError("No resource found with name '/lib/x.so'"))
                .contains("jcuda-natives"));
    }

    @Test
    void deviceOrdinalComesFromTheEnvironmentAndIsChecked() {
        assertEquals(0, DriverProbe.deviceOrdinal(null, 2));
        assertEquals(1, DriverProbe.deviceOrdinal(" 1 ", 2));
        CudaUnavailableException high = assertThrows(CudaUnavailableException.class,
                () -> DriverProbe.deviceOrdinal("2", 2));
        assertTrue(high.getMessage().contains("RETORT_CUDA_DEVICE=2 but this machine has 2 CUDA devices"),
                high.getMessage());
        assertThrows(CudaUnavailableException.class, () -> DriverProbe.deviceOrdinal("gpu0", 1));
    }

    @Test
    void sizeClassesRoundUpByAtMostAQuarter() {
        assertEquals(512, DeviceAllocator.sizeClass(1));
        assertEquals(512, DeviceAllocator.sizeClass(512));
        assertEquals(1024, DeviceAllocator.sizeClass(513));
        assertEquals(4096, DeviceAllocator.sizeClass(4096));
        for (long bytes = 4097; bytes < (1L << 34); bytes = bytes * 3 / 2 + 7) {
            long size = DeviceAllocator.sizeClass(bytes);
            assertTrue(size >= bytes && size <= bytes * 1.25 + 1, bytes + " → " + size);
            assertEquals(size, DeviceAllocator.sizeClass(size), "a class is its own class");
        }
    }

    @Test
    void runsOnlyOnLinuxX86() {
        assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"));
        DriverProbe.checkPlatform();
    }
}
