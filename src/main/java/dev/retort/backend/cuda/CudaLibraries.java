package dev.retort.backend.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where cuBLAS and cuDNN are looked for. The bridge searches, in order: the explicit folders (an option, else
 * {@code $RETORT_CUDA_LIBS}), the dynamic loader's own path, then {@link #candidateFolders()}: the CUDA toolkit's
 * lib64, then the {@code nvidia/*}{@code /lib} folders of pip-installed NVIDIA wheels (PyTorch's dependencies).
 * cuDNN never ships with the toolkit, and on many GPU machines the wheels hold its only copy.
 */
public final class CudaLibraries {

    /** Folders (separated by ':') searched before anything else. */
    public static final String ENVIRONMENT_VARIABLE = "RETORT_CUDA_LIBS";

    private CudaLibraries() {}

    /** The option when given, else {@code $RETORT_CUDA_LIBS}, else null. */
    public static String explicitFolder(String option) {
        return explicitFolder(option, System.getenv());
    }

    static String explicitFolder(String option, Map<String, String> environment) {
        if (option != null && !option.isBlank()) {
            return option;
        }
        String fromEnvironment = environment.get(ENVIRONMENT_VARIABLE);
        return fromEnvironment == null || fromEnvironment.isBlank() ? null : fromEnvironment;
    }

    /** The folders searched after the loader path, in search order; only folders that exist. */
    public static List<String> candidateFolders() {
        Map<String, String> environment = System.getenv();
        return candidateFolders(environment, Path.of(System.getProperty("user.home", "/root")), Path.of("/"),
                PythonSitePackages.of(environment));
    }

    /**
     * The same for a given environment, home folder and file-system root (tests pass a temporary tree).
     *
     * <p>Toolkit: {@code $CUDA_HOME/lib64}, {@code $CUDA_PATH/lib64}, {@code /usr/local/cuda/lib64}, then
     * {@code /usr/local/cuda-X.Y/lib64} newest first. Wheels: the active virtual environment, the active conda
     * environment, the user's site-packages (which Python puts before the system's), {@code /usr/local/lib}, then
     * {@code /usr/lib}; newer Pythons first; then the folders that the {@code python3} on PATH names (a venv or
     * conda on PATH without either variable set); within one site-packages, its {@code nvidia/<name>/lib} folders by name
     * ({@code cu13} holds CUDA 13's cuBLAS, {@code cublas} CUDA 12's, {@code cudnn} cuDNN) that hold a libcublas or
     * libcudnn. A folder reached twice (a symbolic link) is listed once.
     */
    static List<String> candidateFolders(Map<String, String> environment, Path home, Path root,
                                         List<Path> pythonSites) {
        Map<Path, String> folders = new LinkedHashMap<>();
        for (String variable : List.of("CUDA_HOME", "CUDA_PATH")) {
            String value = environment.get(variable);
            if (value != null && !value.isBlank()) {
                add(folders, Path.of(value, "lib64"));
            }
        }
        Path local = root.resolve("usr/local");
        add(folders, local.resolve("cuda/lib64"));
        for (Path toolkit : versionedChildren(local, "cuda-")) {
            add(folders, toolkit.resolve("lib64"));
        }

        List<Path> sitePackages = new ArrayList<>();
        for (String variable : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String value = environment.get(variable);
            if (value != null && !value.isBlank()) {
                sitePackages.addAll(pythonSites(Path.of(value, "lib"), "site-packages"));
            }
        }
        sitePackages.addAll(pythonSites);
        sitePackages.addAll(pythonSites(home.resolve(".local/lib"), "site-packages"));
        sitePackages.addAll(pythonSites(local.resolve("lib"), "dist-packages", "site-packages"));
        sitePackages.add(root.resolve("usr/lib/python3/dist-packages")); // Debian's packaged Python modules
        sitePackages.addAll(pythonSites(root.resolve("usr/lib"), "dist-packages", "site-packages"));
        for (Path site : sitePackages) {
            for (Path wheel : sortedChildren(site.resolve("nvidia"))) {
                Path lib = wheel.resolve("lib");
                if (holdsCudaLibrary(lib)) {
                    add(folders, lib);
                }
            }
        }
        return List.copyOf(folders.values());
    }

    private static void add(Map<Path, String> folders, Path folder) {
        if (!Files.isDirectory(folder)) {
            return;
        }
        Path key;
        try {
            key = folder.toRealPath();
        } catch (IOException e) {
            key = folder.toAbsolutePath().normalize();
        }
        folders.putIfAbsent(key, folder.toAbsolutePath().normalize().toString());
    }

    /** {@code parent/python3.X/<kind>} for each kind, X descending. */
    private static List<Path> pythonSites(Path parent, String... kinds) {
        List<Path> sites = new ArrayList<>();
        for (Path python : versionedChildren(parent, "python3.")) {
            for (String kind : kinds) {
                sites.add(python.resolve(kind));
            }
        }
        return sites;
    }

    /**
     * Children named prefix + a dotted version, newest first ("cuda-13.0" before "cuda-12.4", "python3.12" before
     * "python3.9").
     */
    private static List<Path> versionedChildren(Path parent, String prefix) {
        return sortedChildren(parent).stream()
                .filter(p -> p.getFileName().toString().startsWith(prefix)
                        && p.getFileName().toString().substring(prefix.length()).matches("\\d+(\\.\\d+)*"))
                .sorted(Comparator.comparing((Path p) -> p.getFileName().toString().substring(prefix.length()),
                        CudaLibraries::compareVersions).reversed())
                .toList();
    }

    private static int compareVersions(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int u = i < x.length ? Integer.parseInt(x[i]) : 0;
            int v = i < y.length ? Integer.parseInt(y[i]) : 0;
            if (u != v) {
                return Integer.compare(u, v);
            }
        }
        return 0;
    }

    private static List<Path> sortedChildren(Path parent) {
        if (!Files.isDirectory(parent)) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(parent)) {
            return children.filter(Files::isDirectory).sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            return List.of(); // an unreadable folder holds nothing we can load
        }
    }

    /** cuBLAS, cuDNN or NVRTC (which cuDNN's engines need; CUDA 12 ships it in its own wheel, cuda_nvrtc). */
    private static boolean holdsCudaLibrary(Path lib) {
        if (!Files.isDirectory(lib)) {
            return false;
        }
        try (Stream<Path> files = Files.list(lib)) {
            return files.map(p -> p.getFileName().toString())
                    .anyMatch(name -> name.startsWith("libcublas.so") || name.startsWith("libcudnn.so")
                            || name.startsWith("libnvrtc.so"));
        } catch (IOException e) {
            return false;
        }
    }
}
