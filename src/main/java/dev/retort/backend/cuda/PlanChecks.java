package dev.retort.backend.cuda;

import dev.retort.backend.Shapes;

/**
 * The argument checks every plan class shares: counts, shapes, device pointers and the scalars of several ops. Each
 * failure is an {@link IllegalArgumentException} whose message starts {@code cuda <operation>:} and names the
 * argument.
 */
final class PlanChecks {
    private PlanChecks() {}

    static IllegalArgumentException bad(String kernel, String message) {
        return new IllegalArgumentException("cuda " + kernel + ": " + message);
    }

    static void requireOp(String k, Object op) {
        if (op == null) {
            throw bad(k, "op must not be null");
        }
    }

    static void nonNegative(String k, String name, long value) {
        if (value < 0) {
            throw bad(k, name + " must be ≥ 0, got " + value);
        }
    }

    /** Kernels index elements in 32 bits where they decompose an index (as NdArray sizes are ints). */
    static void maxElements(String k, long n) {
        if (n > Integer.MAX_VALUE) {
            throw bad(k, n + " elements exceed the 2^31 - 1 a kernel indexes");
        }
    }

    static void count(String k, String name, long n) {
        nonNegative(k, name, n);
        maxElements(k, n);
    }

    static long size(String k, String name, int[] shape) {
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

    static void rowsCols(String k, int rows, int cols) {
        nonNegative(k, "rows", rows);
        if (cols < 1) {
            throw bad(k, "cols (the last dimension) must be ≥ 1, got " + cols);
        }
        maxElements(k, (long) rows * cols);
    }

    static void temperature(String k, double t) {
        if (!(t > 0) || Double.isInfinite(t)) {
            throw bad(k, "temperature T must be a positive finite number, got " + t);
        }
    }

    static void smoothing(String k, double eps) {
        if (!(eps >= 0 && eps <= 1)) {
            throw bad(k, "label smoothing ε must be in [0, 1], got " + eps);
        }
    }

    static void finite(String k, String name, double v) {
        if (!Double.isFinite(v)) {
            throw bad(k, name + " must be finite, got " + v);
        }
    }

    /** A device array of 4-byte elements: non-null and 4-byte aligned when it holds any element. */
    static void floats(String k, String name, long pointer, long elements) {
        address(k, name, pointer, elements, 4, false);
    }

    static void optionalFloats(String k, String name, long pointer, long elements) {
        address(k, name, pointer, elements, 4, true);
    }

    static void doubles(String k, String name, long pointer, long elements) {
        address(k, name, pointer, elements, 8, false);
    }

    static void address(String k, String name, long pointer, long elements, int alignment, boolean optional) {
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
