package dev.retort.backend.cpu;

import dev.retort.backend.BinaryOp;
import dev.retort.backend.ConvGeometry;
import dev.retort.backend.CounterRng;
import dev.retort.backend.Shapes;
import dev.retort.backend.UnaryOp;

/**
 * Float32 kernels for the memory-bound primitives: simple loops that C2 vectorises, split over
 * threads when an array is large enough to pay for it. Loops it compiled poorly inside these bodies
 * (relu, batch norm's passes) call {@link FloatMath}'s element-wise primitives instead. Accumulations
 * run in double where a sum spans many elements, so results match {@link ReferenceKernels} to float
 * precision.
 */
final class FloatKernels {
    /** Below this many elements a loop runs on the calling thread. */
    private static final int GRAIN = 1 << 15;

    private FloatKernels() {}

    static void unary(UnaryOp op, float[] x, int xo, float[] out, int oo, int n) {
        FloatMath math = FloatMath.get();
        Parallel.forRange(0, n, GRAIN, (lo, hi) -> {
            switch (op) {
                // Math.max, not a ternary: it keeps NaN as PyTorch's relu does, and random signs cost no branches.
                case RELU -> math.relu(x, xo + lo, out, oo + lo, hi - lo);
                case NEG -> {
                    for (int i = lo; i < hi; i++) {
                        out[oo + i] = -x[xo + i];
                    }
                }
                case SQUARE -> {
                    for (int i = lo; i < hi; i++) {
                        out[oo + i] = x[xo + i] * x[xo + i];
                    }
                }
                default -> {
                    for (int i = lo; i < hi; i++) {
                        out[oo + i] = (float) ReferenceKernels.unary(op, x[xo + i]);
                    }
                }
            }
        });
    }

