package dev.retort.cli;

import dev.retort.backend.Shapes;
import dev.retort.io.Checkpoints;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.nn.NetworkFile;
import dev.retort.tensor.Finite;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code --model NAME|FILE.json} and {@code --weights FILE.safetensors} options: which network
 * to build (a reference network of docs/networks.md or a JSON network file) and the trained weights to put
 * in it, with errors that name the option, the file and what to change; or {@code --config FILE}, a run's
 * config.json, which names both (docs/formats.md).
 */
public final class ModelOption {
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    // Required, but checked when used: a --config replay supplies it.
    @Option(names = "--model", paramLabel = "NAME|FILE.json",
            description = "Network (required unless --config names it): a reference network (cnn-teacher, "
                    + "cnn-student, mlp-teacher, mlp-student, mlp-tiny, resnet20, resnet8) or a JSON network file, "
                    + "whose name ends in .json (docs/networks.md).")
    String model;

    @Option(names = "--weights", paramLabel = "FILE.safetensors",
            description = "Trained weights for --model: a safetensors state dict with PyTorch names "
                    + "(as retort and torch save them).")
    Path weights;

    @Option(names = "--config", paramLabel = "FILE",
            description = "A run's config.json: --model, --weights (the run's model.safetensors beside FILE) and, "
                    + "where the command takes them, the data and --device come from it unless given here; the "
                    + "thread count does not (it is the machine's, and changes no result).")
    Path config;

    /** Input shape of the network last built by {@link #load}; a JSON file is parsed at most once for it. */
    private int[] inputShape;

    /** Set by {@link #refuseNonFiniteWeights}: why NaN or infinite weights are refused rather than warned of. */
    private String nonFiniteRefusal;

    /** The metadata of the weights file last loaded. */
    private Map<String, String> metadata = Map.of();

    /** Fills the command's options that were not given from --config's run, when there is one. */
    public ModelOption replayConfig() throws IOException {
        ConfigReplay.applyToModel(mixee, config);
        return this;
    }

    /** The metadata of the weights last loaded by {@link #load} (empty before, or when the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The --model value as given. */
    public String model() {
        return model;
    }

    /** The --weights file, or null when none was given. */
    public Path weights() {
        return weights;
    }

    /** Records the files this option makes the command read (the network file, the weights, the config). */
    public void readBy(OutputFiles files) {
        files.reads("--model", isReferenceNetwork() || model == null ? null : Path.of(model))
                .reads("--weights", weights)
                .reads("--config", config);
    }

    /** Whether --model names a reference network rather than a JSON file. */
    public boolean isReferenceNetwork() {
        return model != null && Models.NAMES.contains(model);
    }

    /**
     * For commands that are meaningless on untrained weights: fails unless --weights names an existing
     * file. Checks --model too, so both are reported before any other work starts.
     */
    public ModelOption requireWeights() {
        checkModel();
        if (weights == null) {
            throw missing("Missing required option: '--weights=FILE.safetensors' (the trained weights of --model "
                    + model + ")");
        }
        checkWeightsExist();
        return this;
    }

    private void checkModel() {
        if (model == null) {
            throw missing("Missing required option: '--model=NAME|FILE.json' (or --config FILE, a run's config.json)");
        }
        if (!isReferenceNetwork() && !(NetworkFile.isFileName(model) && Files.isRegularFile(Path.of(model)))) {
            throw error("--model " + model + ": neither a reference network " + Models.NAMES
                    + " nor an existing JSON network file (FILE" + NetworkFile.SUFFIX + ")");
        }
    }

    private void checkWeightsExist() {
        if (!Files.isRegularFile(weights)) {
            throw error("--weights " + weights + ": no such file");
        }
    }

    /** One line for logs: the network and where its weights come from. */
    public String describe() {
        return model + (weights == null ? " (freshly initialised)" : " with weights " + weights);
    }

