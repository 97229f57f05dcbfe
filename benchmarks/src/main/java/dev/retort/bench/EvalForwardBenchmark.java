package dev.retort.bench;

import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Autograd;
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
 * One eval-mode forward of a reference network over a batch of 1×28×28 images — batch norm on its running
 * statistics, dropout off, no graph recorded — with the logits copied back to a host array: the work of filling a
 * teacher-output cache ({@code TeacherOutputs}), of {@code retort eval} and of {@code retort predict}, at their
 * default batch of 500. Images per second = 1000 · batch / (ms per op), e.g. 500 images in 250 ms is 2000 images/s.
 * benchmarks/compare-cpu.sh sets {@code cnn-teacher}'s figure beside DJL's and PyTorch's ({@code cnn-teacher-eval})
 * and beside Retort's own training throughput ({@link TrainingStepBenchmark}).
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmx8g"})
public class EvalForwardBenchmark {
    /** The reference network (docs/networks.md). */
    @Param({"cnn-teacher", "cnn-student", "mlp-teacher"})
    public String model;

    /** Images per forward; 500 is {@code --eval-batch-size}'s default. */
    @Param({"500"})
    public int batch;

    private Module net;
    private float[] images;

    /** Builds the network in eval mode and a batch of Gaussian images. */
    @Setup(Level.Trial)
    public void setUp() {
        net = Models.create(model, 1);
        net.eval();
        SplittableRandom rng = new SplittableRandom(0);
        images = new float[batch * 28 * 28];
        for (int i = 0; i < images.length; i++) {
            images[i] = (float) rng.nextGaussian();
        }
    }

    /** One forward without gradients; returns the logits on the host. */
    @Benchmark
    public float[] forward() {
        try (Autograd.NoGrad ignored = Autograd.noGrad(); Scope scope = Scope.open()) {
            return net.call(Tensor.of(images, batch, 1, 28, 28)).toFloatArray();
        }
    }

    /** Releases the network. */
    @TearDown(Level.Trial)
    public void tearDown() {
        net.close();
    }
}
