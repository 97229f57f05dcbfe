package dev.retort.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;

/**
 * Writes a file so that readers see either the old contents or the complete new ones: the bytes go
 * to a temporary file in the same folder, are forced to disk, and the temporary file is renamed over
 * the target. A failure at any step deletes the temporary file and leaves the target as it was.
 */
public final class AtomicFiles {
    /** What to write; called once with a channel onto the temporary file. */
    public interface Body {
        /**
         * Writes the whole contents to {@code out}; it need not close it.
         *
         * @throws IOException to abandon the write, leaving the target as it was
         */
        void writeTo(WritableByteChannel out) throws IOException;
    }

    private AtomicFiles() {}

    /**
     * Replaces {@code target} atomically with what {@code body} writes, creating it if absent.
     *
     * @throws IOException if the body, the sync or the rename fails; the target is then unchanged and no
     * temporary file remains
     */
    public static void write(Path target, Body body) throws IOException {
        write(target, body, UnaryOperator.identity());
    }

    /** Writes {@code text} as UTF-8 (reports, JSON results). */
    public static void writeString(Path target, String text) throws IOException {
        write(target, out -> writeFully(out, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))));
    }

    /** As {@link #write(Path, Body)}, with the channel wrapped: tests use it to fail a write midway. */
    static void write(Path target, Body body, UnaryOperator<WritableByteChannel> wrap) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path folder = absolute.getParent();
        if (folder == null || !Files.isDirectory(folder)) {
            throw new IOException(target + ": folder " + folder + " does not exist; create it first");
        }
        if (Files.isDirectory(absolute)) {
            throw new IOException(target + ": is a folder, not a file");
        }
        Path temp = folder.resolve("." + absolute.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        boolean moved = false;
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.writeTo(wrap.apply(channel));
                channel.force(true);
            }
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
            forceFolder(folder);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains(target.toString())) {
                throw e;
            }
            throw new IOException(target + ": write failed, previous file left unchanged: " + e, e);
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // The original failure is the one worth reporting.
                }
            }
        }
    }

    /** Makes the rename itself durable where the platform allows opening a folder (Linux does). */
    public static void forceFolder(Path folder) {
        try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // Not supported on every platform; the data itself is already on disk.
        }
    }

    /** Writes all of {@code buffer}, looping over short writes. */
    public static void writeFully(WritableByteChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }
}
