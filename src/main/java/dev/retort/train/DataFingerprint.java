package dev.retort.train;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What says, cheaply, whether a run's data files are still the ones it trained on: each file's size and the SHA-256
 * of its first and last {@value #BLOCK} bytes (an image folder's class folder counts as one entry: how many images,
 * their bytes, and one digest over their names, sizes and ends). {@code config.json} records it as
 * {@code data.fingerprint}; a resume compares it with the files now at the data's place.
 */
public final class DataFingerprint {
    /** The field of config.json's {@code data} that holds it. */
    public static final String FIELD = "fingerprint";
    /** Bytes hashed at each end of a file. */
    static final int BLOCK = 64 * 1024;

    private DataFingerprint() {}

    /** The fingerprint of {@code files}, named relative to {@code folder}, in the order given. */
    static Map<String, Object> ofFiles(Path folder, List<String> files) throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String name : files) {
            Path file = folder.resolve(name);
            MessageDigest digest = sha256();
            long size = Files.size(file);
            hashEnds(file, size, digest);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("bytes", size);
            entry.put("ends_sha256", hex(digest.digest()));
            out.put(name, entry);
        }
        return out;
    }

    /**
     * One entry for a folder of images, {@code name} ending in {@code /}: how many, their bytes, and a digest over
     * each one's name, size and ends, in the order given.
     */
    static Map<String, Object> ofFolder(Path folder, List<Path> images) throws IOException {
        MessageDigest digest = sha256();
        long bytes = 0;
        for (Path image : images) {
            long size = Files.size(image);
            bytes += size;
            digest.update((folder.relativize(image) + "\n" + size + "\n").getBytes(StandardCharsets.UTF_8));
            hashEnds(image, size, digest);
        }
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("files", images.size());
        entry.put("bytes", bytes);
        entry.put("ends_sha256", hex(digest.digest()));
        return entry;
    }

    /**
     * The first entry that differs between the recorded fingerprint and the one now, told in words (which file, and
     * how: gone, new, its size, its contents); null when they agree.
     */
    static String difference(JsonNode saved, JsonNode now) {
        for (Iterator<String> names = saved.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            JsonNode before = saved.get(name);
            JsonNode after = now.get(name);
            if (after == null) {
                return name + " is no longer there";
            }
            if (before.equals(after)) {
                continue;
            }
            if (before.has("files") && !before.path("files").equals(after.path("files"))) {
                return name + " holds " + after.path("files") + " images, it held " + before.path("files");
            }
            if (!before.path("bytes").equals(after.path("bytes"))) {
                return name + " is " + after.path("bytes") + " bytes, it was " + before.path("bytes");
            }
            return name + (before.has("files") ? " holds other images" : " holds other bytes") + " of the same size";
        }
        for (Iterator<String> names = now.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!saved.has(name)) {
                return name + " is new";
            }
        }
        return null;
    }

    /** Feeds the size, the first BLOCK bytes and the last BLOCK bytes (not again those already read) to the digest. */
    private static void hashEnds(Path file, long size, MessageDigest digest) throws IOException {
        digest.update(ByteBuffer.allocate(Long.BYTES).putLong(0, size));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long head = Math.min(size, BLOCK);
            read(file, channel, 0, head, digest);
            long tailStart = Math.max(head, size - BLOCK);
            read(file, channel, tailStart, size - tailStart, digest);
        }
    }

    private static void read(Path file, FileChannel channel, long position, long length, MessageDigest digest)
            throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException(file + ": the file ended while its fingerprint was read (is it being written?)");
            }
        }
        buffer.flip();
        digest.update(buffer);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