    /**
     * Same-shape operands, a scalar operand, and a trailing broadcast (a bias over rows, a channel
     * over planes) run here; returns false for any other pattern, which the reference handles.
     */
    static boolean binary(BinaryOp op, float[] a, int ao, int[] aShape, float[] b, int bo, int[] bShape, float[] out,
                          int oo, int[] outShape) {
        int n = Shapes.size(outShape);
        int aSize = Shapes.size(aShape);
        int bSize = Shapes.size(bShape);
        if (aSize == n && bSize == n && op == BinaryOp.RELU_BACKWARD) {
            FloatMath math = FloatMath.get();
            Parallel.forRange(0, n, GRAIN, (lo, hi) -> math.reluBackward(a, ao + lo, b, bo + lo, out, oo + lo, hi - lo));
            return true;
        }
        if (aSize == n && bSize == n) {
            Parallel.forRange(0, n, GRAIN, (lo, hi) -> apply(op, a, ao + lo, b, bo + lo, false, out, oo + lo, hi - lo));
            return true;
        }
        if (aSize == n) {
            int[] b4 = Shapes.padLeft(bShape, outShape.length);
            int inner = innerRepeat(b4, outShape);
            if (inner < 0) {
                return false;
            }
            if (inner == 1 && bSize > 1) {
                // b is a trailing block (a bias over rows): each run of bSize output elements meets all of b.
                int rows = n / bSize;
                Parallel.forRange(0, rows, Math.max(1, GRAIN / bSize), (lo, hi) -> {
                    for (int r = lo; r < hi; r++) {
                        apply(op, a, ao + r * bSize, b, bo, false, out, oo + r * bSize, bSize);
                    }
                });
                return true;
            }
            // b is constant over runs of `inner` consecutive elements and cycles every bSize runs.
            int runs = n / Math.max(1, inner);
            Parallel.forRange(0, runs, Math.max(1, GRAIN / Math.max(1, inner)), (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    apply(op, a, ao + r * inner, b, bo + r % bSize, true, out, oo + r * inner, inner);
                }
            });
            return true;
        }
        return false;
    }

    /**
     * For b broadcast against out where b's non-unit dimensions are contiguous and followed only by
     * broadcast dimensions: the number of consecutive output elements that share one b value.
     * Returns -1 for other patterns. Leading broadcast dimensions are fine (b cycles).
     */
    private static int innerRepeat(int[] b, int[] out) {
        int inner = 1;
        int d = out.length - 1;
        while (d >= 0 && b[d] == 1) {
            inner *= out[d];
            d--;
        }
        while (d >= 0 && b[d] == out[d]) {
            d--;
        }
        while (d >= 0) {
            if (b[d] != 1) {
                return -1;
            }
            d--;
        }
        return inner;
    }

    /** out = op(a, b) over a run of n elements; with bConstant, b[bo] is held for the whole run. */
    private static void apply(BinaryOp op, float[] a, int ao, float[] b, int bo, boolean bConstant, float[] out,
                              int oo, int n) {
        if (bConstant) {
            float bv = b[bo];
            switch (op) {
                case ADD -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] + bv; }
                case SUB -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] - bv; }
                case MUL -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] * bv; }
                case DIV -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] / bv; }
                case RELU_BACKWARD -> { for (int i = 0; i < n; i++) out[oo + i] = bv > 0 ? a[ao + i] : 0f; }
                default -> { for (int i = 0; i < n; i++) out[oo + i] = reference(op, a[ao + i], bv); }
            }
            return;
        }
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] + b[bo + i]; }
            case SUB -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] - b[bo + i]; }
            case MUL -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] * b[bo + i]; }
            case DIV -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] / b[bo + i]; }
            case RELU_BACKWARD -> { for (int i = 0; i < n; i++) out[oo + i] = b[bo + i] > 0 ? a[ao + i] : 0f; }
            default -> { for (int i = 0; i < n; i++) out[oo + i] = reference(op, a[ao + i], b[bo + i]); }
        }
    }

    /**
     * An op without a float32 loop of its own (a new one): the float64 specification, rounded once. Exact for any
     * op that IEEE rounds (float32 operands fit a double with room to spare), close for the rest.
     */
    private static float reference(BinaryOp op, float a, float b) {
        return (float) ReferenceKernels.binary(op, a, b);
    }

    static void affine(float[] x, int xo, float alpha, float beta, float[] out, int oo, int n) {
        Parallel.forRange(0, n, GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                out[oo + i] = alpha * x[xo + i] + beta;
            }
        });
    }

    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        Parallel.forRange(0, n, GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                y[yo + i] += alpha * x[xo + i];
            }
        });
    }

    /**
     * The reference's {@code uniform(seed, i) ≥ p} in integers: a draw is k·2⁻²⁴, so it is kept exactly
     * when k ≥ ⌈p·2²⁴⌉. Comparing integers without a branch avoids a misprediction per element.
     */
    static void dropoutMask(long seed, double p, float[] mask, int mo, int n) {
        float keep = (float) (1.0 / (1.0 - p));
        long key = CounterRng.key(seed);
        long threshold = (long) Math.ceil(p * 0x1.0p24);
        Parallel.forRange(0, n, GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                long kept = (threshold - 1 - CounterRng.bits24(key, i)) >>> 63;
                mask[mo + i] = keep * kept;
            }
        });
    }

    /**
     * Sums over leading dimensions (a bias gradient) or over everything but one middle dimension (a
     * channel gradient); returns false for other patterns.
     */
    static boolean sumTo(float[] x, int xo, int[] xShape, float[] out, int oo, int[] outShape) {
        int n = Shapes.size(xShape);
        int m = Shapes.size(outShape);
        // Find out = [1.., kept.., 1..] where the kept block matches x.
        int first = 0;
        while (first < outShape.length && outShape[first] == 1 && xShape[first] != 1) {
            first++;
        }
        int last = outShape.length;
        while (last > first && outShape[last - 1] == 1 && xShape[last - 1] != 1) {
            last--;
        }
        for (int d = first; d < last; d++) {
            if (outShape[d] != xShape[d]) {
                return false;
            }
        }
        int innerSize = 1;
        for (int d = last; d < xShape.length; d++) {
            innerSize *= xShape[d];
        }
        final int inner = innerSize;
        int outer = m == 0 ? 0 : n / (m * Math.max(1, inner));
        if (m == 0) {
            return true;
        }
        if (inner == 0) {
            java.util.Arrays.fill(out, oo, oo + m, 0f);
            return true;
        }
        if (inner == 1) {
            // Sums down the columns of an outer × m matrix (a bias gradient over a batch): row by row, so that the
            // reads run along memory; the same additions in the same order as one column at a time.
            Parallel.forRange(0, m, Math.max(1, GRAIN / Math.max(1, outer)), (lo, hi) -> {
                double[] sums = new double[hi - lo];
                for (int o = 0; o < outer; o++) {
                    int row = xo + o * m;
                    for (int j = lo; j < hi; j++) {
                        sums[j - lo] += x[row + j];
                    }
                }
                for (int j = lo; j < hi; j++) {
                    out[oo + j] = (float) sums[j - lo];
                }
            });
            return true;
        }
        FloatMath math = FloatMath.get();
        Parallel.forRange(0, m, Math.max(1, GRAIN / Math.max(1, outer * inner)), (lo, hi) -> {
            for (int j = lo; j < hi; j++) {
                double sum = 0;
                for (int o = 0; o < outer; o++) {
                    sum += math.sum(x, xo + (o * m + j) * inner, inner);
                }
                out[oo + j] = (float) sum;
            }
        });
        return true;
    }

    /** Max pooling forward (gy == null) or backward, one plane per task; the first maximum wins. */
    static void maxPool2d(ConvGeometry s, float[] x, int xo, float[] y, int yo, float[] gy, int gyo,
                          float[] gx, int gxo) {
        int planes = s.batch() * s.inChannels();
        int h = s.height();
        int w = s.width();
        int oh = s.outHeight();
        int ow = s.outWidth();
        if (s.kernelH() == 2 && s.kernelW() == 2 && s.strideH() == 2 && s.strideW() == 2 && s.padH() == 0
                && s.padW() == 0) {
            maxPool2x2(planes, h, w, x, xo, y, yo, gy, gyo, gx, gxo);
            return;
        }
        Parallel.forRange(0, planes, Math.max(1, GRAIN / Math.max(1, h * w)), (lo, hi) -> {
            for (int plane = lo; plane < hi; plane++) {
                int xBase = xo + plane * h * w;
                if (gx != null) {
                    java.util.Arrays.fill(gx, gxo + plane * h * w, gxo + (plane + 1) * h * w, 0f);
                }
                for (int i = 0; i < oh; i++) {
                    int r0 = Math.max(0, i * s.strideH() - s.padH());
                    int r1 = Math.min(h, i * s.strideH() - s.padH() + s.kernelH());
                    for (int j = 0; j < ow; j++) {
                        int c0 = Math.max(0, j * s.strideW() - s.padW());
                        int c1 = Math.min(w, j * s.strideW() - s.padW() + s.kernelW());
                        int best = r0 * w + c0;
                        float max = x[xBase + best];
                        for (int r = r0; r < r1; r++) {
                            for (int c = c0; c < c1; c++) {
                                float v = x[xBase + r * w + c];
                                if (v > max || v != v && max == max) {
                                    max = v;
                                    best = r * w + c;
                                }
                            }
                        }
                        int yi = (plane * oh + i) * ow + j;
                        if (gy == null) {
                            y[yo + yi] = max;
                        } else {
                            gx[gxo + plane * h * w + best] += gy[gyo + yi];
                        }
                    }
                }
            }
        });
    }

    /**
     * The common 2×2, stride-2 window without padding: the forward pass is a branch-free max of four,
     * the backward pass routes each gradient to the first maximum (NaN counting as the maximum).
     */
    private static void maxPool2x2(int planes, int h, int w, float[] x, int xo, float[] y, int yo, float[] gy,
                                   int gyo, float[] gx, int gxo) {
        int oh = h / 2;
        int ow = w / 2;
        Parallel.forRange(0, planes, Math.max(1, GRAIN / Math.max(1, h * w)), (lo, hi) -> {
            for (int plane = lo; plane < hi; plane++) {
                int xBase = xo + plane * h * w;
                int yBase = plane * oh * ow;
                if (gx != null && (h % 2 != 0 || w % 2 != 0)) {
                    // The windows write every element of an even plane; an odd one has a last row or column that
                    // no window reaches.
                    java.util.Arrays.fill(gx, gxo + plane * h * w, gxo + (plane + 1) * h * w, 0f);
                }
                for (int i = 0; i < oh; i++) {
                    int top = xBase + 2 * i * w;
                    int bottom = top + w;
                    if (gy == null) {
                        for (int j = 0; j < ow; j++) {
                            float m0 = Math.max(x[top + 2 * j], x[top + 2 * j + 1]);
                            float m1 = Math.max(x[bottom + 2 * j], x[bottom + 2 * j + 1]);
                            y[yo + yBase + i * ow + j] = Math.max(m0, m1);
                        }
                        continue;
                    }
                    int gxTop = gxo + (top - xo);
                    int gxBottom = gxTop + w;
                    for (int j = 0; j < ow; j++) {
                        float a = x[top + 2 * j];
                        float b = x[top + 2 * j + 1];
                        float c = x[bottom + 2 * j];
                        float d = x[bottom + 2 * j + 1];
                        float m = Math.max(Math.max(a, b), Math.max(c, d));
                        // The first element equal to the maximum (or NaN, when the maximum is NaN) takes the
                        // gradient and the other three get zero. Which one wins is random on real data, so the
                        // choice is made with bit masks rather than branches the CPU would mispredict.
                        int takesA = a == m | a != a ? -1 : 0;
                        int takesB = ~takesA & (b == m | b != b ? -1 : 0);
                        int takesC = ~(takesA | takesB) & (c == m | c != c ? -1 : 0);
                        int takesD = ~(takesA | takesB | takesC);
                        int g = Float.floatToRawIntBits(gy[gyo + yBase + i * ow + j]);
                        gx[gxTop + 2 * j] = Float.intBitsToFloat(g & takesA);
                        gx[gxTop + 2 * j + 1] = Float.intBitsToFloat(g & takesB);
                        gx[gxBottom + 2 * j] = Float.intBitsToFloat(g & takesC);
                        gx[gxBottom + 2 * j + 1] = Float.intBitsToFloat(g & takesD);
                    }
                }
            }
        });
    }

    static void batchNormTrainForward(float[] x, int xo, int n, int c, int spatial, float[] gamma, int go,
                                      float[] beta, int bo, float eps, float[] y, int yo, float[] mean, int mo,
                                      float[] variance, int vo) {
        FloatMath math = FloatMath.get();
        Parallel.forRange(0, c, 1, (lo, hi) -> {
            for (int ch = lo; ch < hi; ch++) {
                double sum = 0;
                for (int b = 0; b < n; b++) {
                    sum += math.sum(x, xo + (b * c + ch) * spatial, spatial);
                }
                double count = (double) n * spatial;
                float m = (float) (sum / count);
                double squares = 0;
                for (int b = 0; b < n; b++) {
                    squares += math.squaredDeviations(x, xo + (b * c + ch) * spatial, spatial, m);
                }
                float v = (float) (squares / count);
                float scale = (float) (gamma[go + ch] / Math.sqrt(v + (double) eps));
                float shift = beta[bo + ch] - m * scale;
                for (int b = 0; b < n; b++) {
                    int base = (b * c + ch) * spatial;
                    math.scaleShift(x, xo + base, scale, shift, y, yo + base, spatial);
                }
                mean[mo + ch] = m;
                variance[vo + ch] = v;
            }
        });
    }

    /**
     * Eval-mode batch norm with the running statistics: y = x·scale + shift per channel, scale = γ / √(var + ε) and
     * shift = β − mean·scale, each folded once in double. It runs a plane at a time, in parallel over all N·C planes,
     * where the double-precision reference took a fifth of cnn-teacher's eval forward pass.
     */
    static void batchNormEvalForward(float[] x, int xo, int n, int c, int spatial, float[] gamma, int go,
                                     float[] beta, int bo, float[] mean, int mo, float[] variance, int vo, float eps,
                                     float[] y, int yo) {
        float[] scale = new float[c];
        float[] shift = new float[c];
        for (int ch = 0; ch < c; ch++) {
            double s = gamma[go + ch] / Math.sqrt(variance[vo + ch] + (double) eps);
            scale[ch] = (float) s;
            shift[ch] = (float) (beta[bo + ch] - mean[mo + ch] * s);
        }
        FloatMath math = FloatMath.get();
        int grain = Math.max(1, (1 << 14) / Math.max(1, spatial));
        Parallel.forRange(0, n * c, grain, (lo, hi) -> {
            for (int plane = lo; plane < hi; plane++) {
                int ch = plane % c;
                int base = plane * spatial;
                math.scaleShift(x, xo + base, scale[ch], shift[ch], y, yo + base, spatial);
            }
        });
    }

    static void batchNormBackward(float[] gy, int gyo, float[] x, int xo, int n, int c, int spatial, float[] gamma,
                                  int go, float[] mean, int mo, float[] variance, int vo, float eps,
                                  boolean training, float[] gx, int gxo, float[] gGamma, int ggo, float[] gBeta,
                                  int gbo) {
        FloatMath math = FloatMath.get();
        Parallel.forRange(0, c, 1, (lo, hi) -> {
            for (int ch = lo; ch < hi; ch++) {
                float m = mean[mo + ch];
                float invStd = (float) (1.0 / Math.sqrt(variance[vo + ch] + (double) eps));
                double sumGy = 0;
                double sumGyCentered = 0;
                for (int b = 0; b < n; b++) {
                    int base = (b * c + ch) * spatial;
                    sumGy += math.sum(gy, gyo + base, spatial);
                    sumGyCentered += math.centeredProducts(gy, gyo + base, x, xo + base, spatial, m);
                }
                float sumGyXhat = (float) (sumGyCentered * invStd);
                gGamma[ggo + ch] = sumGyXhat;
                gBeta[gbo + ch] = (float) sumGy;
                float count = (float) n * spatial;
                float scale = gamma[go + ch] * invStd;
                // dx = scale·(dy − mean(dy) − x̂·mean(dy·x̂)) in training, scale·dy otherwise.
                float meanGy = training ? (float) (sumGy / count) : 0f;
                float k = training ? sumGyXhat / count * invStd : 0f;
                for (int b = 0; b < n; b++) {
                    int base = (b * c + ch) * spatial;
                    math.batchNormGradient(gy, gyo + base, x, xo + base, spatial, scale, meanGy, m, k, gx, gxo + base);
                }
            }
        });
    }

    static void softmax(float[] x, int xo, int rows, int cols, float temperature, boolean log, float[] y, int yo) {
        float inverseT = 1f / temperature;
        Parallel.forRange(0, rows, Math.max(1, GRAIN / Math.max(1, cols)), (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int base = r * cols;
                float max = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < cols; c++) {
                    max = Math.max(max, x[xo + base + c]);
                }
                double sum = 0;
                for (int c = 0; c < cols; c++) {
                    sum += Math.exp((x[xo + base + c] - max) * inverseT);
                }
                float logSum = (float) Math.log(sum);
                for (int c = 0; c < cols; c++) {
                    float shifted = (x[xo + base + c] - max) * inverseT - logSum;
                    y[yo + base + c] = log ? shifted : (float) Math.exp(shifted);
                }
            }
        });
    }

    static void sgdStep(float[] p, int po, float[] g, int go, float[] buffer, int bo, int n, float lr, float momentum,
                        float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        Parallel.forRange(0, n, GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                float d = g[go + i] + weightDecay * p[po + i];
                if (momentum != 0) {
                    float b = firstStep ? d : momentum * buffer[bo + i] + (1 - dampening) * d;
                    buffer[bo + i] = b;
                    d = nesterov ? d + momentum * b : b;
                }
                p[po + i] -= lr * d;
            }
        });
    }

    static void adamwStep(float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int n, double lr,
                          double beta1, double beta2, double eps, double weightDecay, long step) {
        float decay = (float) (1 - lr * weightDecay);
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        // 1 − β in double: 1 − (float) 0.999 is off by 1.3e-5 relative, a bias on every second moment.
        float oneMinusB1 = (float) (1 - beta1);
        float oneMinusB2 = (float) (1 - beta2);
        float stepSize = (float) (lr / (1 - Math.pow(beta1, step)));
        float inverseCorrection2 = (float) (1 / Math.sqrt(1 - Math.pow(beta2, step)));
        float epsilon = (float) eps;
        Parallel.forRange(0, n, GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                float grad = g[go + i];
                float mi = b1 * m[mo + i] + oneMinusB1 * grad;
                float vi = b2 * v[vo + i] + oneMinusB2 * grad * grad;
                m[mo + i] = mi;
                v[vo + i] = vi;
                p[po + i] = p[po + i] * decay - stepSize * mi / ((float) Math.sqrt(vi) * inverseCorrection2 + epsilon);
            }
        });
    }
}
