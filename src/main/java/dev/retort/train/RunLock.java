package dev.retort.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The one writer of a run folder: an OS lock on {@code <folder>/.lock}, so a second {@code train},
 * {@code distill} or {@code demo} into the same folder (or a second {@code --resume}) is refused instead
 * of mixing its files with the first one's. The OS releases the lock when the process dies, even by
 * {@code kill -9}, so a crash never leaves a folder locked; the file itself stays (deleting it would let two
 * processes lock two different files of the same name) and names the last holder: pid, command and start time.
 */
public final class RunLock implements AutoCloseable {
    /** Name of the lock file inside the run folder; it stays after the lock is released. */
    public static final String FILE = ".lock";

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code folder} (created if missing) for {@code command}, or fails with one line naming the folder
     * and the process that holds it.
     */
    public static RunLock acquire(Path folder, String command) throws IOException {
        Files.createDirectories(folder);
        Path file = folder.resolve(FILE);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // this process already holds it: another run of the same JVM writes there
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw new IOException(file + ": cannot lock the run folder (" + e.getMessage() + ")", e);
        }
        if (lock == null) {
            String holder = holder(channel);
            channel.close();
            throw new IOException(folder + " is in use by another run (" + holder + "); wait for it to finish "
                    + "or choose another --out");
        }
        try {
            ProcessHandle self = ProcessHandle.current();
            String start = self.info().startInstant().orElse(Instant.now()).truncatedTo(ChronoUnit.SECONDS).toString();
            byte[] text = ("pid " + self.pid() + ", retort " + command.replace('\n', ' ') + ", started " + start + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            channel.truncate(0);
            ByteBuffer buffer = ByteBuffer.wrap(text);
            while (buffer.hasRemaining()) {
                channel.write(buffer, buffer.position());
            }
            channel.force(false);
        } catch (IOException e) {
            lock.release();
            channel.close();
            throw new IOException(file + ": cannot record the run's holder (" + e.getMessage() + ")", e);
        }
        return new RunLock(channel, lock);
    }

    /** What the holder wrote into the lock file, or a note that it wrote nothing yet. */
    private static String holder(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(512);
            while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) > 0) {
                // reads up to 512 bytes: a holder line is far shorter
            }
            String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).strip();
            int newline = text.indexOf('\n');
            text = newline >= 0 ? text.substring(0, newline) : text;
            return text.isEmpty() ? "its holder has not said who it is yet" : "held by " + text;
        } catch (IOException e) {
            return "its holder could not be read: " + e.getMessage();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
