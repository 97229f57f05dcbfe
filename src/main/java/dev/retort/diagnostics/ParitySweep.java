package dev.retort.diagnostics;

import dev.retort.backend.Backend;
import dev.retort.backend.BinaryOp;
import dev.retort.backend.ConvGeometry;
import dev.retort.backend.ConvSpec;
import dev.retort.backend.DType;
import dev.retort.backend.DeviceLost;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.NdArray;
import dev.retort.backend.PoolSpec;
import dev.retort.backend.Shapes;
import dev.retort.backend.UnaryOp;
import dev.retort.backend.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Runs every {@link Backend} operation on random inputs on a candidate backend in float32 and on the CPU
 * backend in float64 (the reference), and reports the relative error of each: the check {@code retort
 * doctor} makes of the CUDA backend (and of the CPU's own float32 kernels). Written against the Backend
 * interface alone, so a backend's operations are covered the moment they exist.
 *
 * <p>Inputs are drawn in double and rounded to float32 before either run, so both compute on the same
 * numbers and the error measures the computation, not the rounding of the inputs. Shapes are small and
 * odd-sized, to catch edge handling rather than to time anything. Error: ‖out − ref‖₂ / ‖ref‖₂ over all
 * outputs of the case (the largest over its outputs); integer outputs count mismatches instead.
 */
public final class ParitySweep {
    /** Tolerance of float32 results against the float64 reference. */
    public static final double FLOAT32_TOLERANCE = 1e-4;
    /** The knowledge-distillation kernels' tolerance (issue: KD kernels ≤ 1e-4). */
    public static final double KD_TOLERANCE = 1e-4;

    /** One operation on one set of shapes. */
    public record Case(String op, String detail, double tolerance, boolean distillation, Body body) {}

    /** Builds inputs with {@code run}, calls the op, returns its outputs read back to the host. */
    @FunctionalInterface
    public interface Body {
        /**
         * Runs the operation on arrays made by {@code run}; returns each output read back with {@link
         * Run#values} or {@link Run#read}.
         */
        List<double[]> apply(Run run);
    }

    /**
     * A case's outcome on one backend.
     *
     * @param error   relative error against the reference, NaN when the op failed
     * @param failure why the op could not run (its exception's message), or null
     */
    public record Outcome(double error, String failure, boolean deviceLost) {
        /** An outcome on a device that is still usable. */
        public Outcome(double error, String failure) {
            this(error, failure, false);
        }

        /** A case not run because the device was lost in an earlier case, named. */
        public static Outcome notRun(String lostIn) {
            return new Outcome(Double.NaN, "not run: the device was lost in " + lostIn, true);
        }

        /**
         * Whether the op ran and its relative error is at most {@code tolerance} (a NaN error never passes).
         */
        public boolean passed(double tolerance) {
            return failure == null && error <= tolerance;
        }

        /** "3.1e-07", or the failure. */
        public String format() {
            return failure != null ? failure : String.format(Locale.ROOT, "%.1e", error);
        }
    }

    private ParitySweep() {}

    /** Whether {@code e}, or an exception it wraps, says the device can run nothing more ({@link DeviceLost}). */
    static boolean lost(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DeviceLost) {
                return true;
            }
        }
        return false;
    }

    /** Runs one case on the candidate (float32) and the CPU reference (float64); never throws for the op. */
    public static Outcome run(Case c, Backend candidate, long seed) {
        List<double[]> reference;
        try (Run r = new Run(CpuBackend.get(), DType.FLOAT64, seed)) {
            reference = c.body().apply(r);
        }
        List<double[]> got;
        try (Run r = new Run(candidate, DType.FLOAT32, seed)) {
            got = c.body().apply(r);
        } catch (RuntimeException e) {
            String message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            return new Outcome(Double.NaN, message, lost(e));
        }
        double error = 0;
        for (int i = 0; i < reference.size(); i++) {
            error = Math.max(error, relativeError(got.get(i), reference.get(i)));
        }
        return new Outcome(error, null);
    }

    static double relativeError(double[] got, double[] ref) {
        if (got.length != ref.length) {
            return Double.POSITIVE_INFINITY;
        }
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < ref.length; i++) {
            if (Double.isNaN(got[i]) != Double.isNaN(ref[i])) {
                return Double.POSITIVE_INFINITY;
            }
            if (Double.isNaN(ref[i]) || got[i] == ref[i]) {
                norm += Double.isNaN(ref[i]) || Double.isInfinite(ref[i]) ? 0 : ref[i] * ref[i];
                continue;
            }
            diff += (got[i] - ref[i]) * (got[i] - ref[i]);
            norm += ref[i] * ref[i];
        }
        if (Double.isNaN(diff) || Double.isInfinite(diff)) {
            return Double.POSITIVE_INFINITY;
        }
        return diff == 0 ? 0 : Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
    }

    /**
     * One run of a case on one backend: makes its inputs (the same numbers on every backend, drawn in
     * order from the case's seed), reads outputs back, and releases everything it made.
     */
    public static final class Run implements AutoCloseable {
        private final Backend backend;
        private final DType dtype;
        private final SplittableRandom random;
        private final List<NdArray> made = new ArrayList<>();

        Run(Backend backend, DType dtype, long seed) {
            this.backend = backend;
            this.dtype = dtype;
            this.random = new SplittableRandom(seed);
        }

        /** The backend this run computes on, for the case body to call. */
        public Backend backend() {
            return backend;
        }

        /** Values from N(0, 1), rounded to float32. */
        public double[] normal(int n) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) gaussian();
            }
            return v;
        }

        /** Values in [lo, hi), rounded to float32. */
        public double[] uniform(int n, double lo, double hi) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) (lo + (hi - lo) * random.nextDouble());
            }
            return v;
        }

        /** {@code n} class indices drawn uniformly from {@code [0, classes)}. */
        public int[] labels(int n, int classes) {
            int[] v = new int[n];
            for (int i = 0; i < n; i++) {
                v[i] = random.nextInt(classes);
            }
            return v;
        }

        private double gaussian() {
            double u = random.nextDouble();
            double w = random.nextDouble();
            return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w);
        }

        /** An array of the run's dtype holding these values. */
        public NdArray array(double[] values, int... shape) {
            NdArray a = switch (dtype) {
                case FLOAT64 -> backend.fromHost(values.clone(), shape);
                case FLOAT32 -> {
                    float[] f = new float[values.length];
                    for (int i = 0; i < f.length; i++) {
                        f[i] = (float) values[i];
                    }
                    yield backend.fromHost(f, shape);
                }
                case INT32 -> throw new IllegalStateException("a run computes in floating point");
            };
            made.add(a);
            return a;
        }

        /** An INT32 array holding a copy of these values, released when the run closes. */
        public NdArray ints(int[] values, int... shape) {
            NdArray a = backend.fromHost(values.clone(), shape);
            made.add(a);
            return a;
        }

        /** A random array of the run's dtype. */
        public NdArray random(int... shape) {
            return array(normal(Shapes.size(shape)), shape);
        }

        /** An output array of the run's dtype, contents undefined, released when the run closes. */
        public NdArray empty(int... shape) {
            NdArray a = backend.empty(dtype, shape);
            made.add(a);
            return a;
        }

        /** An INT32 output array (for argmax-like ops), released when the run closes. */
        public NdArray emptyInts(int... shape) {
            NdArray a = backend.empty(DType.INT32, shape);
            made.add(a);
            return a;
        }

        /** The array's elements read back to the host as double, whatever its dtype. */
        public double[] values(NdArray a) {
            return backend.toDoubles(a);
        }

        /** Reads several outputs, the usual last line of a case. */
        public List<double[]> read(NdArray... outputs) {
            List<double[]> out = new ArrayList<>();
            for (NdArray a : outputs) {
                out.add(values(a));
            }
            return out;
        }

        @Override
        public void close() {
            for (NdArray a : made) {
                a.storage().release();
            }
        }
    }

    // ---- the cases ------------------------------------------------------------------------------

    /** Every operation of the Backend interface, on odd shapes; KD cases are marked. */
    public static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        double tol = FLOAT32_TOLERANCE;
        for (UnaryOp op : UnaryOp.values()) {
            c.add(new Case("unary " + op.name().toLowerCase(Locale.ROOT), "[37, 53]", tol, false, r -> {
                NdArray x = op.positiveOnly() ? r.array(r.uniform(37 * 53, 0.1, 4), 37, 53) : r.random(37, 53);
                NdArray out = r.empty(37, 53);
                r.backend().unary(op, x, out);
                return r.read(out);
            }));
        }
        for (BinaryOp op : BinaryOp.values()) {
            c.add(new Case("binary " + op.name().toLowerCase(Locale.ROOT), "[7, 1, 13] ∘ [5, 13]", tol, false, r -> {
                NdArray a = r.random(7, 1, 13);
                double[] bv = op.nonZeroRight() ? r.uniform(65, 0.5, 3) : r.normal(65);
                NdArray b = r.array(bv, 5, 13);
                NdArray out = r.empty(7, 5, 13);
                r.backend().binary(op, a, b, out);
                return r.read(out);
            }));
        }
        c.add(new Case("broadcastTo", "[1, 5, 1] → [3, 5, 4]", tol, false, r -> {
            NdArray x = r.random(1, 5, 1);
            NdArray out = r.empty(3, 5, 4);
            r.backend().broadcastTo(x, out);
            return r.read(out);
        }));
        c.add(new Case("affine", "[1001]", tol, false, r -> {
            NdArray x = r.random(1001);
            NdArray out = r.empty(1001);
            r.backend().affine(x, 1.7, -0.3, out);
            return r.read(out);
        }));
        c.add(new Case("accumulate", "[1001]", tol, false, r -> {
            NdArray x = r.random(1001);
            NdArray out = r.random(1001);
            r.backend().accumulate(x, 0.5, out);
            return r.read(out);
        }));
        c.add(new Case("dropoutMask", "[4099], p 0.3", 1e-6, false, r -> {
            NdArray mask = r.empty(4099);
            r.backend().dropoutMask(42, 0.3, mask);
            return r.read(mask);
        }));
        c.add(new Case("countNonFinite", "[517] with 3", 0, false, r -> {
            double[] v = r.normal(517);
            v[3] = Double.NaN;
            v[17] = Double.POSITIVE_INFINITY;
            v[400] = Double.NEGATIVE_INFINITY;
            return List.of(new double[] {r.backend().countNonFinite(r.array(v, 517))});
        }));
        c.add(new Case("sumTo", "[6, 7, 8] → [1, 7, 1]", tol, false, r -> {
            NdArray x = r.random(6, 7, 8);
            NdArray out = r.empty(1, 7, 1);
            r.backend().sumTo(x, out);
            return r.read(out);
        }));
        c.add(new Case("sumTo", "[6, 7, 8] → [8]", tol, false, r -> {
            NdArray x = r.random(6, 7, 8);
            NdArray out = r.empty(8);
            r.backend().sumTo(x, out);
            return r.read(out);
        }));
        c.add(new Case("argmaxLastDim", "[33, 10]", 0, false, r -> {
            NdArray x = r.random(33, 10);
            NdArray out = r.emptyInts(33);
            r.backend().argmaxLastDim(x, out);
            return r.read(out);
        }));
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0;
            boolean tb = (t & 2) != 0;
            c.add(new Case("matmul", "17×29 · 29×23" + (ta ? ", aᵀ" : "") + (tb ? ", bᵀ" : ""), tol, false, r -> {
                NdArray a = ta ? r.random(29, 17) : r.random(17, 29);
                NdArray b = tb ? r.random(23, 29) : r.random(29, 23);
                NdArray out = r.empty(17, 23);
                r.backend().matmul(a, ta, b, tb, out);
                return r.read(out);
            }));
        }
        c.add(new Case("matmul", "batched 3×17×29 · 3×29×23", tol, false, r -> {
            NdArray a = r.random(3, 17, 29);
            NdArray b = r.random(3, 29, 23);
            NdArray out = r.empty(3, 17, 23);
            r.backend().matmul(a, false, b, false, out);
            return r.read(out);
        }));
        c.add(new Case("transposeLastTwo", "[3, 5, 7]", tol, false, r -> {
            NdArray x = r.random(3, 5, 7);
            NdArray out = r.empty(3, 7, 5);
            r.backend().transposeLastTwo(x, out);
            return r.read(out);
        }));
        addConvolutionCases(c, tol);
        addPoolingCases(c, tol);
        addNormalisationCases(c, tol);
        addSoftmaxAndLossCases(c, tol);
        addDistillationCases(c);
        addOptimizerCases(c, tol);
        return c;
    }

    private static void addConvolutionCases(List<Case> c, double tol) {
        for (ConvSpec spec : List.of(new ConvSpec(1, 1, 1, 1), new ConvSpec(2, 2, 0, 0))) {
            ConvGeometry g = ConvGeometry.conv(new int[] {2, 3, 9, 11}, new int[] {4, 3, 3, 3}, spec);
            int oh = g.outHeight();
            int ow = g.outWidth();
            String detail = "x [2, 3, 9, 11], w [4, 3, 3, 3], stride " + spec.strideH() + ", pad " + spec.padH();
            c.add(new Case("conv2dForward", detail, tol, false, r -> {
                NdArray x = r.random(2, 3, 9, 11);
                NdArray w = r.random(4, 3, 3, 3);
                NdArray bias = r.random(4);
                NdArray out = r.empty(2, 4, oh, ow);
                r.backend().conv2dForward(x, w, bias, spec, out);
                return r.read(out);
            }));
            c.add(new Case("conv2dBackwardInput", detail, tol, false, r -> {
                NdArray gy = r.random(2, 4, oh, ow);
                NdArray w = r.random(4, 3, 3, 3);
                NdArray gx = r.empty(2, 3, 9, 11);
                r.backend().conv2dBackwardInput(gy, w, spec, gx);
                return r.read(gx);
            }));
            c.add(new Case("conv2dBackwardWeight", detail, tol, false, r -> {
                NdArray gy = r.random(2, 4, oh, ow);
                NdArray x = r.random(2, 3, 9, 11);
                NdArray gw = r.empty(4, 3, 3, 3);
                NdArray gb = r.empty(4);
                r.backend().conv2dBackwardWeight(gy, x, spec, gw, gb);
                return r.read(gw, gb);
            }));
        }
    }

    private static void addPoolingCases(List<Case> c, double tol) {
        for (PoolSpec spec : List.of(new PoolSpec(2, 2, 2, 2, 0, 0), new PoolSpec(3, 3, 2, 2, 1, 1))) {
            ConvGeometry g = ConvGeometry.pool("pool2d", new int[] {2, 3, 9, 11}, spec);
            int oh = g.outHeight();
            int ow = g.outWidth();
            String detail = "[2, 3, 9, 11], kernel " + spec.kernelH() + ", stride " + spec.strideH() + ", pad "
                    + spec.padH();
            c.add(new Case("maxPool2dForward", detail, tol, false, r -> {
                NdArray x = r.random(2, 3, 9, 11);
                NdArray out = r.empty(2, 3, oh, ow);
                r.backend().maxPool2dForward(x, spec, out);
                return r.read(out);
            }));
            c.add(new Case("maxPool2dBackward", detail, tol, false, r -> {
                NdArray gy = r.random(2, 3, oh, ow);
                NdArray x = r.random(2, 3, 9, 11);
                NdArray gx = r.empty(2, 3, 9, 11);
                r.backend().maxPool2dBackward(gy, x, spec, gx);
                return r.read(gx);
            }));
            c.add(new Case("avgPool2dForward", detail, tol, false, r -> {
                NdArray x = r.random(2, 3, 9, 11);
                NdArray out = r.empty(2, 3, oh, ow);
                r.backend().avgPool2dForward(x, spec, out);
                return r.read(out);
            }));
            c.add(new Case("avgPool2dBackward", detail, tol, false, r -> {
                NdArray gy = r.random(2, 3, oh, ow);
                NdArray gx = r.empty(2, 3, 9, 11);
                r.backend().avgPool2dBackward(gy, spec, gx);
                return r.read(gx);
            }));
        }
    }

    private static void addNormalisationCases(List<Case> c, double tol) {
        String detail = "[4, 3, 5, 6]";
        c.add(new Case("batchNormTrainForward", detail, tol, false, r -> {
            NdArray x = r.random(4, 3, 5, 6);
            NdArray gamma = r.random(3);
            NdArray beta = r.random(3);
            NdArray out = r.empty(4, 3, 5, 6);
            NdArray mean = r.empty(3);
            NdArray var = r.empty(3);
            r.backend().batchNormTrainForward(x, gamma, beta, 1e-5, out, mean, var);
            return r.read(out, mean, var);
        }));
        c.add(new Case("batchNormEvalForward", detail, tol, false, r -> {
            NdArray x = r.random(4, 3, 5, 6);
            NdArray gamma = r.random(3);
            NdArray beta = r.random(3);
            NdArray mean = r.random(3);
            NdArray var = r.array(r.uniform(3, 0.5, 2), 3);
            NdArray out = r.empty(4, 3, 5, 6);
            r.backend().batchNormEvalForward(x, gamma, beta, mean, var, 1e-5, out);
            return r.read(out);
        }));
        for (boolean training : new boolean[] {true, false}) {
            c.add(new Case("batchNormBackward", detail + (training ? ", training" : ", eval"), tol, false, r -> {
                NdArray gy = r.random(4, 3, 5, 6);
                double[] xv = r.normal(360);
                NdArray x = r.array(xv, 4, 3, 5, 6);
                NdArray gamma = r.random(3);
                // Training statistics must be the input's own; eval statistics are any positive variance.
                double[][] stats = training ? channelStats(xv, 4, 3, 30) : new double[][] {r.normal(3),
                        r.uniform(3, 0.5, 2)};
                NdArray mean = r.array(round(stats[0]), 3);
                NdArray var = r.array(round(stats[1]), 3);
                NdArray gx = r.empty(4, 3, 5, 6);
                NdArray gg = r.empty(3);
                NdArray gb = r.empty(3);
                r.backend().batchNormBackward(gy, x, gamma, mean, var, 1e-5, training, gx, gg, gb);
                return r.read(gx, gg, gb);
            }));
        }
    }

    private static void addSoftmaxAndLossCases(List<Case> c, double tol) {
        for (double temperature : new double[] {1, 4}) {
            for (boolean log : new boolean[] {false, true}) {
                String detail = "[9, 37], T " + (int) temperature;
                c.add(new Case(log ? "softmax (log)" : "softmax", detail, tol, false, r -> {
                    NdArray x = r.array(scale(r.normal(333), 3), 9, 37);
                    NdArray out = r.empty(9, 37);
                    r.backend().softmax(x, temperature, log, out);
                    return r.read(out);
                }));
                c.add(new Case(log ? "softmaxBackward (log)" : "softmaxBackward", detail, tol, false, r -> {
                    double[] logits = r.normal(333);
                    NdArray y = r.array(round(softmaxRows(logits, 9, 37, temperature, log)), 9, 37);
                    NdArray gy = r.random(9, 37);
                    NdArray gx = r.empty(9, 37);
                    r.backend().softmaxBackward(gy, y, temperature, log, gx);
                    return r.read(gx);
                }));
            }
        }
        c.add(new Case("nllForward", "[9, 10], ε 0.1", tol, false, r -> {
            NdArray logp = r.array(round(softmaxRows(r.normal(90), 9, 10, 1, true)), 9, 10);
            NdArray labels = r.ints(r.labels(9, 10), 9);
            NdArray loss = r.empty(9);
            r.backend().nllForward(logp, labels, 0.1, loss);
            return r.read(loss);
        }));
        c.add(new Case("nllBackward", "[9, 10], ε 0.1", tol, false, r -> {
            NdArray gl = r.random(9);
            NdArray labels = r.ints(r.labels(9, 10), 9);
            NdArray g = r.empty(9, 10);
            r.backend().nllBackward(gl, labels, 0.1, g);
            return r.read(g);
        }));
    }

    private static void addDistillationCases(List<Case> c) {
        List<DistillationSpec> specs = List.of(DistillationSpec.temperature(2, 3, 4),
                DistillationSpec.hinton(4, 0.3, 0.1, false), DistillationSpec.hinton(4, 0.3, 0.1, true));
        int[][] shapes = {{16, 10}, {7, 1000}};
        for (DistillationSpec spec : specs) {
            for (int[] shape : shapes) {
                int rows = shape[0];
                int classes = shape[1];
                String detail = "[" + rows + ", " + classes + "], " + spec;
                c.add(new Case("distillationLoss", detail, KD_TOLERANCE, true, r -> {
                    NdArray s = r.array(scale(r.normal(rows * classes), 3), rows, classes);
                    NdArray t = r.array(scale(r.normal(rows * classes), 5), rows, classes);
                    NdArray labels = spec.needsLabels() ? r.ints(r.labels(rows, classes), rows) : null;
                    NdArray terms = r.empty(3);
                    NdArray grad = r.empty(rows, classes);
                    r.backend().distillationLoss(s, t, labels, spec, terms, grad);
                    return r.read(terms, grad);
                }));
            }
        }
    }

    private static void addOptimizerCases(List<Case> c, double tol) {
        c.add(new Case("sgdStep", "[513], momentum 0.9, nesterov", tol, false, r -> {
            NdArray p = r.random(513);
            NdArray g = r.random(513);
            NdArray buf = r.random(513);
            r.backend().sgdStep(p, g, buf, 0.1, 0.9, 0.1, 1e-2, true, false);
            return r.read(p, buf);
        }));
        c.add(new Case("sgdStep", "[513], plain", tol, false, r -> {
            NdArray p = r.random(513);
            NdArray g = r.random(513);
            r.backend().sgdStep(p, g, null, 0.1, 0, 0, 0, false, false);
            return r.read(p);
        }));
        c.add(new Case("adamwStep", "[513], step 3", tol, false, r -> {
            NdArray p = r.random(513);
            NdArray g = r.random(513);
            NdArray m = r.array(scale(r.normal(513), 0.1), 513);
            NdArray v = r.array(r.uniform(513, 0, 0.1), 513);
            r.backend().adamwStep(p, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 1e-2, 3);
            return r.read(p, m, v);
        }));
    }

    // ---- host helpers ---------------------------------------------------------------------------

    private static double[] scale(double[] v, double factor) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (v[i] * factor);
        }
        return v;
    }

    private static double[] round(double[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) v[i];
        }
        return v;
    }

    private static double[] softmaxRows(double[] x, int rows, int cols, double temperature, boolean log) {
        double[] out = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) {
                max = Math.max(max, x[r * cols + j] / temperature);
            }
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                sum += Math.exp(x[r * cols + j] / temperature - max);
            }
            for (int j = 0; j < cols; j++) {
                double z = x[r * cols + j] / temperature - max;
                out[r * cols + j] = log ? z - Math.log(sum) : Math.exp(z) / sum;
            }
        }
        return out;
    }

    /** Per-channel mean and biased variance of an [n, c, hw] layout. */
    private static double[][] channelStats(double[] x, int n, int channels, int hw) {
        double[] mean = new double[channels];
        double[] var = new double[channels];
        for (int ch = 0; ch < channels; ch++) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < hw; k++) {
                    s += x[(i * channels + ch) * hw + k];
                }
            }
            mean[ch] = s / (n * hw);
            double q = 0;
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < hw; k++) {
                    double d = x[(i * channels + ch) * hw + k] - mean[ch];
                    q += d * d;
                }
            }
            var[ch] = q / (n * hw);
        }
        return new double[][] {mean, var};
    }
}
