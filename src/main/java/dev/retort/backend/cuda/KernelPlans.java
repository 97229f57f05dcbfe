package dev.retort.backend.cuda;

import dev.retort.backend.BinaryOp;
import dev.retort.backend.CounterRng;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.Shapes;
import dev.retort.backend.UnaryOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns each operation into its kernel launches — checked arguments, grid and block sizes, parameters in the
 * kernels' C types — as pure functions with no CUDA call, so that validation and launch shapes are tested
 * without a GPU. {@link CudaKernels} runs the plans. Device pointers are raw addresses ({@code long}), the
 * form the native cuBLAS/cuDNN bridge takes too; a pointer to a view adds the view's byte offset.
 *
 * <p>Every check throws {@link IllegalArgumentException} naming the kernel (by its operation) and the
 * argument, before anything reaches the driver.
 */
public final class KernelPlans {
    private KernelPlans() {}

    /** Every kernel of every module (file kernels/&lt;module&gt;.cu), looked up once when the modules load. */
    public static final Map<String, List<String>> MODULE_KERNELS = modules();

    private static Map<String, List<String>> modules() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("elementwise", List.of("unary_f32", "binary_f32", "binary_scalar_f32", "binary_broadcast_f32",
                "broadcast_to_f32", "affine_f32", "accumulate_f32", "fill_f32", "fill_i32", "convert_f32_i32",
                "convert_i32_f32"));
        m.put("dropout", List.of("dropout_mask_f32"));
        m.put("softmax", List.of("softmax_forward_f32", "softmax_backward_f32"));
        m.put("cross_entropy", List.of("nll_forward_f32", "nll_backward_f32"));
        m.put("kd_loss", List.of("kd_loss_warp_f32", "kd_loss_block_f32", "kd_loss_stream_f32", "kd_loss_finish_f32"));
        m.put("bias", List.of("bias_add_f32", "bias_grad_rows_f32", "bias_grad_planes_f32"));
        m.put("reduce", List.of("sum_to_f32", "sum_partials_f32", "count_nonfinite_partials_f32", "reduce_finish_f32",
                "reduce_finish_i64"));
        m.put("mse", List.of("mse_partials_f32", "mse_backward_f32"));
        m.put("optim", List.of("sgd_step_f32", "adamw_step_f32"));
        m.put("metrics", List.of("argmax_last_dim_f32", "count_equal_partials_i32", "ece_rows_f32", "ece_bins_f64"));
        return java.util.Collections.unmodifiableMap(m);
    }

    // ---- launch shapes -------------------------------------------------------------------------

    /** Threads per block of the elementwise (grid-stride) kernels. */
    static final int ELEMENT_BLOCK = 256;
    /** At most this many blocks for a grid-stride loop: enough to fill any current GPU several times over. */
    static final int MAX_ELEMENT_GRID = 1 << 16;
    /** Blocks of the two-stage reductions: the partials workspace holds one double per block. */
    public static final int REDUCE_BLOCKS = 1024;
    static final int REDUCE_BLOCK = 256;
    static final int FINISH_BLOCK = 1024;
    /** Largest rank of a broadcast or sumTo descriptor (RETORT_MAX_RANK in kernels/common.cuh). */
    public static final int MAX_RANK = 8;

    /** KD: rows of at most this many classes run one warp per row (KD_WARP_SLOTS × 32 in kd_loss.cu). */
    public static final int KD_WARP_MAX_COLS = 1024;
    static final int KD_WARP_ROWS_PER_BLOCK = 8;
    /** KD: rows of at most this many classes run one block per row from registers (8 per thread, ≤ 1024 threads). */
    public static final int KD_BLOCK_MAX_COLS = 8192;
    static final int KD_BLOCK_SLOTS = 8;
    static final int KD_STREAM_BLOCK = 1024;

    static int elementGrid(long n) {
        return (int) Math.min(MAX_ELEMENT_GRID, (n + ELEMENT_BLOCK - 1) / ELEMENT_BLOCK);
    }

    /** Blocks of the first reduction stage: a function of n alone, so the summation order is reproducible. */
    static int reduceGrid(long n) {
        return (int) Math.max(1, Math.min(REDUCE_BLOCKS, (n + REDUCE_BLOCK * 8L - 1) / (REDUCE_BLOCK * 8L)));
    }

    /** Threads of a block-per-row kernel: about four elements each, 32 to 1024, a power of two. */
    static int rowBlock(int cols) {
        int want = Math.max(1, (cols + 3) / 4);
        int threads = 32;
        while (threads < want && threads < 1024) {
            threads <<= 1;
        }
        return threads;
    }

    // ---- workspaces ----------------------------------------------------------------------------

    /** Bytes of the partials workspace of sum, countNonFinite, countEqual and mseForward. */
    public static long reduceWorkspaceBytes() {
        return 8L * REDUCE_BLOCKS;
    }

    /** Bytes of the KD workspace: two floats (label CE, teacher term) per row. */
    public static long distillationWorkspaceBytes(int rows) {
        return 8L * rows;
    }

    /** Bytes of the ECE workspace: per row a double confidence, an int bin and an int correctness flag. */
    public static long eceWorkspaceBytes(int rows) {
        return 16L * rows;
    }

    // ---- elementwise ---------------------------------------------------------------------------

    /**
     * {@code out = op(x)} over {@code n} FLOAT32 elements (one thread each).
     *
     * @throws IllegalArgumentException naming the operation and the argument, if a count is negative, too
     * large or a pointer null
     */
    public static List<Launch> unary(UnaryOp op, long x, long out, long n) {
        String k = "unary(" + op + ")";
        requireOp(k, op);
        count(k, "n", n);
        floats(k, "x", x, n);
        floats(k, "out", out, n);
        return elementwise("unary_f32", n, new KernelArgs().pointer(x).pointer(out).i64(n).i32(op.ordinal()));
    }

    /**
     * {@code out = op(a, b)} over {@code n} FLOAT32 elements of same-shaped a and b.
     *
     * @throws IllegalArgumentException naming the operation and the argument, if a count is negative, too
     * large or a pointer null
     */
    public static List<Launch> binary(BinaryOp op, long a, long b, long out, long n) {
        String k = "binary(" + op + ")";
        requireOp(k, op);
        count(k, "n", n);
        floats(k, "a", a, n);
        floats(k, "b", b, n);
        floats(k, "out", out, n);
        return elementwise("binary_f32", n, new KernelArgs().pointer(a).pointer(b).pointer(out).i64(n).i32(op.ordinal()));
    }

    /** {@code out = op(a, b[0])}: b is a one-element device array, read on the device. */
    public static List<Launch> binaryScalar(BinaryOp op, long a, long b, long out, long n) {
        String k = "binary(" + op + ", scalar)";
        requireOp(k, op);
        count(k, "n", n);
        floats(k, "a", a, n);
        floats(k, "b", b, 1);
        floats(k, "out", out, n);
        return elementwise("binary_scalar_f32", n,
                new KernelArgs().pointer(a).pointer(b).pointer(out).i64(n).i32(op.ordinal()));
    }

    /** {@code out = op(a, b)} with NumPy broadcasting of a and b to outShape. */
    public static List<Launch> binaryBroadcast(BinaryOp op, long a, int[] aShape, long b, int[] bShape, long out,
                                               int[] outShape) {
        String k = "binary(" + op + ", broadcast)";
        requireOp(k, op);
        int[] index = broadcastIndex(k, aShape, bShape, outShape);
        long n = size(k, "out", outShape);
        floats(k, "a", a, Shapes.size(aShape));
        floats(k, "b", b, Shapes.size(bShape));
        floats(k, "out", out, n);
        return elementwise("binary_broadcast_f32", n,
                new KernelArgs().pointer(a).pointer(b).pointer(out).i64(n).i32(op.ordinal()).struct(index));
    }

    /**
     * Backend.broadcastTo: copies x [xShape] into out [outShape] by NumPy broadcasting, a pure gather, so
     * exact.
     *
     * @throws IllegalArgumentException if the shapes do not broadcast, exceed the kernels' maximum rank, or a
     * pointer is null
     */
    public static List<Launch> broadcastTo(long x, int[] xShape, long out, int[] outShape) {
        String k = "broadcastTo";
        int[] index = broadcastIndex(k, xShape, new int[0], outShape);
        long n = size(k, "out", outShape);
        floats(k, "x", x, Shapes.size(xShape));
        floats(k, "out", out, n);
        return elementwise("broadcast_to_f32", n, new KernelArgs().pointer(x).pointer(out).i64(n).struct(index));
    }

    /**
     * Backend.transposeLastTwo of x [batch, rows, cols] into out [batch, cols, rows]: broadcast_to_f32 with a
     * hand-made index whose output shape is out's and whose strides walk x transposed. A pure gather, so exact.
     */
    public static List<Launch> transposeLastTwo(long x, long batch, int rows, int cols, long out) {
        String k = "transposeLastTwo";
        nonNegative(k, "batch", batch);
        nonNegative(k, "rows", rows);
        nonNegative(k, "cols", cols);
        long n = batch * rows * cols;
        maxElements(k, n);
        floats(k, "x", x, n);
        floats(k, "out", out, n);
        int[] index = new int[1 + 3 * MAX_RANK];
        index[0] = 3;
        Arrays.fill(index, 1, 1 + MAX_RANK, 1);
        int[] outShape = {(int) batch, cols, rows};
        int[] strides = {rows * cols, 1, cols};
        for (int d = 0; d < 3; d++) {
            index[1 + MAX_RANK - 3 + d] = outShape[d];
            index[1 + 2 * MAX_RANK - 3 + d] = strides[d];
        }
        return elementwise("broadcast_to_f32", n, new KernelArgs().pointer(x).pointer(out).i64(n).struct(index));
    }

    /** {@code out = alpha·x + beta} in float, as the CPU computes it. */
    public static List<Launch> affine(long x, long out, long n, double alpha, double beta) {
        String k = "affine";
        count(k, "n", n);
        floats(k, "x", x, n);
        floats(k, "out", out, n);
        return elementwise("affine_f32", n,
                new KernelArgs().pointer(x).pointer(out).i64(n).f32((float) alpha).f32((float) beta));
    }

    /** {@code out += alpha·x}. */
    public static List<Launch> accumulate(long x, long out, long n, double alpha) {
        String k = "accumulate";
        count(k, "n", n);
        floats(k, "x", x, n);
        floats(k, "out", out, n);
        return elementwise("accumulate_f32", n, new KernelArgs().pointer(x).pointer(out).i64(n).f32((float) alpha));
    }

    /**
     * Sets {@code n} FLOAT32 elements to {@code value}, rounded to float.
     *
     * @throws IllegalArgumentException naming the operation and the argument, if a count is negative, too
     * large or a pointer null
     */
    public static List<Launch> fill(long out, long n, double value) {
        String k = "fill";
        count(k, "n", n);
        floats(k, "out", out, n);
        return elementwise("fill_f32", n, new KernelArgs().pointer(out).i64(n).f32((float) value));
    }

    /** Fills an INT32 array; the value is converted as Java's (int) cast converts a double. */
    public static List<Launch> fillInt(long out, long n, double value) {
        String k = "fill (int32)";
        count(k, "n", n);
        floats(k, "out", out, n);
        return elementwise("fill_i32", n, new KernelArgs().pointer(out).i64(n).i32((int) value));
    }

    /** FLOAT32 to INT32 with Java's (int) conversion: toward zero, saturating, NaN to 0. */
    public static List<Launch> convertFloatToInt(long x, long out, long n) {
        String k = "copy (float32 → int32)";
        count(k, "n", n);
        floats(k, "x", x, n);
        floats(k, "out", out, n);
        return elementwise("convert_f32_i32", n, new KernelArgs().pointer(x).pointer(out).i64(n));
    }

    /**
     * INT32 to FLOAT32, rounding to nearest as Java's (float) cast does above 2^24.
     *
     * @throws IllegalArgumentException naming the operation and the argument, if a count is negative, too
     * large or a pointer null
     */
    public static List<Launch> convertIntToFloat(long x, long out, long n) {
        String k = "copy (int32 → float32)";
        count(k, "n", n);
        floats(k, "x", x, n);
        floats(k, "out", out, n);
        return elementwise("convert_i32_f32", n, new KernelArgs().pointer(x).pointer(out).i64(n));
    }

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

    // ---- rows: softmax, NLL, KD ------------------------------------------------------------------

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

    /**
     * Backend.distillationLoss on [rows, cols] float32 logits: the row kernel chosen by cols (warp per row up to
     * {@link #KD_WARP_MAX_COLS}, block per row from registers up to {@link #KD_BLOCK_MAX_COLS}, streaming beyond),
     * then the finish kernel that writes {@code terms} (3 floats: total, label CE, teacher term). labels may be 0
     * (no labels: the CE term is 0, as on the CPU); workspace holds {@link #distillationWorkspaceBytes(int)}.
     */
    public static List<Launch> distillationLoss(long student, long teacher, long labels, int rows, int cols,
                                                DistillationSpec spec, long workspace, long terms, long gradStudent) {
        String k = "distillationLoss";
        if (spec == null) {
            throw bad(k, "spec must not be null");
        }
        k = "distillationLoss";
        nonNegative(k, "rows (B)", rows);
        if (cols < 1) {
            throw bad(k, "cols (C, the number of classes) must be ≥ 1, got " + cols);
        }
        long n = (long) rows * cols;
        floats(k, "student", student, n);
        floats(k, "teacher", teacher, n);
        optionalFloats(k, "labels", labels, rows);
        floats(k, "workspace", workspace, 2L * rows);
        floats(k, "terms", terms, 3);
        floats(k, "gradStudent", gradStudent, n);

        List<Launch> launches = new ArrayList<>(2);
        if (rows > 0) {
            boolean hard = spec.hardTeacherTargets();
            double teacherWeight = spec.teacherGradientWeight() / rows;
            KernelArgs args = new KernelArgs().pointer(student).pointer(teacher).pointer(labels).i32(rows).i32(cols)
                    .f32((float) spec.inverseStudentTemperature()).f32((float) spec.inverseTeacherTemperature())
                    .f32((float) spec.labelSmoothing()).i32(hard ? 1 : 0).f32((float) (spec.crossEntropyWeight() / rows))
                    .f32((float) teacherWeight).pointer(gradStudent).pointer(workspace);
            if (cols <= KD_WARP_MAX_COLS) {
                int grid = (rows + KD_WARP_ROWS_PER_BLOCK - 1) / KD_WARP_ROWS_PER_BLOCK;
                launches.add(new Launch("kd_loss_warp_f32", grid, 32 * KD_WARP_ROWS_PER_BLOCK, 1, args));
            } else if (cols <= KD_BLOCK_MAX_COLS) {
                int threads = ((cols + KD_BLOCK_SLOTS - 1) / KD_BLOCK_SLOTS + 31) / 32 * 32;
                launches.add(new Launch("kd_loss_block_f32", rows, threads, 1, args));
            } else {
                launches.add(new Launch("kd_loss_stream_f32", rows, KD_STREAM_BLOCK, 1, args));
            }
        }
        launches.add(new Launch("kd_loss_finish_f32", 1, FINISH_BLOCK, 1, new KernelArgs().pointer(workspace).i32(rows)
                .f64(spec.crossEntropyWeight()).f64(spec.teacherWeight()).pointer(terms)));
        return launches;
    }

    // ---- bias and reductions ---------------------------------------------------------------------

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

    // ---- MSE -------------------------------------------------------------------------------------

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

    // ---- optimizers ------------------------------------------------------------------------------

    /** Backend.sgdStep; buffer may be 0 when momentum is 0. */
    public static List<Launch> sgdStep(long param, long grad, long buffer, long n, double lr, double momentum,
                                       double dampening, double weightDecay, boolean nesterov, boolean firstStep) {
        String k = "sgdStep";
        count(k, "n", n);
        floats(k, "param", param, n);
        floats(k, "grad", grad, n);
        finite(k, "lr", lr);
        finite(k, "dampening", dampening);
        finite(k, "weight decay", weightDecay);
        if (!(momentum >= 0) || Double.isInfinite(momentum)) {
            throw bad(k, "momentum must be a finite number ≥ 0, got " + momentum);
        }
        if (momentum != 0) {
            floats(k, "momentum buffer", buffer, n);
        } else {
            optionalFloats(k, "momentum buffer", buffer, n);
        }
        return elementwise("sgd_step_f32", n, new KernelArgs().pointer(param).pointer(grad).pointer(buffer).i64(n)
                .f32((float) lr).f32((float) momentum).f32((float) dampening).f32((float) weightDecay)
                .i32(nesterov ? 1 : 0).i32(firstStep ? 1 : 0));
    }

    /** Backend.adamwStep; the scalars are formed in double and rounded to float as FloatKernels does. */
    public static List<Launch> adamwStep(long param, long grad, long firstMoment, long secondMoment, long n, double lr,
                                         double beta1, double beta2, double eps, double weightDecay, long step) {
        String k = "adamwStep";
        count(k, "n", n);
        floats(k, "param", param, n);
        floats(k, "grad", grad, n);
        floats(k, "firstMoment", firstMoment, n);
        floats(k, "secondMoment", secondMoment, n);
        finite(k, "lr", lr);
        finite(k, "weight decay", weightDecay);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw bad(k, "beta1 and beta2 must be in [0, 1), got " + beta1 + " and " + beta2);
        }
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw bad(k, "eps must be a finite number ≥ 0, got " + eps);
        }
        if (step < 1) {
            throw bad(k, "step counts from 1, got " + step);
        }
        return elementwise("adamw_step_f32", n, new KernelArgs().pointer(param).pointer(grad).pointer(firstMoment)
                .pointer(secondMoment).i64(n).f32((float) (1 - lr * weightDecay)).f32((float) beta1)
                .f32((float) beta2).f32((float) (1 - beta1)).f32((float) (1 - beta2))
                .f32((float) (lr / (1 - Math.pow(beta1, step))))
                .f32((float) (1 / Math.sqrt(1 - Math.pow(beta2, step)))).f32((float) eps));
    }

    // ---- metrics ---------------------------------------------------------------------------------

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

    // ---- helpers ---------------------------------------------------------------------------------

    private static List<Launch> elementwise(String kernel, long n, KernelArgs args) {
        return n == 0 ? List.of() : List.of(new Launch(kernel, elementGrid(n), ELEMENT_BLOCK, 1, args));
    }

    /** Partials into the workspace (skipped when n = 0), then one block adds them in a fixed order. */
    private static List<Launch> twoStage(String partials, KernelArgs args, long n, long workspace, double scale,
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

    /** The BroadcastIndex struct: rank, then out_shape, a_stride, b_stride, each right-aligned in 8 slots. */
    static int[] broadcastIndex(String k, int[] aShape, int[] bShape, int[] outShape) {
        if (outShape.length > MAX_RANK) {
            throw bad(k, "rank " + outShape.length + " of " + Shapes.format(outShape) + " exceeds " + MAX_RANK);
        }
        for (int[] s : new int[][] {aShape, bShape}) {
            if (s.length > outShape.length) {
                throw bad(k, "shape " + Shapes.format(s) + " has more dimensions than the output "
                        + Shapes.format(outShape));
            }
            int[] p = Shapes.padLeft(s, outShape.length);
            for (int d = 0; d < p.length; d++) {
                if (p[d] != outShape[d] && p[d] != 1) {
                    throw bad(k, "shape " + Shapes.format(s) + " does not broadcast to " + Shapes.format(outShape)
                            + " (dimension " + d + ": " + p[d] + " vs " + outShape[d] + ")");
                }
            }
        }
        int rank = outShape.length;
        int[] as = Shapes.broadcastStrides(aShape, outShape);
        int[] bs = Shapes.broadcastStrides(bShape, outShape);
        int[] index = new int[1 + 3 * MAX_RANK];
        index[0] = rank;
        Arrays.fill(index, 1, 1 + MAX_RANK, 1);
        for (int d = 0; d < rank; d++) {
            int slot = MAX_RANK - rank + d;
            index[1 + slot] = outShape[d];
            index[1 + MAX_RANK + slot] = as[d];
            index[1 + 2 * MAX_RANK + slot] = bs[d];
        }
        return index;
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

    static IllegalArgumentException bad(String kernel, String message) {
        return new IllegalArgumentException("cuda " + kernel + ": " + message);
    }

    private static void requireOp(String k, Object op) {
        if (op == null) {
            throw bad(k, "op must not be null");
        }
    }

    private static void nonNegative(String k, String name, long value) {
        if (value < 0) {
            throw bad(k, name + " must be ≥ 0, got " + value);
        }
    }

    /** Kernels index elements in 32 bits where they decompose an index (as NdArray sizes are ints). */
    private static void maxElements(String k, long n) {
        if (n > Integer.MAX_VALUE) {
            throw bad(k, n + " elements exceed the 2^31 - 1 a kernel indexes");
        }
    }

    private static void count(String k, String name, long n) {
        nonNegative(k, name, n);
        maxElements(k, n);
    }

    private static long size(String k, String name, int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw bad(k, name + " has a negative dimension: " + Shapes.format(shape));
            }
            n *= d;
            maxElements(k, n);
        }
        return n;
    }

    private static void rowsCols(String k, int rows, int cols) {
        nonNegative(k, "rows", rows);
        if (cols < 1) {
            throw bad(k, "cols (the last dimension) must be ≥ 1, got " + cols);
        }
        maxElements(k, (long) rows * cols);
    }

    private static void temperature(String k, double t) {
        if (!(t > 0) || Double.isInfinite(t)) {
            throw bad(k, "temperature T must be a positive finite number, got " + t);
        }
    }

    private static void smoothing(String k, double eps) {
        if (!(eps >= 0 && eps <= 1)) {
            throw bad(k, "label smoothing ε must be in [0, 1], got " + eps);
        }
    }

    private static void finite(String k, String name, double v) {
        if (!Double.isFinite(v)) {
            throw bad(k, name + " must be finite, got " + v);
        }
    }

    /** A device array of 4-byte elements: non-null and 4-byte aligned when it holds any element. */
    private static void floats(String k, String name, long pointer, long elements) {
        address(k, name, pointer, elements, 4, false);
    }

    private static void optionalFloats(String k, String name, long pointer, long elements) {
        address(k, name, pointer, elements, 4, true);
    }

    private static void doubles(String k, String name, long pointer, long elements) {
        address(k, name, pointer, elements, 8, false);
    }

    private static void address(String k, String name, long pointer, long elements, int alignment, boolean optional) {
        if (pointer == 0) {
            if (optional || elements == 0) {
                return;
            }
            throw bad(k, name + " is a null device pointer");
        }
        if (pointer % alignment != 0) {
            throw bad(k, name + " (0x" + Long.toHexString(pointer) + ") is not aligned to " + alignment + " bytes");
        }
    }
}
