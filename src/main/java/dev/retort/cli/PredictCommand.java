package dev.retort.cli;

import dev.retort.backend.Device;
import dev.retort.backend.Shapes;
import dev.retort.data.Normalization;
import dev.retort.io.Npy;
import dev.retort.nn.Module;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import dev.retort.train.Evaluation;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code retort predict}: a trained classifier's logits or probabilities for images in a .npy file or image files. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a trained classifier on the examples of a .npy file, a PNG or JPEG image, or a folder of "
                + "them, and write its logits [N, classes] as float32 .npy, or softmax(logits / T) with "
                + "--probabilities.",
                "A .npy input may be float32, float64, uint8 or integer, shaped [N, C, H, W], [N, H, W] or "
                + "[N, C*H*W]: any shape with the model's number of values per example. Its values go to the "
                + "network as they are, so give them preprocessed as in training (Fashion-MNIST: "
                + "(pixel / 255 - 0.2860) / 0.3530), or pass raw 0..255 pixels with --normalize.",
                "Images (one file, or every .png/.jpg/.jpeg file of a folder, a row each in name order) must have "
                + "the model's size; they are normalised as the weights were trained (their metadata records it), "
                + "unless --normalize or --mean/--std says otherwise.",
                "Example: retort predict --model cnn-student --weights s.safetensors --input x.npy --output p.npy "
                + "--probabilities --temperature 1.3",
                "Example: retort predict --config runs/train-cnn-teacher/config.json --input photos/ --output p.npy "
                + "--argmax classes.npy"})
final class PredictCommand extends ReportingCommand {
    @Mixin
    ModelOption model;

    @Option(names = "--input", required = true, paramLabel = "X.npy|IMAGE|DIR",
            description = "Examples, one per row of axis 0 of a .npy file; or one PNG or JPEG image; or a folder of "
                    + "them (not its subfolders), one row per file in name order.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "Y.npy",
            description = "Where to write the float32 [N, classes] result (atomically; never over an input or a "
                    + "file of a run folder).")
    Path output;

    @Option(names = "--probabilities",
            description = "Write softmax(logits / T) instead of the logits.")
    boolean probabilities;

    @Option(names = "--temperature", paramLabel = "T",
            description = "Softmax temperature for --probabilities (default 1; T* from retort calibrate "
                    + "calibrates them).")
    Double temperature;

    @Option(names = "--argmax", paramLabel = "FILE.npy",
            description = "Also write the predicted class of each example as int32 [N].")
    Path argmax;

    @Option(names = "--normalize", paramLabel = "fashion-mnist|mnist|cifar-10|weights",
            description = "The input holds raw pixels in 0..255 (e.g. uint8 images): scale and normalise them as "
                    + "that dataset's loader does, or with the statistics --weights records ('weights'), before the "
                    + "network sees them. Images get the recorded ones without it.")
    String normalize;

    @Option(names = "--mean", paramLabel = "M[,M,M]",
            description = "With --std, instead of --normalize: raw pixels become (pixel / 255 - M) / S, one value per "
                    + "channel or one for all (a run's config.json lists its data's under data.normalization).")
    String mean;

    @Option(names = "--std", paramLabel = "S[,S,S]", description = "The standard deviations that go with --mean.")
    String std;

