package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bridge library loads on a machine without CUDA, and binding there fails with a message that names what is
 * missing, where it was looked for and what to install, never with a JVM crash.
 */
class NativeBridgeLoadTest {

    @BeforeEach
    void unbound() {
        assumeTrue(NativeBridge.binding() == null, "CUDA libraries are already bound in this JVM");
    }

    @AfterEach
    void reset() {
        NativeBridge.resetForTests();
    }

    @Test
    void theBridgeLibraryLoadsFromTheBuild() {
        assumeTrue(NativeBridge.class.getResource(NativeBridge.RESOURCE) != null || !FakeCudaLibraries.gccAvailable(),
                "unreachable: with gcc the build always packs the bridge");
        assertTrue(NativeBridge.class.getResource(NativeBridge.RESOURCE) != null,
                "native/build.sh did not put the bridge in target/classes although gcc is installed");
        assertNull(NativeBridge.unavailableReason());
    }

    @Test
    void withoutCublasInitNamesTheLibraryTheFoldersAndWhatToInstall(@TempDir Path explicit, @TempDir Path candidate) {
        assumeTrue(NativeBridge.unavailableReason() == null, () -> NativeBridge.unavailableReason());
        assumeFalse(cublasOnLoaderPath(), "a libcublas is on this machine's loader path");
        CudaLibraryException e = assertThrows(CudaLibraryException.class,
                () -> NativeBridge.init(explicit.toString(), List.of(candidate.toString())));
        String message = e.getMessage();
        assertTrue(message.startsWith("cuBLAS not found: no libcublas.so.13 or libcublas.so.12 in " + explicit + ", "
                + NativeBridge.Binding.LOADER_PATH + ", " + candidate + "."), message);
        assertTrue(message.contains("pip install nvidia-cublas"), message);
        assertTrue(message.contains("RETORT_CUDA_LIBS"), message);
        assertNull(NativeBridge.binding());
    }

    @Test
    void aFileThatIsNotALibraryIsReportedWithTheLoadersReason(@TempDir Path explicit) throws IOException {
        assumeTrue(NativeBridge.unavailableReason() == null, () -> NativeBridge.unavailableReason());
        assumeFalse(cublasOnLoaderPath(), "a libcublas is on this machine's loader path");
        Path broken = explicit.resolve("libcublas.so.12");
        Files.writeString(broken, "not an ELF file ".repeat(16)); // long enough for the loader to read a header
        CudaLibraryException e = assertThrows(CudaLibraryException.class,
                () -> NativeBridge.init(explicit.toString(), List.of()));
        assertTrue(e.getMessage().contains("Found but not loadable:\n  " + broken + ": invalid ELF header"),
                e.getMessage());
    }

    @Test
    void severalExplicitFoldersAreSearchedInOrder(@TempDir Path first, @TempDir Path second) {
        assumeTrue(NativeBridge.unavailableReason() == null, () -> NativeBridge.unavailableReason());
        assumeFalse(cublasOnLoaderPath(), "a libcublas is on this machine's loader path");
        CudaLibraryException e = assertThrows(CudaLibraryException.class,
                () -> NativeBridge.init(first + ":" + second, List.of()));
        assertTrue(e.getMessage().contains(" in " + first + ", " + second + ", " + NativeBridge.Binding.LOADER_PATH),
                e.getMessage());
    }

    /** Whether the dynamic loader could find a libcublas by soname: LD_LIBRARY_PATH, ld.so.cache, default folders. */
    static boolean cublasOnLoaderPath() {
        List<Path> folders = new ArrayList<>();
        String ldPath = System.getenv("LD_LIBRARY_PATH");
        if (ldPath != null) {
            for (String f : ldPath.split(":")) {
                if (!f.isBlank()) {
                    folders.add(Path.of(f));
                }
            }
        }
        for (String f : List.of("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/lib/x86_64-linux-gnu",
                "/usr/lib/x86_64-linux-gnu")) {
            folders.add(Path.of(f));
        }
        for (Path folder : folders) {
            if (Files.exists(folder.resolve("libcublas.so.13")) || Files.exists(folder.resolve("libcublas.so.12"))) {
                return true;
            }
        }
        try {
            String cache = new String(Files.readAllBytes(Path.of("/etc/ld.so.cache")), StandardCharsets.ISO_8859_1);
            return cache.contains("libcublas.so.13") || cache.contains("libcublas.so.12");
        } catch (IOException e) {
            return false;
        }
    }
}
