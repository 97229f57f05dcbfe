package dev.retort.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.retort.Version;
import dev.retort.io.AtomicFiles;
import dev.retort.io.StrictJson;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What makes a folder Retort's to write: the marker file {@link #MARKER}, which a run, a sweep or a demo writes into
 * its folder before anything else. A folder that holds files but no marker is the user's, and no command writes
 * into it; an output file never replaces a file inside a folder that holds one.
 *
 * <p>A command claims its folder ({@link #claim}) before it writes anything else there, and does its work under the
 * folder's {@link RunLock} ({@link #write}); when the work fails before anything but the claim and the lock is in the
 * folder, the claim is withdrawn, so a refused command leaves no folder behind.
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
    /** The marker is a line of JSON; a larger file of that name is not Retort's. */
    private static final long MAX_MARKER_BYTES = 4096;

    /** What a claim and a lock put into a folder: an empty {@code checkpoints/} is a run's before its first epoch. */
    private static final Set<String> CLAIM_ONLY = Set.of(MARKER, RunLock.FILE, "checkpoints");

    private RetortFolder() {}

    /** Work done in a claimed and locked folder. */
    @FunctionalInterface
    public interface Work<T> {
        /**
         * Does the work and returns its result.
         *
         * @throws IOException if a file cannot be read or written
         */
        T run() throws IOException;
    }

    /**
     * Claims {@code dir} as a folder of {@code kind} ({@link #claim}), locks it for {@code command} and does
     * {@code work}. When the work fails and the folder holds nothing but the claim (the marker, the lock file, an
     * empty {@code checkpoints/}), the claim is withdrawn: what it created goes, the folder too when it made it.
     *
     * @param option the option that named the folder, for messages ({@code --out})
     */
    public static <T> T write(Path dir, Kind kind, String option, String command, Work<T> work) throws IOException {
        Claim claim = claim(dir, kind, option);
        try (RunLock lock = RunLock.acquire(dir, command)) {
            try {
                return work.run();
            } catch (Throwable t) {
                claim.withdraw(); // under the lock: no other writer of the folder is at work
                throw t;
            }
        }
    }

    /**
     * Refuses, creating and writing nothing, a folder that a command writing a folder of {@code kind} may not write
     * into: an empty path (it would be the current folder, unsaid), a file, a folder that holds files and is not a
     * Retort folder, or a Retort folder of another kind. A missing folder, an empty one and one of {@code kind} pass.
     *
     * @param option the option that named the folder, for messages ({@code --out})
     * @throws IllegalArgumentException with one line naming the folder and the reason
     */
    public static void check(Path dir, Kind kind, String option) throws IOException {
        if (dir.toString().isEmpty()) {
            throw new IllegalArgumentException(option + " '': an empty path would be the current folder; give the "
                    + "folder to write (" + option + " . for the current folder, if it is empty or " + article(kind)
                    + " folder)");
        }
        Path parent = dir.toAbsolutePath().normalize().getParent();
        Optional<Path> outer = parent == null ? Optional.empty() : enclosing(parent);
        if (outer.isPresent() && kindOf(outer.get()).orElseThrow() == Kind.RUN && kindOf(dir).isEmpty()) {
            // A run cleans its own folder on start (half-written checkpoints go): a folder inside it is not safe.
            throw new IllegalArgumentException(option + " " + dir + " is inside the run folder " + outer.get()
                    + "; nothing is written inside another run's folder: choose another " + option);
        }
        if (!Files.exists(dir)) {
            Path absolute = dir.toAbsolutePath().normalize();
            Path above = absolute.getParent();
            while (above != null && !Files.exists(above)) {
                above = above.getParent();
            }
            if (above != null && !Files.isDirectory(above)) {
                throw new IllegalArgumentException(option + " " + dir + ": " + above + " is a file, not a folder, so "
                        + "no folder can be made under it; give another " + option);
            }
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(option + " " + dir + " is a file, not a folder; give a new folder, an "
                    + "empty one or " + article(kind) + " folder");
        }
        Optional<Kind> found = kindOf(dir);
        if (found.isPresent() && found.get() != kind) {
            throw new IllegalArgumentException(option + " " + dir + " is " + article(found.get()) + " folder, not "
                    + article(kind) + " folder" + (found.get() == Kind.RUN ? ""
                    : " (its runs are its subfolders)") + "; choose another " + option);
        }
        if (found.isEmpty() && !holdsOnlyClaim(dir, false)) {
            throw new IllegalArgumentException(option + " " + dir + " holds files but is not " + article(kind)
                    + " folder (it has no " + MARKER + " marker); " + article(kind) + " is written only into a new "
                    + "or empty folder or one of its own, so nothing of yours is replaced: choose another " + option);
        }
    }

    private static String article(Kind kind) {
        return "a " + kind.label();
    }

    /**
     * Makes {@code dir} a folder of {@code kind}, after {@link #check}: creates it (and missing parents) when it does
     * not exist, and writes the marker, atomically, into a folder that has none (a new or empty one, or a run folder
     * written before the marker existed). A folder of {@code kind} already marked is left as it is.
     *
     * @return what the claim created, to be withdrawn if the command fails before it writes anything else
     */
    public static Claim claim(Path dir, Kind kind, String option) throws IOException {
        check(dir, kind, option);
        Path absolute = dir.toAbsolutePath().normalize();
        Path createdTop = null;
        for (Path p = absolute; p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
            createdTop = p;
        }
        Files.createDirectories(dir);
        boolean wroteMarker = false;
        if (!Files.exists(dir.resolve(MARKER), LinkOption.NOFOLLOW_LINKS)) {
            Map<String, Object> marker = new LinkedHashMap<>();
            marker.put("kind", kind.label());
            marker.put("retort", Version.VERSION);
            AtomicFiles.writeString(dir.resolve(MARKER), JSON.writeValueAsString(marker) + "\n");
            wroteMarker = true;
        }
        return new Claim(absolute, createdTop, wroteMarker);
    }

    /** What {@link #claim} created in a folder: the marker, and the folder itself (from {@code createdTop} down). */
    public static final class Claim {
        private final Path dir;
        private final Path createdTop;
        private final boolean wroteMarker;

        private Claim(Path dir, Path createdTop, boolean wroteMarker) {
            this.dir = dir;
            this.createdTop = createdTop;
            this.wroteMarker = wroteMarker;
        }

        /**
         * Removes what the claim created, when the folder holds nothing else than the marker, the lock file and an
         * empty {@code checkpoints/}: those, and the folders the claim created while they are empty. A folder that
         * holds anything more, or that was Retort's before the claim, is left as it is. Best effort: a file that
         * cannot be removed stays, and the command's own failure is what it reports.
         */
        public void withdraw() {
            if (!wroteMarker) {
                return;
            }
            try {
                if (!holdsOnlyClaim(dir, true)) {
                    return;
                }
                Files.deleteIfExists(dir.resolve("checkpoints"));
                Files.deleteIfExists(dir.resolve(RunLock.FILE));
                Files.deleteIfExists(dir.resolve(MARKER));
                for (Path p = dir; createdTop != null && p != null && p.startsWith(createdTop); p = p.getParent()) {
                    Files.delete(p); // fails, and stops, at a folder something else was put into meanwhile
                }
            } catch (IOException e) {
                // Left as it is: the folder is still a claimed, empty one, which a later command may use.
            }
        }
    }

    /**
     * Whether {@code dir} holds nothing but what a claim and a lock put there: the lock file, an empty
     * {@code checkpoints/} and (when {@code markerToo}) the marker. A folder holding only a lock and an empty
     * {@code checkpoints/} is what a refused command of an earlier version left, and counts as empty.
     */
    private static boolean holdsOnlyClaim(Path dir, boolean markerToo) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                boolean claimOnly = CLAIM_ONLY.contains(name) && (markerToo || !name.equals(MARKER))
                        && (name.equals("checkpoints") ? Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && isEmpty(p)
                        : Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS));
                if (!claimOnly) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            return !entries.iterator().hasNext();
        }
    }

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
            JsonNode root = StrictJson.parse(StrictJson.readFile(marker, MAX_MARKER_BYTES));
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
        } catch (IOException | StrictJson.Malformed | RuntimeException e) {
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
            JsonNode root = StrictJson.parse(StrictJson.readFile(config, RunFolder.MAX_CONFIG_BYTES));
            return root != null && root.path("retort").isTextual() && root.path("training").isObject();
        } catch (IOException | StrictJson.Malformed | RuntimeException e) {
            return false;
        }
    }
}