    @Option(names = "--batch-size", defaultValue = "512", paramLabel = "N",
            description = "Examples per forward pass (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Mixin
    DeviceOption device;

    @Override
    protected int run() throws IOException {
        requirePositive("--batch-size", batchSize);
        if (temperature != null) {
            if (!(temperature > 0) || temperature.isInfinite()) {
                throw optionError("--temperature " + temperature + ": must be a positive finite number "
                        + "(1 leaves the probabilities as they are)");
            }
            if (!probabilities) {
                throw optionError("--temperature " + temperature + ": only applies with --probabilities (the "
                        + "logits are written unscaled)");
            }
        }
        model.replayConfig();
        if (normalize != null && !List.of("fashion-mnist", "mnist", "cifar-10", "weights").contains(normalize)) {
            throw optionError("--normalize " + normalize + ": expected fashion-mnist, mnist, cifar-10 or weights");
        }
        if ((mean == null) != (std == null)) {
            throw optionError((mean == null ? "--std" : "--mean") + ": goes with " + (mean == null ? "--mean" : "--std")
                    + "; give both, the statistics of each channel");
        }
        if (mean != null && normalize != null) {
            throw optionError("--mean and --std: give them or --normalize " + normalize + ", not both");
        }
        model.requireWeights();
        if (!Files.exists(input)) {
            throw optionError("--input " + input + ": no such file or folder");
        }
        OutputFiles files = new OutputFiles().reads("--input", input);
        model.readBy(files);
        files.writes("--output", output);
        if (argmax != null) {
            files.writes("--argmax", argmax);
        }
        PrintWriter out = out();
        Device chosen = device.resolve(out);
        try (Module net = model.load(0)) {
            net.to(chosen);
            PredictInput read = PredictInput.read(input, model.inputShape(), model.model());
            int[] shape = read.shape();
            float[] x = read.values();
            if (shape.length < 2) {
                throw optionError("--input " + input + ": shape " + Shapes.format(shape) + " has no example axis; "
                        + "expected [N, ...] with N examples (np.expand_dims(x, 0) for a single one)");
            }
            int count = shape[0];
            if (count == 0) {
                throw optionError("--input " + input + ": shape " + Shapes.format(shape) + " holds no examples");
            }
            int[] exampleShape = model.inputShapeFor(Arrays.copyOfRange(shape, 1, shape.length), "--input " + input);
            Normalization recorded = recorded();
            Normalization chosenStats = explicit(recorded);
            if (chosenStats == null && read.images()) {
                if (recorded == null) {
                    throw optionError("--input " + input + ": images are raw pixels, and --weights " + model.weights()
                            + " records no input normalisation (an older run's, or trained on .npy data): pass "
                            + "--normalize fashion-mnist|mnist|cifar-10, or --mean M --std S as its training data "
                            + "was normalised");
                }
                chosenStats = recorded;
            }
            if (chosenStats != null) {
                normalizePixels(chosenStats, x, exampleShape);
            } else if (looksLikeRawPixels(x)) {
                // Not an error (the input may be meant so), but a network trained on normalised pixels would quietly
                // predict nonsense on these.
                err().println("retort predict: --input " + input + " holds whole numbers in 0..255, like raw pixels; "
                        + "the reference networks expect normalised ones: pass "
                        + (recorded != null ? "--normalize weights (" + recorded.describe() + ", as --weights records)"
                        : "--normalize fashion-mnist|mnist|cifar-10 or --mean/--std"));
                err().flush();
            }
            if (read.names().size() > 1) {
                out.println("rows: " + read.names().size() + " images of " + input + " in name order, "
                        + read.names().get(0).getFileName() + " first");
            }
            float[] logits = Evaluation.logits(net, x, exampleShape, batchSize);
            int classes = logits.length / count;
            float[] result = probabilities ? softmax(logits, classes, temperature == null ? 1.0 : temperature)
                    : logits;
            try (Scope scope = Scope.open()) {
                Npy.write(output, Tensor.of(result, count, classes));
                out.println("wrote " + output + ": " + (probabilities ? "probabilities" : "logits") + " ["
                        + count + ", " + classes + "] float32");
                if (argmax != null) {
                    Npy.write(argmax, Tensor.ofInts(argmax(logits, classes), count));
                    out.println("wrote " + argmax + ": predicted classes [" + count + "] int32");
                }
            }
        }
        out.flush();
        return 0;
    }

    /** Whole numbers in 0..255 that reach past 20: raw pixels, not the loaders' normalised values (about −2..3). */
    static boolean looksLikeRawPixels(float[] x) {
        float max = 0;
        for (float v : x) {
            if (v < 0 || v > 255 || v != Math.rint(v)) {
                return false;
            }
            max = Math.max(max, v);
        }
        return max > 20;
    }

    /** The statistics the weights' metadata records, or null; a malformed record is named with the file. */
    private Normalization recorded() {
        try {
            return Normalization.fromMetadata(model.metadata());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--weights " + model.weights() + ": its input normalisation metadata "
                    + "is malformed (" + e.getMessage() + "); pass --normalize or --mean/--std");
        }
    }

    /** What --normalize or --mean/--std ask for, or null when neither is given. */
    private Normalization explicit(Normalization recorded) {
        if (mean != null) {
            try {
                return Normalization.parse(mean, std);
            } catch (IllegalArgumentException e) {
                throw optionError("--mean " + mean + " --std " + std + ": " + e.getMessage());
            }
        }
        if (normalize == null) {
            return null;
        }
        if (normalize.equals("weights")) {
            if (recorded == null) {
                throw optionError("--normalize weights: --weights " + model.weights() + " records no input "
                        + "normalisation; pass --normalize fashion-mnist|mnist|cifar-10 or --mean/--std");
            }
            return recorded;
        }
        return Normalization.of(normalize);
    }

    /** As the dataset loaders do it, so a network sees the same numbers it was trained on. */
    private void normalizePixels(Normalization stats, float[] x, int[] exampleShape) {
        int channels = exampleShape.length == 3 ? exampleShape[0] : 1;
        int plane = exampleShape.length == 3 ? exampleShape[1] * exampleShape[2]
                : Math.max(1, Shapes.size(exampleShape));
        if (stats.channels() != 1 && stats.channels() != channels) {
            throw optionError((normalize != null ? "--normalize " + normalize : mean != null ? "--mean/--std"
                    : "the normalisation --weights records") + ": needs examples of shape [" + stats.channels()
                    + ", H, W], --model " + model.model() + " takes " + Shapes.format(exampleShape));
        }
        stats.applyInPlace(x, channels, plane);
    }

    /** Row-wise softmax(z / T) in double, so tiny probabilities keep their float32 precision. */
    static float[] softmax(float[] logits, int classes, double temperature) {
        float[] p = new float[logits.length];
        double[] e = new double[classes];
        for (int base = 0; base < logits.length; base += classes) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, logits[base + c]);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                e[c] = Math.exp((logits[base + c] - max) / temperature);
                sum += e[c];
            }
            for (int c = 0; c < classes; c++) {
                p[base + c] = (float) (e[c] / sum);
            }
        }
        return p;
    }

    /** First index of each row's maximum, as Evaluation counts a prediction. */
    static int[] argmax(float[] logits, int classes) {
        int[] out = new int[logits.length / classes];
        for (int r = 0; r < out.length; r++) {
            int base = r * classes;
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (logits[base + c] > logits[base + best]) {
                    best = c;
                }
            }
            out[r] = best;
        }
        return out;
    }
}
