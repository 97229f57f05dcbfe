package dev.retort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Every failure a command reports is one line on stderr and exit code 1, errors of the JVM included. */
class ReportingCommandTest {
    /** A command that fails with whatever it is given. */
    @Command(name = "boom")
    static final class Boom extends ReportingCommand {
        private final Throwable failure;

        Boom(Throwable failure) {
            this.failure = failure;
        }

        @Override
        protected int run() throws IOException {
            if (failure instanceof IOException e) {
                throw e;
            }
            if (failure instanceof RuntimeException e) {
                throw e;
            }
            throw (Error) failure;
        }
    }

    private static String[] fail(Throwable failure) {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Boom(failure));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute();
        return new String[] {Integer.toString(code), err.toString()};
    }

    private static String oneLine(Throwable failure) {
        String[] result = fail(failure);
        assertEquals("1", result[0], result[1]);
        String text = result[1];
        assertTrue(text.endsWith("\n") && text.indexOf('\n') == text.length() - 1, "one line: " + text);
        assertFalse(text.contains("\tat "), "no stack trace: " + text);
        return text;
    }

    @Test
    void outOfMemoryAndStackOverflowBecomeOneLine() {
        String oom = oneLine(new OutOfMemoryError("Java heap space"));
        assertTrue(oom.startsWith("retort boom: out of memory (Java heap space)"), oom);
        assertTrue(oom.contains("-Xmx"), oom);
        String deep = oneLine(new StackOverflowError());
        assertTrue(deep.startsWith("retort boom: stack overflow"), deep);
    }

    @Test
    void aMultiLineMessageIsJoinedAndFileErrorsSayWhy() {
        String joined = oneLine(new IOException("run/config.json: not a readable run configuration: Unexpected "
                + "character\n at [Source: (File); line: 1, column: 2]"));
        assertTrue(joined.contains("Unexpected character at [Source"), joined);
        assertEquals("retort boom: w.safetensors: no such file or folder\n",
                oneLine(new NoSuchFileException("w.safetensors")));
        assertEquals("retort boom: w.safetensors: permission denied\n",
                oneLine(new AccessDeniedException("w.safetensors")));
        assertEquals("retort boom: runs/a: already exists and is not a folder\n",
                oneLine(new FileAlreadyExistsException("runs/a")));
    }
}
