package dev.retort.backend.cuda;

import static dev.retort.backend.cuda.LaunchShapes.elementwise;
import static dev.retort.backend.cuda.LaunchShapes.rowBlock;
import static dev.retort.backend.cuda.PlanChecks.floats;
import static dev.retort.backend.cuda.PlanChecks.rowsCols;
import static dev.retort.backend.cuda.PlanChecks.smoothing;

import java.util.List;

/**
 * The launch plans of kernels/cross_entropy.cu: the per-row negative log-likelihood with label smoothing, forward
 * and backward.
 *
 * <p>Like every plan class, pure functions from an operation's arguments to its kernel launches (checked arguments,
 * grid and block sizes, parameters in the kernels' C types), with no CUDA call, so that validation and launch
 * shapes are tested without a GPU; {@link CudaKernels} runs them. Device pointers are raw addresses ({@code long});
 * a check that fails throws {@link IllegalArgumentException} naming the operation and the argument.
 */
public final class CrossEntropyPlans {
    private CrossEntropyPlans() {}

    /** The module these plans launch: kernels/cross_entropy.cu. */
    static final String MODULE = "cross_entropy";

    /** Every kernel of {@link #MODULE}, looked up once when the module loads. */
    static final List<String> KERNELS = List.of("nll_forward_f32", "nll_backward_f32");

    /**
     * Per-row negative log-likelihood of INT32 {@code labels} [rows] under logProbs [rows, cols], with label
     * smoothing ε spread over all classes, into lossPerRow [rows].
     *
     * @throws IllegalArgumentException if rows or cols is negative, ε is outside [0, 1], or a pointer is null
     */
    public static List<Launch> nllForward(long logProbs, long labels, long lossPerRow, int rows, int cols,
                                          double smoothing) {
        String k = "nllForward";
        rowsCols(k, rows, cols);
        smoothing(k, smoothing);
        floats(k, "logProbs", logProbs, (long) rows * cols);
        floats(k, "labels", labels, rows);
        floats(k, "lossPerRow", lossPerRow, rows);
        if (rows == 0) {
            return List.of();
        }
        return List.of(new Launch("nll_forward_f32", rows, rowBlock(cols), 1, new KernelArgs().pointer(logProbs)
                .pointer(labels).pointer(lossPerRow).i32(rows).i32(cols).f64(smoothing)));
    }

    /**
     * The gradient of {@link #nllForward} with respect to logProbs [rows, cols], from the per-row loss
     * gradient, for the same ε; overwrites gradLogProbs.
     *
     * @throws IllegalArgumentException if rows or cols is negative, ε is outside [0, 1], or a pointer is null
     */
    public static List<Launch> nllBackward(long gradLossPerRow, long labels, long gradLogProbs, int rows, int cols,
                                           double smoothing) {
        String k = "nllBackward";
        rowsCols(k, rows, cols);
        smoothing(k, smoothing);
        long n = (long) rows * cols;
        floats(k, "gradLossPerRow", gradLossPerRow, rows);
        floats(k, "labels", labels, rows);
        floats(k, "gradLogProbs", gradLogProbs, n);
        return elementwise("nll_backward_f32", n, new KernelArgs().pointer(gradLossPerRow).pointer(labels)
                .pointer(gradLogProbs).i32(rows).i32(cols).f64(smoothing));
    }
}
