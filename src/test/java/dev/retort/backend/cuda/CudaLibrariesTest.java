package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The folders searched for cuBLAS and cuDNN after the explicit folder and the loader path, in the documented order. */
class CudaLibrariesTest {

    private static Path lib(Path root, String folder, String file) throws IOException {
        Path dir = root.resolve(folder);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(file), "");
        return dir;
    }

    @Test
    void toolkitFoldersComeFirstThenPipWheelsFromTheActiveEnvironmentToTheSystem(@TempDir Path root) throws IOException {
        Path home = root.resolve("home/user");
        Path venv = root.resolve("work/venv");
        Path conda = root.resolve("opt/conda");
        Path cudaHome = root.resolve("opt/cuda-custom");
        Files.createDirectories(cudaHome.resolve("lib64"));
        Files.createDirectories(root.resolve("usr/local/cuda-12.4/lib64"));
        Files.createDirectories(root.resolve("usr/local/cuda-13.0/lib64"));
        Files.createDirectories(root.resolve("usr/local/cuda-12.10/lib64"));
        Files.createDirectories(root.resolve("usr/local/cuda/lib64"));
        Files.createDirectories(root.resolve("usr/local/cuda-notes")); // not a version: ignored
        Path venvCu13 = lib(venv, "lib/python3.11/site-packages/nvidia/cu13/lib", "libcublas.so.13");
        Path venvCudnn = lib(venv, "lib/python3.11/site-packages/nvidia/cudnn/lib", "libcudnn.so.9");
        lib(venv, "lib/python3.11/site-packages/nvidia/nccl/lib", "libnccl.so.2"); // neither library: skipped
        Path condaCublas = lib(conda, "lib/python3.10/site-packages/nvidia/cublas/lib", "libcublas.so.12");
        Path userCublas = lib(home, ".local/lib/python3.12/site-packages/nvidia/cublas/lib", "libcublas.so.12");
        Path local312 = lib(root, "usr/local/lib/python3.12/dist-packages/nvidia/cudnn/lib", "libcudnn.so.9");
        Path local39 = lib(root, "usr/local/lib/python3.9/dist-packages/nvidia/cudnn/lib", "libcudnn.so.9");
        Path localSite = lib(root, "usr/local/lib/python3.9/site-packages/nvidia/cublas/lib", "libcublas.so.12");
        Path debian = lib(root, "usr/lib/python3/dist-packages/nvidia/cudnn/lib", "libcudnn.so.9");
        Path system = lib(root, "usr/lib/python3.11/site-packages/nvidia/cublas/lib", "libcublas.so.12");

        List<String> folders = CudaLibraries.candidateFolders(Map.of("CUDA_HOME", cudaHome.toString(),
                "VIRTUAL_ENV", venv.toString(), "CONDA_PREFIX", conda.toString()), home, root, List.of());

        assertEquals(List.of(
                cudaHome.resolve("lib64").toString(),
                root.resolve("usr/local/cuda/lib64").toString(),
                root.resolve("usr/local/cuda-13.0/lib64").toString(),
                root.resolve("usr/local/cuda-12.10/lib64").toString(),
                root.resolve("usr/local/cuda-12.4/lib64").toString(),
                venvCu13.toString(), venvCudnn.toString(),
                condaCublas.toString(),
                userCublas.toString(),
                local312.toString(), local39.toString(), localSite.toString(),
                debian.toString(),
                system.toString()), folders);
    }

    @Test
    void aFolderReachedThroughASymbolicLinkIsListedOnce(@TempDir Path root) throws IOException {
        Path real = root.resolve("usr/local/cuda-13.0");
        Files.createDirectories(real.resolve("lib64"));
        Files.createSymbolicLink(root.resolve("usr/local/cuda"), real);
        assertEquals(List.of(root.resolve("usr/local/cuda/lib64").toString()),
                CudaLibraries.candidateFolders(Map.of(), root.resolve("home"), root, List.of()));
    }

    @Test
    void missingFoldersAreLeftOut(@TempDir Path root) {
        assertEquals(List.of(), CudaLibraries.candidateFolders(Map.of("CUDA_HOME", root.resolve("nowhere").toString()),
                root.resolve("home"), root, List.of()));
    }

    /** An image with /opt/conda on PATH but neither VIRTUAL_ENV nor CONDA_PREFIX set. */
    @Test
    void thePython3OnPathIsAskedForItsSitePackages(@TempDir Path root) throws IOException {
        Path site = root.resolve("opt/conda/lib/python3.12/site-packages");
        Path cu13 = lib(site, "nvidia/cu13/lib", "libcublas.so.13");
        Path nvrtc = lib(site, "nvidia/cuda_nvrtc/lib", "libnvrtc.so.12"); // CUDA 12's NVRTC wheel: cuDNN needs it
        Path cudnn = lib(site, "nvidia/cudnn/lib", "libcudnn.so.9");
        Path bin = Files.createDirectories(root.resolve("opt/conda/bin"));
        Path python = bin.resolve("python3");
        // A stand-in interpreter that answers the question PythonSitePackages asks, as CPython would.
        Files.writeString(python, "#!/bin/sh\necho " + site + "\necho " + root.resolve("home/.local/nothing") + "\n");
        python.toFile().setExecutable(true);
        Map<String, String> env = Map.of("PATH", root.resolve("empty") + ":" + bin + ":/usr/bin:/bin");

        List<Path> sites = PythonSitePackages.of(env);
        assertEquals(List.of(site, root.resolve("home/.local/nothing")), sites);
        assertEquals(List.of(cu13.toString(), nvrtc.toString(), cudnn.toString()),
                CudaLibraries.candidateFolders(env, root.resolve("home"), root, sites));
    }

    @Test
    void withoutPython3OnPathNoSitesAreAsked(@TempDir Path root) {
        assertEquals(List.of(), PythonSitePackages.of(Map.of("PATH", root.toString())));
        assertEquals(List.of(), PythonSitePackages.of(Map.of()));
    }

    @Test
    void theOptionWinsOverTheEnvironmentVariable() {
        Map<String, String> env = Map.of(CudaLibraries.ENVIRONMENT_VARIABLE, "/from/env");
        assertEquals("/from/option", CudaLibraries.explicitFolder("/from/option", env));
        assertEquals("/from/env", CudaLibraries.explicitFolder(null, env));
        assertEquals("/from/env", CudaLibraries.explicitFolder("  ", env));
        assertNull(CudaLibraries.explicitFolder(null, Map.of()));
    }
}
