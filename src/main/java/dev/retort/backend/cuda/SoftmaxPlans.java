package dev.retort.backend.cuda;

import static dev.retort.backend.cuda.LaunchShapes.rowBlock;
import static dev.retort.backend.cuda.PlanChecks.floats;
import static dev.retort.backend.cuda.PlanChecks.rowsCols;
import static dev.retort.backend.cuda.PlanChecks.temperature;

import java.util.List;

/**
 * The launch plans of kernels/softmax.cu: row-wise softmax and log-softmax at a temperature, forward and backward.
 *
 * <p>Like every plan class, pure functions from an operation's arguments to its kernel launches (checked arguments,
 * grid and block sizes, parameters in the kernels' C types), with no CUDA call, so that validation and launch
 * shapes are tested without a GPU; {@link CudaKernels} runs them. Device pointers are raw addresses ({@code long});
 * a check that fails throws {@link IllegalArgumentException} naming the operation and the argument.
 */
public final class SoftmaxPlans {
    private SoftmaxPlans() {}

    /** The module these plans launch: kernels/softmax.cu. */
    static final String MODULE = "softmax";

    /** Every kernel of {@link #MODULE}, looked up once when the module loads. */
    static final List<String> KERNELS = List.of("softmax_forward_f32", "softmax_backward_f32");

    /**
     * Row-wise {@code softmax(x / T)}, or its log when {@code log}, of x [rows, cols] into y; one block per
     * row.
     *
     * @throws IllegalArgumentException if rows or cols is negative, T is not a positive finite number, or a
     * pointer is null
     */
    public static List<Launch> softmaxForward(long x, long y, int rows, int cols, double temperature, boolean log) {
        String k = log ? "logSoftmax" : "softmax";
        rowsCols(k, rows, cols);
        temperature(k, temperature);
        long n = (long) rows * cols;
        floats(k, "x", x, n);
        floats(k, "out", y, n);
        if (rows == 0) {
            return List.of();
        }
        // 1f / (float) T: the CPU's float kernel forms the reciprocal in float.
        float inverse = 1f / (float) temperature;
        return List.of(new Launch("softmax_forward_f32", rows, rowBlock(cols), 1,
                new KernelArgs().pointer(x).pointer(y).i32(rows).i32(cols).f32(inverse).i32(log ? 1 : 0)));
    }

    /**
     * The gradient of {@link #softmaxForward} with respect to x, from its output and the output's gradient,
     * for the same T and {@code log}; one block per row.
     *
     * @throws IllegalArgumentException if rows or cols is negative, T is not a positive finite number, or a
     * pointer is null
     */
    public static List<Launch> softmaxBackward(long gradOutput, long output, long gradInput, int rows, int cols,
                                               double temperature, boolean log) {
        String k = log ? "logSoftmax backward" : "softmax backward";
        rowsCols(k, rows, cols);
        temperature(k, temperature);
        long n = (long) rows * cols;
        floats(k, "gradOutput", gradOutput, n);
        floats(k, "output", output, n);
        floats(k, "gradInput", gradInput, n);
        if (rows == 0) {
            return List.of();
        }
        return List.of(new Launch("softmax_backward_f32", rows, rowBlock(cols), 1, new KernelArgs().pointer(gradOutput)
                .pointer(output).pointer(gradInput).i32(rows).i32(cols).f64(temperature).i32(log ? 1 : 0)));
    }
}
