package dev.retort.nn;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.retort.nn.Layers.AvgPool2d;
import dev.retort.nn.Layers.Dropout;
import dev.retort.nn.Layers.Flatten;
import dev.retort.nn.Layers.GlobalAvgPool2d;
import dev.retort.nn.Layers.MaxPool2d;
import dev.retort.nn.Layers.ReLU;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Builds a Sequential network from a JSON description, so users need no code for their own
 * architecture. Channel and feature counts flow from the input shape, so each layer states only
 * what it produces:
 *
 * <pre>{"input": [1, 28, 28], "layers": [
 *   {"type": "conv2d", "out": 8, "kernel": 3, "padding": 1}, {"type": "relu"},
 *   {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear", "out": 10}]}</pre>
 *
 * Layer types: conv2d (out, kernel, stride 1, padding 0, bias true), batchnorm2d, relu,
 * maxpool2d / avgpool2d (kernel, stride = kernel, padding 0), globalavgpool2d, flatten,
 * dropout (p), linear (out, bias true). State-dict names are PyTorch's for nn.Sequential.
 */
public final class NetworkFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private NetworkFile() {}

    /** A network and the input shape [C, H, W] (or [features]) it was described for. */
    public record Network(Sequential model, int[] inputShape) {}

    /** Reads and builds the network a JSON file describes (docs/networks.md), initialised from {@code seed}. */
    public static Network load(Path file, long seed) throws IOException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IOException(file + ": cannot read the network description (" + e.getMessage() + ")", e);
        }
        return parse(file.toString(), text, seed);
    }

    /** Parses a description; {@code source} names it in error messages. */
    public static Network parse(String source, String text, long seed) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": not valid JSON (" + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(source + ": expected a JSON object with \"input\" and \"layers\"");
        }
        requireOnly(source, root, Set.of("input", "layers"));
        int[] input = shape(source, root.get("input"));
        JsonNode layers = root.get("layers");
        if (layers == null || !layers.isArray() || layers.isEmpty()) {
            throw new IllegalArgumentException(source + ": \"layers\" must be a non-empty list");
        }
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential model = new Sequential();
        int[] shape = input.clone();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = new Layer(source, i, layers.get(i));
            model.add(layer.build(shape, rng));
            shape = layer.outputShape;
        }
        return new Network(model, input);
    }

    private static int[] shape(String source, JsonNode node) {
        if (node == null || !node.isArray() || node.isEmpty() || node.size() > 3) {
            throw new IllegalArgumentException(source + ": \"input\" must be a shape such as [1, 28, 28] or [784]");
        }
        int[] shape = new int[node.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!node.get(i).isInt() || node.get(i).asInt() <= 0) {
                throw new IllegalArgumentException(source + ": \"input\"[" + i + "] must be a positive integer, got "
                        + node.get(i));
            }
            shape[i] = node.get(i).asInt();
        }
        return shape;
    }

    private static void requireOnly(String where, JsonNode node, Set<String> allowed) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw new IllegalArgumentException(where + ": unknown field \"" + name + "\" (allowed: "
                        + allowed.stream().sorted().toList() + ")");
            }
        }
    }

    /** One entry of "layers": reads its fields with checks, then builds the module for an input shape. */
    private static final class Layer {
        private final String where;
        private final JsonNode node;
        private final String type;
        int[] outputShape;

        Layer(String source, int index, JsonNode node) {
            if (node == null || !node.isObject() || !node.has("type") || !node.get("type").isTextual()) {
                throw new IllegalArgumentException(source + ": layer " + index + " must be an object with a \"type\"");
            }
            this.node = node;
            this.type = node.get("type").asText();
            this.where = source + ": layer " + index + " (" + type + ")";
        }

        Module build(int[] in, SplittableRandom rng) {
            switch (type) {
                case "conv2d" -> {
                    requireOnly(where, node, Set.of("type", "out", "kernel", "stride", "padding", "bias"));
                    int[] chw = spatial(in);
                    int out = positive("out", null);
                    int kernel = positive("kernel", null);
                    int stride = positive("stride", 1);
                    int padding = nonNegative("padding", 0);
                    int oh = (chw[1] + 2 * padding - kernel) / stride + 1;
                    int ow = (chw[2] + 2 * padding - kernel) / stride + 1;
                    if (chw[1] + 2 * padding < kernel || chw[2] + 2 * padding < kernel) {
                        throw new IllegalArgumentException(where + ": kernel " + kernel + " is larger than its padded "
                                + "input " + Arrays.toString(chw));
                    }
                    outputShape = new int[] {out, oh, ow};
                    return new Conv2d(chw[0], out, kernel, stride, padding, flag("bias", true), rng);
                }
                case "batchnorm2d" -> {
                    requireOnly(where, node, Set.of("type"));
                    outputShape = in.clone();
                    return new BatchNorm2d(in[0]);
                }
                case "relu" -> {
                    requireOnly(where, node, Set.of("type"));
                    outputShape = in.clone();
                    return new ReLU();
                }
                case "maxpool2d", "avgpool2d" -> {
                    requireOnly(where, node, Set.of("type", "kernel", "stride", "padding"));
                    int[] chw = spatial(in);
                    int kernel = positive("kernel", null);
                    int stride = positive("stride", kernel);
                    int padding = nonNegative("padding", 0);
                    if (chw[1] + 2 * padding < kernel || chw[2] + 2 * padding < kernel || 2 * padding > kernel) {
                        throw new IllegalArgumentException(where + ": window " + kernel + " with padding " + padding
                                + " does not fit input " + Arrays.toString(chw));
                    }
                    outputShape = new int[] {chw[0], (chw[1] + 2 * padding - kernel) / stride + 1,
                            (chw[2] + 2 * padding - kernel) / stride + 1};
                    return type.equals("maxpool2d") ? new MaxPool2d(kernel, stride, padding)
                            : new AvgPool2d(kernel, stride, padding);
                }
                case "globalavgpool2d" -> {
                    requireOnly(where, node, Set.of("type"));
                    outputShape = new int[] {spatial(in)[0]};
                    return new GlobalAvgPool2d();
                }
                case "flatten" -> {
                    requireOnly(where, node, Set.of("type"));
                    outputShape = new int[] {Arrays.stream(in).reduce(1, (a, b) -> a * b)};
                    return new Flatten();
                }
                case "dropout" -> {
                    requireOnly(where, node, Set.of("type", "p"));
                    JsonNode p = node.get("p");
                    if (p == null || !p.isNumber() || !(p.asDouble() >= 0 && p.asDouble() < 1)) {
                        throw new IllegalArgumentException(where + ": \"p\" must be a number in [0, 1), got " + p);
                    }
                    outputShape = in.clone();
                    return new Dropout(p.asDouble(), rng.nextLong());
                }
                case "linear" -> {
                    requireOnly(where, node, Set.of("type", "out", "bias"));
                    if (in.length != 1) {
                        throw new IllegalArgumentException(where + ": input has shape " + Arrays.toString(in)
                                + "; add a {\"type\": \"flatten\"} layer before it");
                    }
                    int out = positive("out", null);
                    outputShape = new int[] {out};
                    return new Linear(in[0], out, flag("bias", true), rng);
                }
                default -> throw new IllegalArgumentException(where + ": unknown layer type; expected one of "
                        + List.of("conv2d", "batchnorm2d", "relu", "maxpool2d", "avgpool2d", "globalavgpool2d",
                        "flatten", "dropout", "linear"));
            }
        }

        private int[] spatial(int[] in) {
            if (in.length != 3) {
                throw new IllegalArgumentException(where + ": needs a [channels, height, width] input, got "
                        + Arrays.toString(in));
            }
            return in;
        }

        private int positive(String field, Integer fallback) {
            int value = integer(field, fallback);
            if (value <= 0) {
                throw new IllegalArgumentException(where + ": \"" + field + "\" must be a positive integer, got "
                        + value);
            }
            return value;
        }

        private int nonNegative(String field, int fallback) {
            int value = integer(field, fallback);
            if (value < 0) {
                throw new IllegalArgumentException(where + ": \"" + field + "\" must not be negative, got " + value);
            }
            return value;
        }

        private int integer(String field, Integer fallback) {
            JsonNode value = node.get(field);
            if (value == null) {
                if (fallback == null) {
                    throw new IllegalArgumentException(where + ": missing \"" + field + "\"");
                }
                return fallback;
            }
            if (!value.isInt()) {
                throw new IllegalArgumentException(where + ": \"" + field + "\" must be an integer, got " + value);
            }
            return value.asInt();
        }

        private boolean flag(String field, boolean fallback) {
            JsonNode value = node.get(field);
            if (value == null) {
                return fallback;
            }
            if (!value.isBoolean()) {
                throw new IllegalArgumentException(where + ": \"" + field + "\" must be true or false, got " + value);
            }
            return value.asBoolean();
        }
    }
}
