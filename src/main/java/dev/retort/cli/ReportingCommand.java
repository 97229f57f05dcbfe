package dev.retort.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Base of commands, and the one exit-code contract of every command: a command line that cannot be parsed
 * (an unknown option, a missing option or value, a value not of the option's type) is picocli's, which prints it
 * with the usage and exits with 2; everything the command itself finds wrong (a value out of range, options that
 * clash, a file that is missing, malformed or would be overwritten, data that does not fit the model) ends in one
 * line on stderr and exit code 1, never a stack trace. Set {@code RETORT_DEBUG} in the environment to see the
 * stack trace as well.
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
        } catch (MissingParameterException e) {
            throw e; // a missing option is command-line syntax: picocli prints it with the usage, exit 2
        } catch (ParameterException e) {
            return fail(e.getMessage(), e);
        } catch (IOException | UncheckedIOException | IllegalArgumentException | IllegalStateException e) {
            return fail(describe(e), e);
        } catch (OutOfMemoryError e) {
            return fail("out of memory (" + e.getMessage() + "); the Java heap is too small for this input or model: "
                    + "raise it (RETORT_JAVA_OPTS=-Xmx8g) or use smaller inputs; files already written are intact", e);
        } catch (StackOverflowError e) {
            return fail("stack overflow; an input is nested too deeply or a network too deep for the thread stack "
                    + "(RETORT_JAVA_OPTS=-Xss64m raises it); files already written are intact", e);
        }
    }

    private int fail(String message, Throwable e) {
        PrintWriter err = err();
        // One line whatever the message holds: a library's message may span several.
        err.println("retort " + spec.name() + ": " + message.strip().replaceAll("\\s*\\R\\s*", " "));
        if (System.getenv("RETORT_DEBUG") != null) {
            e.printStackTrace(err);
        }
        err.flush();
        return 1;
    }

    /** The JDK's file errors say only the path; the reason goes with it. */
    static String describe(Exception e) {
        Throwable t = e instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : e;
        if (t instanceof NoSuchFileException f) {
            return f.getFile() + ": no such file or folder";
        }
        if (t instanceof AccessDeniedException f) {
            return f.getFile() + ": permission denied";
        }
        if (t instanceof FileAlreadyExistsException f) {
            return f.getFile() + ": already exists and is not a folder";
        }
        if (t instanceof FileSystemException f && f.getReason() != null) {
            return f.getFile() + ": " + f.getReason();
        }
        return String.valueOf(t.getMessage());
    }

    protected final PrintWriter out() {
        return spec.commandLine().getOut();
    }

    protected final PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** A value the command refuses (out of range, clashing with another option): one line, exit 1. */
    protected final IllegalArgumentException optionError(String message) {
        return new IllegalArgumentException(message);
    }

    /**
     * An option the command needs but the command line lacks (one that a {@code --config} replay could have
     * supplied, so picocli cannot require it): command-line syntax, printed with the usage, exit 2.
     */
    protected final ParameterException missingOption(String message) {
        return missingOption(spec, message);
    }

    /** As {@link #missingOption(String)}, for the option mixins. */
    static ParameterException missingOption(CommandSpec spec, String message) {
        return new MissingParameterException(spec.commandLine(), List.of(), message);
    }

    protected final void requirePositive(String option, int value) {
        if (value <= 0) {
            throw optionError(option + " " + value + ": must be a positive integer");
        }
    }
}
