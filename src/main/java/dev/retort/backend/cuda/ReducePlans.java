package dev.retort.backend.cuda;

import static dev.retort.backend.cuda.BiasPlans.biasGrad;
import static dev.retort.backend.cuda.ElementwisePlans.broadcastTo;
import static dev.retort.backend.cuda.ElementwisePlans.fill;
import static dev.retort.backend.cuda.LaunchShapes.FINISH_BLOCK;
import static dev.retort.backend.cuda.LaunchShapes.MAX_RANK;
import static dev.retort.backend.cuda.PlanChecks.bad;
import static dev.retort.backend.cuda.PlanChecks.count;
import static dev.retort.backend.cuda.PlanChecks.doubles;
import static dev.retort.backend.cuda.PlanChecks.floats;
import static dev.retort.backend.cuda.PlanChecks.size;

import dev.retort.backend.Shapes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The launch plans of kernels/reduce.cu: sumTo, full sums and non-finite counts, and the two-stage reduction
 * (partials, then one block that adds them in a fixed order) that the MSE and metrics plans share.
 *
 * <p>Like every plan class, pure functions from an operation's arguments to its kernel launches (checked arguments,
 * grid and block sizes, parameters in the kernels' C types), with no CUDA call, so that validation and launch
 * shapes are tested without a GPU; {@link CudaKernels} runs them. Device pointers are raw addresses ({@code long});
 * a check that fails throws {@link IllegalArgumentException} naming the operation and the argument.
 */
public final class ReducePlans {
    private ReducePlans() {}

    /** The module these plans launch: kernels/reduce.cu. */
    static final String MODULE = "reduce";

    /** Every kernel of {@link #MODULE}, looked up once when the module loads. */
    static final List<String> KERNELS = List.of("sum_to_f32", "sum_partials_f32", "count_nonfinite_partials_f32",
            "reduce_finish_f32", "reduce_finish_i64");

    /** Blocks of the two-stage reductions: the partials workspace holds one double per block. */
    public static final int REDUCE_BLOCKS = 1024;
    static final int REDUCE_BLOCK = 256;

    /** Blocks of the first reduction stage: a function of n alone, so the summation order is reproducible. */
    static int reduceGrid(long n) {
        return (int) Math.max(1, Math.min(REDUCE_BLOCKS, (n + REDUCE_BLOCK * 8L - 1) / (REDUCE_BLOCK * 8L)));
    }

    /** Bytes of the partials workspace of sum, countNonFinite, countEqual and mseForward. */
    public static long reduceWorkspaceBytes() {
        return 8L * REDUCE_BLOCKS;
    }

    /**
     * Backend.sumTo: x summed over the dimensions where outShape (left-padded with ones to x's rank) has 1. Uses
     * the bias-gradient kernels for [reduced.., kept.., reduced..] layouts, the two-stage sum for a full
     * reduction (workspace: {@link #reduceWorkspaceBytes()}), and the general kernel otherwise.
     */
    public static List<Launch> sumTo(long x, int[] xShape, long out, int[] outShape, long workspace) {
        String k = "sumTo";
        if (xShape.length > MAX_RANK || outShape.length > xShape.length) {
            throw bad(k, "cannot sum shape " + Shapes.format(xShape) + " to " + Shapes.format(outShape)
                    + " (ranks up to " + MAX_RANK + ", the target's no larger than the source's)");
        }
        int[] o = Shapes.padLeft(outShape, xShape.length);
        for (int d = 0; d < o.length; d++) {
            if (o[d] != xShape[d] && o[d] != 1) {
                throw bad(k, "cannot sum shape " + Shapes.format(xShape) + " to " + Shapes.format(outShape)
                        + " (dimension " + d + ": " + xShape[d] + " to " + o[d] + ")");
            }
        }
        long n = size(k, "x", xShape);
        long m = size(k, "out", o);
        floats(k, "x", x, n);
        floats(k, "out", out, m);
        if (m == 0) {
            return List.of();
        }
        if (n == 0) {
            return fill(out, m, 0);
        }
        if (n == m) { // nothing to reduce: an exact copy (affine would turn -0 into +0)
            return broadcastTo(x, xShape, out, o);
        }
        if (m == 1) {
            return sum(x, n, workspace, out);
        }
        // Dimensions of size 1 in x are neutral; the rest must read reduced* kept* reduced*.
        long outer = 1;
        long kept = 1;
        long inner = 1;
        int phase = 0; // 0: leading reduced, 1: kept, 2: trailing reduced
        boolean layered = true;
        for (int d = 0; d < o.length && layered; d++) {
            if (xShape[d] == 1) {
                continue;
            }
            boolean reduced = o[d] == 1;
            if (phase == 0 && !reduced) {
                phase = 1;
            } else if (phase == 1 && reduced) {
                phase = 2;
            } else if (phase == 2 && !reduced) {
                layered = false;
            }
            if (phase == 0) {
                outer *= xShape[d];
            } else if (phase == 1) {
                kept *= xShape[d];
            } else {
                inner *= xShape[d];
            }
        }
        if (layered) {
            return biasGrad(x, out, (int) outer, (int) kept, (int) inner);
        }
        return List.of(new Launch("sum_to_f32", (int) m, 256, 1,
                new KernelArgs().pointer(x).pointer(out).i32((int) m).struct(sumToIndex(xShape, o))));
    }

