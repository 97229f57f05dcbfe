package dev.retort.bench;

import dev.retort.data.Dataset;
import dev.retort.distill.DistillationLoss;
import dev.retort.distill.DistillationMode;
import dev.retort.distill.TeacherOutputs;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.optim.Sgd;
import dev.retort.tensor.Losses;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The two training steps of {@code cnn-student} on a fixed batch of 1×28×28 images, each forward, loss, backward and
 * SGD with momentum 0.9:
 * <ul>
 *   <li>{@link #crossEntropy}: against the labels alone, as {@link TrainingStepBenchmark} steps the teachers;</li>
 *   <li>{@link #hinton}: mode hinton of docs/kd-modes.md with its defaults (T = 2, α = 0.1) against the teacher's
 *       logits cached once, as a distillation run without augmentation does: {@link TeacherOutputs} computed by
 *       {@code cnn-teacher} in eval mode before timing, this batch's rows gathered from it in each step.</li>
 * </ul>
 * benchmarks/compare-cpu.sh sets them beside the same steps in DJL (benchmarks/djl) and PyTorch
 * (benchmarks/pytorch/train_step.py, names {@code cnn-student} and {@code cnn-student-hinton}).
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmx8g"})
public class StudentStepBenchmark {
    static final DistillationMode HINTON = new DistillationMode.Hinton(DistillationLoss.DEFAULT_TEMPERATURE,
            DistillationLoss.DEFAULT_ALPHA, false);

    /** Images per step. */
    @Param({"128"})
    public int batch;

    private Module student;
    private Sgd sgd;
    private float[] images;
    private int[] labels;
    private int[] examples;
    private TeacherOutputs teacherOutputs;

    /** Builds the student (seed 2, as a distillation run's student) and caches the teacher's logits of the batch. */
    @Setup(Level.Trial)
    public void setUp() {
        student = Models.create("cnn-student", 2);
        sgd = new Sgd(student.parameters(), 0.01, 0.9);
        SplittableRandom rng = new SplittableRandom(0);
        images = new float[batch * 28 * 28];
        for (int i = 0; i < images.length; i++) {
            images[i] = (float) rng.nextGaussian();
        }
        labels = new int[batch];
        examples = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = rng.nextInt(10);
            examples[i] = i;
        }
        Dataset transferSet = new Dataset("bench", images, labels, 1, 28, 28, 10);
        try (Module teacher = Models.create("cnn-teacher", 1)) {
            teacherOutputs = TeacherOutputs.compute(teacher, transferSet, List.of(), batch, null);
        }
    }

    /** One step on cross-entropy against the labels; returns the loss. */
    @Benchmark
    public double crossEntropy() {
        try (Scope scope = Scope.open()) {
            Tensor loss = Losses.crossEntropy(student.call(Tensor.of(images, batch, 1, 28, 28)),
                    Tensor.ofInts(labels, batch), 0.0);
            sgd.zeroGrad();
            loss.backward();
            sgd.step();
            return loss.item();
        }
    }

    /** One hinton step against the cached teacher logits; returns the loss. */
    @Benchmark
    public double hinton() {
        try (Scope scope = Scope.open()) {
            Tensor teacherLogits = teacherOutputs.logits(examples);
            DistillationMode.Loss loss = HINTON.loss(new DistillationMode.Batch(
                    student.call(Tensor.of(images, batch, 1, 28, 28)), teacherLogits, Tensor.ofInts(labels, batch),
                    0.0));
            sgd.zeroGrad();
            loss.loss().backward();
            sgd.step();
            return loss.terms().get("loss");
        }
    }

    /** Releases the student and its optimizer state. */
    @TearDown(Level.Trial)
    public void tearDown() {
        sgd.close();
        student.close();
    }
}
