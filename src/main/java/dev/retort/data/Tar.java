package dev.retort.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Minimal reader of (gzip-compressed) ustar archives, enough to unpack the CIFAR-10 tarball: regular files
 * are written flat (base name only) into a folder, everything else is skipped.
 */
final class Tar {
    private static final int BLOCK = 512;

    private Tar() {}

    /** Extracts the regular files whose base name passes {@code wanted} into {@code into}; returns them. */
    static List<Path> extractGzip(Path archive, Path into, Predicate<String> wanted) throws IOException {
        try {
            return extract(archive, into, wanted);
        } catch (ZipException | EOFException e) {
            // From the decompressor, whose messages name no file (or are empty).
            throw new IOException(archive + ": corrupt or truncated gzip stream (" + e + ")", e);
        }
    }

    private static List<Path> extract(Path archive, Path into, Predicate<String> wanted) throws IOException {
        List<Path> written = new ArrayList<>();
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(archive)), 1 << 16)) {
            byte[] header = new byte[BLOCK];
            while (true) {
                int n = in.readNBytes(header, 0, BLOCK);
                if (n == 0) {
                    break; // no end-of-archive blocks: tolerated, as GNU tar does
                }
                if (n < BLOCK) {
                    throw new IOException(archive + ": truncated tar header (" + n + " of 512 bytes)");
                }
                if (allZero(header)) {
                    break;
                }
                String name = text(header, 0, 100);
                String prefix = text(header, 345, 155);
                if (!prefix.isEmpty()) {
                    name = prefix + "/" + name;
                }
                long size = octal(archive, name, "size", header, 124, 12);
                long expected = octal(archive, name, "checksum", header, 148, 8);
                long sum = 0;
                for (int i = 0; i < BLOCK; i++) {
                    sum += i >= 148 && i < 156 ? ' ' : header[i] & 0xff;
                }
                if (sum != expected) {
                    throw new IOException(archive + ": tar header of entry '" + name + "' has checksum " + expected
                            + ", computed " + sum + " (corrupt archive)");
                }
                char type = (char) header[156];
                String base = name.substring(name.lastIndexOf('/', name.length() - 2) + 1);
                boolean regular = type == '0' || type == 0;
                if (regular && !base.isEmpty() && !base.contains("/") && !base.startsWith(".") && wanted.test(base)) {
                    Path target = into.resolve(base);
                    try (OutputStream out = Files.newOutputStream(target)) {
                        copy(archive, name, in, out, size);
                    }
                    written.add(target);
                } else {
                    copy(archive, name, in, OutputStream.nullOutputStream(), size);
                }
                long pad = (BLOCK - size % BLOCK) % BLOCK;
                if (in.readNBytes(new byte[(int) pad], 0, (int) pad) != pad) {
                    throw new IOException(archive + ": truncated padding after entry '" + name + "'");
                }
            }
        }
        return written;
    }

    private static void copy(Path archive, String name, InputStream in, OutputStream out, long size)
            throws IOException {
        byte[] buf = new byte[1 << 16];
        long left = size;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                throw new IOException(archive + ": entry '" + name + "' declares " + size
                        + " bytes but the archive ends after " + (size - left));
            }
            out.write(buf, 0, n);
            left -= n;
        }
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /** A NUL-terminated header field; control characters come out as {@code ?}, so messages quoting it stay one line. */
    private static String text(byte[] b, int from, int len) {
        int end = from;
        while (end < from + len && b[end] != 0) {
            end++;
        }
        return new String(b, from, end - from, StandardCharsets.UTF_8).replaceAll("\\p{Cntrl}", "?");
    }

    private static long octal(Path archive, String entry, String field, byte[] b, int from, int len)
            throws IOException {
        String s = text(b, from, len).trim();
        if (s.isEmpty() || !s.matches("[0-7]+")) {
            throw new IOException(archive + ": tar header of entry '" + entry + "' has " + field + " field '" + s
                    + "', expected octal digits");
        }
        return Long.parseLong(s, 8);
    }
}
