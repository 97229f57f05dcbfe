package dev.retort.backend.cpu;

import dev.retort.backend.BinaryOp;
import dev.retort.backend.ConvGeometry;
import dev.retort.backend.CounterRng;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.Shapes;
import dev.retort.backend.UnaryOp;

/**
 * The specification of every primitive as plain double-precision loops: float64 tensors run on it
 * directly, and the fast float32 kernels (and later the GPU's) are validated against it. Clarity
 * wins over speed here. Arrays are (data, offset) pairs; shapes come separately.
 */
final class ReferenceKernels {
    private ReferenceKernels() {}

    static double unary(UnaryOp op, double v) {
        return switch (op) {
            case NEG -> -v;
            case EXP -> Math.exp(v);
            case LOG -> Math.log(v);
            case RELU -> Math.max(v, 0.0);
            case SQRT -> Math.sqrt(v);
            case SQUARE -> v * v;
        };
    }

    static double binary(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case RELU_BACKWARD -> b > 0 ? a : 0.0;
        };
    }

    static void unary(UnaryOp op, double[] x, int xo, double[] out, int oo, int n) {
        for (int i = 0; i < n; i++) {
            out[oo + i] = unary(op, x[xo + i]);
        }
    }

    static void binary(BinaryOp op, double[] a, int ao, int[] aShape, double[] b, int bo, int[] bShape,
                       double[] out, int oo, int[] outShape) {
        int[] as = Shapes.broadcastStrides(aShape, outShape);
        int[] bs = Shapes.broadcastStrides(bShape, outShape);
        int n = Shapes.size(outShape);
        int[] index = new int[outShape.length];
        for (int i = 0; i < n; i++) {
            int ai = ao;
            int bi = bo;
            for (int d = 0; d < index.length; d++) {
                ai += index[d] * as[d];
                bi += index[d] * bs[d];
            }
            out[oo + i] = binary(op, a[ai], b[bi]);
            increment(index, outShape);
        }
    }

    /** Advances a row-major multi-index by one. */
    static void increment(int[] index, int[] shape) {
        for (int d = shape.length - 1; d >= 0; d--) {
            if (++index[d] < shape[d]) {
                return;
            }
            index[d] = 0;
        }
    }

    static void broadcastTo(double[] x, int xo, int[] xShape, double[] out, int oo, int[] outShape) {
        int[] xs = Shapes.broadcastStrides(xShape, outShape);
        int n = Shapes.size(outShape);
        int[] index = new int[outShape.length];
        for (int i = 0; i < n; i++) {
            int xi = xo;
            for (int d = 0; d < index.length; d++) {
                xi += index[d] * xs[d];
            }
            out[oo + i] = x[xi];
            increment(index, outShape);
        }
    }

    static void sumTo(double[] x, int xo, int[] xShape, double[] out, int oo, int[] outShape) {
        int[] os = Shapes.broadcastStrides(outShape, xShape);
        int outSize = Shapes.size(outShape);
        for (int i = 0; i < outSize; i++) {
            out[oo + i] = 0;
        }
        int n = Shapes.size(xShape);
        int[] index = new int[xShape.length];
        for (int i = 0; i < n; i++) {
            int oi = oo;
            for (int d = 0; d < index.length; d++) {
                oi += index[d] * os[d];
            }
            out[oi] += x[xo + i];
            increment(index, xShape);
        }
    }

    static void argmax(double[] x, int xo, int rows, int cols, int[] out, int oo) {
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int c = 1; c < cols; c++) {
                if (x[xo + r * cols + c] > x[xo + r * cols + best]) {
                    best = c;
                }
            }
            out[oo + r] = best;
        }
    }

    /** One matrix of a (batched) product; op(a) is m×k, op(b) is k×n. */
    static void matmul(double[] a, int ao, boolean ta, double[] b, int bo, boolean tb, double[] out, int oo,
                       int m, int n, int k) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    double av = ta ? a[ao + p * m + i] : a[ao + i * k + p];
                    double bv = tb ? b[bo + j * k + p] : b[bo + p * n + j];
                    sum += av * bv;
                }
                out[oo + i * n + j] = sum;
            }
        }
    }

    static void transpose(double[] x, int xo, int rows, int cols, double[] out, int oo) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[oo + c * rows + r] = x[xo + r * cols + c];
            }
        }
    }

    static void conv2dForward(ConvGeometry g, double[] x, int xo, double[] w, int wo, double[] bias, int bo,
                              double[] y, int yo) {
        for (int b = 0; b < g.batch(); b++) {
            for (int o = 0; o < g.outChannels(); o++) {
                for (int i = 0; i < g.outHeight(); i++) {
                    for (int j = 0; j < g.outWidth(); j++) {
                        double sum = bias == null ? 0 : bias[bo + o];
                        for (int c = 0; c < g.inChannels(); c++) {
                            for (int u = 0; u < g.kernelH(); u++) {
                                int row = i * g.strideH() - g.padH() + u;
                                if (row < 0 || row >= g.height()) {
                                    continue;
                                }
                                for (int v = 0; v < g.kernelW(); v++) {
                                    int col = j * g.strideW() - g.padW() + v;
                                    if (col >= 0 && col < g.width()) {
                                        int xi = ((b * g.inChannels() + c) * g.height() + row) * g.width() + col;
                                        int wi = ((o * g.inChannels() + c) * g.kernelH() + u) * g.kernelW() + v;
                                        sum += x[xo + xi] * w[wo + wi];
                                    }
                                }
                            }
                        }
                        y[yo + ((b * g.outChannels() + o) * g.outHeight() + i) * g.outWidth() + j] = sum;
                    }
                }
            }
        }
    }

    /** Both convolution gradients in one walk; either output may be null (gb too). */
    static void conv2dBackward(ConvGeometry g, double[] gy, int gyo, double[] x, int xo, double[] w, int wo,
                               double[] gx, int gxo, double[] gw, int gwo, double[] gb, int gbo) {
        if (gx != null) {
            java.util.Arrays.fill(gx, gxo, gxo + g.batch() * g.inChannels() * g.height() * g.width(), 0);
        }
        if (gw != null) {
            java.util.Arrays.fill(gw, gwo, gwo + g.outChannels() * g.inChannels() * g.kernelH() * g.kernelW(), 0);
        }
        if (gb != null) {
            java.util.Arrays.fill(gb, gbo, gbo + g.outChannels(), 0);
        }
        for (int b = 0; b < g.batch(); b++) {
            for (int o = 0; o < g.outChannels(); o++) {
                for (int i = 0; i < g.outHeight(); i++) {
                    for (int j = 0; j < g.outWidth(); j++) {
                        double d = gy[gyo + ((b * g.outChannels() + o) * g.outHeight() + i) * g.outWidth() + j];
                        if (gb != null) {
                            gb[gbo + o] += d;
                        }
                        for (int c = 0; c < g.inChannels(); c++) {
                            for (int u = 0; u < g.kernelH(); u++) {
                                int row = i * g.strideH() - g.padH() + u;
                                if (row < 0 || row >= g.height()) {
                                    continue;
                                }
                                for (int v = 0; v < g.kernelW(); v++) {
                                    int col = j * g.strideW() - g.padW() + v;
                                    if (col < 0 || col >= g.width()) {
                                        continue;
                                    }
                                    int xi = ((b * g.inChannels() + c) * g.height() + row) * g.width() + col;
                                    int wi = ((o * g.inChannels() + c) * g.kernelH() + u) * g.kernelW() + v;
                                    if (gx != null) {
                                        gx[gxo + xi] += d * w[wo + wi];
                                    }
                                    if (gw != null) {
                                        gw[gwo + wi] += d * x[xo + xi];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Max pooling forward (gy == null) or backward; the window's first maximum wins, padding never
     * does.
     */
    static void maxPool(ConvGeometry g, double[] x, int xo, double[] y, int yo, double[] gy, int gyo, double[] gx,
                        int gxo) {
        if (gx != null) {
            java.util.Arrays.fill(gx, gxo, gxo + g.batch() * g.inChannels() * g.height() * g.width(), 0);
        }
        for (int plane = 0; plane < g.batch() * g.inChannels(); plane++) {
            for (int i = 0; i < g.outHeight(); i++) {
                for (int j = 0; j < g.outWidth(); j++) {
                    int best = -1;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u < g.kernelH(); u++) {
                        int row = i * g.strideH() - g.padH() + u;
                        for (int v = 0; v < g.kernelW(); v++) {
                            int col = j * g.strideW() - g.padW() + v;
                            if (row < 0 || row >= g.height() || col < 0 || col >= g.width()) {
                                continue;
                            }
                            int xi = (plane * g.height() + row) * g.width() + col;
                            double value = x[xo + xi];
                            if (best < 0 || value > max || Double.isNaN(value) && !Double.isNaN(max)) {
                                best = xi;
                                max = value;
                            }
                        }
                    }
                    int yi = (plane * g.outHeight() + i) * g.outWidth() + j;
                    if (gy == null) {
                        y[yo + yi] = max;
                    } else {
                        gx[gxo + best] += gy[gyo + yi];
                    }
                }
            }
        }
    }

    /** Average pooling forward (gy == null, reads x) or backward (reads gy, writes gx). */
    static void avgPool(ConvGeometry g, double[] x, int xo, double[] y, int yo, double[] gy, int gyo, double[] gx,
                        int gxo) {
        if (gx != null) {
            java.util.Arrays.fill(gx, gxo, gxo + g.batch() * g.inChannels() * g.height() * g.width(), 0);
        }
        double divisor = g.kernelH() * g.kernelW();
        for (int plane = 0; plane < g.batch() * g.inChannels(); plane++) {
            for (int i = 0; i < g.outHeight(); i++) {
                for (int j = 0; j < g.outWidth(); j++) {
                    int yi = (plane * g.outHeight() + i) * g.outWidth() + j;
                    double sum = 0;
                    for (int u = 0; u < g.kernelH(); u++) {
                        int row = i * g.strideH() - g.padH() + u;
                        for (int v = 0; v < g.kernelW(); v++) {
                            int col = j * g.strideW() - g.padW() + v;
                            if (row < 0 || row >= g.height() || col < 0 || col >= g.width()) {
                                continue;
                            }
                            int xi = (plane * g.height() + row) * g.width() + col;
                            if (gy == null) {
                                sum += x[xo + xi];
                            } else {
                                gx[gxo + xi] += gy[gyo + yi] / divisor;
                            }
                        }
                    }
                    if (gy == null) {
                        y[yo + yi] = sum / divisor;
                    }
                }
            }
        }
    }

    /** Batch statistics per channel over N and the spatial size. */
    static void batchNormStatistics(double[] x, int xo, int n, int c, int spatial, double[] mean,
                                    double[] variance) {
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int b = 0; b < n; b++) {
                for (int s = 0; s < spatial; s++) {
                    sum += x[xo + (b * c + ch) * spatial + s];
                }
            }
            double m = sum / ((double) n * spatial);
            double squares = 0;
            for (int b = 0; b < n; b++) {
                for (int s = 0; s < spatial; s++) {
                    double d = x[xo + (b * c + ch) * spatial + s] - m;
                    squares += d * d;
                }
            }
            mean[ch] = m;
            variance[ch] = squares / ((double) n * spatial);
        }
    }

    static void batchNormApply(double[] x, int xo, int n, int c, int spatial, double[] gamma, double[] beta,
                               double[] mean, double[] variance, double eps, double[] y, int yo) {
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                double invStd = 1.0 / Math.sqrt(variance[ch] + eps);
                for (int s = 0; s < spatial; s++) {
                    int i = (b * c + ch) * spatial + s;
                    y[yo + i] = (x[xo + i] - mean[ch]) * invStd * gamma[ch] + beta[ch];
                }
            }
        }
    }

    static void batchNormBackward(double[] gy, int gyo, double[] x, int xo, int n, int c, int spatial,
                                  double[] gamma, double[] mean, double[] variance, double eps, boolean training,
                                  double[] gx, int gxo, double[] gGamma, double[] gBeta) {
        double count = (double) n * spatial;
        for (int ch = 0; ch < c; ch++) {
            double invStd = 1.0 / Math.sqrt(variance[ch] + eps);
            double sumGy = 0;
            double sumGyXhat = 0;
            for (int b = 0; b < n; b++) {
                for (int s = 0; s < spatial; s++) {
                    int i = (b * c + ch) * spatial + s;
                    sumGy += gy[gyo + i];
                    sumGyXhat += gy[gyo + i] * (x[xo + i] - mean[ch]) * invStd;
                }
            }
            gGamma[ch] = sumGyXhat;
            gBeta[ch] = sumGy;
            for (int b = 0; b < n; b++) {
                for (int s = 0; s < spatial; s++) {
                    int i = (b * c + ch) * spatial + s;
                    double xhat = (x[xo + i] - mean[ch]) * invStd;
                    gx[gxo + i] = training
                            ? gamma[ch] * invStd / count * (count * gy[gyo + i] - sumGy - xhat * sumGyXhat)
                            : gamma[ch] * invStd * gy[gyo + i];
                }
            }
        }
    }

    static void softmax(double[] x, int xo, int rows, int cols, double temperature, boolean log, double[] y,
                        int yo) {
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, x[xo + base + c]);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp((x[xo + base + c] - max) / temperature);
            }
            double logSum = Math.log(sum);
            for (int c = 0; c < cols; c++) {
                double shifted = (x[xo + base + c] - max) / temperature;
                y[yo + base + c] = log ? shifted - logSum : Math.exp(shifted - logSum);
            }
        }
    }

    static void softmaxBackward(double[] gy, int gyo, double[] y, int yo, int rows, int cols, double temperature,
                                boolean log, double[] gx, int gxo) {
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            if (log) {
                double sum = 0;
                for (int c = 0; c < cols; c++) {
                    sum += gy[gyo + base + c];
                }
                for (int c = 0; c < cols; c++) {
                    gx[gxo + base + c] = (gy[gyo + base + c] - Math.exp(y[yo + base + c]) * sum) / temperature;
                }
                continue;
            }
            // g_c − Σ_j y_j g_j, computed as (g_c − g_m) − Σ_j y_j (g_j − g_m) around the largest output m
            // (equal when Σ y = 1). In a saturated row y_m rounds to 1 in float32 and g_m − Σ_j y_j g_j
            // would cancel to noise; here the m-th term vanishes exactly and the rest carry no cancellation.
            int m = 0;
            for (int c = 1; c < cols; c++) {
                if (y[yo + base + c] > y[yo + base + m]) {
                    m = c;
                }
            }
            double gm = gy[gyo + base + m];
            double dot = 0;
            for (int c = 0; c < cols; c++) {
                dot += y[yo + base + c] * (gy[gyo + base + c] - gm);
            }
            for (int c = 0; c < cols; c++) {
                gx[gxo + base + c] = y[yo + base + c] * ((gy[gyo + base + c] - gm) - dot) / temperature;
            }
        }
    }

    static void nllForward(double[] logp, int lo, int rows, int cols, int[] labels, int labelsOffset,
                           double smoothing, double[] loss, int outOffset) {
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += logp[lo + r * cols + c];
            }
            double picked = logp[lo + r * cols + labels[labelsOffset + r]];
            loss[outOffset + r] = -((1 - smoothing) * picked + smoothing / cols * sum);
        }
    }

    static void nllBackward(double[] gLoss, int go, int rows, int cols, int[] labels, int labelsOffset,
                            double smoothing, double[] gLogp, int gpo) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double target = (c == labels[labelsOffset + r] ? 1 - smoothing : 0) + smoothing / cols;
                gLogp[gpo + r * cols + c] = -gLoss[go + r] * target;
            }
        }
    }

    /** {@code log_softmax(x[xo .. xo+cols) / T)} into out[0 .. cols), the row maximum subtracted first. */
    private static void logSoftmaxRow(double[] x, int xo, int cols, double temperature, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            max = Math.max(max, x[xo + c]);
        }
        double sum = 0;
        for (int c = 0; c < cols; c++) {
            sum += Math.exp((x[xo + c] - max) / temperature);
        }
        double logSum = Math.log(sum);
        for (int c = 0; c < cols; c++) {
            out[c] = (x[xo + c] - max) / temperature - logSum;
        }
    }

    /**
     * The fused distillation loss of docs/kd-modes.md written out term by term (two-pass log-softmax
     * per row; the fast kernels use the online recurrence and are checked against this). labels may be
     * null. Writes terms {total, mean CE(s, y, ε), mean teacher term} and grad = ∂total/∂s.
     */
    static void distillation(double[] s, int so, double[] t, int to, int[] labels, int lo, int rows, int cols,
                             DistillationSpec spec, double[] terms, int termsOffset, double[] grad, int go) {
        boolean hard = spec.hardTeacherTargets();
        double eps = spec.labelSmoothing();
        double[] logPs = new double[cols]; // log softmax_{T_s}(s)
        double[] logPt = new double[cols]; // log softmax_{T_t}(t)
        double[] logP1 = new double[cols]; // log softmax(s), for the cross-entropy terms
        double ceSum = 0;
        double teacherSum = 0;
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            logSoftmaxRow(s, so + base, cols, 1 / spec.inverseStudentTemperature(), logPs);
            logSoftmaxRow(t, to + base, cols, 1 / spec.inverseTeacherTemperature(), logPt);
            logSoftmaxRow(s, so + base, cols, 1.0, logP1);
            int y = labels == null ? -1 : labels[lo + r];
            if (y >= 0) {
                double sumLog = 0;
                for (int c = 0; c < cols; c++) {
                    sumLog += logP1[c];
                }
                ceSum += -((1 - eps) * logP1[y] + eps / cols * sumLog);
            }
            int k = 0; // argmax of the teacher's row, first on ties
            for (int c = 1; c < cols; c++) {
                if (t[to + base + c] > t[to + base + k]) {
                    k = c;
                }
            }
            if (hard) {
                teacherSum += -logP1[k];
            } else {
                for (int c = 0; c < cols; c++) {
                    double pt = Math.exp(logPt[c]);
                    if (pt > 0) { // 0 · log 0 = 0
                        teacherSum += pt * (logPt[c] - logPs[c]);
                    }
                }
            }
            for (int c = 0; c < cols; c++) {
                double g = 0;
                if (spec.crossEntropyWeight() != 0 && y >= 0) { // a row without a label has no label term
                    double target = (c == y ? 1 - eps : 0) + eps / cols;
                    g += spec.crossEntropyWeight() / rows * (Math.exp(logP1[c]) - target);
                }
                if (hard) {
                    g += spec.teacherWeight() / rows * (Math.exp(logP1[c]) - (c == k ? 1 : 0));
                } else {
                    g += spec.teacherGradientWeight() / rows
                            * (Math.exp(logPs[c]) - Math.exp(logPt[c]));
                }
                grad[go + base + c] = g;
            }
        }
        double ce = ceSum / rows;
        double teacherTerm = teacherSum / rows;
        terms[termsOffset] = spec.total(ce, teacherTerm);
        terms[termsOffset + 1] = ce;
        terms[termsOffset + 2] = teacherTerm;
    }

    static void dropoutMask(long seed, double p, double[] mask, int mo, int n) {
        double keep = 1.0 / (1.0 - p);
        for (int i = 0; i < n; i++) {
            mask[mo + i] = CounterRng.uniform(seed, i) >= p ? keep : 0.0;
        }
    }

    static void sgdStep(double[] param, int po, double[] grad, int go, double[] buffer, int bo, int n, double lr,
                        double momentum, double dampening, double weightDecay, boolean nesterov, boolean firstStep) {
        for (int i = 0; i < n; i++) {
            double g = grad[go + i] + weightDecay * param[po + i];
            if (momentum != 0) {
                double b = firstStep ? g : momentum * buffer[bo + i] + (1 - dampening) * g;
                buffer[bo + i] = b;
                g = nesterov ? g + momentum * b : b;
            }
            param[po + i] -= lr * g;
        }
    }

    static void adamwStep(double[] param, int po, double[] grad, int go, double[] m, int mo, double[] v, int vo,
                          int n, double lr, double beta1, double beta2, double eps, double weightDecay, long step) {
        double correction1 = 1 - Math.pow(beta1, step);
        double correction2 = Math.sqrt(1 - Math.pow(beta2, step));
        for (int i = 0; i < n; i++) {
            double g = grad[go + i];
            param[po + i] *= 1 - lr * weightDecay;
            m[mo + i] = beta1 * m[mo + i] + (1 - beta1) * g;
            v[vo + i] = beta2 * v[vo + i] + (1 - beta2) * g * g;
            double denominator = Math.sqrt(v[vo + i]) / correction2 + eps;
            param[po + i] -= lr / correction1 * m[mo + i] / denominator;
        }
    }
}
