package dev.retort.backend;

import java.util.Arrays;

/** Shape arithmetic shared by every layer: sizes, broadcasting, formatting for error messages. */
public final class Shapes {
    private Shapes() {}

    /** Number of elements; rejects negative dimensions and sizes beyond a Java array. */
    public static int size(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + format(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("shape " + format(shape) + " has more than 2^31 elements");
            }
        }
        return (int) n;
    }

    /** A shape as error messages print it, e.g. {@code [2, 3, 32, 32]}. */
    public static String format(int... shape) {
        return Arrays.toString(shape);
    }

    /** The NumPy/PyTorch broadcast of two shapes, or an error naming the operation and both shapes. */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + format(a) + " and " + format(b)
                        + " cannot be broadcast (dimension " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Left-pads a shape with ones to the given rank. */
    public static int[] padLeft(int[] shape, int rank) {
        if (shape.length >= rank) {
            return shape;
        }
        int[] out = new int[rank];
        Arrays.fill(out, 0, rank - shape.length, 1);
        System.arraycopy(shape, 0, out, rank - shape.length, shape.length);
        return out;
    }

    /** Row-major strides in elements, with stride 0 where a dimension of size 1 is broadcast to {@code target}. */
    public static int[] broadcastStrides(int[] shape, int[] target) {
        int[] padded = padLeft(shape, target.length);
        int[] strides = new int[target.length];
        int stride = 1;
        for (int i = target.length - 1; i >= 0; i--) {
            strides[i] = padded[i] == 1 && target[i] != 1 ? 0 : stride;
            stride *= padded[i];
        }
        return strides;
    }

    /**
     * Checks that a shape has {@code rank} dimensions.
     *
     * @throws IllegalArgumentException naming the operation {@code op}, the argument ({@code what}) and the
     * shape otherwise
     */
    public static void requireRank(String op, String what, int[] shape, int rank) {
        if (shape.length != rank) {
            throw new IllegalArgumentException(op + ": " + what + " must have " + rank + " dimensions, got shape "
                    + format(shape));
        }
    }

    /**
     * Checks that two shapes are equal, with no broadcasting.
     *
     * @throws IllegalArgumentException naming the operation and both shapes otherwise
     */
    public static void requireSame(String op, int[] a, int[] b) {
        if (!Arrays.equals(a, b)) {
            throw new IllegalArgumentException(op + ": shapes " + format(a) + " and " + format(b) + " must be equal");
        }
    }
}
