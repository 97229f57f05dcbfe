package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fatbins kernels/build.sh packs into the classes, and the reasons KernelImages gives when they are unusable. */
class KernelImagesTest {

    @Test
    void builtFatbinsArePresentCompleteAndWellFormed() {
        assumeTrue(KernelImages.class.getResource(KernelImages.RESOURCE_DIR + "kernels.properties") != null,
                "the build had no nvcc (kernels/build.sh skipped the CUDA kernels)");
        KernelImages images = KernelImages.load();
        assertTrue(images.available(), () -> "kernel images unavailable: " + images.unavailableReason());
        assertEquals(List.copyOf(KernelModules.MODULE_KERNELS.keySet()), images.modules());
        for (String module : images.modules()) {
            assertNull(KernelImages.validate(module + ".fatbin", images.image(module)), module);
        }
        // The SASS targets docs/design.md promises (unless a developer narrowed RETORT_CUDA_ARCHS), plus PTX.
        List<String> targets = images.targets();
        assertTrue(targets.stream().anyMatch(t -> t.startsWith("compute_")), () -> "no PTX target in " + targets);
        if (System.getenv("RETORT_CUDA_ARCHS") == null) {
            for (String sm : List.of("sm_80", "sm_86", "sm_89", "sm_90", "sm_100", "sm_120")) {
                assertTrue(targets.contains(sm), () -> sm + " missing from " + targets);
            }
        }
        assertFalse(images.nvccVersion().isBlank());
    }

    private static byte[] fatbin(int magic, int version, int headerSize, long fatSize, int actualPayload) {
        ByteBuffer b = ByteBuffer.allocate(16 + actualPayload).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(magic).putShort((short) version).putShort((short) headerSize).putLong(fatSize);
        return b.array();
    }

    @Test
    void validateChecksMagicVersionAndSize() {
        assertNull(KernelImages.validate("a.fatbin", fatbin(KernelImages.FATBIN_MAGIC, 1, 16, 100, 100)));
        assertTrue(KernelImages.validate("a.fatbin", new byte[5]).contains("shorter than a fatbin header"));
        String magic = KernelImages.validate("a.fatbin", fatbin(0x464c457f, 1, 16, 0, 0));
        assertTrue(magic.contains("a.fatbin") && magic.contains("0x464C457F") && magic.contains("0xBA55ED50"), magic);
        assertTrue(KernelImages.validate("a.fatbin", fatbin(KernelImages.FATBIN_MAGIC, 2, 16, 0, 0))
                .contains("unknown fatbin header"));
        String truncated = KernelImages.validate("a.fatbin", fatbin(KernelImages.FATBIN_MAGIC, 1, 16, 100, 60));
        assertTrue(truncated.contains("announces 116 bytes, the file has 76"), truncated);
    }

    private static KernelImages load(Map<String, byte[]> files) {
        return KernelImages.load(name -> files.containsKey(name) ? new ByteArrayInputStream(files.get(name)) : null);
    }

    private static Map<String, byte[]> complete() {
        Map<String, byte[]> files = new HashMap<>();
        files.put("kernels.properties", "nvcc=13.0\ntargets=sm_80,sm_90,compute_90\n".getBytes(StandardCharsets.UTF_8));
        for (String module : KernelModules.MODULE_KERNELS.keySet()) {
            files.put(module + ".fatbin", fatbin(KernelImages.FATBIN_MAGIC, 1, 16, 8, 8));
        }
        return files;
    }

    @Test
    void unusableImagesGiveOneSentenceInsteadOfAnException() {
        KernelImages ok = load(complete());
        assertTrue(ok.available());
        assertEquals(List.of("sm_80", "sm_90", "compute_90"), ok.targets());
        assertEquals("13.0", ok.nvccVersion());

        KernelImages none = load(Map.of());
        assertFalse(none.available());
        assertTrue(none.unavailableReason().contains("not built"), none.unavailableReason());
        assertThrows(IllegalStateException.class, () -> none.image("kd_loss"));

        Map<String, byte[]> missing = complete();
        missing.remove("kd_loss.fatbin");
        missing.remove("optim.fatbin");
        String reason = load(missing).unavailableReason();
        assertTrue(reason.contains("kd_loss.fatbin") && reason.contains("optim.fatbin") && reason.contains("missing"),
                reason);

        Map<String, byte[]> damaged = complete();
        damaged.put("softmax.fatbin", "<!DOCTYPE html><html>404</html>".getBytes(StandardCharsets.UTF_8));
        reason = load(damaged).unavailableReason();
        assertTrue(reason.contains("softmax.fatbin") && reason.contains("not a fatbin"), reason);
    }

    @Test
    void loadErrorsNameTheCardItsComputeCapabilityAndTheBuiltTargets() {
        List<String> targets = List.of("sm_80", "sm_86", "sm_89", "sm_90", "sm_100", "sm_120", "compute_120");
        String old = KernelLoadException.message("kd_loss", "CUDA_ERROR_NO_BINARY_FOR_GPU", "Tesla T4", 7, 5, 13000,
                targets, "13.0");
        assertTrue(old.contains("Tesla T4") && old.contains("compute capability 7.5") && old.contains("sm_80, sm_86")
                && old.contains("compute_120") && old.contains("older than the oldest target (sm_80)"), old);
        String driver = KernelLoadException.message("kd_loss", "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "NVIDIA H100", 9, 0,
                12040, targets, "13.0");
        assertTrue(driver.contains("driver for CUDA 12.4") && driver.contains("install an NVIDIA driver for CUDA 13.0"),
                driver);
        String other = KernelLoadException.message("softmax", "CUDA_ERROR_INVALID_IMAGE", "Some GPU", 11, 0, 13000,
                targets, "13.0");
        assertTrue(other.contains("compute capability 11.0") && other.contains("targets sm_110"), other);
        assertTrue(KernelLoadException.isImageMismatch("CUDA_ERROR_NO_BINARY_FOR_GPU"));
        assertTrue(KernelLoadException.isImageMismatch("CUDA_ERROR_INVALID_PTX"));
        assertFalse(KernelLoadException.isImageMismatch("CUDA_ERROR_OUT_OF_MEMORY"));
    }
}
