package dev.retort.nn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.retort.io.FileFormatException;
import dev.retort.io.StrictJson;
import dev.retort.nn.Layers.AvgPool2d;
import dev.retort.nn.Layers.Dropout;
import dev.retort.nn.Layers.Flatten;
import dev.retort.nn.Layers.GlobalAvgPool2d;
import dev.retort.nn.Layers.MaxPool2d;
import dev.retort.nn.Layers.ReLU;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
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
    /** A description of a network this engine can train is far smaller; a larger file is not one. */
    static final long MAX_FILE_BYTES = 4L << 20;
    /** What a network file's name ends in (any case): the name says the file is JSON before a byte of it is read. */
    public static final String SUFFIX = ".json";
    /**
     * Caps checked from the description, before any layer allocates: more parameters than this (1 GiB of float32)
     * or more values per example at any layer's output cannot be a network this engine trains.
     */
    static final long MAX_PARAMETERS = 1L << 28;
    static final long MAX_VALUES_PER_EXAMPLE = 1L << 26;

    private NetworkFile() {}

    /** A network and the input shape [C, H, W] (or [features]) it was described for. */
    public record Network(Sequential model, int[] inputShape) {}

    /**
     * Whether {@code name} can name a network file: it ends in {@link #SUFFIX}. Only such a file is read as a
     * network, so a wrong path (a config's {@code "model": "../../etc/passwd"}) is refused by its name, unread.
     */
    public static boolean isFileName(String name) {
        return name != null && name.toLowerCase(Locale.ROOT).endsWith(SUFFIX)
                && name.length() > SUFFIX.length();
    }

    /**
     * Reads and builds the network a JSON file describes (docs/networks.md), initialised from {@code seed}. The file
     * must be a regular file whose name ends in {@code .json}; what is not is refused unread.
     */
    public static Network load(Path file, long seed) throws IOException {
        if (!isFileName(file.getFileName() == null ? "" : file.getFileName().toString())) {
            throw new IllegalArgumentException(file + ": not a network file (a network file's name ends in " + SUFFIX
                    + ")");
        }
        byte[] bytes;
        try {
            bytes = StrictJson.readFile(file, MAX_FILE_BYTES);
        } catch (FileFormatException e) {
            throw e; // names the file and says why: a folder, a device, too large
        } catch (IOException e) {
            throw new IOException(file + ": cannot read the network description (" + e.getMessage() + ")", e);
        }
        JsonNode root;
        try {
            root = StrictJson.parse(bytes);
        } catch (StrictJson.Malformed e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
        return build(file.toString(), root, seed);
    }

    /** Parses a description; {@code source} names it in error messages. */
    public static Network parse(String source, String text, long seed) {
        JsonNode root;
        try {
            root = StrictJson.parse(text);
        } catch (StrictJson.Malformed e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage());
        }
        return build(source, root, seed);
    }

    private static Network build(String source, JsonNode root, long seed) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(source + ": expected a JSON object with \"input\" and \"layers\"");
        }
        requireOnly(source, root, Set.of("input", "layers"));
        int[] input = shape(source, root.get("input"));
        JsonNode layers = root.get("layers");
        if (layers == null || !layers.isArray() || layers.isEmpty()) {
            throw new IllegalArgumentException(source + ": \"layers\" must be a non-empty list");
        }
        // Every layer's shapes and parameter count are checked before the first one allocates anything.
        List<Layer> checked = new ArrayList<>();
        int[] shape = input.clone();
        long parameters = 0;
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = new Layer(source, i, layers.get(i));
            layer.plan(shape);
            parameters += layer.parameters;
            if (parameters > MAX_PARAMETERS) {
                throw new IllegalArgumentException(layer.where + ": brings the network to " + parameters
                        + " parameters, more than the " + MAX_PARAMETERS + " Retort builds from a file");
            }
            checked.add(layer);
            shape = layer.outputShape;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential model = new Sequential();
        if (input.length == 1) {
            model.inputShape(input); // images [N, 1, 28, 28] reach a [784] network as [N, 784]
        }
        for (Layer layer : checked) {
            model.add(layer.build(rng));
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
                // Quoted as JSON, escapes and all: the name is the file's, and the message must stay one line.
                throw new IllegalArgumentException(where + ": unknown field " + new TextNode(name) + " (allowed: "
                        + allowed.stream().sorted().toList() + ")");
            }
        }
    }

    /** One entry of "layers": reads its fields with checks, then builds the module for an input shape. */
    private static final class Layer {
        private final String where;
        private final JsonNode node;
        private final String type;
        private int[] in;
        private int out;
        private int kernel;
        private int stride;
        private int padding;
        int[] outputShape;
        long parameters;

        Layer(String source, int index, JsonNode node) {
            if (node == null || !node.isObject() || !node.has("type") || !node.get("type").isTextual()) {
                throw new IllegalArgumentException(source + ": layer " + index + " must be an object with a \"type\"");
            }
            this.node = node;
            this.type = node.get("type").asText();
            this.where = source + ": layer " + index + " (" + new TextNode(type).toString().replaceAll("^\"|\"$", "")
                    + ")";
        }

        /** Reads and checks the fields for an input of shape {@code in}; sets the output shape and parameter count. */
        void plan(int[] in) {
            this.in = in;
            switch (type) {
                case "conv2d" -> {
                    requireOnly(where, node, Set.of("type", "out", "kernel", "stride", "padding", "bias"));
                    int[] chw = spatial(in);
                    out = positive("out", null);
                    kernel = positive("kernel", null);
                    stride = positive("stride", 1);
                    padding = nonNegative("padding", 0);
                    if (chw[1] + 2L * padding < kernel || chw[2] + 2L * padding < kernel) {
                        throw new IllegalArgumentException(where + ": kernel " + kernel + " is larger than its padded "
                                + "input " + Arrays.toString(chw));
                    }
                    output(out, window(chw[1]), window(chw[2]));
                    parameters = (long) out * chw[0] * kernel * kernel + (flag("bias", true) ? out : 0);
                }
                case "batchnorm2d" -> {
                    requireOnly(where, node, Set.of("type"));
                    parameters = 2L * spatial(in)[0];
                    output(in);
                }
                case "relu" -> {
                    requireOnly(where, node, Set.of("type"));
                    output(in);
                }
                case "maxpool2d", "avgpool2d" -> {
                    requireOnly(where, node, Set.of("type", "kernel", "stride", "padding"));
                    int[] chw = spatial(in);
                    kernel = positive("kernel", null);
                    stride = positive("stride", kernel);
                    padding = nonNegative("padding", 0);
                    if (chw[1] + 2L * padding < kernel || chw[2] + 2L * padding < kernel || 2L * padding > kernel) {
                        throw new IllegalArgumentException(where + ": window " + kernel + " with padding " + padding
                                + " does not fit input " + Arrays.toString(chw));
                    }
                    output(chw[0], window(chw[1]), window(chw[2]));
                }
                case "globalavgpool2d" -> {
                    requireOnly(where, node, Set.of("type"));
                    output(spatial(in)[0]);
                }
                case "flatten" -> {
                    requireOnly(where, node, Set.of("type"));
                    output(Arrays.stream(in).asLongStream().reduce(1, (a, b) -> a * b));
                }
                case "dropout" -> {
                    requireOnly(where, node, Set.of("type", "p"));
                    JsonNode p = node.get("p");
                    if (p == null || !p.isNumber() || !(p.asDouble() >= 0 && p.asDouble() < 1)) {
                        throw new IllegalArgumentException(where + ": \"p\" must be a number in [0, 1), got " + p);
                    }
                    output(in);
                }
                case "linear" -> {
                    requireOnly(where, node, Set.of("type", "out", "bias"));
                    if (in.length != 1) {
                        throw new IllegalArgumentException(where + ": input has shape " + Arrays.toString(in)
                                + "; add a {\"type\": \"flatten\"} layer before it");
                    }
                    out = positive("out", null);
                    output(out);
                    parameters = (long) in[0] * out + (flag("bias", true) ? out : 0);
                }
                default -> throw new IllegalArgumentException(where + ": unknown layer type; expected one of "
                        + List.of("conv2d", "batchnorm2d", "relu", "maxpool2d", "avgpool2d", "globalavgpool2d",
                        "flatten", "dropout", "linear"));
            }
        }

        /** The module {@link #plan} checked. */
        Module build(SplittableRandom rng) {
            return switch (type) {
                case "conv2d" -> new Conv2d(in[0], out, kernel, stride, padding, flag("bias", true), rng);
                case "batchnorm2d" -> new BatchNorm2d(in[0]);
                case "relu" -> new ReLU();
                case "maxpool2d" -> new MaxPool2d(kernel, stride, padding);
                case "avgpool2d" -> new AvgPool2d(kernel, stride, padding);
                case "globalavgpool2d" -> new GlobalAvgPool2d();
                case "flatten" -> new Flatten();
                case "dropout" -> new Dropout(node.get("p").asDouble(), rng.nextLong());
                default -> new Linear(in[0], out, flag("bias", true), rng);
            };
        }

        /** A pooling or convolution window's output length over {@code length}, in long so nothing wraps. */
        private long window(int length) {
            return (length + 2L * padding - kernel) / stride + 1;
        }

        /** Sets the output shape after checking that one example's values stay under the cap. */
        private void output(long... dims) {
            long values = 1;
            for (long d : dims) {
                values *= d; // each factor is at most 2^32, and the product is checked after each step
                if (d > Integer.MAX_VALUE || values > MAX_VALUES_PER_EXAMPLE) {
                    throw new IllegalArgumentException(where + ": output " + Arrays.toString(dims) + " per example is "
                            + "more than the " + MAX_VALUES_PER_EXAMPLE + " values Retort builds a layer for");
                }
            }
            outputShape = Arrays.stream(dims).mapToInt(d -> (int) d).toArray();
        }

        private void output(int[] dims) {
            output(Arrays.stream(dims).asLongStream().toArray());
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
