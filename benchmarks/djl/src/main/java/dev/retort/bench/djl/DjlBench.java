package dev.retort.bench.djl;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Times, in DJL with its PyTorch engine (libtorch 2.7.1 on the CPU), what Retort's JMH benchmarks time, for
 * benchmarks/compare-cpu.sh:
 * <ul>
 *   <li>{@code mlp-teacher}, {@code cnn-teacher}, {@code cnn-student}: one training step — forward, cross-entropy,
 *       backward, SGD with momentum 0.9 — as {@code TrainingStepBenchmark} and {@code StudentStepBenchmark};</li>
 *   <li>{@code cnn-student-hinton}: one hinton distillation step of {@code cnn-student} against cached teacher
 *       logits (computed once by {@code cnn-teacher} in eval mode), as {@code StudentStepBenchmark.hinton};</li>
 *   <li>{@code cnn-teacher-eval}: one eval-mode forward of {@code cnn-teacher} without gradients, batch 500 unless
 *       {@code --eval-batch} says otherwise, as {@code EvalForwardBenchmark}.</li>
 * </ul>
 * The networks are Retort's reference networks (docs/networks.md), built layer for layer as
 * benchmarks/pytorch/train_step.py builds them, with PyTorch's default weight range U(±1/√fan_in).
 *
 * <p>Usage: {@code java -Dai.djl.offline=true -jar djl-bench.jar [--seconds 10] [--batch 128] [--eval-batch 500]
 * [name ...]}. Prints one line per name, {@code djl <name> <batch> <ms per step> <steps>}, as train_step.py prints
 * {@code pytorch ...}; an eval line's "step" is one forward of the batch, so images/s = 1000 · batch / ms.
 */
public final class DjlBench {
    /** Every name {@link #main} accepts, in the order it runs them by default. */
    static final List<String> NAMES = List.of("mlp-teacher", "cnn-teacher", "cnn-student", "cnn-student-hinton",
            "cnn-teacher-eval");

    /** Hinton mode's temperature and label weight: Retort's defaults (docs/kd-modes.md, "Defaults"). */
    static final float TEMPERATURE = 2f;
    static final float ALPHA = 0.1f;

    private static final int CLASSES = 10;
    private static final Shape IMAGE = new Shape(1, 28, 28);

    private DjlBench() {}

