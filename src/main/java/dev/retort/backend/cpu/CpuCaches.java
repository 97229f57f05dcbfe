package dev.retort.backend.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This CPU's per-core L2 cache size, which sizes the GEMM's blocks. The JVM does not report cache sizes, so they are
 * read where Linux publishes them ({@code /sys/devices/system/cpu/cpu0/cache/index*}); elsewhere, or when they
 * cannot be read, the size of the smallest L2 among the x86 server cores we run on (512 KiB, Zen 3) stands in, so
 * blocks are never sized for a cache the CPU lacks.
 */
final class CpuCaches {

    /** Bytes of L2 per core. */
    static final long L2_BYTES = l2Bytes(Path.of("/sys/devices/system/cpu/cpu0/cache"));

    static final long DEFAULT_L2_BYTES = 512L * 1024;

    private CpuCaches() {}

    /** The unified or data level-2 cache's size listed under {@code cacheFolder}, or the default. */
    static long l2Bytes(Path cacheFolder) {
        for (int index = 0; index < 8; index++) {
            Path entry = cacheFolder.resolve("index" + index);
            try {
                if (!Files.isDirectory(entry) || !read(entry, "level").equals("2")
                        || read(entry, "type").equals("Instruction")) {
                    continue;
                }
                long size = parseSize(read(entry, "size"));
                if (size > 0) {
                    return size;
                }
            } catch (IOException | RuntimeException unreadable) {
                // A sandbox or an odd kernel: keep looking, then fall back to the default.
            }
        }
        return DEFAULT_L2_BYTES;
    }

    /** Parses sysfs's "1024K", "2M" or a plain byte count; -1 when it is none of them. */
    static long parseSize(String text) {
        if (!text.matches("[0-9]{1,9}[KMG]?")) {
            return -1;
        }
        char unit = text.charAt(text.length() - 1);
        long scale = switch (unit) {
            case 'K' -> 1024L;
            case 'M' -> 1024L * 1024;
            case 'G' -> 1024L * 1024 * 1024;
            default -> 1L;
        };
        String digits = Character.isDigit(unit) ? text : text.substring(0, text.length() - 1);
        return Long.parseLong(digits) * scale;
    }

    private static String read(Path entry, String field) throws IOException {
        return Files.readString(entry.resolve(field)).trim();
    }
}
