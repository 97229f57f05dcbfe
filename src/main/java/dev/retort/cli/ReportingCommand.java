package dev.retort.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Base of commands whose expected failures (a file that is missing or malformed, data that does not
 * fit the model) end in one line on stderr and exit code 1 instead of a stack trace. Option errors
 * ({@link ParameterException}) still go to picocli, which prints them with the usage and exits with 2.
 * Set {@code RETORT_DEBUG} in the environment to see the stack trace as well.
 */
abstract class ReportingCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** The command's work; returns the exit code. */
    protected abstract int run() throws IOException;

    @Override
    public final Integer call() {
        try {
            return run();
        } catch (IOException | UncheckedIOException | IllegalArgumentException | IllegalStateException e) {
            PrintWriter err = err();
            err.println("retort " + spec.name() + ": " + e.getMessage());
            if (System.getenv("RETORT_DEBUG") != null) {
                e.printStackTrace(err);
            }
            err.flush();
            return 1;
        }
    }

    protected final PrintWriter out() {
        return spec.commandLine().getOut();
    }

    protected final PrintWriter err() {
        return spec.commandLine().getErr();
    }

    protected final ParameterException optionError(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Fails before any work when an output file's folder is missing, rather than after minutes of it. */
    protected final void requireFolderOf(String option, Path file) {
        Path folder = file.toAbsolutePath().getParent();
        if (folder == null || !Files.isDirectory(folder)) {
            throw optionError(option + " " + file + ": folder " + folder + " does not exist; create it first");
        }
        if (Files.isDirectory(file)) {
            throw optionError(option + " " + file + ": is a folder; name a file");
        }
    }

    protected final void requirePositive(String option, int value) {
        if (value <= 0) {
            throw optionError(option + " " + value + ": must be a positive integer");
        }
    }
}
