package dev.retort.cli;

import dev.retort.train.RetortFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The files a command writes, checked before any work against everything it reads: an output never replaces an
 * input of the same command (its weights, its network file, its config, an input file or a file of an input folder),
 * another output of it, or a file inside a Retort run, sweep or demo folder. Paths are compared by real path, so
 * links and {@code .}/{@code ..} count for where they lead. The writes themselves are atomic (a temporary file
 * renamed over the target), so a failed command leaves the old file as it was.
 */
final class OutputFiles {
    /** A file or folder the command reads, and the option that named it. */
    private record Input(String option, Path path) {}

    /** An output already checked. */
    private record Output(String option, Path path, Path real) {}

    private final List<Input> inputs = new ArrayList<>();
    private final List<Output> outputs = new ArrayList<>();

    /** Records that the command reads {@code path} (a file, or a folder whose files it may read); null is ignored. */
    OutputFiles reads(String option, Path path) {
        if (path != null) {
            inputs.add(new Input(option, path));
        }
        return this;
    }

    /**
     * Checks that {@code file} (given as {@code option}) can be written and replaces nothing it must not: its folder
     * exists and takes a file, it is not a folder, and it clashes with no input, no earlier output and no file of a
     * Retort folder. Throws one line naming the option, the file and the reason.
     */
    void writes(String option, Path file) throws IOException {
        Path folder = file.toAbsolutePath().getParent();
        if (folder == null || !Files.isDirectory(folder)) {
            throw new IllegalArgumentException(option + " " + file + ": folder " + folder
                    + " does not exist; create it first");
        }
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException(option + " " + file + ": is a folder; name a file");
        }
        Path real = realPath(file);
        for (Output earlier : outputs) {
            if (earlier.real().equals(real)) {
                throw new IllegalArgumentException(option + " " + file + ": is the " + earlier.option()
                        + " file too; one output would replace the other, name another file");
            }
        }
        for (Input input : inputs) {
            String clash = clash(real, input);
            if (clash != null) {
                throw new IllegalArgumentException(option + " " + file + ": " + clash + "; an output never replaces "
                        + "what the command reads, name another file");
            }
        }
        Optional<Path> retort = RetortFolder.enclosing(file);
        if (retort.isPresent() && Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException(option + " " + file + ": would replace a file of the Retort folder "
                    + retort.get() + " (" + RetortFolder.kindOf(retort.get()).orElseThrow().label() + "); an output "
                    + "never replaces a run's files, name a new file");
        }
        requireWritable(option, file, folder);
        outputs.add(new Output(option, file, real));
    }

    /** Why writing {@code real} would replace what {@code input} names, or null when it would not. */
    private static String clash(Path real, Input input) throws IOException {
        if (!Files.exists(input.path())) {
            return null;
        }
        Path in = input.path().toRealPath();
        if (in.equals(real)) {
            return "is the " + input.option() + " file" + (input.path().equals(real) ? "" : " (" + input.path() + ")");
        }
        if (Files.isDirectory(in) && real.startsWith(in) && Files.exists(real)) {
            return "is a file of the " + input.option() + " folder " + input.path();
        }
        return null;
    }

    /**
     * Where writing {@code file} really puts the bytes: the real path of an existing file (through its links), else
     * the real path of its folder with its name.
     */
    private static Path realPath(Path file) throws IOException {
        if (Files.exists(file)) {
            return file.toRealPath();
        }
        Path absolute = file.toAbsolutePath();
        return absolute.getParent().toRealPath().resolve(absolute.getFileName().toString());
    }

    /** A real write, not a permission bit: a read-only file system or a full quota fails here, before the work. */
    private static void requireWritable(String option, Path file, Path folder) {
        try {
            Files.delete(Files.createTempFile(folder, ".retort-write-check", ".tmp"));
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + file + ": cannot write into folder " + folder + " ("
                    + ReportingCommand.describe(e) + ")");
        }
    }
}
