package dev.retort.backend.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The site-packages folders of the {@code python3} on PATH, asked of Python itself: where pip put NVIDIA's wheels
 * (cuBLAS, cuDNN, NVRTC) in images whose venv or conda is on PATH without {@code VIRTUAL_ENV} or
 * {@code CONDA_PREFIX} set ({@code /opt/conda}, {@code /opt/venv}, a project's {@code .venv}).
 */
final class PythonSitePackages {
    /** Prints the interpreter's site-packages folders and the user's, one per line. */
    static final String SCRIPT = "import site, sys\n"
            + "for p in site.getsitepackages() + [site.getusersitepackages()]: print(p)\n";
    private static final long TIMEOUT_SECONDS = 10;

    private PythonSitePackages() {}

    /** The folders, in Python's order; empty when there is no python3 on {@code environment}'s PATH or it fails. */
    static List<Path> of(Map<String, String> environment) {
        Path python = onPath(environment.get("PATH"));
        if (python == null) {
            return List.of();
        }
        try {
            ProcessBuilder builder = new ProcessBuilder(python.toString(), "-c", SCRIPT).redirectErrorStream(false)
                    .redirectError(ProcessBuilder.Redirect.DISCARD);
            builder.environment().clear();
            builder.environment().putAll(environment);
            Process p = builder.start();
            p.getOutputStream().close();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return List.of();
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                return List.of();
            }
            List<Path> sites = new ArrayList<>();
            for (String line : out.split("\n")) {
                if (!line.isBlank()) {
                    sites.add(Path.of(line.trim()));
                }
            }
            return sites;
        } catch (IOException | RuntimeException e) {
            return List.of(); // a broken interpreter only means one place fewer to look
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    private static Path onPath(String path) {
        if (path == null) {
            return null;
        }
        for (String folder : path.split(":")) {
            if (folder.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(folder, "python3");
            if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