    /**
     * For commands whose result means nothing on NaN or infinite weights: {@link #load} then refuses such weights,
     * naming the tensor and {@code why}, instead of warning and going on.
     */
    public ModelOption refuseNonFiniteWeights(String why) {
        nonFiniteRefusal = why;
        return this;
    }

    /**
     * Builds the network from {@code seed} and, when --weights was given, loads them into it. A
     * weights file of another architecture is an error that names the file and both models; on any
     * failure the half-built network is closed.
     */
    public Module load(long seed) throws IOException {
        Module net = build(seed);
        if (weights == null) {
            return net;
        }
        try {
            checkWeightsExist();
            try {
                metadata = Checkpoints.load(net, weights);
            } catch (Checkpoints.Mismatch e) {
                throw error(e.describe("--weights", "--model", model));
            }
            checkFinite(net);
            return net;
        } catch (IOException | RuntimeException e) {
            net.close();
            throw e;
        }
    }

    /**
     * Weights with NaN or infinite values give NaN outputs for every input: said once, up front, rather than
     * left for the user to find in the results (a warning, or a refusal after {@link #refuseNonFiniteWeights}).
     */
    private void checkFinite(Module net) {
        String bad = Finite.describeNonFinite(net.stateDict());
        if (bad != null && nonFiniteRefusal != null) {
            throw error("--weights " + weights + ": " + bad + "; " + nonFiniteRefusal);
        }
        if (bad != null && mixee != null) {
            var err = mixee.commandLine().getErr();
            err.println("retort " + mixee.name() + ": warning: --weights " + weights + ": " + bad
                    + "; the outputs will be NaN or infinite");
            err.flush();
        }
    }

    /** The shape of one input example, [C, H, W] (or [features] for a JSON network that says so). */
    public int[] inputShape() throws IOException {
        if (inputShape == null) {
            checkModel();
            if (isReferenceNetwork()) {
                inputShape = Models.inputShape(model);
            } else {
                build(0).close(); // building records the shape the file declares
            }
        }
        return inputShape.clone();
    }

    /**
     * The shape to feed examples of shape {@code given} in, read from {@code source}: the network's own
     * input shape when the element counts agree (so [N, 784] feeds a [1, 28, 28] network), else an
     * error naming the source, both shapes and what to do.
     */
    public int[] inputShapeFor(int[] given, String source) throws IOException {
        int[] want = inputShape();
        if (Shapes.size(given) != Shapes.size(want)) {
            throw error(source + ": examples of shape " + Shapes.format(given) + " (" + Shapes.size(given)
                    + " values) do not fit --model " + model + ", which takes " + Shapes.format(want) + " ("
                    + Shapes.size(want) + " values per example); give the inputs as " + batched(want)
                    + (want.length > 1 ? " or [N, " + Shapes.size(want) + "]" : ""));
        }
        return want;
    }

    private static String batched(int[] shape) {
        StringBuilder s = new StringBuilder("[N");
        for (int d : shape) {
            s.append(", ").append(d);
        }
        return s.append(']').toString();
    }

    private Module build(long seed) throws IOException {
        if (isReferenceNetwork()) {
            inputShape = Models.inputShape(model);
            return Models.create(model, seed);
        }
        checkModel();
        Path file = Path.of(model);
        try {
            NetworkFile.Network network = NetworkFile.load(file, seed);
            inputShape = network.inputShape();
            return network.model();
        } catch (IllegalArgumentException e) {
            throw error("--model " + e.getMessage());
        }
    }

    /** A value or file the command refuses: one line, exit 1 (ReportingCommand). */
    private static RuntimeException error(String message) {
        return new IllegalArgumentException(message);
    }

    /** An option the command line lacks: the usage, exit 2. */
    private RuntimeException missing(String message) {
        return mixee != null ? ReportingCommand.missingOption(mixee, message) : new IllegalArgumentException(message);
    }
}
