package dev.retort.train;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Whether a {@code --resume} asks for the run its folder holds (and whether a finished run a demo or a sweep would
 * reuse is the run of its options): the resolved configuration of the command is
 * compared with the folder's {@code config.json}, and the first difference is named by its option. Only what
 * does not change the run's arithmetic may differ: {@code --epochs} (to extend a run), {@code --device} (the
 * results differ by float rounding alone), {@code --eval-batch-size}, the data's location and Retort's version.
 * The files the run was made from are compared too: the teacher's weights by their SHA-256, the data by its
 * {@link DataFingerprint}.
 */
final class ResumeCheck {
    /** Fields of "training" that a resume may change. */
    private static final Set<String> MAY_DIFFER = Set.of("epochs", "device", "evalBatchSize");

    private ResumeCheck() {}

    /** Throws with one line naming the first difference between {@code saved} and {@code now}. */
    static void requireSameRun(Path dir, JsonNode saved, JsonNode now) {
        String savedCommand = saved.path("command").asText("");
        String command = now.path("command").asText("");
        if (!savedCommand.isEmpty() && !savedCommand.equals(command)) {
            throw new IllegalArgumentException("--resume: " + dir + " holds a " + savedCommand + " run, this is "
                    + command + "; resume it with retort " + savedCommand + " or choose another --out");
        }
        String difference = firstDifference(saved, now, MAY_DIFFER);
        if (difference != null) {
            throw new IllegalArgumentException("--resume: " + dir + " was run with " + difference + "; resume with "
                    + "the run's options (only --epochs and --device may change) or choose another --out");
        }
        for (String split : List.of("train", "test")) {
            JsonNode before = saved.path("data").path(split);
            JsonNode after = now.path("data").path(split);
            if (!before.isMissingNode() && !before.equals(after)) {
                throw new IllegalArgumentException("--resume: " + dir + " was run on " + before + " " + split
                        + " examples, this command has " + after + " (another --data or --train-size?); resume with "
                        + "the run's data or choose another --out");
            }
        }
        JsonNode parameters = saved.path("parameters");
        if (!parameters.isMissingNode() && !parameters.equals(now.path("parameters"))) {
            throw new IllegalArgumentException("--resume: " + dir + " trained a network of " + parameters
                    + " parameters, this one has " + now.path("parameters") + " (was the --model file changed?); "
                    + "resume with the run's network or choose another --out");
        }
    }

    /**
     * Whether the files a resume of the run in {@code dir} (its {@code config.json} is {@code saved}) would read are
     * the ones it ran on: the teacher's weights by their SHA-256 (for a distillation, {@code teacherWeights}; null for
     * a run on the labels), the data by its {@link DataFingerprint}. A config.json that records neither (a run of an
     * earlier version, or generated data) is not refused for it. Cheap, so it runs before anything is loaded.
     *
     * @throws IllegalArgumentException with one line naming what changed
     */
    static void requireSameInputs(Path dir, JsonNode saved, Runs.Data data, Path teacherWeights) throws IOException {
        if (teacherWeights != null) {
            String changed = teacherChange(saved, teacherWeights);
            if (changed != null) {
                throw new IllegalArgumentException("--resume: " + dir + " " + changed + "; resume with the run's "
                        + "teacher or choose another --out");
            }
        }
        String changed = dataChange(saved, data);
        if (changed != null) {
            throw new IllegalArgumentException("--resume: the data " + dir + " trained on has changed: " + changed
                    + "; resume with the run's data or choose another --out");
        }
    }

    /**
     * Which file of {@code data} differs from the fingerprint {@code saved} records, in words; null when none does or
     * either side has no fingerprint.
     */
    private static String dataChange(JsonNode saved, Runs.Data data) throws IOException {
        JsonNode before = saved.path("data").path(DataFingerprint.FIELD);
        Object now = data.origin().get(DataFingerprint.FIELD);
        if (!before.isObject() || now == null) {
            return null;
        }
        String difference = DataFingerprint.difference(before, RunFolder.toTree(Map.of("f", now)).path("f"));
        Object folder = data.origin().get("folder");
        return difference == null ? null : (folder == null ? "" : folder + "/") + difference;
    }

