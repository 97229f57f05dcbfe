package dev.retort.backend.cuda;

import static dev.retort.backend.cuda.LaunchShapes.FINISH_BLOCK;
import static dev.retort.backend.cuda.LaunchShapes.rowBlock;
import static dev.retort.backend.cuda.PlanChecks.bad;
import static dev.retort.backend.cuda.PlanChecks.count;
import static dev.retort.backend.cuda.PlanChecks.doubles;
import static dev.retort.backend.cuda.PlanChecks.floats;
import static dev.retort.backend.cuda.PlanChecks.rowsCols;
import static dev.retort.backend.cuda.PlanChecks.temperature;
import static dev.retort.backend.cuda.ReducePlans.REDUCE_BLOCKS;
import static dev.retort.backend.cuda.ReducePlans.twoStage;

import java.util.ArrayList;
import java.util.List;

/**
 * The launch plans of kernels/metrics.cu: argmax, the count of equal labels and the expected-calibration-error
 * bins.
 *
 * <p>Like every plan class, pure functions from an operation's arguments to its kernel launches (checked arguments,
 * grid and block sizes, parameters in the kernels' C types), with no CUDA call, so that validation and launch
 * shapes are tested without a GPU; {@link CudaKernels} runs them. Device pointers are raw addresses ({@code long});
 * a check that fails throws {@link IllegalArgumentException} naming the operation and the argument.
 */
public final class MetricsPlans {
    private MetricsPlans() {}

    /** The module these plans launch: kernels/metrics.cu. */
    static final String MODULE = "metrics";

    /** Every kernel of {@link #MODULE}, looked up once when the module loads. */
    static final List<String> KERNELS = List.of("argmax_last_dim_f32", "count_equal_partials_i32", "ece_rows_f32",
            "ece_bins_f64");

    /** Backend.argmaxLastDim into an INT32 array of rows. */
    public static List<Launch> argmaxLastDim(long x, long out, int rows, int cols) {
        String k = "argmaxLastDim";
        rowsCols(k, rows, cols);
        floats(k, "x", x, (long) rows * cols);
        floats(k, "out", out, rows);
        if (rows == 0) {
            return List.of();
        }
        return List.of(new Launch("argmax_last_dim_f32", rows, rowBlock(cols), 1,
                new KernelArgs().pointer(x).pointer(out).i32(rows).i32(cols)));
    }

    /** out[0] (a 64-bit integer) = #{i : a[i] == b[i]} over INT32 arrays (correct predictions). */
    public static List<Launch> countEqual(long a, long b, long n, long workspace, long out) {
        String k = "countEqual";
        count(k, "n", n);
        floats(k, "a", a, n);
        floats(k, "b", b, n);
        doubles(k, "workspace", workspace, REDUCE_BLOCKS);
        doubles(k, "out", out, 1);
        return twoStage("count_equal_partials_i32", new KernelArgs().pointer(a).pointer(b).i64(n).pointer(workspace),
                n, workspace, 1.0, out, true);
    }

    /** Bytes of the ECE workspace: per row a double confidence, an int bin and an int correctness flag. */
    public static long eceWorkspaceBytes(int rows) {
        return 16L * rows;
    }

    /**
     * The per-bin sums of the expected calibration error at temperature T: out (doubles [3·bins]) gets, per bin,
     * the number of rows, the number correct, and the sum of confidences; workspace holds
     * {@link #eceWorkspaceBytes(int)}.
     */
    public static List<Launch> eceBins(long logits, long labels, int rows, int cols, double temperature, int bins,
                                       long workspace, long out) {
        String k = "eceBins";
        rowsCols(k, rows, cols);
        temperature(k, temperature);
        if (bins < 1) {
            throw bad(k, "bins must be ≥ 1, got " + bins);
        }
        floats(k, "logits", logits, (long) rows * cols);
        floats(k, "labels", labels, rows);
        doubles(k, "workspace", workspace, 2L * rows);
        doubles(k, "out", out, 3L * bins);
        long confidence = workspace;
        long bin = workspace + 8L * rows;
        long correct = bin + 4L * rows;
        List<Launch> launches = new ArrayList<>(2);
        if (rows > 0) {
            launches.add(new Launch("ece_rows_f32", rows, rowBlock(cols), 1, new KernelArgs().pointer(logits)
                    .pointer(labels).i32(rows).i32(cols).f64(temperature).i32(bins).pointer(bin).pointer(confidence)
                    .pointer(correct)));
        }
        launches.add(new Launch("ece_bins_f64", 1, FINISH_BLOCK, 1, new KernelArgs().pointer(bin).pointer(confidence)
                .pointer(correct).i32(rows).i32(bins).pointer(out)));
        return launches;
    }
}
