package dev.retort.data;

import dev.retort.backend.Shapes;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader of the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed: a big-endian header
 * (two zero bytes, a type byte — 0x08 for unsigned bytes — and a rank), the dimensions, then the data.
 */
public final class Idx {
    private Idx() {}

    /** An IDX array of unsigned bytes. */
    public record Array(int[] shape, byte[] data) {}

    /** Reads an IDX file of unsigned bytes, raw or gzip-compressed. */
    public static Array read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        long fileSize = Files.size(file);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            boolean gzip = b0 == 0x1f && b1 == 0x8b;
            InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw;
            return read(file, new DataInputStream(in), gzip ? gzipSize(file, fileSize) : fileSize, gzip);
        } catch (EOFException e) {
            // From the decompressor, which ran out of input: the header checks below name the file, it does not.
            throw truncatedGzip(file, "before the end of its IDX header");
        } catch (ZipException e) {
            throw new IOException(file + ": corrupt gzip stream (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The uncompressed size modulo 2^32 that a gzip stream's trailer (ISIZE, its last four bytes) records: what
     * the header's claims are checked against before anything is allocated for them.
     */
    private static long gzipSize(Path file, long fileSize) throws IOException {
        if (fileSize < 18) {
            throw truncatedGzip(file, "after " + fileSize + " bytes, fewer than a gzip header and trailer take");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer trailer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            while (trailer.hasRemaining() && channel.read(trailer, fileSize - 4 + trailer.position()) > 0) {
                // four bytes
            }
            return trailer.getInt(0) & 0xffffffffL;
        }
    }

    /**
     * @param available the stream's length: the file's size, or for gzip its trailer's ISIZE (modulo 2^32)
     */
    private static Array read(Path file, DataInputStream in, long available, boolean gzip) throws IOException {
        int magic;
        try {
            magic = in.readInt();
        } catch (EOFException e) {
            throw new IOException(file + ": truncated before the 4-byte IDX magic number");
        }
        if ((magic >>> 16) != 0 || ((magic >>> 8) & 0xff) != 0x08) {
            throw new IOException(file + ": not an IDX file of unsigned bytes (magic number 0x"
                    + String.format("%08x", magic) + ", expected 0x000008NN)");
        }
        int rank = magic & 0xff;
        if (rank < 1 || rank > 4) {
            throw new IOException(file + ": IDX rank " + rank + " in the magic number is outside 1..4");
        }
        int[] shape = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++) {
            try {
                shape[i] = in.readInt();
            } catch (EOFException e) {
                throw new IOException(file + ": truncated in dimension " + i + " of the header");
            }
            if (shape[i] <= 0) {
                throw new IOException(file + ": dimension " + i + " is " + shape[i] + ", must be positive");
            }
            total *= shape[i];
            if (total > Integer.MAX_VALUE - 8) {
                throw new IOException(file + ": the header declares more than 2^31 elements");
            }
        }
        // Checked before allocating: a 37-byte file must not make us allocate the 2 GB its header claims. A valid
        // file is under 4 GiB, so a gzip trailer's size modulo 2^32 is its exact size.
        long found = available - 4 - 4L * rank;
        if (gzip && total != found) {
            // The trailer disagrees, and the last four bytes of a file cut short are not its trailer at all: read
            // what the stream really holds, growing the array only as data arrives.
            return new Array(shape, readGrowing(file, in, shape, total));
        }
        if (total > found) {
            throw new IOException(file + ": truncated data: the header declares " + Shapes.format(shape) + ", "
                    + total + " bytes, the file holds " + Math.max(0, found) + "; the file is corrupt");
        }
        requireHeap(file, total);
        byte[] data = new byte[(int) total];
        int read = in.readNBytes(data, 0, data.length);
        if (read != data.length) {
            throw new IOException(file + ": truncated data: the header declares " + total + " bytes, found " + read);
        }
        if (in.read() != -1) {
            throw new IOException(file + ": trailing bytes after the " + total + " declared by the header");
        }
        return new Array(shape, data);
    }

    /**
     * The {@code total} data bytes of a gzip stream whose trailer disagrees with the header, read in an array that
     * grows as the data arrives (so a short stream costs what it holds, not what the header claims). Where the
     * stream ends early the file is truncated; where it ends cleanly its trailer was right and the header wrong.
     */
    private static byte[] readGrowing(Path file, InputStream in, int[] shape, long total) throws IOException {
        byte[] data = new byte[(int) Math.min(total, 1 << 16)];
        int n = 0;
        try {
            while (true) {
                if (n == data.length) {
                    if (n == total) {
                        if (in.read() != -1) {
                            throw new IOException(file + ": trailing bytes after the " + total + " declared by the "
                                    + "header");
                        }
                        return data; // the stream is as the header says; its last member's trailer was not
                    }
                    long grown = Math.min(total, 2L * n);
                    requireHeap(file, grown);
                    data = Arrays.copyOf(data, (int) grown);
                }
                int read = in.read(data, n, data.length - n);
                if (read < 0) {
                    throw new IOException(file + ": truncated data: the header declares " + Shapes.format(shape)
                            + ", " + total + " bytes, the gzip stream holds " + n + "; the file is corrupt");
                }
                n += read;
            }
        } catch (EOFException e) {
            throw truncatedGzip(file, "after " + n + " of the " + total + " data bytes its header declares ("
                    + Shapes.format(shape) + ")");
        }
    }

    private static IOException truncatedGzip(Path file, String where) {
        return new IOException(file + ": truncated: the gzip stream stops " + where + "; the file was cut short (an "
                + "interrupted download or copy?): fetch or copy it again");
    }

    private static void requireHeap(Path file, long bytes) throws IOException {
        Runtime runtime = Runtime.getRuntime();
        long free = runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory());
        if (bytes > free) {
            throw new IOException(file + ": holds " + (bytes >> 20) + " MiB of data, more than the " + (free >> 20)
                    + " MiB of Java heap left; raise the heap (RETORT_JAVA_OPTS=-Xmx...) or use a smaller file");
        }
    }
}
