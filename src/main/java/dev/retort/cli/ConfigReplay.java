package dev.retort.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.retort.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
 */
final class ConfigReplay {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Training options whose key in config.json is not their name in camel case. */
    private static final Map<String, String> KEYS = Map.of("--lr", "learningRate", "--data", "folder");

    /** Never replayed: where this run goes, and whether it resumes, are this command's own business. */
    private static final List<String> NOT_REPLAYED = List.of("--out", "--resume", "--config", "--help", "--version");

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
        for (OptionSpec option : spec.options()) {
            String name = option.longestName();
            if (NOT_REPLAYED.contains(name) || parsed.hasMatchedOption(option)) {
                continue;
            }
            JsonNode value = lookup(root, name);
            boolean everyLabel = name.equals("--labelled") && value != null && value.asInt() == 0;
            if (value != null && !value.isNull() && !value.isMissingNode() && !everyLabel) {
                option.setValue(convert(file, name, option.type(), value));
            }
        }
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
        Map<String, JsonNode> values = new LinkedHashMap<>();
        values.put("--model", root.path("training").get("model"));
        values.put("--data", root.path("data").get("folder"));
        values.put("--dataset", root.path("data").get("dataset"));
        values.put("--device", root.path("training").get("device"));
        values.put("--batch-size", root.path("training").get("evalBatchSize"));
        for (var e : values.entrySet()) {
            OptionSpec option = spec.findOption(e.getKey());
            JsonNode value = e.getValue();
            if (option != null && !parsed.hasMatchedOption(option) && value != null && !value.isNull()) {
                option.setValue(convert(file, e.getKey(), option.type(), value));
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
            weights.setValue(exported);
        }
    }

    /** The file as JSON with a "training" object, or one line saying why not. */
    private static JsonNode read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new IOException("--config " + file + ": no such file", e);
        } catch (IOException e) {
            throw new IOException("--config " + file + ": not a readable run configuration (" + e.getMessage() + ")", e);
        }
        if (root == null || !root.path("training").isObject()) {
            throw new IOException("--config " + file + ": no \"training\" object; is it a run's config.json?");
        }
        return root;
    }

    private static JsonNode lookup(JsonNode root, String option) {
        // The distillation section holds only its mode's options, by their command-line names.
        JsonNode d = root.path("distillation").get(option.replaceFirst("^-+", ""));
        if (d != null) {
            if (option.equals("--pairs")) {
                if (d.asText().equals("default")) {
                    return null;
                }
                var list = JSON.getNodeFactory().arrayNode();
                for (String pair : d.asText().split(",")) {
                    list.add(pair);
                }
                return list;
            }
            return d;
        }
        String key = KEYS.getOrDefault(option, camel(option));
        for (String section : new String[] {"training", "data"}) {
            JsonNode v = root.path(section).get(key);
            if (v != null) {
                return v;
            }
        }
        return null;
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

    private static Object convert(Path file, String option, Class<?> type, JsonNode value) throws IOException {
        try {
            if (type == int.class || type == Integer.class) {
                return value.intValue();
            } else if (type == long.class || type == Long.class) {
                return value.longValue();
            } else if (type == double.class || type == Double.class) {
                return value.doubleValue();
            } else if (type == boolean.class || type == Boolean.class) {
                return value.booleanValue();
            } else if (type == Path.class) {
                return Path.of(value.asText());
            } else if (List.class.isAssignableFrom(type)) {
                List<String> items = new ArrayList<>();
                value.forEach(v -> items.add(v.asText()));
                return items;
            }
            return value.asText();
        } catch (RuntimeException e) {
            throw new IOException("--config " + file + ": the value of " + option + " (" + value + ") does not fit", e);
        }
    }
}
