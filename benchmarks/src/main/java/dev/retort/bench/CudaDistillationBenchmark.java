package dev.retort.bench;

import dev.retort.backend.Backend;
import dev.retort.backend.Backends;
import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.NdArray;
import dev.retort.backend.cuda.CudaRuntime;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CUDA backend's fused KD loss-and-gradient against the card's device-to-device copy, at the size the CUDA
 * issue sets its target at: B = 65536 rows of C = 1000 float32 logits, mode {@code temperature} with
 * T_s = T_t = 4 and κ = T², which is PyTorch's {@code kl_div(log_softmax(s/T), softmax(t/T), 'batchmean')·T²}
 * (benchmarks/pytorch/kd_loss.py times that expression and the same copy on the same card).
 *
 * <p>Bytes: a KD call reads s and t and writes the gradient, 3·B·C·4 = 786.4 MB; {@link #deviceCopy} reads and
 * writes B·C floats, 2·B·C·4 = 524.3 MB. So GB/s = 786.4 / (kd ms) and 524.3 / (copy ms), and the kernel's
 * fraction of the copy bandwidth is (786.4 / kd ms) / (524.3 / copy ms). Each invocation queues
 * {@value #LAUNCHES} calls on the stream and waits once, so the host's synchronisation is not timed per call.
 * Needs a GPU: without one the setup fails with the CUDA backend's reason.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class CudaDistillationBenchmark {
    static final int LAUNCHES = 20;
    static final double TEMPERATURE = 4;

    @Param({"65536"})
    public int batch;

    @Param({"1000"})
    public int classes;

    private Backend cuda;
    private NdArray student;
    private NdArray teacher;
    private NdArray terms;
    private NdArray gradient;
    private NdArray copyTarget;
    private DistillationSpec spec;

    @Setup(Level.Trial)
    public void setUp() {
        cuda = Backends.of(Device.CUDA);
        SplittableRandom rng = new SplittableRandom(0);
        float[] s = new float[batch * classes];
        float[] t = new float[batch * classes];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) (3 * rng.nextGaussian());
            t[i] = (float) (3 * rng.nextGaussian());
        }
        student = cuda.fromHost(s, batch, classes);
        teacher = cuda.fromHost(t, batch, classes);
        terms = cuda.empty(DType.FLOAT32, 3);
        gradient = cuda.empty(DType.FLOAT32, batch, classes);
        copyTarget = cuda.empty(DType.FLOAT32, batch, classes);
        spec = DistillationSpec.temperature(TEMPERATURE, TEMPERATURE, TEMPERATURE * TEMPERATURE);
    }

    /** The fused loss and gradient of {@code temperature} mode, without labels. */
    @Benchmark
    @OperationsPerInvocation(LAUNCHES)
    public void kdLoss() {
        for (int i = 0; i < LAUNCHES; i++) {
            cuda.distillationLoss(student, teacher, null, spec, terms, gradient);
        }
        CudaRuntime.get().synchronize();
    }

    /** The copy of B·C floats on the device: the bandwidth the kernel is measured against. */
    @Benchmark
    @OperationsPerInvocation(LAUNCHES)
    public void deviceCopy() {
        for (int i = 0; i < LAUNCHES; i++) {
            cuda.copy(student, copyTarget);
        }
        CudaRuntime.get().synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (NdArray a : new NdArray[] {student, teacher, terms, gradient, copyTarget}) {
            if (a != null) {
                a.storage().release();
            }
        }
    }
}
