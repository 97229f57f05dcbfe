package dev.retort.backend.cuda;

import static dev.retort.testing.TestData.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.BinaryOp;
import dev.retort.backend.DType;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.NdArray;
import dev.retort.backend.Shapes;
import dev.retort.backend.UnaryOp;
import dev.retort.backend.cpu.CpuBackend;
import dev.retort.testing.TestData;
import dev.retort.train.Calibration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every kernel of kernels/*.cu against the CPU backend on the same float32 inputs, through {@link CudaKernels}:
 * bit for bit where the kernel performs the CPU's float operations in the same order (elementwise, dropout,
 * optimizers, argmax), within float rounding where it sums in another order, and within 1e-4 relative for the
 * fused KD loss (docs/kd-modes.md). Runs on the emulator ({@link EmulatedKernelParityTest}) and on a GPU
 * ({@link GpuKernelParityTest}).
 */
abstract class KernelParityChecks {
    static final CpuBackend CPU = CpuBackend.get();
    static final double KD_TOLERANCE = 1e-4;

    private final List<NdArray> cpuArrays = new ArrayList<>();

    /** The device under test, started once per test class. */
    protected abstract KernelTestDevice device();

    /** Whether to include the slowest cases (the emulator runs one OS thread per CUDA thread). */
    protected boolean large() {
        return true;
    }

    @AfterEach
    void releaseCpuArrays() {
        for (NdArray a : cpuArrays) {
            a.storage().release();
        }
        cpuArrays.clear();
    }

    private NdArray cpu(float[] values, int... shape) {
        NdArray a = CPU.fromHost(values, shape);
        cpuArrays.add(a);
        return a;
    }

    private NdArray cpu(double[] values, int... shape) {
        NdArray a = CPU.fromHost(values, shape);
        cpuArrays.add(a);
        return a;
    }

    private NdArray cpuInts(int[] values, int... shape) {
        NdArray a = CPU.fromHost(values, shape);
        cpuArrays.add(a);
        return a;
    }

    private NdArray cpuEmpty(DType dtype, int... shape) {
        NdArray a = CPU.empty(dtype, shape);
        cpuArrays.add(a);
        return a;
    }

    private CudaKernels k() {
        return device().kernels();
    }

    private long out(int floats) {
        return device().allocate(Math.max(8, 4L * floats));
    }

    static float[] random(Random r, int n, double lo, double hi) {
        return TestData.toFloats(TestData.uniform(r, n, lo, hi));
    }

