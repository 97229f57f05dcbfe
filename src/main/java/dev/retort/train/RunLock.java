package dev.retort.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The one writer of a run folder: an OS lock on {@code <folder>/.lock}, so a second {@code train},
 * {@code distill} or {@code demo} into the same folder (or a second {@code --resume}) is refused instead
 * of mixing its files with the first one's. The OS releases the lock when the process dies, even by
 * {@code kill -9}, so a crash never leaves a folder locked; the file itself stays (deleting it would let two
 * processes lock two different files of the same name) and names the last holder: pid, command and start time.
 *
 * <p>The lock file is opened without following links, and one that is a link, a hard link to another file, a folder
 * or anything but a plain file is refused, so the holder's line is never written through it into another file.
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
        requirePlainFile(file);
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        } catch (FileSystemException e) {
            requirePlainFile(file); // a link put there since the check above: NOFOLLOW_LINKS refused to open it
            throw new IOException(file + ": cannot open the run folder's lock file (" + e.getMessage() + ")", e);
        }
        Object opened;
        try {
            requirePlainFile(file);
            opened = fileKey(file);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
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
        Object locked = fileKey(file);
        if (opened == null || !opened.equals(locked)) {
            // A refused run removed the folder it had just created, lock file and all, while this one opened it.
            lock.release();
            channel.close();
            throw new IOException(file + " was removed or replaced while this command locked it (another command "
                    + "into the same folder gave up at the same moment); run the command again");
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

    /**
     * Refuses a lock file that is not a plain file of its own: a symbolic link, a hard link to another file, a
     * folder, a device or a pipe. A missing one passes (it is created).
     */
    private static void requirePlainFile(Path file) throws IOException {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        String what = null;
        if (Files.isSymbolicLink(file)) {
            what = "a symbolic link";
        } else if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
            what = "a folder";
        } else if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            what = "not a plain file";
        } else if (links(file) > 1) {
            what = "a hard link to another file (" + links(file) + " names)";
        }
        if (what != null) {
            throw new IOException(file + " is " + what + ", not the lock file Retort writes; nothing was written "
                    + "through it: remove it (a run folder's " + FILE + " is a plain file Retort makes) and run again");
        }
    }

    /** How many names the file has; 1 where the file system does not say. */
    private static int links(Path file) {
        try {
            return ((Number) Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS)).intValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return 1;
        }
    }

    /** The file's identity (device and inode where the platform has them), or null when it is gone. */
    private static Object fileKey(Path file) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            return attributes.fileKey() != null ? attributes.fileKey() : file.toAbsolutePath();
        } catch (IOException e) {
            return null;
        }
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
