package dev.retort.backend.cuda;

import static dev.retort.backend.cuda.LaunchShapes.MAX_RANK;
import static dev.retort.backend.cuda.LaunchShapes.elementwise;
import static dev.retort.backend.cuda.PlanChecks.bad;
import static dev.retort.backend.cuda.PlanChecks.count;
import static dev.retort.backend.cuda.PlanChecks.floats;
import static dev.retort.backend.cuda.PlanChecks.maxElements;
import static dev.retort.backend.cuda.PlanChecks.nonNegative;
import static dev.retort.backend.cuda.PlanChecks.requireOp;
import static dev.retort.backend.cuda.PlanChecks.size;

import dev.retort.backend.BinaryOp;
import dev.retort.backend.Shapes;
import dev.retort.backend.UnaryOp;
import java.util.Arrays;
import java.util.List;

/**
 * The launch plans of kernels/elementwise.cu: unary and binary ops (broadcast or not), broadcastTo and transposes,
 * affine and accumulate, fills and the FLOAT32/INT32 conversions.
 *
 * <p>Like every plan class, pure functions from an operation's arguments to its kernel launches (checked arguments,
 * grid and block sizes, parameters in the kernels' C types), with no CUDA call, so that validation and launch
 * shapes are tested without a GPU; {@link CudaKernels} runs them. Device pointers are raw addresses ({@code long});
 * a check that fails throws {@link IllegalArgumentException} naming the operation and the argument.
 */
public final class ElementwisePlans {
    private ElementwisePlans() {}

    /** The module these plans launch: kernels/elementwise.cu. */
    static final String MODULE = "elementwise";

    /** Every kernel of {@link #MODULE}, looked up once when the module loads. */
    static final List<String> KERNELS = List.of("unary_f32", "binary_f32", "binary_scalar_f32",
            "binary_broadcast_f32", "broadcast_to_f32", "affine_f32", "accumulate_f32", "fill_f32", "fill_i32",
            "convert_f32_i32", "convert_i32_f32");

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
        return elementwise("unary_f32", n, new KernelArgs().pointer(x).pointer(out).i64(n).i32(op.code()));
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
        return elementwise("binary_f32", n, new KernelArgs().pointer(a).pointer(b).pointer(out).i64(n).i32(op.code()));
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
                new KernelArgs().pointer(a).pointer(b).pointer(out).i64(n).i32(op.code()));
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
                new KernelArgs().pointer(a).pointer(b).pointer(out).i64(n).i32(op.code()).struct(index));
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
}