    /**
     * How the teacher's weights now at {@code teacherWeights} differ from those the run in {@code saved} learnt from,
     * in words with both SHA-256 prefixes; null when they are the same or the run recorded none.
     */
    private static String teacherChange(JsonNode saved, Path teacherWeights) throws IOException {
        JsonNode recorded = saved.path("environment").path("teacher_weights_sha256");
        if (!recorded.isTextual()) {
            return null;
        }
        Runs.requireTeacherFile(teacherWeights);
        String now = Runs.sha256(teacherWeights);
        if (now.equalsIgnoreCase(recorded.asText())) {
            return null;
        }
        return "was distilled from teacher weights of SHA-256 " + prefix(recorded.asText()) + "…, but "
                + "--teacher-weights " + teacherWeights + " now holds " + prefix(now) + "… (the file changed)";
    }

    /** The digest's first 12 hex digits; a recorded value that is no SHA-256 is not echoed. */
    private static String prefix(String sha) {
        return sha.matches("[0-9a-fA-F]{64}") ? sha.substring(0, 12) : "(not a SHA-256)";
    }

    /**
     * Whether the finished run in {@code dir} (its {@code config.json} is {@code saved}) is the run of these options,
     * so that a demo or a sweep may reuse it instead of training it again; only {@code --device} and
     * {@code --eval-batch-size} may differ, and a distillation's teacher weights and the data (by its fingerprint) must
     * be the same file content.
     * Throws with one line naming the first difference.
     */
    static void requireSameFinishedRun(Path dir, JsonNode saved, TrainingConfig training,
                                       DistillationConfig distillation, Runs.Data data) throws IOException {
        Map<String, Object> now = new LinkedHashMap<>();
        now.put("training", training);
        if (distillation != null) {
            now.put("distillation", distillation.toMap());
        }
        String difference = firstDifference(saved, RunFolder.toTree(now), Set.of("device", "evalBatchSize"));
        if (difference != null || saved.path("distillation").isMissingNode() != (distillation == null)) {
            throw new IllegalArgumentException(dir + " holds a finished run of other options (" + (difference != null
                    ? difference : distillation == null ? "a distillation, this one is not" : "no distillation")
                    + "); a finished run is reused only when its options match: give another --out, or remove it");
        }
        String changed = distillation == null ? null : teacherChange(saved, Path.of(distillation.teacherWeights()));
        if (changed != null) {
            throw new IllegalArgumentException(dir + " holds a finished run that " + changed + "; a finished run is "
                    + "reused only when its teacher is the same: give another --out, or remove it");
        }
        String dataChanged = dataChange(saved, data);
        if (dataChanged != null) {
            throw new IllegalArgumentException(dir + " holds a finished run of other data (" + dataChanged
                    + "); a finished run is reused only when its data is the same: give another --out, or remove it");
        }
    }

    /** The first field of "training" or "distillation" (other than {@code mayDiffer}'s) that differs, told. */
    private static String firstDifference(JsonNode saved, JsonNode now, Set<String> mayDiffer) {
        for (String section : List.of("training", "distillation")) {
            JsonNode before = saved.path(section);
            JsonNode after = now.path(section);
            if (before.isMissingNode() && after.isMissingNode()) {
                continue;
            }
            for (Iterator<String> names = before.fieldNames(); names.hasNext(); ) {
                String field = names.next();
                if (section.equals("training") && mayDiffer.contains(field)) {
                    continue;
                }
                if (!before.get(field).equals(after.path(field))) {
                    return option(field) + " " + show(before.get(field)) + ", this command asks for "
                            + show(after.path(field));
                }
            }
        }
        return null;
    }

    private static String show(JsonNode value) {
        if (value.isMissingNode() || value.isNull()) {
            return "nothing";
        }
        return value.isTextual() ? "'" + value.asText() + "'" : value.toString();
    }

    /** The command-line option of a configuration field: camelCase to --kebab-case, with two exceptions. */
    static String option(String field) {
        return switch (field) {
            case "learningRate" -> "--lr";
            case "hardTeacherTargets" -> "--teacher-targets (hard)";
            default -> "--" + field.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
        };
    }
}
