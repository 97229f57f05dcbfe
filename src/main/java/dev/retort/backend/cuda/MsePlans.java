package dev.retort.backend.cuda;

import static dev.retort.backend.cuda.LaunchShapes.elementwise;
import static dev.retort.backend.cuda.PlanChecks.count;
import static dev.retort.backend.cuda.PlanChecks.doubles;
import static dev.retort.backend.cuda.PlanChecks.floats;
import static dev.retort.backend.cuda.PlanChecks.optionalFloats;
import static dev.retort.backend.cuda.ReducePlans.REDUCE_BLOCKS;
import static dev.retort.backend.cuda.ReducePlans.twoStage;

import java.util.List;

/**
 * The launch plans of kernels/mse.cu: the mean squared error, forward (a two-stage reduction) and backward.
 *
 * <p>Like every plan class, pure functions from an operation's arguments to its kernel launches (checked arguments,
 * grid and block sizes, parameters in the kernels' C types), with no CUDA call, so that validation and launch
 * shapes are tested without a GPU; {@link CudaKernels} runs them. Device pointers are raw addresses ({@code long});
 * a check that fails throws {@link IllegalArgumentException} naming the operation and the argument.
 */
public final class MsePlans {
    private MsePlans() {}

    /** The module these plans launch: kernels/mse.cu. */
    static final String MODULE = "mse";

    /** Every kernel of {@link #MODULE}, looked up once when the module loads. */
    static final List<String> KERNELS = List.of("mse_partials_f32", "mse_backward_f32");

    /** loss[0] = mean((a - b)²); n = 0 gives NaN, the mean of nothing. */
    public static List<Launch> mseForward(long a, long b, long n, long workspace, long loss) {
        String k = "mse";
        count(k, "n", n);
        floats(k, "a", a, n);
        floats(k, "b", b, n);
        doubles(k, "workspace", workspace, REDUCE_BLOCKS);
        floats(k, "loss", loss, 1);
        return twoStage("mse_partials_f32", new KernelArgs().pointer(a).pointer(b).i64(n).pointer(workspace), n,
                workspace, 1.0 / n, loss, false);
    }

    /** gradA = gradLoss[0]·2(a - b)/n and gradB = -gradA (gradB may be 0: not wanted). */
    public static List<Launch> mseBackward(long a, long b, long gradLoss, long gradA, long gradB, long n) {
        String k = "mse backward";
        count(k, "n", n);
        floats(k, "a", a, n);
        floats(k, "b", b, n);
        floats(k, "gradLoss", gradLoss, 1);
        floats(k, "gradA", gradA, n);
        optionalFloats(k, "gradB", gradB, n);
        return elementwise("mse_backward_f32", n, new KernelArgs().pointer(a).pointer(b).pointer(gradLoss)
                .pointer(gradA).pointer(gradB).i64(n).f64(2.0 / n));
    }
}