    /** out[0] = Σ x (one float); workspace: {@link #reduceWorkspaceBytes()}. */
    public static List<Launch> sum(long x, long n, long workspace, long out) {
        String k = "sum";
        count(k, "n", n);
        floats(k, "x", x, n);
        doubles(k, "workspace", workspace, REDUCE_BLOCKS);
        floats(k, "out", out, 1);
        return twoStage("sum_partials_f32", new KernelArgs().pointer(x).i64(n).pointer(workspace), n, workspace,
                1.0, out, false);
    }

    /** out[0] (a 64-bit integer) = the number of NaN or infinite elements of x. */
    public static List<Launch> countNonFinite(long x, long n, long workspace, long out) {
        String k = "countNonFinite";
        count(k, "n", n);
        floats(k, "x", x, n);
        doubles(k, "workspace", workspace, REDUCE_BLOCKS);
        doubles(k, "out", out, 1);
        return twoStage("count_nonfinite_partials_f32", new KernelArgs().pointer(x).i64(n).pointer(workspace), n,
                workspace, 1.0, out, true);
    }

    /** Partials into the workspace (skipped when n = 0), then one block adds them in a fixed order. */
    static List<Launch> twoStage(String partials, KernelArgs args, long n, long workspace, double scale,
                                 long out, boolean integer) {
        List<Launch> launches = new ArrayList<>(2);
        int blocks = 0;
        if (n > 0) {
            blocks = reduceGrid(n);
            launches.add(new Launch(partials, blocks, REDUCE_BLOCK, 1, args));
        }
        KernelArgs finish = new KernelArgs().pointer(workspace).i32(blocks);
        launches.add(integer ? new Launch("reduce_finish_i64", 1, FINISH_BLOCK, 1, finish.pointer(out))
                : new Launch("reduce_finish_f32", 1, FINISH_BLOCK, 1, finish.f64(scale).pointer(out)));
        return launches;
    }

    /** The SumToIndex struct: kept shape and strides, reduced shape and strides (right-aligned), reduced size. */
    static int[] sumToIndex(int[] xShape, int[] outPadded) {
        int[] strides = new int[xShape.length];
        int stride = 1;
        for (int d = xShape.length - 1; d >= 0; d--) {
            strides[d] = stride;
            stride *= xShape[d];
        }
        List<int[]> kept = new ArrayList<>();
        List<int[]> reduced = new ArrayList<>();
        int reducedSize = 1;
        for (int d = 0; d < xShape.length; d++) {
            if (xShape[d] == 1) {
                continue;
            }
            if (outPadded[d] == 1) {
                reduced.add(new int[] {xShape[d], strides[d]});
                reducedSize *= xShape[d];
            } else {
                kept.add(new int[] {xShape[d], strides[d]});
            }
        }
        int[] index = new int[4 * MAX_RANK + 1];
        Arrays.fill(index, 0, MAX_RANK, 1);
        Arrays.fill(index, 2 * MAX_RANK, 3 * MAX_RANK, 1);
        for (int i = 0; i < kept.size(); i++) {
            int slot = MAX_RANK - kept.size() + i;
            index[slot] = kept.get(i)[0];
            index[MAX_RANK + slot] = kept.get(i)[1];
        }
        for (int i = 0; i < reduced.size(); i++) {
            int slot = MAX_RANK - reduced.size() + i;
            index[2 * MAX_RANK + slot] = reduced.get(i)[0];
            index[3 * MAX_RANK + slot] = reduced.get(i)[1];
        }
        index[4 * MAX_RANK] = reducedSize;
        return index;
    }
}
