package dev.retort.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * What makes a folder Retort's to write: the marker file {@link #MARKER}, which a run, a sweep or a demo writes into
 * its folder before anything else. A folder that holds files but no marker is the user's, and no command writes
 * into it; an output file never replaces a file inside a folder that holds one.
 */
public final class RetortFolder {
    /** The marker's name: a one-object JSON file, {@code {"kind": "run", "retort": "<version>"}}. */
    public static final String MARKER = ".retort";

    /** What a Retort folder holds. */
    public enum Kind {
        /** One training or distillation run ({@link RunFolder}). */
        RUN,
        /** A sweep: a folder of run folders, sweep.md, sweep.csv, sweep.png. */
        SWEEP,
        /** A demo: a folder of run folders, report.md and plots. */
        DEMO;

        /** The name the marker records. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private RetortFolder() {}

    /**
     * What Retort folder {@code dir} is, or empty when it is none: it does not exist, holds no marker, or its marker
     * is not one Retort wrote. Run folders written before the marker existed (a {@code config.json} with a
     * {@code "retort"} version and a {@code checkpoints/} folder) count as runs. Links are not followed to the
     * marker: a marker that is a link is not Retort's.
     */
    public static Optional<Kind> kindOf(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        Path marker = dir.resolve(MARKER);
        if (Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)) {
            return readKind(marker);
        }
        if (Files.exists(marker, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        return isLegacyRun(dir) ? Optional.of(Kind.RUN) : Optional.empty();
    }

    /**
     * The nearest folder at or above {@code path}'s folder that is a Retort folder, by real path (so links and
     * {@code .}/{@code ..} lead where they really go); empty when there is none. {@code path} itself need not exist.
     */
    public static Optional<Path> enclosing(Path path) throws IOException {
        Path folder = realFolderOf(path);
        for (Path p = folder; p != null; p = p.getParent()) {
            if (kindOf(p).isPresent()) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The real path of the folder {@code path} is in (of {@code path} itself when it is an existing folder). */
    static Path realFolderOf(Path path) throws IOException {
        Path absolute = path.toAbsolutePath().normalize();
        if (Files.isDirectory(absolute)) {
            return absolute.toRealPath();
        }
        Path parent = absolute.getParent();
        while (parent != null && !Files.isDirectory(parent)) {
            parent = parent.getParent();
        }
        return parent == null ? absolute.getRoot() : parent.toRealPath();
    }

    private static Optional<Kind> readKind(Path marker) {
        try {
            if (Files.size(marker) > 4096) {
                return Optional.empty();
            }
            JsonNode root = JSON.readTree(Files.readString(marker));
            if (root == null || !root.path("kind").isTextual() || !root.path("retort").isTextual()) {
                return Optional.empty();
            }
            String kind = root.path("kind").asText();
            for (Kind k : Kind.values()) {
                if (k.label().equals(kind)) {
                    return Optional.of(k);
                }
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static boolean isLegacyRun(Path dir) {
        Path config = dir.resolve(RunFolder.CONFIG);
        if (!Files.isRegularFile(config, LinkOption.NOFOLLOW_LINKS)
                || !Files.isDirectory(dir.resolve("checkpoints"), LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try {
            if (Files.size(config) > (1 << 20)) {
                return false;
            }
            JsonNode root = JSON.readTree(Files.readString(config));
            return root != null && root.path("retort").isTextual() && root.path("training").isObject();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
