package dev.retort.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.retort.io.FileFormatException;
import dev.retort.io.StrictJson;
import dev.retort.nn.Models;
import dev.retort.nn.NetworkFile;
import dev.retort.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code --config FILE}: a run's config.json replayed. Every option of the command that was not given on the
 * command line takes the value the file recorded; options given on the command line win, so a replay can change
 * one thing ({@code --config run/config.json --seed 2 --out run-seed2}). The file's keys are the Java names of
 * {@code TrainingConfig} (options spelt in kebab case map to them by name), the distillation mode's options by their
 * own names, and the data folder and kind.
 *
 * <p>Values are taken as they are typed, never coerced: a whole-number option takes a JSON integer in its range, a
 * number option a finite number, a switch {@code true} or {@code false}, a name or path a string; a null is no value.
 * The paths are checked for their kind before anything reads them: a model is a reference network or an existing
 * {@code .json} network file, the data folder a folder, the teacher's weights a {@code .safetensors} file. Any other
 * value is one line naming the file, the field as it sits in the file, the type expected and the option.
 */
final class ConfigReplay {
    /** A value quoted in a message is cut after this many characters. */
    private static final int SHOWN = 60;
    private static final String WEIGHTS_SUFFIX = ".safetensors";

    /** Training options whose key in config.json is not their name in camel case. */
    private static final Map<String, String> KEYS = Map.of("--lr", "learningRate", "--data", "folder");

    /** The options config.json's "data" section records; every other option is in "training" (or "distillation"). */
    private static final List<String> DATA_OPTIONS = List.of("--data", "--dataset");

    /** Never replayed: where this run goes, and whether it resumes, are this command's own business. */
    private static final List<String> NOT_REPLAYED = List.of("--out", "--resume", "--config", "--help", "--version");

    /** A value of the file and where it sits there ({@code training.batchSize}). */
    private record Field(String path, JsonNode value) {}

    private ConfigReplay() {}

    /** Fills the command's unmatched options from {@code file}; does nothing when {@code file} is null. */
    static void apply(CommandSpec spec, Path file) throws IOException {
        if (file == null) {
            return;
        }
        JsonNode root = read(file);
        boolean distill = spec.name().equals("distill");
        if (distill && !root.path("distillation").isObject()) {
            throw new IOException("--config " + file + ": a train run's configuration; distill needs a distill run's");
        }
        ParseResult parsed = spec.commandLine().getParseResult();
        // Every value is checked before any is set: a refused file changes none of the command's options.
        Map<OptionSpec, Object> values = new LinkedHashMap<>();
        for (OptionSpec option : spec.options()) {
            String name = option.longestName();
            if (NOT_REPLAYED.contains(name) || parsed.hasMatchedOption(option)) {
                continue;
            }
            Field field = lookup(file, root, name);
            if (field == null) {
                continue;
            }
            JsonNode v = field.value();
            if (name.equals("--labelled") && v.isIntegralNumber() && v.canConvertToInt() && v.intValue() == 0) {
                continue; // 0 is how config.json records "every label", which is no --labelled at all
            }
            values.put(option, convert(file, field, option));
        }
        values.forEach(OptionSpec::setValue);
    }

