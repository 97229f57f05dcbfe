package dev.retort.io;

import java.io.IOException;
import java.nio.file.Path;

/** A file that Retort cannot read because its contents break the format; the message names the file and field. */
public final class FileFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /** A problem in {@code file}; the message is prefixed with the file. */
    public FileFormatException(Path file, String message) {
        super(file + ": " + printable(message));
        this.file = file;
    }

    /** A problem in {@code file} found through {@code cause}. */
    public FileFormatException(Path file, String message, Throwable cause) {
        super(file + ": " + printable(message), cause);
        this.file = file;
    }

    /**
     * Messages quote the file's own bytes (names, header text): control characters are shown as {@code \xNN} so
     * that a hostile file cannot break the one-line message or write terminal escapes.
     */
    private static String printable(String message) {
        StringBuilder out = new StringBuilder(message.length());
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            out.append(Character.isISOControl(c) ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return out.toString();
    }

    /** The file that failed to parse. */
    public Path file() {
        return file;
    }
}
