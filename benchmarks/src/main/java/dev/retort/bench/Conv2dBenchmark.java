package dev.retort.bench;

import dev.retort.backend.ConvGeometry;
import dev.retort.backend.cpu.Conv2dKernels;
import dev.retort.backend.cpu.FloatMath;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Times the convolution kernels on a layer of {@code cnn-teacher} at batch 128, 3×3 filters, stride 1, pad 1; by
 * default the second, input 128×32×28×28 and 32 filters (the CPU issue's figure). Each of forward, backwardInput
 * and backwardWeight is 2·N·K·C·kh·kw·OH·OW = 1.8497 GFLOP there, so GFLOP/s = 1849.7 / (milliseconds per op) for
 * one of them and 5549.1 / (ms per op) for {@code all}. {@code -p layer=conv4} (64 → 64 channels at 14×14, also
 * 1.8497 GFLOP a pass), {@code conv3} (32 → 64 at 14×14, 0.9248) and {@code conv1} (1 → 32 at 28×28, 0.0578)
 * time the others.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 6, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@State(Scope.Benchmark)
public class Conv2dBenchmark {

    @Param({"scalar", "vector"})
    public String impl;

    @Param({"conv2"})
    public String layer;

    private ConvGeometry geometry;

    private FloatMath math;
    private float[] input;
    private float[] weight;
    private float[] bias;
    private float[] output;
    private float[] gradOutput;
    private float[] gradInput;
    private float[] gradWeight;
    private float[] gradBias;

    @Setup
    public void setUp() {
        math = Implementations.byName(impl);
        geometry = switch (layer) {
            case "conv1" -> new ConvGeometry(128, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1);
            case "conv2" -> new ConvGeometry(128, 32, 28, 28, 32, 3, 3, 1, 1, 1, 1);
            case "conv3" -> new ConvGeometry(128, 32, 14, 14, 64, 3, 3, 1, 1, 1, 1);
            case "conv4" -> new ConvGeometry(128, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1);
            default -> throw new IllegalArgumentException("layer must be conv1, conv2, conv3 or conv4, got '" + layer + "'");
        };
        ConvGeometry g = geometry;
        Random random = new Random(1);
        input = randomArray(random, g.batch() * g.inChannels() * g.height() * g.width());
        weight = randomArray(random, g.outChannels() * g.inChannels() * g.kernelH() * g.kernelW());
        bias = randomArray(random, g.outChannels());
        output = new float[g.batch() * g.outChannels() * g.outHeight() * g.outWidth()];
        gradOutput = randomArray(random, output.length);
        gradInput = new float[input.length];
        gradWeight = new float[weight.length];
        gradBias = new float[bias.length];
    }

    @Benchmark
    public float[] forward() {
        Conv2dKernels.forward(math, geometry, input, weight, bias, output);
        return output;
    }

    @Benchmark
    public float[] backwardInput() {
        Conv2dKernels.backwardInput(math, geometry, gradOutput, weight, gradInput);
        return gradInput;
    }

    @Benchmark
    public float[] backwardWeight() {
        Conv2dKernels.backwardWeight(math, geometry, gradOutput, input, gradWeight, gradBias);
        return gradWeight;
    }

    /** One training step's worth of this layer: forward, then both backward kernels. */
    @Benchmark
    public float[] all() {
        Conv2dKernels.forward(math, geometry, input, weight, bias, output);
        Conv2dKernels.backwardInput(math, geometry, gradOutput, weight, gradInput);
        Conv2dKernels.backwardWeight(math, geometry, gradOutput, input, gradWeight, gradBias);
        return gradWeight;
    }

    private static float[] randomArray(Random random, int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = random.nextFloat() - 0.5f;
        }
        return values;
    }
}