    /**
     * For the commands that use a trained network ({@code eval}, {@code calibrate}, {@code predict},
     * {@code inspect}): the run's model, its exported weights (model.safetensors beside the file), its data and
     * device, and its evaluation batch size as the forward-pass batch. Only these: the run's other options (its
     * training batch, a distillation's temperature) mean other things to these commands.
     */
    static void applyToModel(CommandSpec spec, Path file) throws IOException {
        if (file == null) {
            return;
        }
        JsonNode root = read(file);
        ParseResult parsed = spec.commandLine().getParseResult();
        Map<String, Field> fields = new LinkedHashMap<>();
        fields.put("--model", field(root, "training", "model"));
        fields.put("--data", field(root, "data", "folder"));
        fields.put("--dataset", field(root, "data", "dataset"));
        fields.put("--device", field(root, "training", "device"));
        fields.put("--batch-size", field(root, "training", "evalBatchSize"));
        Map<OptionSpec, Object> values = new LinkedHashMap<>();
        for (var e : fields.entrySet()) {
            OptionSpec option = spec.findOption(e.getKey());
            if (option != null && !parsed.hasMatchedOption(option) && e.getValue() != null) {
                values.put(option, convert(file, e.getValue(), option));
            }
        }
        OptionSpec weights = spec.findOption("--weights");
        if (weights != null && !parsed.hasMatchedOption(weights)) {
            Path exported = file.toAbsolutePath().resolveSibling(RunFolder.MODEL);
            if (!Files.isRegularFile(exported)) {
                throw new IOException("--config " + file + ": no " + RunFolder.MODEL + " beside it (the run has not "
                        + "finished an epoch?); pass --weights, e.g. a checkpoint's checkpoints/epoch-N/"
                        + RunFolder.MODEL);
            }
            values.put(weights, exported);
        }
        values.forEach(OptionSpec::setValue);
    }

    /** The file as JSON with a "training" object, or one line saying why not, quoting none of the file. */
    private static JsonNode read(Path file) throws IOException {
        JsonNode root;
        try {
            root = StrictJson.parse(StrictJson.readFile(file, RunFolder.MAX_CONFIG_BYTES));
        } catch (NoSuchFileException e) {
            throw new IOException("--config " + file + ": no such file", e);
        } catch (FileFormatException e) { // a folder, a device, too large: the message starts with the file
            throw new IOException("--config " + e.getMessage(), e);
        } catch (StrictJson.Malformed e) {
            throw new IOException("--config " + file + ": not a run's config.json: " + e.getMessage(), e);
        }
        if (!root.path("training").isObject()) {
            throw new IOException("--config " + file + ": no \"training\" object; is it a run's config.json?");
        }
        return root;
    }

    private static Field field(JsonNode root, String section, String key) {
        JsonNode v = root.path(section).get(key);
        return v == null ? null : new Field(section + "." + key, v);
    }

    private static Field lookup(Path file, JsonNode root, String option) throws IOException {
        // The distillation section holds only its mode's options, by their command-line names.
        Field d = field(root, "distillation", option.replaceFirst("^-+", ""));
        if (d != null) {
            return option.equals("--pairs") ? pairs(file, d) : d;
        }
        String key = KEYS.getOrDefault(option, camel(option));
        return field(root, DATA_OPTIONS.contains(option) ? "data" : "training", key);
    }

    /**
     * Hybrid's pairs as config.json records them, one string ({@code "5=13,7=15"}, or {@code "default"} for
     * none given), as a list; a list of strings is taken as it is.
     */
    private static Field pairs(Path file, Field d) throws IOException {
        JsonNode v = d.value();
        if (v.isArray()) {
            return d;
        }
        if (!v.isTextual()) {
            throw refused(file, d, "a string of STUDENT=TEACHER pairs, e.g. \"5=13\"", "--pairs");
        }
        if (v.textValue().equals("default")) {
            return null;
        }
        ArrayNode list = JsonNodeFactory.instance.arrayNode();
        for (String pair : v.textValue().split(",")) {
            list.add(pair);
        }
        return new Field(d.path(), list);
    }

    /** {@code --batch-size} → {@code batchSize}. */
    static String camel(String option) {
        String[] parts = option.replaceFirst("^-+", "").split("-");
        StringBuilder out = new StringBuilder(parts[0]);
        for (int i = 1; i < parts.length; i++) {
            out.append(Character.toUpperCase(parts[i].charAt(0))).append(parts[i].substring(1));
        }
        return out.toString();
    }

