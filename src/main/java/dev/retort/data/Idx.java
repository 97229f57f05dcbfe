package dev.retort.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
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
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            InputStream in = b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(raw, 1 << 16) : raw;
            return read(file, new DataInputStream(in));
        } catch (ZipException | EOFException e) {
            // From the decompressor: the header checks below name the file, java.util.zip does not.
            throw new IOException(file + ": corrupt or truncated gzip stream (" + e.getMessage() + ")", e);
        }
    }

    private static Array read(Path file, DataInputStream in) throws IOException {
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
}
