package dev.retort.bench;

import dev.retort.backend.Device;
import dev.retort.backend.DistillationSpec;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.optim.Sgd;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Losses;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
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
 * The CUDA issue's two step targets, on the GPU with a fixed batch already on the device (as
 * benchmarks/pytorch/train_step.py and distill_step.py do it on the same card):
 * <ul>
 *   <li>{@link #teacherStep}: one training step of {@code cnn-teacher} — forward, cross-entropy, backward, SGD
 *       with momentum 0.9;</li>
 *   <li>{@link #distillStep}: one {@code hinton} step from {@code cnn-teacher} to {@code cnn-student} — the
 *       teacher in eval mode without gradients, then the student's forward, the fused loss with T = 4 and
 *       α = 0.1 (the command line's default T is 2; the step costs the same at any T), backward and SGD.</li>
 * </ul>
 * Both read the loss back once per step, as a training loop does to log it; the PyTorch scripts do the same.
 * Needs a GPU: without one the setup fails with the CUDA backend's reason.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class CudaTrainingStepBenchmark {
    static final DistillationSpec HINTON = DistillationSpec.hinton(4, 0.1, 0, false);

    @Param({"256"})
    public int batch;

    private Module teacher;
    private Module student;
    private Sgd teacherSgd;
    private Sgd studentSgd;
    private Tensor images;
    private Tensor labels;

    @Setup(Level.Trial)
    public void setUp() {
        teacher = Models.create("cnn-teacher", 1).to(Device.CUDA);
        student = Models.create("cnn-student", 2).to(Device.CUDA);
        teacherSgd = new Sgd(teacher.parameters(), 0.01, 0.9);
        studentSgd = new Sgd(student.parameters(), 0.01, 0.9);
        SplittableRandom rng = new SplittableRandom(0);
        float[] x = new float[batch * 28 * 28];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        int[] y = new int[batch];
        for (int i = 0; i < batch; i++) {
            y[i] = rng.nextInt(10);
        }
        images = Tensor.of(x, batch, 1, 28, 28).to(Device.CUDA);
        labels = Tensor.ofInts(y, batch).to(Device.CUDA);
    }

    @Benchmark
    public double teacherStep() {
        teacher.train();
        try (Scope scope = Scope.open()) {
            Tensor loss = Losses.crossEntropy(teacher.forward(images), labels, 0.0);
            teacherSgd.zeroGrad();
            loss.backward();
            teacherSgd.step();
            return loss.item();
        }
    }

    @Benchmark
    public double distillStep() {
        teacher.eval();
        try (Scope scope = Scope.open()) {
            Tensor soft;
            try (Autograd.NoGrad ignored = Autograd.noGrad()) {
                soft = teacher.forward(images);
            }
            Losses.Distillation kd = Losses.distillation(student.forward(images), soft, labels, HINTON);
            studentSgd.zeroGrad();
            kd.loss().backward();
            studentSgd.step();
            return kd.total();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        teacherSgd.close();
        studentSgd.close();
        images.close();
        labels.close();
        teacher.close();
        student.close();
    }
}
