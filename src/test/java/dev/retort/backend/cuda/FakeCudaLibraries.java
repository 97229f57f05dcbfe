package dev.retort.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Builds the fake NVIDIA libraries of fake_cuda_libraries.c with gcc, so the bridge can be exercised without a GPU. */
final class FakeCudaLibraries {

    private FakeCudaLibraries() {}

    static boolean gccAvailable() {
        try {
            Process p = new ProcessBuilder("gcc", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Compiles the part selected by {@code define} into {@code folder/fileName} with that soname. */
    static void build(Path folder, String define, String fileName) throws IOException, InterruptedException {
        build(folder, define, fileName, List.of());
    }

    /** The same, linked against {@code libraries} (e.g. "-L/dir", "-l:libcublasLt.so.13") as DT_NEEDED entries. */
    static void build(Path folder, String define, String fileName, List<String> libraries)
            throws IOException, InterruptedException {
        Files.createDirectories(folder);
        Path source = folder.resolve("fake_cuda_libraries.c");
        if (!Files.exists(source)) {
            try (InputStream in = FakeCudaLibraries.class.getResourceAsStream("fake_cuda_libraries.c")) {
                if (in == null) {
                    throw new IOException("test resource fake_cuda_libraries.c is missing");
                }
                Files.copy(in, source, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        List<String> command = new ArrayList<>(List.of("gcc", "-O1", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror",
                "-D" + define, "-Wl,-soname," + fileName, "-o", folder.resolve(fileName).toString(), source.toString()));
        command.addAll(libraries);
        command.add("-ldl");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed:\n" + output);
        }
    }
}
