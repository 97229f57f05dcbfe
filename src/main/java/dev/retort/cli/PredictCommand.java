package dev.retort.cli;

import dev.retort.backend.Device;
import dev.retort.backend.Shapes;
import dev.retort.data.Cifar10;
import dev.retort.data.FashionMnist;
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
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code retort predict}: a trained classifier's logits or probabilities for images in a .npy file. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a trained classifier on the images of a .npy file and write its logits [N, classes] "
                + "as float32 .npy, or softmax(logits / T) with --probabilities.",
                "The input may be float32, float64, uint8 or integer, shaped [N, C, H, W], [N, H, W] or "
                + "[N, C*H*W]: any shape with the model's number of values per example. Values go to the "
                + "network as they are, so give them preprocessed as in training (Fashion-MNIST: "
                + "(pixel / 255 - 0.2860) / 0.3530), or pass raw 0..255 pixels with --normalize.",
                "Example: retort predict --model cnn-student --weights s.safetensors --input x.npy --output p.npy "
                + "--probabilities --temperature 1.3"})
final class PredictCommand extends ReportingCommand {
    @Mixin
    ModelOption model;

    @Option(names = "--input", required = true, paramLabel = "X.npy", description = "Images, one per row of axis 0.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "Y.npy",
            description = "Where to write the float32 [N, classes] result (atomically).")
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

    @Option(names = "--normalize", paramLabel = "fashion-mnist|cifar-10",
            description = "The input holds raw pixels in 0..255 (e.g. uint8 images): scale and normalise them as "
                    + "that dataset's loader does before the network sees them.")
    String normalize;

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
        if (normalize != null && !normalize.equals("fashion-mnist") && !normalize.equals("cifar-10")) {
            throw optionError("--normalize " + normalize + ": expected fashion-mnist or cifar-10");
        }
        model.requireWeights();
        if (!Files.isRegularFile(input)) {
            throw optionError("--input " + input + ": no such file");
        }
        requireFolderOf("--output", output);
        if (argmax != null) {
            requireFolderOf("--argmax", argmax);
            if (argmax.toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize())) {
                throw optionError("--argmax " + argmax + ": is the --output file too; the classes would replace the "
                        + (probabilities ? "probabilities" : "logits") + ", name another file");
            }
        }
        PrintWriter out = out();
        Device chosen = device.resolve(out);
        try (Module net = model.load(0)) {
            net.to(chosen);
            int[] shape;
            float[] x;
            try (Tensor read = Npy.read(input)) {
                shape = read.shape();
                x = read.toFloatArray();
            }
            if (shape.length < 2) {
                throw optionError("--input " + input + ": shape " + Shapes.format(shape) + " has no example axis; "
                        + "expected [N, ...] with N examples (np.expand_dims(x, 0) for a single one)");
            }
            int count = shape[0];
            if (count == 0) {
                throw optionError("--input " + input + ": shape " + Shapes.format(shape) + " holds no examples");
            }
            int[] exampleShape = model.inputShapeFor(Arrays.copyOfRange(shape, 1, shape.length), "--input " + input);
            if (normalize != null) {
                normalizePixels(x, exampleShape);
            } else if (looksLikeRawPixels(x)) {
                // Not an error (the input may be meant so), but a network trained on normalised pixels would quietly
                // predict nonsense on these.
                err().println("retort predict: --input " + input + " holds whole numbers in 0..255, like raw pixels; "
                        + "the reference networks expect normalised ones: pass --normalize fashion-mnist|cifar-10");
                err().flush();
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

    /** As the dataset loaders do it, so a network sees the same numbers it was trained on. */
    private void normalizePixels(float[] x, int[] exampleShape) {
        if (normalize.equals("fashion-mnist")) {
            for (int i = 0; i < x.length; i++) {
                x[i] = (x[i] / 255f - FashionMnist.MEAN) / FashionMnist.STD;
            }
            return;
        }
        if (exampleShape.length != 3 || exampleShape[0] != Cifar10.MEAN.length) {
            throw optionError("--normalize cifar-10: needs examples of shape [3, H, W], --model " + model.model()
                    + " takes " + Shapes.format(exampleShape));
        }
        int plane = exampleShape[1] * exampleShape[2];
        for (int i = 0; i < x.length; i++) {
            int c = (i / plane) % 3;
            x[i] = (x[i] / 255f - Cifar10.MEAN[c]) / Cifar10.STD[c];
        }
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