    /** The field's value as the option's type, exactly, or one line saying what was expected. */
    private static Object convert(Path file, Field field, OptionSpec option) throws IOException {
        String name = option.longestName();
        Class<?> type = option.type();
        JsonNode v = field.value();
        if (type == int.class || type == Integer.class) {
            if (!v.isIntegralNumber()) {
                throw refused(file, field, "a whole number", name);
            }
            if (!v.canConvertToInt()) {
                throw refused(file, field, "a whole number from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE,
                        name);
            }
            return v.intValue();
        } else if (type == long.class || type == Long.class) {
            if (!v.isIntegralNumber()) {
                throw refused(file, field, "a whole number", name);
            }
            if (!v.canConvertToLong()) {
                throw refused(file, field, "a whole number from " + Long.MIN_VALUE + " to " + Long.MAX_VALUE, name);
            }
            return v.longValue();
        } else if (type == double.class || type == Double.class) {
            if (!v.isNumber() || !Double.isFinite(v.doubleValue())) {
                throw refused(file, field, "a finite number", name);
            }
            return v.doubleValue();
        } else if (type == boolean.class || type == Boolean.class) {
            if (!v.isBoolean()) {
                throw refused(file, field, "true or false", name);
            }
            return v.booleanValue();
        } else if (List.class.isAssignableFrom(type)) {
            List<String> items = new ArrayList<>();
            if (v.isArray()) {
                for (JsonNode item : v) {
                    if (!item.isTextual() || hasControl(item.textValue())) {
                        break;
                    }
                    items.add(item.textValue());
                }
            }
            if (!v.isArray() || items.size() != v.size()) {
                throw refused(file, field, "a list of strings", name);
            }
            return items;
        }
        if (!v.isTextual()) {
            throw refused(file, field, type == Path.class ? "a path (a string)" : "a string", name);
        }
        String text = v.textValue();
        if (hasControl(text)) {
            throw refused(file, field, "a string without control characters", name); // no name or path has them
        }
        if (type == Path.class) {
            return path(file, field, name, text);
        }
        if (name.equals("--model") || name.equals("--teacher-model")) {
            model(file, field, name, text);
        }
        return text;
    }

    /**
     * A network named in the file: a reference network, or an existing file named {@code *.json}. Anything else
     * ({@code "../../etc/passwd"}) is refused unread.
     */
    private static void model(Path file, Field field, String option, String text) throws IOException {
        if (Models.NAMES.contains(text)) {
            return;
        }
        if (!NetworkFile.isFileName(text) || !isFile(text)) {
            throw refused(file, field, "a reference network " + Models.NAMES + " or an existing JSON network file "
                    + "(FILE" + NetworkFile.SUFFIX + ")", option);
        }
    }

    /** A path named in the file, checked for its kind: the data a folder, the teacher's weights a safetensors file. */
    private static Path path(Path file, Field field, String option, String text) throws IOException {
        if (text.isEmpty()) {
            throw refused(file, field, "a path", option);
        }
        Path path;
        try {
            path = Path.of(text);
        } catch (InvalidPathException e) {
            throw refused(file, field, "a path", option);
        }
        if (option.equals("--data") && !Files.isDirectory(path)) {
            throw refused(file, field, "an existing folder", option);
        }
        if (option.equals("--teacher-weights") && !(isFile(text)
                && text.toLowerCase(Locale.ROOT).endsWith(WEIGHTS_SUFFIX))) {
            throw refused(file, field, "an existing FILE" + WEIGHTS_SUFFIX, option);
        }
        return path;
    }

    /** Whether {@code text} holds a control or line-separating character, which no name, path or pair has. */
    private static boolean hasControl(String text) {
        return text.chars().anyMatch(c -> Character.isISOControl(c) || c == '\u2028' || c == '\u2029');
    }

    private static boolean isFile(String text) {
        try {
            return Files.isRegularFile(Path.of(text));
        } catch (InvalidPathException e) {
            return false;
        }
    }

    /**
     * {@code --config run/config.json: training.batchSize is 12.5; expected a whole number (--batch-size)}: the
     * value is the file's, quoted as JSON and escaped, which the file parsed as.
     */
    private static IOException refused(Path file, Field field, String expected, String option) {
        return new IOException("--config " + file + ": " + field.path() + " is " + StrictJson.show(field.value(), SHOWN)
                + "; expected " + expected + " (" + option + ")");
    }
}
