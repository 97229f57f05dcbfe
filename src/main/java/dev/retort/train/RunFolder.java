package dev.retort.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.retort.io.AtomicFiles;
import dev.retort.io.Checkpoints;
import dev.retort.io.SafeTensors;
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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The folder a training run writes: {@code config.json} (every option resolved), {@code metrics.jsonl}
 * and {@code metrics.csv} (one row per epoch), {@code checkpoints/epoch-NNNN/} (the model and the training
 * state, safetensors) and at the end {@code model.safetensors}, {@code report.md} and plots.
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
    /** Enums as users type them ({@code "device": "cuda"}). */
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.WRITE_ENUMS_USING_TO_STRING);
    private static final ObjectMapper JSON_LINE = new ObjectMapper();

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
     * Opens {@code dir} for a run. A new run needs a folder without a checkpoint or exported model (a run
     * that trained is never overwritten: resume it or choose another folder — one that stopped before its
     * first checkpoint had nothing to keep); a resumed one needs a complete checkpoint.
     */
    public static RunFolder open(Path dir, boolean resume) throws IOException {
        RunFolder run = new RunFolder(dir);
        if (resume) {
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
        Files.createDirectories(dir.resolve("checkpoints"));
        return run;
    }

    /** The folder. */
    public Path dir() {
        return dir;
    }

    /** Replaces config.json atomically with {@code config} as indented JSON. */
    public void writeConfig(Map<String, Object> config) throws IOException {
        AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writeValueAsString(config) + "\n");
    }

    /** The run's config.json. */
    public JsonNode readConfig() throws IOException {
        Path file = dir.resolve(CONFIG);
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": not a readable run configuration: " + e.getMessage(), e);
        }
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

    /** The rows of metrics.jsonl, or none when there is no such file. */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> readMetrics() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        List<Map<String, Object>> rows = new ArrayList<>();
        if (!Files.exists(file)) {
            return rows;
        }
        int line = 0;
        for (String text : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            line++;
            if (text.isBlank()) {
                continue;
            }
            try {
                rows.add(JSON.readValue(text, LinkedHashMap.class));
            } catch (IOException e) {
                throw new IOException(file + ", line " + line + ": not a JSON object: " + e.getMessage(), e);
            }
        }
        return rows;
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
                    found.add(new Checkpoint(p, Integer.parseInt(m.group(1))));
                }
            }
        }
        found.sort(Comparator.comparingInt(Checkpoint::epoch));
        return found;
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
