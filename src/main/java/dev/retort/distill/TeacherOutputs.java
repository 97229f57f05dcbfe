package dev.retort.distill;

import dev.retort.backend.Device;
import dev.retort.data.Dataset;
import dev.retort.nn.FeatureCapture;
import dev.retort.nn.Module;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Finite;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The teacher's outputs over a whole transfer set, computed once (offline distillation, docs/kd-modes.md): its
 * logits and, for hybrid, its paired features, kept on the host and gathered per batch by example index.
 * Valid only while the examples do not change between epochs, i.e. without augmentation.
 *
 * <p>The teacher runs on its own device; the outputs stay in host memory even when that is a GPU, and each
 * batch's rows are gathered on the host and uploaded with the batch. Gathering rows by index on the device would
 * need a primitive the backends do not have, and the features of hybrid are large (cnn-teacher's 64×7×7 map over
 * 60,000 images is 750 MB) — GPU memory the training step can use better — while one batch's share is a small
 * upload beside the batch's images.
 */
public final class TeacherOutputs {
    private final int count;
    private final int classes;
    private final float[] logits;
    private final List<String> layers = new ArrayList<>();
    private final List<float[]> features = new ArrayList<>();
    private final List<int[]> featureShapes = new ArrayList<>();

    private TeacherOutputs(int count, int classes, float[] logits) {
        this.count = count;
        this.classes = classes;
        this.logits = logits;
    }

    /**
     * Runs the teacher in evaluation mode without recording over every example of {@code data}.
     *
     * @param featureLayers teacher layer names whose outputs to keep too (empty for the output-only modes)
     * @param onBatch       told the number of examples after each batch (progress display)
     */
    public static TeacherOutputs compute(Module teacher, Dataset data, List<String> featureLayers, int batchSize,
                                         IntConsumer onBatch) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("teacher outputs: batch size must be positive, got " + batchSize);
        }
        boolean wasTraining = teacher.isTraining();
        Device device = teacher.device();
        teacher.eval();
        int n = data.size();
        int[] order = new int[n];
        Arrays.setAll(order, i -> i);
        TeacherOutputs out = null;
        try (Autograd.NoGrad ignored = Autograd.noGrad()) {
            for (int from = 0; from < n; from += batchSize) {
                int to = Math.min(n, from + batchSize);
                try (Scope scope = Scope.open();
                     FeatureCapture capture = FeatureCapture.of(teacher, featureLayers)) {
                    Tensor z = teacher.call(data.batch(order, from, to)[0].to(device));
                    if (z.rank() != 2) {
                        throw new IllegalArgumentException("teacher outputs: the teacher returned "
                                + Arrays.toString(z.shape()) + ", expected logits [batch, classes]");
                    }
                    if (out == null) {
                        out = new TeacherOutputs(n, z.dim(1), new float[n * z.dim(1)]);
                        for (String layer : featureLayers) {
                            int[] shape = capture.get(layer).shape();
                            int[] per = Arrays.copyOfRange(shape, 1, shape.length);
                            out.layers.add(layer);
                            out.featureShapes.add(per);
                            out.features.add(new float[Math.multiplyExact(n, Arrays.stream(per).reduce(1, Math::multiplyExact))]);
                        }
                    }
                    float[] logits = z.toFloatArray();
                    if (!Finite.all(logits)) {
                        throw new IllegalStateException("the teacher's outputs are not finite (NaN or infinite "
                                + "logits among examples " + from + " to " + (to - 1) + " of " + data.name()
                                + "); the teacher is broken, not the student: check its weights");
                    }
                    System.arraycopy(logits, 0, out.logits, from * out.classes, (to - from) * out.classes);
                    for (int i = 0; i < featureLayers.size(); i++) {
                        float[] values = capture.get(featureLayers.get(i)).toFloatArray();
                        System.arraycopy(values, 0, out.features.get(i), from * (values.length / (to - from)),
                                values.length);
                    }
                }
                if (onBatch != null) {
                    onBatch.accept(to - from);
                }
            }
        } finally {
            if (wasTraining) {
                teacher.train();
            }
        }
        if (out == null) {
            throw new IllegalArgumentException("teacher outputs: " + data.name() + " has no examples");
        }
        return out;
    }

    /** The number of examples covered. */
    public int size() {
        return count;
    }

    /** Logits per example. */
    public int classes() {
        return classes;
    }

    /** Whether the outputs of each of these teacher layers were kept. */
    public boolean holds(List<String> teacherLayers) {
        return layers.containsAll(teacherLayers);
    }

    /** Host memory held, in bytes. */
    public long bytes() {
        long total = 4L * logits.length;
        for (float[] f : features) {
            total += 4L * f.length;
        }
        return total;
    }

    /** The cached logits of these examples, [examples, classes], on the CPU, owned by the current scope. */
    public Tensor logits(int[] examples) {
        return logits(examples, Device.CPU);
    }

    /** The cached logits of these examples, uploaded to {@code device} (the batch's). */
    public Tensor logits(int[] examples, Device device) {
        return gather(logits, new int[] {classes}, examples, device);
    }

    /** The cached feature {@code index} (in the order of the layers given to compute) of these examples. */
    public Tensor feature(int index, int[] examples) {
        return feature(index, examples, Device.CPU);
    }

    /** As {@link #feature(int, int[])}, uploaded to {@code device}. */
    public Tensor feature(int index, int[] examples, Device device) {
        return gather(features.get(index), featureShapes.get(index), examples, device);
    }

    /** The cached output of teacher layer {@code layer} for these examples, uploaded to {@code device}. */
    public Tensor feature(String layer, int[] examples, Device device) {
        int index = layers.indexOf(layer);
        if (index < 0) {
            throw new IllegalArgumentException("teacher outputs: layer '" + layer + "' was not kept; kept " + layers);
        }
        return feature(index, examples, device);
    }

    private Tensor gather(float[] source, int[] perShape, int[] examples, Device device) {
        int per = source.length / count;
        float[] out = new float[examples.length * per];
        for (int i = 0; i < examples.length; i++) {
            int e = examples[i];
            if (e < 0 || e >= count) {
                throw new IndexOutOfBoundsException("teacher outputs: example " + e + " outside the " + count
                        + " cached");
            }
            System.arraycopy(source, e * per, out, i * per, per);
        }
        int[] shape = new int[perShape.length + 1];
        shape[0] = examples.length;
        System.arraycopy(perShape, 0, shape, 1, perShape.length);
        return Tensor.of(device, out, shape);
    }
}
