package dev.retort.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.retort.io.AtomicFiles;
import dev.retort.io.Checkpoints;
import dev.retort.io.SafeTensors;
import dev.retort.io.StrictJson;
import dev.retort.nn.Module;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The folder a training run writes, a {@link RetortFolder} of kind run: its marker, {@code config.json} (every
 * option resolved), {@code metrics.jsonl} and {@code metrics.csv} (one row per epoch),
 * {@code checkpoints/epoch-NNNN/} (the model and the training state, safetensors) and at the end
 * {@code model.safetensors}, {@code report.md} and plots.
 *
 * <p>Nothing is ever half-written: files are replaced atomically, and a checkpoint is assembled in a
 * temporary folder that is renamed into place only when both of its files are complete, so a crash at
 * any moment leaves the previous checkpoint usable. Only the newest checkpoint is kept.
 */
public final class RunFolder {
    /** The resolved options of the run. */
    public static final String CONFIG = "config.json";
    /** The exported network, at the top of the folder and in each checkpoint. */
    public static final String MODEL = "model.safetensors";
    private static final String STATE = "state.safetensors";
    private static final Pattern EPOCH_DIR = Pattern.compile("epoch-(\\d{4,})");
    /** What {@link AtomicFiles} and {@link #saveCheckpoint} name their work in progress. */
    private static final Pattern TEMPORARY = Pattern.compile("\\..+\\.[0-9a-f]{1,16}\\.tmp");
    /** Enums as users type them ({@code "device": "cuda"}). */
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.WRITE_ENUMS_USING_TO_STRING);
    private static final ObjectMapper JSON_LINE = new ObjectMapper();
    /** Retort writes a config.json of a few kilobytes; a file far larger is not one. */
    public static final long MAX_CONFIG_BYTES = 1L << 20;

    /** A complete checkpoint on disk. */
    public record Checkpoint(Path folder, int epoch) {
        /** The checkpoint's network weights. */
        public Path model() {
            return folder.resolve(MODEL);
        }

        /** The checkpoint's optimizer, objective and random state. */
        public Path state() {
            return folder.resolve(STATE);
        }
    }

    private final Path dir;

    private RunFolder(Path dir) {
        this.dir = dir;
    }

    /** A run folder as it is, for reading (metrics, checkpoints); creates nothing. */
    public static RunFolder at(Path dir) {
        return new RunFolder(dir);
    }

    /**
     * Refuses, creating and writing nothing, a folder a run may not be started in or resumed from. A new run needs a
     * new or empty folder, or a run folder ({@link RetortFolder}) without a checkpoint or an exported model (a run
     * that trained is never overwritten: resume it or choose another folder; one that stopped before its first
     * checkpoint had nothing to keep); a resumed one needs a run folder with its config.json and a complete
     * checkpoint.
     *
     * @throws IllegalArgumentException or IOException with one line naming the folder and the reason
     */
    public static void check(Path dir, boolean resume) throws IOException {
        RetortFolder.check(dir, RetortFolder.Kind.RUN, "--out");
        RunFolder run = new RunFolder(dir);
        if (resume) {
            if (!Files.isDirectory(dir)) {
                throw new IOException("--resume: no such folder " + dir + "; give the folder of the run to continue "
                        + "(the one holding its " + CONFIG + " and checkpoints/)");
            }
            if (!Files.isRegularFile(dir.resolve(CONFIG))) {
                throw new IOException("--resume: " + dir + " holds no " + CONFIG + "; is it a run folder?");
            }
            if (run.latestCheckpoint().isEmpty()) {
                throw new IOException("--resume: " + dir + " holds no complete checkpoint yet; start the run again "
                        + "without --resume");
            }
        } else if (run.latestCheckpoint().isPresent() || Files.exists(dir.resolve(MODEL))) {
            throw new IOException(dir + " already holds a run; continue it with --resume or choose another --out");
        }
    }

    /**
     * Opens {@code dir} for a run, after {@link #check}: claims it as a run folder (a new or empty folder gets
     * the marker, and so does a run folder written before the marker existed), removes what a killed run left, and
     * makes {@code checkpoints/}. Called under the folder's {@link RunLock}.
     */
    public static RunFolder open(Path dir, boolean resume) throws IOException {
        check(dir, resume);
        RetortFolder.claim(dir, RetortFolder.Kind.RUN, "--out");
        RunFolder run = new RunFolder(dir);
        run.removeLeftovers();
        Files.createDirectories(dir.resolve("checkpoints"));
        return run;
    }

    /** The folder. */
    public Path dir() {
        return dir;
    }

    /**
     * Deletes what a killed run left behind: temporary checkpoint folders ({@code .epoch-N.*.tmp}), temporary
     * files of atomic writes ({@code .NAME.*.tmp}), epoch folders that lost a file while being deleted, and
     * checkpoints older than the newest complete one (the kill came between the rename and the clean-up). Runs
     * under the folder's {@link RunLock}, so nothing here belongs to a live writer.
     */
    void removeLeftovers() throws IOException {
        Path checkpoints = dir.resolve("checkpoints");
        for (Path folder : List.of(dir, checkpoints)) {
            if (!Files.isDirectory(folder)) {
                continue;
            }
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder)) {
                for (Path p : entries) {
                    if (TEMPORARY.matcher(p.getFileName().toString()).matches()) {
                        deleteTree(p);
                    }
                }
            }
        }
        Optional<Checkpoint> newest = latestCheckpoint();
        if (!Files.isDirectory(checkpoints)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(checkpoints)) {
            for (Path p : entries) {
                Matcher m = EPOCH_DIR.matcher(p.getFileName().toString());
                boolean complete = Files.isRegularFile(p.resolve(MODEL)) && Files.isRegularFile(p.resolve(STATE));
                boolean older = newest.isPresent() && !p.equals(newest.get().folder());
                if (m.matches() && (!complete || older)) {
                    deleteTree(p);
                }
            }
        }
    }

    /** Replaces config.json atomically with {@code config} as indented JSON. */
    public void writeConfig(Map<String, Object> config) throws IOException {
        AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writeValueAsString(config) + "\n");
    }

    /**
     * The run's config.json: a JSON object, read strictly ({@link StrictJson}); errors name the file, the line and
     * the column, and quote none of it.
     */
    public JsonNode readConfig() throws IOException {
        Path file = dir.resolve(CONFIG);
        JsonNode tree;
        try {
            tree = StrictJson.parse(StrictJson.readFile(file, MAX_CONFIG_BYTES));
        } catch (StrictJson.Malformed e) {
            throw new IOException(file + ": not a readable run configuration: " + e.getMessage(), e);
        }
        if (!tree.isObject()) {
            throw new IOException(file + ": not a readable run configuration: expected a JSON object");
        }
        return tree;
    }

    /**
     * A configuration as {@link #writeConfig} would write it and {@link #readConfig} read it back, so that
     * numbers compare with the same node types as the folder's.
     */
    static JsonNode toTree(Map<String, Object> config) throws IOException {
        return JSON.readTree(JSON.writeValueAsString(config));
    }

    /** Replaces metrics.jsonl and metrics.csv with these rows (all rows share the first one's columns). */
    public void writeMetrics(List<Map<String, Object>> rows) throws IOException {
        StringBuilder jsonl = new StringBuilder();
        StringBuilder csv = new StringBuilder();
        if (!rows.isEmpty()) {
            csv.append(String.join(",", rows.get(0).keySet())).append('\n');
        }
        for (Map<String, Object> row : rows) {
            jsonl.append(JSON_LINE.writeValueAsString(row)).append('\n');
            List<String> cells = new ArrayList<>();
            for (String column : rows.get(0).keySet()) {
                Object v = row.get(column);
                cells.add(v == null ? "" : String.valueOf(v));
            }
            csv.append(String.join(",", cells)).append('\n');
        }
        AtomicFiles.writeString(dir.resolve("metrics.jsonl"), jsonl.toString());
        AtomicFiles.writeString(dir.resolve("metrics.csv"), csv.toString());
    }

    /**
     * The rows of metrics.jsonl, or none when there is no such file. Each line is one JSON object, read strictly
     * ({@link StrictJson}); errors name the file, the line and the column, and quote none of it.
     */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> readMetrics() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        List<Map<String, Object>> rows = new ArrayList<>();
        if (!Files.exists(file)) {
            return rows;
        }
        byte[] bytes = Files.readAllBytes(file);
        int line = 0;
        for (int start = 0; start < bytes.length; ) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            line++;
            byte[] text = Arrays.copyOfRange(bytes, start, end);
            start = end + 1;
            if (new String(text, StandardCharsets.ISO_8859_1).isBlank()) {
                continue;
            }
            JsonNode row;
            try {
                row = StrictJson.parse(text);
            } catch (StrictJson.Malformed e) {
                throw new IOException(file + ", line " + line + (e.column() < 1 ? "" : ", column " + e.column())
                        + ": " + e.reason(), e);
            }
            if (!row.isObject()) {
                throw new IOException(file + ", line " + line + ": not a JSON object but " + article(row));
            }
            rows.add(JSON_LINE.convertValue(row, LinkedHashMap.class));
        }
        return rows;
    }

    /** What a JSON value is, in words: "an array", "null". */
    private static String article(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case NULL -> "null";
            case BOOLEAN -> "a boolean";
            case NUMBER -> "a number";
            case STRING -> "a string";
            default -> "another value";
        };
    }

    /**
     * Writes the model and the training state as the checkpoint of {@code epoch}, then removes older
     * ones. {@code metadata} goes into both files.
     */
    public Checkpoint saveCheckpoint(int epoch, Module model, Map<String, Tensor> state, Map<String, String> metadata)
            throws IOException {
        Path checkpoints = dir.resolve("checkpoints");
        Path target = checkpoints.resolve(String.format("epoch-%04d", epoch));
        Path temp = checkpoints.resolve(".epoch-" + epoch + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".tmp");
        Files.createDirectories(temp);
        try {
            Checkpoints.save(model, temp.resolve(MODEL), metadata);
            SafeTensors.write(temp.resolve(STATE), state, metadata);
            if (Files.exists(target)) {
                deleteTree(target); // a rerun of this epoch after a resume
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target);
            }
            AtomicFiles.forceFolder(checkpoints);
        } finally {
            if (Files.exists(temp)) {
                deleteTree(temp);
            }
        }
        for (Checkpoint old : checkpoints()) {
            if (old.epoch() != epoch) {
                deleteTree(old.folder());
            }
        }
        return new Checkpoint(target, epoch);
    }

    /** The newest complete checkpoint. */
    public Optional<Checkpoint> latestCheckpoint() throws IOException {
        List<Checkpoint> all = checkpoints();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    private List<Checkpoint> checkpoints() throws IOException {
        List<Checkpoint> found = new ArrayList<>();
        Path checkpoints = dir.resolve("checkpoints");
        if (!Files.isDirectory(checkpoints)) {
            return found;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(checkpoints)) {
            for (Path p : entries) {
                Matcher m = EPOCH_DIR.matcher(p.getFileName().toString());
                if (m.matches() && Files.isRegularFile(p.resolve(MODEL)) && Files.isRegularFile(p.resolve(STATE))) {
                    found.add(new Checkpoint(p, epochNumber(p, m.group(1))));
                }
            }
        }
        found.sort(Comparator.comparingInt(Checkpoint::epoch));
        return found;
    }

    private static int epochNumber(Path folder, String digits) throws IOException {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw new IOException(folder + ": epoch number " + digits + " is out of range (at most "
                    + Integer.MAX_VALUE + "); this is not a folder Retort wrote, move it out of the run folder");
        }
    }

    /** Copies the checkpoint's model to {@code model.safetensors} at the top of the run, atomically. */
    public Path exportModel(Checkpoint checkpoint) throws IOException {
        Path out = dir.resolve(MODEL);
        byte[] bytes = Files.readAllBytes(checkpoint.model());
        AtomicFiles.write(out, channel -> AtomicFiles.writeFully(channel, java.nio.ByteBuffer.wrap(bytes)));
        return out;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
