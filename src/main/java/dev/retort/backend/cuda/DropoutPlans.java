package dev.retort.backend.cuda;

import static dev.retort.backend.cuda.LaunchShapes.elementwise;
import static dev.retort.backend.cuda.PlanChecks.bad;
import static dev.retort.backend.cuda.PlanChecks.count;
import static dev.retort.backend.cuda.PlanChecks.floats;

import dev.retort.backend.CounterRng;
import java.util.List;

/**
 * The launch plans of kernels/dropout.cu: the counter-based dropout mask.
 *
 * <p>Like every plan class, pure functions from an operation's arguments to its kernel launches (checked arguments,
 * grid and block sizes, parameters in the kernels' C types), with no CUDA call, so that validation and launch
 * shapes are tested without a GPU; {@link CudaKernels} runs them. Device pointers are raw addresses ({@code long});
 * a check that fails throws {@link IllegalArgumentException} naming the operation and the argument.
 */
public final class DropoutPlans {
    private DropoutPlans() {}

    /** The module these plans launch: kernels/dropout.cu. */
    static final String MODULE = "dropout";

    /** Every kernel of {@link #MODULE}, looked up once when the module loads. */
    static final List<String> KERNELS = List.of("dropout_mask_f32");

    /** Backend.dropoutMask: {@code 1/(1-p)} where the counter-based uniform u(seed, i) ≥ p, else 0. */
    public static List<Launch> dropoutMask(long mask, long n, long seed, double p) {
        String k = "dropoutMask";
        count(k, "n", n);
        floats(k, "mask", mask, n);
        if (!(p >= 0 && p <= 1)) {
            throw bad(k, "p (the drop probability) must be in [0, 1], got " + p);
        }
        long threshold = (long) Math.ceil(p * 0x1.0p24);
        float keep = (float) (1.0 / (1.0 - p));
        return elementwise("dropout_mask_f32", n,
                new KernelArgs().pointer(mask).i64(n).i64(CounterRng.key(seed)).i32((int) threshold).f32(keep));
    }
}
