package dev.retort.bench;

import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.optim.Sgd;
import dev.retort.tensor.Losses;
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
 * One whole training step — forward, cross-entropy, backward, SGD with momentum — of a reference
 * network on a fixed batch of 1×28×28 images: the figure benchmarks/compare-cpu.sh sets beside
 * DJL's (benchmarks/djl) and PyTorch's (benchmarks/pytorch/train_step.py), which do the same step.
 * {@link StudentStepBenchmark} steps {@code cnn-student}.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmx8g"})
public class TrainingStepBenchmark {
    @Param({"mlp-teacher", "cnn-teacher"})
    public String model;

    @Param({"128"})
    public int batch;

    private Module net;
    private Sgd sgd;
    private float[] images;
    private int[] labels;

    @Setup(Level.Trial)
    public void setUp() {
        net = Models.create(model, 1);
        sgd = new Sgd(net.parameters(), 0.01, 0.9);
        SplittableRandom rng = new SplittableRandom(0);
        images = new float[batch * 28 * 28];
        for (int i = 0; i < images.length; i++) {
            images[i] = (float) rng.nextGaussian();
        }
        labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = rng.nextInt(10);
        }
    }

    @Benchmark
    public double step() {
        try (dev.retort.tensor.Scope scope = dev.retort.tensor.Scope.open()) {
            Tensor loss = Losses.crossEntropy(net.forward(Tensor.of(images, batch, 1, 28, 28)),
                    Tensor.ofInts(labels, batch), 0.0);
            sgd.zeroGrad();
            loss.backward();
            sgd.step();
            return loss.item();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        sgd.close();
        net.close();
    }
}
