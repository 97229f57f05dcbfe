package dev.retort.testing;

import dev.retort.backend.Backend;
import dev.retort.backend.Backends;
import dev.retort.backend.BinaryOp;
import dev.retort.backend.ConvSpec;
import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.NdArray;
import dev.retort.backend.PoolSpec;
import dev.retort.backend.Shapes;
import dev.retort.backend.Storage;
import dev.retort.backend.UnaryOp;
import dev.retort.backend.cpu.CpuBackend;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A CUDA device for machines without one: every op computes with the CPU backend's kernels, so results are
 * bit for bit the CPU's, but its arrays live in storage that reports {@link Device#CUDA}, and every op refuses
 * (throws, naming the op and the argument) an array that is not its own — a CPU tensor that leaked into a
 * device op, or a released one. The legal crossings are the ones the real {@link dev.retort.backend.cuda.CudaBackend}
 * offers: {@code fromHost}, {@code toDoubles}/{@code toFloats}/{@code toInts}, and {@code copy} with a CPU
 * array on one side. Install it with {@link #install()} (through {@link Backends#useForCuda}).
 *
 * <p>Any difference between a run on the stand-in and the same run on the CPU therefore means that something
 * was placed, moved or ordered differently, not that a kernel rounded differently.
 */
public final class StandInCudaBackend implements Backend {
    private final CpuBackend cpu = CpuBackend.get();
    private final AtomicLong arraysHandled = new AtomicLong();

    /** Device memory of the stand-in: a CPU storage it alone may compute on. */
    private static final class StandInStorage extends Storage {
        private final StandInCudaBackend owner;
        private final Storage host;

        private StandInStorage(StandInCudaBackend owner, NdArray host) {
            // Releasing frees the CPU block too; the action captures only that block.
            super(host.dtype(), host.size(), releaser(host.storage()));
            this.owner = owner;
            this.host = host.storage();
        }

        private static Runnable releaser(Storage host) {
            return host::release;
        }

        @Override
        public Device device() {
            return Device.CUDA;
        }
    }

    /** A new stand-in; {@link #install()} makes it the backend of {@code Device.CUDA}. */
    public StandInCudaBackend() {}

    /** Creates a stand-in and installs it for {@code Device.CUDA}; close the result to restore the previous. */
    public static Backends.Installation install() {
        return Backends.useForCuda(new StandInCudaBackend());
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public String describe() {
        return "stand-in cuda: the CPU backend's kernels behind storage labelled cuda (tests only)";
    }

    /** How many arrays its ops have read or written (each op counts each argument): whether work ran here. */
    public long arraysHandled() {
        return arraysHandled.get();
    }

    /** Whether x is an array of this stand-in. */
    public boolean owns(NdArray x) {
        return x.storage() instanceof StandInStorage s && s.owner == this;
    }

    /** The CPU view of one of our arrays; throws, naming the op and the argument, for anything else. */
    private NdArray host(String op, String argument, NdArray x) {
        if (x == null) {
            return null;
        }
        if (!owns(x)) {
            throw new IllegalStateException("StandInCudaBackend." + op + ": " + argument + " " + x
                    + " is not an array of this device; a tensor reached a device op without being copied there");
        }
        StandInStorage s = (StandInStorage) x.storage();
        arraysHandled.incrementAndGet();
        if (s.isReleased()) {
            throw new IllegalStateException("StandInCudaBackend." + op + ": " + argument + " " + x
                    + " was already released");
        }
        return new NdArray(s.host, x.offset(), x.shape());
    }

    private NdArray adopt(NdArray host, int... shape) {
        return new NdArray(new StandInStorage(this, host), 0, shape);
    }

    // ---- memory: the legal crossings ----------------------------------------------------------

    @Override
    public NdArray empty(DType dtype, int... shape) {
        return adopt(cpu.empty(dtype, Shapes.size(shape)), shape);
    }

    @Override
    public NdArray fromHost(float[] data, int... shape) {
        return adopt(cpu.fromHost(data, data.length), shape);
    }

    @Override
    public NdArray fromHost(double[] data, int... shape) {
        return adopt(cpu.fromHost(data, data.length), shape);
    }

    @Override
    public NdArray fromHost(int[] data, int... shape) {
        return adopt(cpu.fromHost(data, data.length), shape);
    }

    @Override
    public double[] toDoubles(NdArray x) {
        return cpu.toDoubles(host("toDoubles", "x", x));
    }

    @Override
    public float[] toFloats(NdArray x) {
        return cpu.toFloats(host("toFloats", "x", x));
    }

    @Override
    public int[] toInts(NdArray x) {
        return cpu.toInts(host("toInts", "x", x));
    }

    @Override
    public void fill(NdArray out, double value) {
        cpu.fill(host("fill", "out", out), value);
    }

    /** Between our arrays, or between one of ours and a CPU array (as CudaBackend.copy allows); nothing else. */
    @Override
    public void copy(NdArray src, NdArray dst) {
        if (src.size() != dst.size()) {
            throw new IllegalArgumentException("copy: " + src + " and " + dst + " differ in size");
        }
        NdArray from = owns(src) || src.device() != Device.CPU ? host("copy", "src", src) : src;
        NdArray to = owns(dst) || dst.device() != Device.CPU ? host("copy", "dst", dst) : dst;
        if (from == src && to == dst) {
            throw new IllegalStateException("StandInCudaBackend.copy: neither " + src + " nor " + dst
                    + " is an array of this device");
        }
        cpu.copy(from, to);
    }

    // ---- compute: the CPU's kernels on our arrays only ----------------------------------------

    @Override
    public void unary(UnaryOp op, NdArray x, NdArray out) {
        cpu.unary(op, host("unary", "x", x), host("unary", "out", out));
    }

    @Override
    public void binary(BinaryOp op, NdArray a, NdArray b, NdArray out) {
        cpu.binary(op, host("binary", "a", a), host("binary", "b", b), host("binary", "out", out));
    }

    @Override
    public void broadcastTo(NdArray x, NdArray out) {
        cpu.broadcastTo(host("broadcastTo", "x", x), host("broadcastTo", "out", out));
    }

    @Override
    public void affine(NdArray x, double alpha, double beta, NdArray out) {
        cpu.affine(host("affine", "x", x), alpha, beta, host("affine", "out", out));
    }

    @Override
    public void accumulate(NdArray x, double alpha, NdArray out) {
        cpu.accumulate(host("accumulate", "x", x), alpha, host("accumulate", "out", out));
    }

    @Override
    public void dropoutMask(long seed, double p, NdArray mask) {
        cpu.dropoutMask(seed, p, host("dropoutMask", "mask", mask));
    }

    @Override
    public long countNonFinite(NdArray x) {
        return cpu.countNonFinite(host("countNonFinite", "x", x));
    }

    @Override
    public void sumTo(NdArray x, NdArray out) {
        cpu.sumTo(host("sumTo", "x", x), host("sumTo", "out", out));
    }

    @Override
    public void argmaxLastDim(NdArray x, NdArray out) {
        cpu.argmaxLastDim(host("argmaxLastDim", "x", x), host("argmaxLastDim", "out", out));
    }

    @Override
    public void matmul(NdArray a, boolean transA, NdArray b, boolean transB, NdArray out) {
        cpu.matmul(host("matmul", "a", a), transA, host("matmul", "b", b), transB, host("matmul", "out", out));
    }

    @Override
    public void transposeLastTwo(NdArray x, NdArray out) {
        cpu.transposeLastTwo(host("transposeLastTwo", "x", x), host("transposeLastTwo", "out", out));
    }

    @Override
    public void conv2dForward(NdArray input, NdArray weight, NdArray bias, ConvSpec spec, NdArray output) {
        String op = "conv2dForward";
        cpu.conv2dForward(host(op, "input", input), host(op, "weight", weight), host(op, "bias", bias), spec,
                host(op, "output", output));
    }

    @Override
    public void conv2dBackwardInput(NdArray gradOutput, NdArray weight, ConvSpec spec, NdArray gradInput) {
        String op = "conv2dBackwardInput";
        cpu.conv2dBackwardInput(host(op, "gradOutput", gradOutput), host(op, "weight", weight), spec,
                host(op, "gradInput", gradInput));
    }

    @Override
    public void conv2dBackwardWeight(NdArray gradOutput, NdArray input, ConvSpec spec, NdArray gradWeight,
                                     NdArray gradBias) {
        String op = "conv2dBackwardWeight";
        cpu.conv2dBackwardWeight(host(op, "gradOutput", gradOutput), host(op, "input", input), spec,
                host(op, "gradWeight", gradWeight), host(op, "gradBias", gradBias));
    }

    @Override
    public void maxPool2dForward(NdArray input, PoolSpec spec, NdArray output) {
        cpu.maxPool2dForward(host("maxPool2dForward", "input", input), spec, host("maxPool2dForward", "output", output));
    }

    @Override
    public void maxPool2dBackward(NdArray gradOutput, NdArray input, PoolSpec spec, NdArray gradInput) {
        String op = "maxPool2dBackward";
        cpu.maxPool2dBackward(host(op, "gradOutput", gradOutput), host(op, "input", input), spec,
                host(op, "gradInput", gradInput));
    }

    @Override
    public void avgPool2dForward(NdArray input, PoolSpec spec, NdArray output) {
        cpu.avgPool2dForward(host("avgPool2dForward", "input", input), spec, host("avgPool2dForward", "output", output));
    }

    @Override
    public void avgPool2dBackward(NdArray gradOutput, PoolSpec spec, NdArray gradInput) {
        cpu.avgPool2dBackward(host("avgPool2dBackward", "gradOutput", gradOutput), spec,
                host("avgPool2dBackward", "gradInput", gradInput));
    }

    @Override
    public void batchNormTrainForward(NdArray input, NdArray gamma, NdArray beta, double eps, NdArray output,
                                      NdArray mean, NdArray variance) {
        String op = "batchNormTrainForward";
        cpu.batchNormTrainForward(host(op, "input", input), host(op, "gamma", gamma), host(op, "beta", beta), eps,
                host(op, "output", output), host(op, "mean", mean), host(op, "variance", variance));
    }

    @Override
    public void batchNormEvalForward(NdArray input, NdArray gamma, NdArray beta, NdArray mean, NdArray variance,
                                     double eps, NdArray output) {
        String op = "batchNormEvalForward";
        cpu.batchNormEvalForward(host(op, "input", input), host(op, "gamma", gamma), host(op, "beta", beta),
                host(op, "mean", mean), host(op, "variance", variance), eps, host(op, "output", output));
    }

    @Override
    public void batchNormBackward(NdArray gradOutput, NdArray input, NdArray gamma, NdArray mean, NdArray variance,
                                  double eps, boolean training, NdArray gradInput, NdArray gradGamma,
                                  NdArray gradBeta) {
        String op = "batchNormBackward";
        cpu.batchNormBackward(host(op, "gradOutput", gradOutput), host(op, "input", input), host(op, "gamma", gamma),
                host(op, "mean", mean), host(op, "variance", variance), eps, training,
                host(op, "gradInput", gradInput), host(op, "gradGamma", gradGamma), host(op, "gradBeta", gradBeta));
    }

    @Override
    public void softmax(NdArray x, double temperature, boolean log, NdArray out) {
        cpu.softmax(host("softmax", "x", x), temperature, log, host("softmax", "out", out));
    }

    @Override
    public void softmaxBackward(NdArray gradOutput, NdArray output, double temperature, boolean log,
                                NdArray gradInput) {
        String op = "softmaxBackward";
        cpu.softmaxBackward(host(op, "gradOutput", gradOutput), host(op, "output", output), temperature, log,
                host(op, "gradInput", gradInput));
    }

    @Override
    public void nllForward(NdArray logProbs, NdArray labels, double smoothing, NdArray lossPerRow) {
        String op = "nllForward";
        cpu.nllForward(host(op, "logProbs", logProbs), host(op, "labels", labels), smoothing,
                host(op, "lossPerRow", lossPerRow));
    }

    @Override
    public void nllBackward(NdArray gradLossPerRow, NdArray labels, double smoothing, NdArray gradLogProbs) {
        String op = "nllBackward";
        cpu.nllBackward(host(op, "gradLossPerRow", gradLossPerRow), host(op, "labels", labels), smoothing,
                host(op, "gradLogProbs", gradLogProbs));
    }

    @Override
    public void distillationLoss(NdArray student, NdArray teacher, NdArray labels, DistillationSpec spec,
                                 NdArray terms, NdArray gradStudent) {
        String op = "distillationLoss";
        cpu.distillationLoss(host(op, "student", student), host(op, "teacher", teacher), host(op, "labels", labels),
                spec, host(op, "terms", terms), host(op, "gradStudent", gradStudent));
    }

    @Override
    public void sgdStep(NdArray param, NdArray grad, NdArray momentumBuffer, double lr, double momentum,
                        double dampening, double weightDecay, boolean nesterov, boolean firstStep) {
        String op = "sgdStep";
        cpu.sgdStep(host(op, "param", param), host(op, "grad", grad), host(op, "momentumBuffer", momentumBuffer), lr,
                momentum, dampening, weightDecay, nesterov, firstStep);
    }

    @Override
    public void adamwStep(NdArray param, NdArray grad, NdArray firstMoment, NdArray secondMoment, double lr,
                          double beta1, double beta2, double eps, double weightDecay, long step) {
        String op = "adamwStep";
        cpu.adamwStep(host(op, "param", param), host(op, "grad", grad), host(op, "firstMoment", firstMoment),
                host(op, "secondMoment", secondMoment), lr, beta1, beta2, eps, weightDecay, step);
    }
}