    /**
     * Runs the named measurements (all of {@link #NAMES} when none is named) and prints one line for each.
     *
     * @param args {@code [--seconds S] [--batch B] [--eval-batch E] [name ...]}
     */
    public static void main(String[] args) {
        double seconds = 10;
        int batch = 128;
        int evalBatch = 500;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--eval-batch" -> evalBatch = Integer.parseInt(args[++i]);
                default -> {
                    if (!NAMES.contains(args[i])) {
                        System.err.println("djl-bench: unknown argument '" + args[i] + "'; names are " + NAMES);
                        System.exit(2);
                    }
                    names.add(args[i]);
                }
            }
        }
        if (names.isEmpty()) {
            names.addAll(NAMES);
        }
        Engine engine = Engine.getEngine("PyTorch");
        System.err.println("djl-bench: DJL " + Engine.getDjlVersion() + ", libtorch " + engine.getVersion() + "; "
                + JniUtils.getNumThreads() + " intra-op threads, " + JniUtils.getNumInteropThreads()
                + " inter-op threads");
        for (String name : names) {
            int b = name.endsWith("-eval") ? evalBatch : batch;
            Measurement m = switch (name) {
                case "cnn-student-hinton" -> time(hintonStep(b), seconds);
                case "cnn-teacher-eval" -> time(evalForward("cnn-teacher", b), seconds);
                default -> time(trainingStep(name, b), seconds);
            };
            System.out.printf(Locale.ROOT, "djl %s %d %.3f %d%n", name, b, m.millisPerStep, m.steps);
            System.out.flush();
        }
    }

    /** A step to time, and what to release after. */
    interface Step extends AutoCloseable {
        /** Runs one step and returns its loss (or any figure that depends on its output). */
        float run();

        @Override
        void close();
    }

    /** Mean wall time per step and the number of steps it averages. */
    record Measurement(double millisPerStep, long steps) {}

    /**
     * Warms up for max(2 s, seconds / 3), then runs whole steps until {@code seconds} have passed, as
     * train_step.py does.
     */
    static Measurement time(Step step, double seconds) {
        try (step) {
            long warmEnd = System.nanoTime() + (long) (Math.max(2, seconds / 3) * 1e9);
            float sink = 0;
            while (System.nanoTime() < warmEnd) {
                sink += step.run();
            }
            long steps = 0;
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            do {
                sink += step.run();
                steps++;
            } while (System.nanoTime() < end);
            long elapsed = System.nanoTime() - start;
            if (Float.isNaN(sink)) {
                System.err.println("djl-bench: the loss is NaN");
            }
            return new Measurement(elapsed / 1e6 / steps, steps);
        }
    }

    /** Retort's reference network {@code name} (docs/networks.md) as a DJL block. */
    static SequentialBlock network(String name) {
        SequentialBlock net = new SequentialBlock();
        switch (name) {
            case "cnn-teacher" -> net
                    .add(conv(32)).add(BatchNorm.builder().build()).add(Activation.reluBlock())
                    .add(conv(32)).add(BatchNorm.builder().build()).add(Activation.reluBlock())
                    .add(Pool.maxPool2dBlock(new Shape(2, 2)))
                    .add(conv(64)).add(BatchNorm.builder().build()).add(Activation.reluBlock())
                    .add(conv(64)).add(BatchNorm.builder().build()).add(Activation.reluBlock())
                    .add(Pool.maxPool2dBlock(new Shape(2, 2)))
                    .add(Blocks.batchFlattenBlock())
                    .add(linear(256)).add(Activation.reluBlock()).add(Dropout.builder().optRate(0.3f).build())
                    .add(linear(CLASSES));
            case "cnn-student" -> net
                    .add(conv(8)).add(Activation.reluBlock()).add(Pool.maxPool2dBlock(new Shape(2, 2)))
                    .add(conv(16)).add(Activation.reluBlock()).add(Pool.maxPool2dBlock(new Shape(2, 2)))
                    .add(Blocks.batchFlattenBlock())
                    .add(linear(CLASSES));
            case "mlp-teacher" -> net
                    .add(Blocks.batchFlattenBlock())
                    .add(linear(1200)).add(Activation.reluBlock()).add(Dropout.builder().optRate(0.5f).build())
                    .add(linear(1200)).add(Activation.reluBlock()).add(Dropout.builder().optRate(0.5f).build())
                    .add(linear(CLASSES));
            default -> throw new IllegalArgumentException("no DJL network for '" + name + "'");
        }
        return net;
    }

    private static Conv2d conv(int filters) {
        return Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(filters)
                .build();
    }

    private static Linear linear(int units) {
        return Linear.builder().setUnits(units).build();
    }

    /**
     * A model of network {@code name} with a trainer: cross-entropy loss, SGD at learning rate 0.01 with momentum
     * 0.9 (no weight decay, as in Retort's benchmark), weights drawn from U(±1/√fan_in) as PyTorch's default,
     * initialised for inputs of {@code batch} images.
     */
    private static Trained trained(String name, int batch) {
        Model model = Model.newInstance(name, Device.cpu(), "PyTorch");
        model.setBlock(network(name));
        DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.01f)).optMomentum(0.9f).build())
                .optInitializer(new XavierInitializer(XavierInitializer.RandomType.UNIFORM,
                        XavierInitializer.FactorType.IN, 1), Parameter.Type.WEIGHT)
                .optDevices(new Device[] {Device.cpu()});
        Trainer trainer = model.newTrainer(config);
        trainer.initialize(new Shape(batch).addAll(IMAGE));
        long parameters = model.getBlock().getParameters().values().stream()
                .filter(Parameter::requiresGradient).mapToLong(p -> p.getArray().size()).sum();
        System.err.println("djl-bench: " + name + ", " + parameters + " trainable parameters");
        return new Trained(model, trainer);
    }

    /** A model and its trainer, closed together. */
    record Trained(Model model, Trainer trainer) implements AutoCloseable {
        @Override
        public void close() {
            trainer.close();
            model.close();
        }
    }

    /** Fixed Gaussian images of one batch, and labels in [0, 10), from seed 0. */
    private static final class Batch {
        final float[] images;
        final long[] labels;
        final Shape shape;

        Batch(int batch) {
            Random rng = new Random(0);
            images = new float[batch * (int) IMAGE.size()];
            for (int i = 0; i < images.length; i++) {
                images[i] = (float) rng.nextGaussian();
            }
            labels = new long[batch];
            for (int i = 0; i < batch; i++) {
                labels[i] = rng.nextInt(CLASSES);
            }
            shape = new Shape(batch).addAll(IMAGE);
        }
    }

    /**
     * One training step of {@code name}: forward, cross-entropy, backward, SGD with momentum (DJL's SGD update
     * also zeroes the gradient), the loss read back as Retort's step reads it. The batch is made from host arrays
     * each step, as Retort's benchmark makes its tensors; each step's arrays live in a sub-manager closed after it.
     */
    static Step trainingStep(String name, int batch) {
        Trained t = trained(name, batch);
        Batch data = new Batch(batch);
        NDManager manager = t.model().getNDManager();
        return new Step() {
            @Override
            public float run() {
                try (NDManager step = manager.newSubManager()) {
                    NDArray x = step.create(data.images, data.shape);
                    NDArray y = step.create(data.labels);
                    float loss;
                    try (GradientCollector collector = t.trainer().newGradientCollector()) {
                        NDArray logits = t.trainer().forward(new NDList(x)).singletonOrThrow();
                        NDArray l = t.trainer().getLoss().evaluate(new NDList(y), new NDList(logits));
                        collector.backward(l);
                        loss = l.getFloat();
                    }
                    t.trainer().step();
                    return loss;
                }
            }

            @Override
            public void close() {
                t.close();
            }
        };
    }

    /**
     * One hinton step of {@code cnn-student}: L = α·CE(s, y) + (1 − α)·T²·KL(softmax(t/T) ‖ softmax(s/T)), batchmean
     * (docs/kd-modes.md), against the logits {@code cnn-teacher} gave this batch in eval mode, computed once before
     * timing as Retort caches the teacher's outputs; then backward and SGD with momentum.
     */
    static Step hintonStep(int batch) {
        Batch data = new Batch(batch);
        float[] teacherLogits;
        try (Trained teacher = trained("cnn-teacher", batch);
             NDManager scratch = teacher.model().getNDManager().newSubManager()) {
            teacherLogits = teacher.trainer().evaluate(new NDList(scratch.create(data.images, data.shape)))
                    .singletonOrThrow().toFloatArray();
        }
        Trained student = trained("cnn-student", batch);
        NDManager manager = student.model().getNDManager();
        Loss crossEntropy = student.trainer().getLoss();
        return new Step() {
            @Override
            public float run() {
                try (NDManager step = manager.newSubManager()) {
                    NDArray x = step.create(data.images, data.shape);
                    NDArray y = step.create(data.labels);
                    NDArray t = step.create(teacherLogits, new Shape(batch, CLASSES));
                    float loss;
                    try (GradientCollector collector = student.trainer().newGradientCollector()) {
                        NDArray s = student.trainer().forward(new NDList(x)).singletonOrThrow();
                        NDArray ce = crossEntropy.evaluate(new NDList(y), new NDList(s));
                        NDArray logPs = s.div(TEMPERATURE).logSoftmax(1);
                        NDArray logPt = t.div(TEMPERATURE).logSoftmax(1);
                        NDArray kl = logPt.exp().mul(logPt.sub(logPs)).sum().div(batch);
                        NDArray l = ce.mul(ALPHA).add(kl.mul((1 - ALPHA) * TEMPERATURE * TEMPERATURE));
                        collector.backward(l);
                        loss = l.getFloat();
                    }
                    student.trainer().step();
                    return loss;
                }
            }

            @Override
            public void close() {
                student.close();
            }
        };
    }

    /**
     * One eval-mode forward of {@code name} (batch norm on running statistics, dropout off) with gradients off —
     * DJL records no graph outside a gradient collector — and the logits read back to the host, as filling a
     * teacher-output cache does.
     */
    static Step evalForward(String name, int batch) {
        Trained t = trained(name, batch);
        Batch data = new Batch(batch);
        NDManager manager = t.model().getNDManager();
        return new Step() {
            @Override
            public float run() {
                try (NDManager step = manager.newSubManager()) {
                    NDArray x = step.create(data.images, data.shape);
                    float[] logits = t.trainer().evaluate(new NDList(x)).singletonOrThrow().toFloatArray();
                    return logits[0];
                }
            }

            @Override
            public void close() {
                t.close();
            }
        };
    }
}