    static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** Equal within maxUlps units in the last place; NaN matches NaN, and with 0 ulps the bits must match. */
    static void assertUlps(String what, float[] expected, float[] actual, int maxUlps) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (Float.isNaN(e) && Float.isNaN(a)) {
                continue;
            }
            boolean ok = maxUlps == 0 ? Float.floatToIntBits(e) == Float.floatToIntBits(a)
                    : e == a || Math.abs(ordered(e) - ordered(a)) <= maxUlps;
            if (!ok) {
                throw new AssertionError(what + ": element " + i + " expected " + e + " got " + a + " (" + maxUlps
                        + " ulp allowed)");
            }
        }
    }

    private static long ordered(float f) {
        int bits = Float.floatToIntBits(f);
        return bits < 0 ? (long) Integer.MIN_VALUE - bits : bits;
    }

    private static final float[] SPECIALS = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        1e-30f, -1e-30f, Float.MIN_VALUE, 88.7f, -103f, 3e38f};

    private static float[] withSpecials(float[] x) {
        float[] out = x.clone();
        System.arraycopy(SPECIALS, 0, out, 0, Math.min(SPECIALS.length, out.length));
        return out;
    }

    // ---- elementwise ---------------------------------------------------------------------------

    @Test
    void unaryOpsMatchTheCpu() {
        Random r = new Random(1);
        int n = 1037;
        for (UnaryOp op : UnaryOp.values()) {
            float[] x = withSpecials(op.positiveOnly() ? random(r, n, 0, 50) : random(r, n, -5, 5));
            NdArray out = cpuEmpty(DType.FLOAT32, n);
            CPU.unary(op, cpu(x, n), out);
            float[] expected = CPU.toFloats(out);
            long dx = device().upload(x);
            long dy = out(n);
            k().unary(op, dx, dy, n);
            assertUlps("unary " + op, expected, device().floats(dy, n), op.kernelUlps());
        }
    }

    @Test
    void binaryOpsMatchTheCpuSameShapeScalarAndBroadcast() {
        Random r = new Random(2);
        int[][][] shapes = {
            {{3, 5, 7}, {3, 5, 7}, {3, 5, 7}},
            {{3, 5, 7}, {1}, {3, 5, 7}},
            {{3, 5, 7}, {5, 1}, {3, 5, 7}},
            {{7}, {3, 5, 1}, {3, 5, 7}},
            {{2, 1, 4, 1}, {3, 1, 6}, {2, 3, 4, 6}},
        };
        for (BinaryOp op : BinaryOp.values()) {
            for (int[][] s : shapes) {
                int na = Shapes.size(s[0]);
                int nb = Shapes.size(s[1]);
                int n = Shapes.size(s[2]);
                float[] a = withSpecials(random(r, na, -4, 4));
                float[] b = random(r, nb, -4, 4);
                b[0] = 0f; // division by zero, ReLU's kink
                NdArray o = cpuEmpty(DType.FLOAT32, s[2]);
                CPU.binary(op, cpu(a, s[0]), cpu(b, s[1]), o);
                float[] expected = CPU.toFloats(o);
                long da = device().upload(a);
                long db = device().upload(b);
                long dy = out(n);
                String what = "binary " + op + " " + Shapes.format(s[0]) + " " + Shapes.format(s[1]);
                if (na == n && nb == n) {
                    k().binary(op, da, db, dy, n);
                    assertUlps(what, expected, device().floats(dy, n), 0);
                }
                if (nb == 1) {
                    k().binaryScalar(op, da, db, dy, n);
                    assertUlps(what + " (scalar)", expected, device().floats(dy, n), 0);
                }
                k().binaryBroadcast(op, da, s[0], db, s[1], dy, s[2]);
                assertUlps(what + " (broadcast)", expected, device().floats(dy, n), 0);
            }
        }
    }

    @Test
    void broadcastAffineAccumulateFillAndConversionsMatchTheCpu() {
        Random r = new Random(3);
        float[] x = withSpecials(random(r, 60, -3, 3));
        long dx = device().upload(x);

        int[] to = {2, 4, 3, 5};
        NdArray o = cpuEmpty(DType.FLOAT32, to);
        CPU.broadcastTo(cpu(java.util.Arrays.copyOf(x, 20), 4, 1, 5), o);
        long dy = out(120);
        k().broadcastTo(dx, new int[] {4, 1, 5}, dy, to);
        assertUlps("broadcastTo", CPU.toFloats(o), device().floats(dy, 120), 0);

        NdArray a = cpuEmpty(DType.FLOAT32, 60);
        CPU.affine(cpu(x, 60), 0.3, -1.7, a);
        k().affine(dx, dy, 60, 0.3, -1.7);
        assertUlps("affine", CPU.toFloats(a), device().floats(dy, 60), 0);

        float[] y0 = random(r, 60, -2, 2);
        NdArray acc = cpu(y0.clone(), 60);
        CPU.accumulate(cpu(x, 60), -0.7, acc);
        device().writeFloats(dy, y0);
        k().accumulate(dx, dy, 60, -0.7);
        float[] accumulated = device().floats(dy, 60);
        assertUlps("accumulate", CPU.toFloats(acc), accumulated, 0);

        k().fill(dy, 37, -2.5);
        float[] filled = device().floats(dy, 38);
        for (int i = 0; i < 37; i++) {
            assertEquals(-2.5f, filled[i]);
        }
        assertEquals(accumulated[37], filled[37], "fill must stop at n");
        k().fillInt(dy, 5, 7.9);
        assertEquals(7, device().ints(dy, 1)[0]);

        float[] f = {2.7f, -2.7f, Float.NaN, 3e9f, -3e9f, Float.POSITIVE_INFINITY, -0f, 16777217f};
        NdArray ints = cpuEmpty(DType.INT32, f.length);
        CPU.copy(cpu(f, f.length), ints);
        long df = device().upload(f);
        long di = out(f.length);
        k().convertFloatToInt(df, di, f.length);
        assertEquals(java.util.Arrays.toString(CPU.toInts(ints)), java.util.Arrays.toString(device().ints(di, f.length)));
        int[] iv = {0, -1, 16777217, Integer.MIN_VALUE, Integer.MAX_VALUE};
        NdArray back = cpuEmpty(DType.FLOAT32, iv.length);
        CPU.copy(cpuInts(iv, iv.length), back);
        long dints = device().upload(iv);
        k().convertIntToFloat(dints, df, iv.length);
        assertUlps("int → float", CPU.toFloats(back), device().floats(df, iv.length), 0);
    }

    @Test
    void transposeLastTwoIsAnExactGatherLikeTheCpu() {
        Random r = new Random(11);
        for (int[] shape : new int[][] {{3, 5, 7}, {1, 1, 9}, {2, 6, 1}, {4, 4}}) {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            float[] x = withSpecials(random(r, n, -3, 3));
            int rows = shape[shape.length - 2];
            int cols = shape[shape.length - 1];
            int[] outShape = shape.clone();
            outShape[shape.length - 2] = cols;
            outShape[shape.length - 1] = rows;
            NdArray o = cpuEmpty(DType.FLOAT32, outShape);
            CPU.transposeLastTwo(cpu(x, shape), o);
            long dx = device().upload(x);
            long dy = out(n);
            k().transposeLastTwo(dx, n / (rows * cols), rows, cols, dy);
            assertUlps("transposeLastTwo " + java.util.Arrays.toString(shape), CPU.toFloats(o), device().floats(dy, n),
                    0);
        }
    }

    @Test
    void batchNormEvalBackwardFromKernelsMatchesTheCpu() {
        Random r = new Random(13);
        int n = 3;
        int c = 5;
        int hw = 6;
        int size = n * c * hw;
        float[] gy = random(r, size, -1, 1);
        float[] x = random(r, size, -2, 2);
        float[] gamma = random(r, c, 0.5, 1.5);
        float[] mean = random(r, c, -0.5, 0.5);
        float[] var = random(r, c, 0.1, 2);
        double eps = 1e-5;
        NdArray gx = cpuEmpty(DType.FLOAT32, n, c, 2, 3);
        NdArray gg = cpuEmpty(DType.FLOAT32, c);
        NdArray gb = cpuEmpty(DType.FLOAT32, c);
        CPU.batchNormBackward(cpu(gy, n, c, 2, 3), cpu(x, n, c, 2, 3), cpu(gamma, c), cpu(mean, c), cpu(var, c), eps,
                false, gx, gg, gb);
        long ws = device().allocate(CudaBackend.batchNormWorkspaceBytes(n, c, hw, false));
        long dgx = out(size);
        long dgg = out(c);
        long dgb = out(c);
        long invStd = CudaBackend.inverseStd(k(), device().upload(var), eps, c, ws);
        CudaBackend.batchNormEvalBackward(k(), device().upload(gy), device().upload(x), device().upload(gamma),
                device().upload(mean), invStd, n, c, hw, ws, dgx, dgg, dgb);
        assertUlps("batch norm eval gradInput", CPU.toFloats(gx), device().floats(dgx, size), 8);
        assertUlps("batch norm eval gradGamma", CPU.toFloats(gg), device().floats(dgg, c), 64);
        assertUlps("batch norm eval gradBeta", CPU.toFloats(gb), device().floats(dgb, c), 64);
    }

    @Test
    void dropoutMasksAreBitIdenticalToTheCpu() {
        int n = 4099;
        for (long seed : new long[] {0, 42, -7, Long.MIN_VALUE}) {
            for (double p : new double[] {0, 0.1, 0.5, 0.9}) {
                NdArray m = cpuEmpty(DType.FLOAT32, n);
                CPU.dropoutMask(seed, p, m);
                long dm = out(n);
                k().dropoutMask(dm, n, seed, p);
                assertUlps("dropout seed " + seed + " p " + p, CPU.toFloats(m), device().floats(dm, n), 0);
            }
        }
    }

    // ---- rows: softmax, NLL ---------------------------------------------------------------------

    private int[][] rowShapes() {
        return large() ? new int[][] {{3, 1}, {5, 3}, {4, 10}, {2, 1000}, {2, 5000}}
                : new int[][] {{3, 1}, {5, 3}, {4, 10}, {2, 1000}};
    }

    @Test
    void softmaxForwardAndBackwardMatchTheCpu() {
        Random r = new Random(4);
        for (int[] rc : rowShapes()) {
            int rows = rc[0];
            int cols = rc[1];
            int n = rows * cols;
            for (double temperature : new double[] {0.05, 1, 4, 100}) {
                for (double scale : new double[] {5, 1e4}) {
                    float[] x = random(r, n, -scale, scale);
                    float[] gy = random(r, n, -1, 1);
                    long dx = device().upload(x);
                    long dgy = device().upload(gy);
                    long dy = out(n);
                    long dgx = out(n);
                    for (boolean log : new boolean[] {false, true}) {
                        String what = (log ? "logSoftmax" : "softmax") + " " + rows + "×" + cols + " T=" + temperature
                                + " |x|≤" + scale;
                        NdArray y = cpuEmpty(DType.FLOAT32, rows, cols);
                        CPU.softmax(cpu(x, rows, cols), temperature, log, y);
                        k().softmax(dx, dy, rows, cols, temperature, log);
                        float[] gpuY = device().floats(dy, n);
                        assertClose(what, toDoubles(CPU.toFloats(y)), toDoubles(gpuY), 1e-6);

                        // The backward pass on the CPU's forward output, so both see the same y.
                        long dyCpu = device().upload(CPU.toFloats(y));
                        NdArray gx = cpuEmpty(DType.FLOAT32, rows, cols);
                        CPU.softmaxBackward(cpu(gy, rows, cols), y, temperature, log, gx);
                        k().softmaxBackward(dgy, dyCpu, dgx, rows, cols, temperature, log);
                        assertClose(what + " backward", toDoubles(CPU.toFloats(gx)), toDoubles(device().floats(dgx, n)),
                                1e-6);
                    }
                }
            }
        }
    }

    @Test
    void nllForwardAndBackwardMatchTheCpu() {
        Random r = new Random(5);
        for (int[] rc : rowShapes()) {
            int rows = rc[0];
            int cols = rc[1];
            int n = rows * cols;
            float[] logp = random(r, n, -9, 0);
            int[] y = new int[rows];
            for (int i = 0; i < rows; i++) {
                y[i] = r.nextInt(cols);
            }
            float[] gl = random(r, rows, -2, 2);
            long dlogp = device().upload(logp);
            long dy = device().upload(y);
            long dgl = device().upload(gl);
            long dloss = out(rows);
            long dgrad = out(n);
            for (double eps : new double[] {0, 0.1}) {
                String what = "nll " + rows + "×" + cols + " ε=" + eps;
                NdArray loss = cpuEmpty(DType.FLOAT32, rows);
                CPU.nllForward(cpu(logp, rows, cols), cpuInts(y, rows), eps, loss);
                k().nllForward(dlogp, dy, dloss, rows, cols, eps);
                assertUlps(what, CPU.toFloats(loss), device().floats(dloss, rows), 1);
                NdArray grad = cpuEmpty(DType.FLOAT32, rows, cols);
                CPU.nllBackward(cpu(gl, rows), cpuInts(y, rows), eps, grad);
                k().nllBackward(dgl, dy, dgrad, rows, cols, eps);
                assertUlps(what + " backward", CPU.toFloats(grad), device().floats(dgrad, n), 0);
            }
        }
    }

    // ---- the fused KD loss ----------------------------------------------------------------------

    /** Runs the KD kernel on (optionally misaligned) copies of s and t; returns {terms..., grad...}. */
    private float[][] distill(float[] s, float[] t, int[] y, int rows, int cols, DistillationSpec spec, boolean misalign) {
        int n = rows * cols;
        int shift = misalign ? 1 : 0; // one float off 16 bytes: the scalar (non-float4) path
        long ds = device().allocate(4L * (n + shift)) + 4L * shift;
        long dt = device().allocate(4L * (n + shift)) + 4L * shift;
        long dg = device().allocate(4L * (n + shift)) + 4L * shift;
        device().writeFloats(ds, s);
        device().writeFloats(dt, t);
        float[] nan = new float[n];
        java.util.Arrays.fill(nan, Float.NaN); // every gradient element must be written
        device().writeFloats(dg, nan);
        long dy = y == null ? 0 : device().upload(y);
        long work = device().allocate(KdLossPlans.distillationWorkspaceBytes(rows));
        long terms = out(3);
        k().distillationLoss(ds, dt, dy, rows, cols, spec, work, terms, dg);
        return new float[][] {device().floats(terms, 3), device().floats(dg, n)};
    }

    private void assertDistillation(String what, float[] s, float[] t, int[] y, int rows, int cols,
                                    DistillationSpec spec, boolean misalign) {
        NdArray cs = cpu(s, rows, cols);
        NdArray ct = cpu(t, rows, cols);
        NdArray cy = y == null ? null : cpuInts(y, rows);
        NdArray terms64 = cpuEmpty(DType.FLOAT64, 3);
        NdArray grad64 = cpuEmpty(DType.FLOAT64, rows, cols);
        CPU.distillationLoss(cpu(toDoubles(s), rows, cols), cpu(toDoubles(t), rows, cols), cy, spec, terms64, grad64);
        NdArray terms32 = cpuEmpty(DType.FLOAT32, 3);
        NdArray grad32 = cpuEmpty(DType.FLOAT32, rows, cols);
        CPU.distillationLoss(cs, ct, cy, spec, terms32, grad32);
        float[][] gpu = distill(s, t, y, rows, cols, spec, misalign);
        double[] reference = CPU.toDoubles(terms64);
        for (int i = 0; i < 3; i++) {
            assertClose(what + " term " + i + " vs float64", new double[] {reference[i]}, new double[] {gpu[0][i]},
                    KD_TOLERANCE, 1e-30);
            assertClose(what + " term " + i + " vs CPU float32", new double[] {CPU.toDoubles(terms32)[i]},
                    new double[] {gpu[0][i]}, KD_TOLERANCE, 1e-30);
        }
        assertClose(what + " gradient vs float64", CPU.toDoubles(grad64), toDoubles(gpu[1]), KD_TOLERANCE);
        assertClose(what + " gradient vs CPU float32", CPU.toDoubles(grad32), toDoubles(gpu[1]), KD_TOLERANCE);
    }

    private static final DistillationSpec[] SPECS = {
        DistillationSpec.temperature(4, 4, 16),
        DistillationSpec.temperature(2, 8, 3),
        DistillationSpec.temperature(1.5, 3, 2.25), // run with labels: the CE is reported, not weighted
        DistillationSpec.hinton(4, 0.1, 0, false),
        DistillationSpec.hinton(2, 0.5, 0.1, false),
        DistillationSpec.hinton(4, 0.3, 0.2, true),
    };

    private static String name(DistillationSpec s) {
        return s.toString();
    }

    @Test
    void distillationMatchesTheCpuForEveryModeAndRowKernel() {
        // 1..1000: warp per row; 1025 and 5000: block per row; 9000: streaming.
        int[] classCounts = large() ? new int[] {1, 3, 10, 1000, 1025, 5000, 9000} : new int[] {1, 3, 10, 1000, 1025};
        for (DistillationSpec spec : SPECS) {
            boolean labels = spec.needsLabels() || spec.inverseTeacherTemperature() == 1 / 3.0;
            for (int cols : classCounts) {
                Random r = new Random(cols * 31L + name(spec).hashCode());
                int rows = cols >= 1000 ? 2 : 9;
                float[] s = random(r, rows * cols, -5, 5);
                float[] t = random(r, rows * cols, -5, 5);
                int[] y = labels ? labels(r, rows, cols) : null;
                assertDistillation(name(spec) + " C=" + cols, s, t, y, rows, cols, spec, false);
            }
        }
    }

    @Test
    void distillationScalarPathMatchesForMisalignedRowsAndOddClassCounts() {
        Random r = new Random(6);
        for (int cols : large() ? new int[] {12, 1000, 4000, 8200} : new int[] {12, 1000}) {
            int rows = 3;
            float[] s = random(r, rows * cols, -5, 5);
            float[] t = random(r, rows * cols, -5, 5);
            int[] y = labels(r, rows, cols);
            DistillationSpec spec = DistillationSpec.hinton(4, 0.1, 0.1, false);
            assertDistillation("misaligned C=" + cols, s, t, y, rows, cols, spec, true);
        }
    }

    @Test
    void distillationStaysAccurateForHugeLogitsAndExtremeTemperatures() {
        for (double temperature : new double[] {0.05, 1, 100}) {
            for (double scale : new double[] {1, 1e2, 1e4}) {
                Random r = new Random(Double.hashCode(temperature * 7 + scale));
                int rows = 6;
                int cols = 11;
                float[] s = random(r, rows * cols, -scale, scale);
                float[] t = random(r, rows * cols, -scale, scale);
                s[0] = (float) scale;
                t[1] = (float) -scale;
                int[] y = labels(r, rows, cols);
                String what = "T=" + temperature + " |z|≤" + scale;
                assertDistillation(what + " temperature", s, t, null, rows, cols,
                        DistillationSpec.temperature(temperature, temperature, temperature * temperature), false);
                assertDistillation(what + " temperature Tt=2Ts", s, t, null, rows, cols,
                        DistillationSpec.temperature(temperature, 2 * temperature, 1), false);
                assertDistillation(what + " hinton", s, t, y, rows, cols,
                        DistillationSpec.hinton(temperature, 0.1, 0.1, false), false);
                assertDistillation(what + " hinton hard", s, t, y, rows, cols,
                        DistillationSpec.hinton(temperature, 0.1, 0, true), false);
            }
        }
    }

    @Test
    void distillationOfEqualLogitsAndOneClassAndNoRows() {
        int rows = 3;
        int cols = 9;
        float[] s = new float[rows * cols];
        float[] t = new float[rows * cols];
        java.util.Arrays.fill(s, 1e4f);
        java.util.Arrays.fill(t, -7.25f);
        int[] y = {0, 4, 8};
        assertDistillation("equal logits", s, t, y, rows, cols, DistillationSpec.hinton(4, 0.25, 0, false), false);
        float[][] eq = distill(s, t, y, rows, cols, DistillationSpec.hinton(4, 0.25, 0, false), false);
        assertEquals(0.0, eq[0][2], 1e-7, "KL of equal distributions");

        float[][] one = distill(new float[] {3, -2, 1e4f}, new float[] {-1, 5, 0}, new int[] {0, 0, 0}, 3, 1,
                DistillationSpec.hinton(4, 0.1, 0.1, false), false);
        for (float v : one[0]) {
            assertEquals(0.0, v, 1e-12, "one class: zero loss");
        }
        for (float v : one[1]) {
            assertEquals(0.0, v, 1e-12, "one class: zero gradient");
        }

        long terms = out(3);
        long work = out(2);
        k().distillationLoss(out(1), out(1), 0, 0, 10, DistillationSpec.temperature(4, 4, 16), work, terms, out(1));
        for (float v : device().floats(terms, 3)) {
            assertTrue(Float.isNaN(v), "no rows: the batch mean of nothing is NaN, as on the CPU");
        }
    }

    private static int[] labels(Random r, int rows, int cols) {
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = r.nextInt(cols);
        }
        return y;
    }

    // ---- bias, reductions, MSE --------------------------------------------------------------------

    @Test
    void biasAddAndGradientsMatchTheCpu() {
        Random r = new Random(7);
        int[][] shapes = {{6, 10}, {5, 4, 3, 7}, {300, 33}};
        for (int[] shape : shapes) {
            int n = Shapes.size(shape);
            int channels = shape[1];
            int inner = n / (shape[0] * channels);
            float[] x = random(r, n, -3, 3);
            float[] bias = random(r, channels, -1, 1);
            int[] biasShape = new int[shape.length - 1];
            java.util.Arrays.fill(biasShape, 1);
            biasShape[0] = channels;
            NdArray o = cpuEmpty(DType.FLOAT32, shape);
            CPU.binary(BinaryOp.ADD, cpu(x, shape), cpu(bias, biasShape), o);
            long dx = device().upload(x);
            long db = device().upload(bias);
            long dy = out(n);
            k().biasAdd(dx, db, dy, n, channels, inner);
            assertUlps("biasAdd " + Shapes.format(shape), CPU.toFloats(o), device().floats(dy, n), 0);

            int[] target = new int[shape.length];
            java.util.Arrays.fill(target, 1);
            target[1] = channels;
            NdArray g = cpuEmpty(DType.FLOAT32, target);
            CPU.sumTo(cpu(x, shape), g);
            long dg = out(channels);
            k().biasGrad(dx, dg, shape[0], channels, inner);
            assertClose("biasGrad " + Shapes.format(shape), toDoubles(CPU.toFloats(g)), toDoubles(device().floats(dg,
                    channels)), 1e-6, 1);
        }
    }

    @Test
    void sumToMatchesTheCpuForEveryPattern() {
        Random r = new Random(8);
        int[][][] cases = {
            {{7, 5}, {5}}, {{7, 5}, {7, 1}}, {{7, 5}, {1, 1}}, {{7, 5}, {}}, {{7, 5}, {7, 5}},
            {{3, 4, 5, 6}, {1, 4, 1, 1}}, {{3, 4, 5, 6}, {4, 1, 1}}, {{3, 4, 5, 6}, {3, 1, 5, 1}},
            {{3, 4, 5, 6}, {1, 4, 1, 6}}, {{2, 1, 3}, {1, 1, 3}}, {{0, 3}, {3}},
        };
        long work = device().allocate(ReducePlans.reduceWorkspaceBytes());
        for (int[][] c : cases) {
            int n = Shapes.size(c[0]);
            int m = Shapes.size(c[1]);
            float[] x = random(r, n, -2, 2);
            NdArray o = cpuEmpty(DType.FLOAT32, c[1]);
            CPU.sumTo(cpu(x, c[0]), o);
            long dx = device().upload(x);
            long dy = out(m);
            k().sumTo(dx, c[0], dy, c[1], work);
            assertClose("sumTo " + Shapes.format(c[0]) + " → " + Shapes.format(c[1]), toDoubles(CPU.toFloats(o)),
                    toDoubles(device().floats(dy, m)), 1e-6, 1);
        }
    }

    @Test
    void sumAndNonFiniteCountAreExactAndDeterministic() {
        Random r = new Random(9);
        long work = device().allocate(ReducePlans.reduceWorkspaceBytes());
        for (int n : new int[] {0, 1, 255, 5000, large() ? 300_001 : 20_001}) {
            float[] x = random(r, n, -1, 1);
            double expected = 0;
            for (float v : x) {
                expected += v;
            }
            long dx = device().upload(x);
            long dsum = out(1);
            k().sum(dx, n, work, dsum);
            float first = device().floats(dsum, 1)[0];
            assertEquals((float) expected, first, 1e-6 * Math.max(1, Math.abs(expected)), "sum of " + n);
            k().sum(dx, n, work, dsum);
            assertEquals(Float.floatToIntBits(first), Float.floatToIntBits(device().floats(dsum, 1)[0]),
                    "the same sum twice");
            if (n >= 255) {
                x[3] = Float.NaN;
                x[100] = Float.NEGATIVE_INFINITY;
                x[n - 1] = Float.POSITIVE_INFINITY;
            }
            device().writeFloats(dx, x);
            long dcount = out(2);
            k().countNonFinite(dx, n, work, dcount);
            NdArray cx = cpu(x, n);
            assertEquals(CPU.countNonFinite(cx), device().longs(dcount, 1)[0], "non-finite of " + n);
        }
    }

    @Test
    void mseForwardAndBackwardMatchTheCompositeOnTheCpu() {
        Random r = new Random(10);
        int n = 2 * 16 * 7 * 7;
        float[] a = random(r, n, -2, 2);
        float[] b = random(r, n, -2, 2);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float d = a[i] - b[i];
            sum += d * d;
        }
        long da = device().upload(a);
        long db = device().upload(b);
        long work = device().allocate(ReducePlans.reduceWorkspaceBytes());
        long loss = out(1);
        k().mseForward(da, db, n, work, loss);
        assertEquals(sum / n, device().floats(loss, 1)[0], 1e-6 * sum / n, "mse");

        float gl = 0.37f;
        long dgl = device().upload(new float[] {gl});
        long ga = out(n);
        long gb = out(n);
        k().mseBackward(da, db, dgl, ga, gb, n);
        float[] expectedA = new float[n];
        float[] expectedB = new float[n];
        for (int i = 0; i < n; i++) {
            expectedA[i] = (float) (gl * (2.0 / n) * (a[i] - b[i]));
            expectedB[i] = -expectedA[i];
        }
        assertUlps("mse gradA", expectedA, device().floats(ga, n), 0);
        assertUlps("mse gradB", expectedB, device().floats(gb, n), 0);
    }

    // ---- optimizers -----------------------------------------------------------------------------

    @Test
    void sgdAndAdamwStepsAreBitIdenticalToTheCpu() {
        Random r = new Random(11);
        int n = 1001;
        float[] p0 = random(r, n, -1, 1);
        double[][] sgd = {{0.1, 0, 0, 0, 0}, {0.05, 0.9, 0.1, 1e-4, 0}, {0.05, 0.9, 0, 5e-4, 1}};
        for (double[] c : sgd) {
            NdArray p = cpu(p0.clone(), n);
            NdArray buffer = c[1] != 0 ? cpuEmpty(DType.FLOAT32, n) : null;
            long dp = device().upload(p0);
            long dbuf = c[1] != 0 ? out(n) : 0;
            for (int step = 0; step < 4; step++) {
                float[] g = random(r, n, -1, 1);
                CPU.sgdStep(p, cpu(g, n), buffer, c[0], c[1], c[2], c[3], c[4] == 1, step == 0);
                k().sgdStep(dp, device().upload(g), dbuf, n, c[0], c[1], c[2], c[3], c[4] == 1, step == 0);
            }
            assertUlps("sgd " + java.util.Arrays.toString(c), CPU.toFloats(p), device().floats(dp, n), 0);
            if (buffer != null) {
                assertUlps("sgd buffer", CPU.toFloats(buffer), device().floats(dbuf, n), 0);
            }
        }
        NdArray p = cpu(p0.clone(), n);
        NdArray m = cpu(new float[n], n);
        NdArray v = cpu(new float[n], n);
        long dp = device().upload(p0);
        long dm = out(n);
        long dv = out(n);
        for (int step = 1; step <= 5; step++) {
            float[] g = random(r, n, -1, 1);
            CPU.adamwStep(p, cpu(g, n), m, v, 1e-3, 0.9, 0.999, 1e-8, 0.01, step);
            k().adamwStep(dp, device().upload(g), dm, dv, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, step);
        }
        assertUlps("adamw param", CPU.toFloats(p), device().floats(dp, n), 0);
        assertUlps("adamw m", CPU.toFloats(m), device().floats(dm, n), 0);
        assertUlps("adamw v", CPU.toFloats(v), device().floats(dv, n), 0);
    }

    // ---- metrics --------------------------------------------------------------------------------

    @Test
    void argmaxAccuracyAndCalibrationBinsMatchTheCpu() {
        Random r = new Random(12);
        int rows = 300;
        int cols = 10;
        float[] x = random(r, rows * cols, -3, 3);
        x[5 * cols + 2] = 9;
        x[5 * cols + 7] = 9; // a tie: the first wins
        x[6 * cols] = Float.NaN; // NaN first: index 0, as the CPU's scan
        x[7 * cols + 4] = Float.NaN; // NaN elsewhere never wins
        int[] labels = labels(r, rows, cols);
        NdArray idx = cpuEmpty(DType.INT32, rows);
        CPU.argmaxLastDim(cpu(x, rows, cols), idx);
        long dx = device().upload(x);
        long di = out(rows);
        k().argmaxLastDim(dx, di, rows, cols);
        int[] predicted = device().ints(di, rows);
        assertEquals(java.util.Arrays.toString(CPU.toInts(idx)), java.util.Arrays.toString(predicted), "argmax");

        long dl = device().upload(labels);
        long work = device().allocate(ReducePlans.reduceWorkspaceBytes());
        long count = out(2);
        k().countEqual(di, dl, rows, work, count);
        long correct = 0;
        for (int i = 0; i < rows; i++) {
            correct += predicted[i] == labels[i] ? 1 : 0;
        }
        assertEquals(correct, device().longs(count, 1)[0], "correct predictions");

        float[] clean = random(r, rows * cols, -4, 4);
        long dc = device().upload(clean);
        for (double temperature : new double[] {0.5, 1, 2.5}) {
            long ew = device().allocate(MetricsPlans.eceWorkspaceBytes(rows));
            long bins = device().allocate(8L * 3 * Calibration.DEFAULT_BINS);
            k().eceBins(dc, dl, rows, cols, temperature, Calibration.DEFAULT_BINS, ew, bins);
            double[] sums = device().doubles(bins, 3 * Calibration.DEFAULT_BINS);
            double expected = Calibration.expectedCalibrationError(clean, labels, cols, temperature,
                    Calibration.DEFAULT_BINS);
            assertEquals(expected, CudaKernels.expectedCalibrationError(sums, rows), 1e-12, "ECE at T=" + temperature);
            double total = 0;
            for (int b = 0; b < Calibration.DEFAULT_BINS; b++) {
                total += sums[3 * b];
            }
            assertEquals(rows, total, "every row in one bin");
        }
    }
}
