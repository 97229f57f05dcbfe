package dev.retort.bench;

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
 * Times one 1024 × 1024 × 1024 float32 GEMM (C = A·B) per implementation.
 * GFLOP/s = 2·1024³ / time = 2147.48 / (milliseconds per op) / 1000, e.g. 10 ms/op is 214.7 GFLOP/s.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 6, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@State(Scope.Benchmark)
public class GemmBenchmark {

    static final int SIZE = 1024;
    static final double FLOPS = 2.0 * SIZE * SIZE * SIZE;

    @Param({"scalar", "vector"})
    public String impl;

    private FloatMath math;
    private float[] a;
    private float[] b;
    private float[] c;

    @Setup
    public void setUp() {
        math = Implementations.byName(impl);
        Random random = new Random(1);
        a = new float[SIZE * SIZE];
        b = new float[SIZE * SIZE];
        c = new float[SIZE * SIZE];
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextFloat() - 0.5f;
            b[i] = random.nextFloat() - 0.5f;
        }
    }

    @Benchmark
    public float[] gemm1024() {
        math.gemm(false, false, SIZE, SIZE, SIZE, 1f, a, 0, SIZE, b, 0, SIZE, 0f, c, 0, SIZE);
        return c;
    }
}
