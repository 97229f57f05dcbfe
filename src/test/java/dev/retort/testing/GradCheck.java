package dev.retort.testing;

import dev.retort.backend.Backend;
import dev.retort.backend.DType;
import dev.retort.backend.NdArray;
import dev.retort.backend.Shapes;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Finite-difference gradient checker in float64: compares the gradients autograd accumulates into
 * leaf tensors with central differences {@code (f(x+h) − f(x−h)) / 2h} of a scalar function.
 *
 * <p>The function must be smooth at the point checked: callers choose inputs away from kinks
 * (ReLU at 0, ties in a max-pooling window) by more than {@link #EPS}. Every evaluation runs in its
 * own {@link Scope}, so a check frees what it allocates.
 */
public final class GradCheck {
    /** Step of the central differences. */
    public static final double EPS = 1e-6;
    /** Relative tolerance between analytic and numeric derivatives. */
    public static final double RTOL = 1e-6;
    /**
     * Absolute floor, scaled by max(1, |f|): rounding in f(x±h) costs about ulp(f)/h ≈ 1e-10·|f|, and a
     * derivative that should be 0 comes out as noise of that size.
     */
    public static final double ATOL = 1e-8;

    /** A scalar function of the leaves being checked; it reads them when called. */
    @FunctionalInterface
    public interface ScalarFunction {
        Tensor apply();
    }

    private final String name;
    private final ScalarFunction function;
    private final List<String> names = new ArrayList<>();
    private final List<Tensor> inputs = new ArrayList<>();
    private double rtol = RTOL;
    private double atol = ATOL;

    private GradCheck(String name, ScalarFunction function) {
        this.name = name;
        this.function = function;
    }

    /** Starts a check of {@code function}; add its inputs with {@link #wrt}. */
    public static GradCheck of(String name, ScalarFunction function) {
        return new GradCheck(name, function);
    }

    /** Checks the gradient with respect to every given leaf (named "input 0", "input 1", ...). */
    public static void check(String name, ScalarFunction function, Tensor... leaves) {
        GradCheck c = of(name, function);
        for (int i = 0; i < leaves.length; i++) {
            c.wrt("input " + i, leaves[i]);
        }
        c.run();
    }

    public GradCheck wrt(String inputName, Tensor leaf) {
        if (leaf.dtype() != DType.FLOAT64) {
            throw new IllegalArgumentException("GradCheck: " + inputName + " must be float64, got " + leaf.dtype());
        }
        if (leaf.gradFn() != null || !leaf.requiresGrad()) {
            throw new IllegalArgumentException("GradCheck: " + inputName + " must be a leaf that requires a gradient");
        }
        names.add(inputName);
        inputs.add(leaf);
        return this;
    }

    public GradCheck tolerance(double relative, double absolute) {
        this.rtol = relative;
        this.atol = absolute;
        return this;
    }

    /** Runs the check; throws an AssertionError naming the first mismatches. */
    public void run() {
        if (inputs.isEmpty()) {
            throw new IllegalStateException("GradCheck " + name + ": no inputs");
        }
        for (Tensor t : inputs) {
            t.zeroGrad();
        }
        double f0;
        double[][] analytic = new double[inputs.size()][];
        try (Scope scope = Scope.open()) {
            Tensor y = function.apply();
            if (y.size() != 1 || y.dtype() != DType.FLOAT64) {
                throw new AssertionError("GradCheck " + name + ": the function must return one float64 value, got "
                        + y);
            }
            f0 = y.item();
            y.backward();
            for (int i = 0; i < inputs.size(); i++) {
                Tensor g = inputs.get(i).grad();
                analytic[i] = g == null ? null : g.toDoubleArray();
            }
        }
        for (Tensor t : inputs) {
            t.zeroGrad();
        }
        if (!Double.isFinite(f0)) {
            throw new AssertionError("GradCheck " + name + ": f = " + f0 + " at the point checked");
        }
        double floor = atol * Math.max(1, Math.abs(f0));
        List<String> failures = new ArrayList<>();
        int mismatches = 0;
        for (int i = 0; i < inputs.size(); i++) {
            Tensor leaf = inputs.get(i);
            int[] shape = leaf.shape();
            double[] x = leaf.toDoubleArray();
            if (analytic[i] != null && analytic[i].length != x.length) {
                throw new AssertionError("GradCheck " + name + ": gradient of " + names.get(i) + " has "
                        + analytic[i].length + " elements, the input " + x.length);
            }
            try {
                for (int j = 0; j < x.length; j++) {
                    double original = x[j];
                    double up = original + EPS;
                    double down = original - EPS;
                    x[j] = up;
                    write(leaf, x);
                    double fUp = evaluate();
                    x[j] = down;
                    write(leaf, x);
                    double fDown = evaluate();
                    x[j] = original;
                    double numeric = (fUp - fDown) / (up - down);
                    double a = analytic[i] == null ? 0 : analytic[i][j];
                    double allowed = floor + rtol * Math.max(Math.abs(a), Math.abs(numeric));
                    if (!(Math.abs(a - numeric) <= allowed)) {
                        mismatches++;
                        if (failures.size() < 5) {
                            failures.add(names.get(i) + " " + Shapes.format(shape) + " element " + j + " "
                                    + Arrays.toString(unravel(j, shape)) + ": analytic "
                                    + (analytic[i] == null ? "none (no gradient reached it)" : a) + ", numeric "
                                    + numeric + ", difference " + Math.abs(a - numeric) + " > " + allowed);
                        }
                    }
                }
            } finally {
                write(leaf, x);
            }
        }
        if (mismatches > 0) {
            throw new AssertionError("GradCheck " + name + ": " + mismatches + " gradient element(s) differ from "
                    + "central differences (f = " + f0 + ", h = " + EPS + "):\n  " + String.join("\n  ", failures));
        }
    }

    private double evaluate() {
        try (Scope scope = Scope.open(); Autograd.NoGrad off = Autograd.noGrad()) {
            return function.apply().item();
        }
    }

    /** Overwrites a leaf's elements in place (its identity, and so the graph's view of it, is kept). */
    private static void write(Tensor leaf, double[] values) {
        Backend backend = leaf.backend();
        NdArray source = backend.fromHost(values, leaf.shape());
        try {
            backend.copy(source, leaf.data());
        } finally {
            source.storage().release();
        }
    }

    static int[] unravel(int index, int[] shape) {
        int[] out = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            out[d] = shape[d] == 0 ? 0 : index % shape[d];
            index = shape[d] == 0 ? 0 : index / shape[d];
        }
        return out;
    }

    /**
     * Reduces a tensor to a scalar with fixed random weights, {@code Σ w·y}, so that every output
     * element reaches the gradient with a different weight (a plain sum would hide, e.g., any error in
     * softmax's backward rule, whose gradient of the sum is zero). The weights depend only on the
     * shape and the seed.
     */
    public static Tensor project(Tensor y, long seed) {
        int[] shape = y.shape();
        Random random = new Random(seed * 31 + Arrays.hashCode(shape));
        double[] w = TestData.uniform(random, Shapes.size(shape), -1, 1);
        Tensor weights = Tensor.of(w, shape);
        if (y.dtype() != DType.FLOAT64) {
            weights = weights.to(y.dtype());
        }
        return y.mul(weights).sum();
    }

    public static Tensor project(Tensor y) {
        return project(y, 7);
    }
}
