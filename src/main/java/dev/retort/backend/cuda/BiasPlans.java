package dev.retort.backend.cuda;

import static dev.retort.backend.cuda.ElementwisePlans.fill;
import static dev.retort.backend.cuda.LaunchShapes.elementwise;
import static dev.retort.backend.cuda.PlanChecks.bad;
import static dev.retort.backend.cuda.PlanChecks.count;
import static dev.retort.backend.cuda.PlanChecks.floats;
import static dev.retort.backend.cuda.PlanChecks.maxElements;
import static dev.retort.backend.cuda.PlanChecks.nonNegative;

import java.util.List;

/**
 * The launch plans of kernels/bias.cu: the bias add and the bias gradient (per row or per plane).
 *
 * <p>Like every plan class, pure functions from an operation's arguments to its kernel launches (checked arguments,
 * grid and block sizes, parameters in the kernels' C types), with no CUDA call, so that validation and launch
 * shapes are tested without a GPU; {@link CudaKernels} runs them. Device pointers are raw addresses ({@code long});
 * a check that fails throws {@link IllegalArgumentException} naming the operation and the argument.
 */
public final class BiasPlans {
    private BiasPlans() {}

    /** The module these plans launch: kernels/bias.cu. */
    static final String MODULE = "bias";

    /** Every kernel of {@link #MODULE}, looked up once when the module loads. */
    static final List<String> KERNELS = List.of("bias_add_f32", "bias_grad_rows_f32", "bias_grad_planes_f32");

    /** {@code out = x + bias} over the channel dimension of [outer, channels, inner]. */
    public static List<Launch> biasAdd(long x, long bias, long out, long n, int channels, int inner) {
        String k = "biasAdd";
        count(k, "n", n);
        if (channels < 1 || inner < 1) {
            throw bad(k, "channels and inner must be ≥ 1, got " + channels + " and " + inner);
        }
        if (n % ((long) channels * inner) != 0) {
            throw bad(k, "n = " + n + " is not a multiple of channels·inner = " + (long) channels * inner);
        }
        floats(k, "x", x, n);
        floats(k, "bias", bias, channels);
        floats(k, "out", out, n);
        return elementwise("bias_add_f32", n, new KernelArgs().pointer(x).pointer(bias).pointer(out).i64(n)
                .i32(channels).i32(inner));
    }

    /** {@code gbias[c] = Σ gy[o, c, i]} over [outer, channels, inner]. */
    public static List<Launch> biasGrad(long gradOutput, long gradBias, int outer, int channels, int inner) {
        String k = "biasGrad";
        nonNegative(k, "outer", outer);
        nonNegative(k, "channels", channels);
        nonNegative(k, "inner", inner);
        long n = (long) outer * channels * inner;
        maxElements(k, n);
        floats(k, "gradOutput", gradOutput, n);
        floats(k, "gradBias", gradBias, channels);
        if (channels == 0) {
            return List.of();
        }
        if (n == 0) {
            return fill(gradBias, channels, 0);
        }
        if (inner == 1) {
            return List.of(new Launch("bias_grad_rows_f32", (channels + 31) / 32, 32, 8,
                    new KernelArgs().pointer(gradOutput).pointer(gradBias).i32(outer).i32(channels)));
        }
        return List.of(new Launch("bias_grad_planes_f32", channels, 256, 1,
                new KernelArgs().pointer(gradOutput).pointer(gradBias).i32(outer).i32(channels).i32(inner)));
    }
}
