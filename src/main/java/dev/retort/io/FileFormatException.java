package dev.retort.io;

import java.io.IOException;
import java.nio.file.Path;

/** A file that Retort cannot read because its contents break the format; the message names the file and field. */
public final class FileFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /** A problem in {@code file}; the message is prefixed with the file. */
    public FileFormatException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    /** A problem in {@code file} found through {@code cause}. */
    public FileFormatException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    /** The file that failed to parse. */
    public Path file() {
        return file;
    }
}
