package dev.retort.backend.cpu;

import dev.retort.backend.DistillationSpec;

/**
 * The fused knowledge-distillation loss on float32 logits (docs/kd-modes.md, modes temperature and hinton),
 * parallel over rows. Each row is read once for the softmax statistics — running maximum and rescaled running
 * sum, the online-softmax recurrence of Milakov &amp; Gimelshein (2018), for the student at T_s and at 1 and the
 * teacher at T_t together — and once more, from cache, to form the KL and CE terms and write ∂L/∂s. The
 * arithmetic runs in double on the float32 values (the exponentials are double anyway), so a row of 32768
 * classes or logits of 1e4 at T = 0.05 lose nothing beyond the final rounding of the gradient to float32.
 * Its own file, beside {@link FloatKernels}, because the GPU kernel follows it line by line.
 */
final class FloatDistillationKernels {
    /** Below this many logits a batch runs on the calling thread. */
    private static final int GRAIN = 1 << 14;

    private FloatDistillationKernels() {}

    /**
     * labels may be null (then the CE term is 0); writes terms {total, mean CE(s, y, ε), mean teacher term}
     * into {@code terms[0..3)} and ∂total/∂s into grad.
     */
    static void loss(float[] s, int so, float[] t, int to, int[] labels, int lo, int rows, int cols,
                     DistillationSpec spec, double[] terms, float[] grad, int go) {
        double[] perRow = new double[2 * rows]; // CE and teacher term of each row, summed in row order below
        Parallel.forRange(0, rows, Math.max(1, GRAIN / Math.max(1, cols)), (first, end) -> {
            for (int r = first; r < end; r++) {
                row(s, so + r * cols, t, to + r * cols, labels == null ? -1 : labels[lo + r], rows, cols, spec,
                        perRow, 2 * r, grad, go + r * cols);
            }
        });
        double ceSum = 0;
        double teacherSum = 0;
        for (int r = 0; r < rows; r++) {
            ceSum += perRow[2 * r];
            teacherSum += perRow[2 * r + 1];
        }
        double ce = ceSum / rows;
        double teacherTerm = teacherSum / rows;
        terms[0] = spec.total(ce, teacherTerm);
        terms[1] = ce;
        terms[2] = teacherTerm;
    }

    private static void row(float[] s, int sb, float[] t, int tb, int label, int rows, int cols,
                            DistillationSpec spec, double[] perRow, int po, float[] grad, int gb) {
        boolean hard = spec.hardTeacherTargets();
        boolean soft = !hard;
        boolean plain = label >= 0 || hard; // softmax(s) at T = 1 feeds the cross-entropy terms
        double invTs = spec.inverseStudentTemperature();
        double invTt = spec.inverseTeacherTemperature();

        // Pass 1: running maxima m and sums z = Σ exp((x − m)/T), rescaled whenever m grows.
        double ms = s[sb];
        double mt = t[tb];
        double zs = 0; // student at T_s
        double z1 = 0; // student at 1
        double zt = 0; // teacher at T_t
        int argmaxTeacher = 0; // first on ties, as argmaxLastDim
        for (int c = 0; c < cols; c++) {
            double sv = s[sb + c];
            if (sv > ms) {
                if (soft) {
                    zs *= Math.exp((ms - sv) * invTs);
                }
                if (plain) {
                    z1 *= Math.exp(ms - sv);
                }
                ms = sv;
            }
            if (soft) {
                zs += Math.exp((sv - ms) * invTs);
            }
            if (plain) {
                z1 += Math.exp(sv - ms);
            }
            double tv = t[tb + c];
            if (tv > mt) {
                if (soft) {
                    zt *= Math.exp((mt - tv) * invTt);
                }
                mt = tv;
                argmaxTeacher = c;
            }
            if (soft) {
                zt += Math.exp((tv - mt) * invTt);
            }
        }

        // Pass 2: the terms and the gradient, written once.
        double logZs = Math.log(zs);
        double logZ1 = Math.log(z1);
        double logZt = Math.log(zt);
        double eps = spec.labelSmoothing();
        double smooth = eps / cols;
        double wCe = spec.crossEntropyWeight() / rows;
        double wTeacher = spec.teacherGradientWeight() / rows;
        double kl = 0;
        double sumLogP1 = 0;
        for (int c = 0; c < cols; c++) {
            double sv = s[sb + c];
            double g = 0;
            if (plain) {
                double logP1 = (sv - ms) - logZ1;
                double p1 = Math.exp(logP1);
                sumLogP1 += logP1;
                if (label >= 0) {
                    g += wCe * (p1 - ((c == label ? 1 - eps : 0) + smooth));
                }
                if (hard) {
                    g += wTeacher * (p1 - (c == argmaxTeacher ? 1 : 0));
                }
            }
            if (soft) {
                double logPs = (sv - ms) * invTs - logZs;
                double logPt = (t[tb + c] - mt) * invTt - logZt;
                double pt = Math.exp(logPt);
                if (pt > 0) { // 0 · log 0 = 0
                    kl += pt * (logPt - logPs);
                }
                g += wTeacher * (Math.exp(logPs) - pt);
            }
            grad[gb + c] = (float) g;
        }
        perRow[po] = label >= 0 ? -((1 - eps) * ((s[sb + label] - ms) - logZ1) + smooth * sumLogP1) : 0;
        perRow[po + 1] = hard ? -((s[sb + argmaxTeacher] - ms) - logZ1) : kl;
    }
}
