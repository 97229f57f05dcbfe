package dev.retort.train;

import dev.retort.backend.Device;
import dev.retort.backend.Shapes;
import dev.retort.data.Dataset;
import dev.retort.nn.Module;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a classifier over a dataset without recording and measures it: top-1 accuracy, negative
 * log-likelihood and expected calibration error, or just the logits for calibration and prediction.
 */
public final class Evaluation {
    /**
     * What a classifier scored on {@code count} examples: accuracy in [0, 1], mean NLL (nats) and
     * ECE over {@link Calibration#DEFAULT_BINS} bins, at the temperature the metrics were taken at.
     */
    public record Metrics(double accuracy, double nll, double ece, int count) {
        /** Examples classified correctly: exact, since accuracy is that count over {@code count}. */
        public int correct() {
            return (int) Math.round(accuracy * count);
        }
    }

    private Evaluation() {}

    /** Accuracy, NLL and ECE of {@code model} on {@code data}, fed as [batch, C, H, W] images. */
    public static Metrics evaluate(Module model, Dataset data, int batchSize) {
        return evaluate(model, data, batchSize, exampleShape(data));
    }

    /** As {@link #evaluate(Module, Dataset, int)}, each image reshaped to {@code inputShape} (same element count). */
    public static Metrics evaluate(Module model, Dataset data, int batchSize, int[] inputShape) {
        return metrics(logits(model, data, batchSize, inputShape), data.labels(), data.classes(), 1.0);
    }

    /** The model's logits on every example of {@code data}, row-major [size, classes]. */
    public static float[] logits(Module model, Dataset data, int batchSize) {
        return logits(model, data, batchSize, exampleShape(data));
    }

    /** As {@link #logits(Module, Dataset, int)}, each image reshaped to {@code inputShape}. */
    public static float[] logits(Module model, Dataset data, int batchSize, int[] inputShape) {
        if (data.size() == 0) {
            throw new IllegalArgumentException(data.name() + ": no examples to evaluate");
        }
        float[] out = logits(model, data.images(), inputShape, batchSize);
        int classes = out.length / data.size();
        if (classes != data.classes()) {
            throw new IllegalArgumentException(data.name() + ": the network outputs " + classes
                    + " values per example, the dataset has " + data.classes() + " classes");
        }
        return out;
    }

    /**
     * The model's outputs on {@code inputs}, examples of shape {@code exampleShape} laid end to end,
     * as row-major [count, classes]. Runs in evaluation mode (dropout off, running batch-norm
     * statistics) without recording, one {@link Scope} per batch, on the model's device (each batch
     * uploaded, its logits read back), and leaves every module's training flag as it found it, so a
     * trainer can call it between epochs.
     */
    public static float[] logits(Module model, float[] inputs, int[] exampleShape, int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("evaluation: batch size must be positive, got " + batchSize);
        }
        int per = Shapes.size(exampleShape);
        if (per <= 0 || inputs.length % per != 0) {
            throw new IllegalArgumentException("evaluation: " + inputs.length + " input values are not a whole "
                    + "number of examples of shape " + Shapes.format(exampleShape));
        }
        int count = inputs.length / per;
        int[] batchShape = new int[exampleShape.length + 1];
        System.arraycopy(exampleShape, 0, batchShape, 1, exampleShape.length);
        Device device = model.device();
        Runnable restore = switchToEval(model);
        float[] out = null;
        int classes = 0;
        // Full batches share one staging array; only the last, shorter one needs its own.
        float[] staging = new float[Math.min(batchSize, count) * per];
        try (Autograd.NoGrad ignored = Autograd.noGrad()) {
            for (int from = 0; from < count; from += batchSize) {
                int rows = Math.min(batchSize, count - from);
                float[] x = rows * per == staging.length ? staging : new float[rows * per];
                System.arraycopy(inputs, from * per, x, 0, rows * per);
                batchShape[0] = rows;
                try (Scope scope = Scope.open()) {
                    Tensor z = model.forward(Tensor.of(device, x, batchShape));
                    int[] shape = z.shape();
                    if (shape.length != 2 || shape[0] != rows || (out != null && shape[1] != classes)) {
                        throw new IllegalArgumentException("evaluation: the network maps a batch of shape "
                                + Shapes.format(batchShape) + " to " + Shapes.format(shape)
                                + "; a classifier must output [batch, classes]");
                    }
                    if (out == null) {
                        classes = shape[1];
                        out = new float[Math.multiplyExact(count, classes)];
                    }
                    System.arraycopy(z.toFloatArray(), 0, out, from * classes, rows * classes);
                }
            }
        } finally {
            restore.run();
        }
        return out == null ? new float[0] : out;
    }

    /** Accuracy, NLL and ECE of {@code logits} (row-major [labels.length, classes]) at {@code temperature}. */
    public static Metrics metrics(float[] logits, int[] labels, int classes, double temperature) {
        double nll = Calibration.negativeLogLikelihood(logits, labels, classes, temperature);
        double ece = Calibration.expectedCalibrationError(logits, labels, classes, temperature,
                Calibration.DEFAULT_BINS);
        int correct = 0;
        for (int r = 0; r < labels.length; r++) {
            // First index of the maximum, as Calibration's confidence bins choose it.
            int base = r * classes;
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (logits[base + c] > logits[base + best]) {
                    best = c;
                }
            }
            if (best == labels[r]) {
                correct++;
            }
        }
        return new Metrics((double) correct / labels.length, nll, ece, labels.length);
    }

    private static int[] exampleShape(Dataset data) {
        return new int[] {data.channels(), data.height(), data.width()};
    }

    /**
     * Puts the model in evaluation mode and returns how to undo it. Flags are restored module by
     * module, parents first, so a network that was partly frozen in eval mode comes back the same.
     */
    private static Runnable switchToEval(Module model) {
        List<Module> modules = new ArrayList<>();
        modules.add(model);
        modules.addAll(model.namedModules().values());
        boolean[] training = new boolean[modules.size()];
        for (int i = 0; i < training.length; i++) {
            training[i] = modules.get(i).isTraining();
        }
        model.eval();
        return () -> {
            for (int i = 0; i < training.length; i++) {
                Module m = modules.get(i);
                if (training[i]) {
                    m.train();
                } else {
                    m.eval();
                }
            }
        };
    }
}
