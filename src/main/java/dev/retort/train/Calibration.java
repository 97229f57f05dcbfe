package dev.retort.train;

/**
 * Confidence calibration of a classifier's logits (Guo et al. 2017): negative log-likelihood and
 * expected calibration error at a temperature, and the single temperature T* that minimises the NLL
 * on held-out logits. Works on host arrays in double precision; logits are row-major [rows, classes].
 */
public final class Calibration {
    /** Equal-width confidence bins of the expected calibration error, as in Guo et al. */
    public static final int DEFAULT_BINS = 15;
    private static final double MIN_TEMPERATURE = 1e-2;
    private static final double MAX_TEMPERATURE = 1e2;

    /** What calibration found: T* and the metrics before (T = 1) and after (T = T*). */
    public record Result(double temperature, double nllBefore, double nllAfter, double eceBefore, double eceAfter) {
        /**
         * Whether T* ended at an edge of the search range [0.01, 100]: the NLL still fell beyond it, so T* is a bound
         * rather than a minimum (logits that carry next to no information, or a network far too sure of itself).
         */
        public boolean atBound() {
            return temperature > MAX_TEMPERATURE * 0.999 || temperature < MIN_TEMPERATURE * 1.001;
        }
    }

    private Calibration() {}

    /** Mean of {@code −log softmax(z/T)[y]} over the rows. */
    public static double negativeLogLikelihood(float[] logits, int[] labels, int classes, double temperature) {
        check(logits, labels, classes, temperature);
        double total = 0;
        for (int r = 0; r < labels.length; r++) {
            int base = r * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, logits[base + c]);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp((logits[base + c] - max) / temperature);
            }
            total += Math.log(sum) - (logits[base + labels[r]] - max) / temperature;
        }
        return total / labels.length;
    }

    /**
     * Expected calibration error: rows binned by confidence (the largest softmax probability) into
     * equal-width bins (lower, upper]; the weighted mean over bins of |accuracy − mean confidence|.
     */
    public static double expectedCalibrationError(float[] logits, int[] labels, int classes, double temperature,
                                                  int bins) {
        check(logits, labels, classes, temperature);
        if (bins < 1) {
            throw new IllegalArgumentException("calibration: the number of bins must be at least 1, got " + bins);
        }
        double[] confidence = new double[bins];
        int[] correct = new int[bins];
        int[] count = new int[bins];
        for (int r = 0; r < labels.length; r++) {
            int base = r * classes;
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (logits[base + c] > logits[base + best]) {
                    best = c;
                }
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp((logits[base + c] - logits[base + best]) / temperature);
            }
            double p = 1 / sum;
            int bin = Math.min(bins - 1, Math.max(0, (int) Math.ceil(p * bins) - 1));
            confidence[bin] += p;
            correct[bin] += best == labels[r] ? 1 : 0;
            count[bin]++;
        }
        double ece = 0;
        for (int b = 0; b < bins; b++) {
            if (count[b] > 0) {
                ece += Math.abs((double) correct[b] / count[b] - confidence[b] / count[b]) * count[b] / labels.length;
            }
        }
        return ece;
    }

    /**
     * The first row holding a NaN or infinite logit, or −1 when every logit is finite: no temperature makes such
     * a row's softmax meaningful, so {@link #fit} refuses it and a caller can name the example first.
     */
    public static int firstNonFiniteRow(float[] logits, int classes) {
        int i = firstNonFinite(logits);
        return i < 0 ? -1 : i / classes;
    }

    private static int firstNonFinite(float[] logits) {
        for (int i = 0; i < logits.length; i++) {
            if (!Float.isFinite(logits[i])) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Fits T* in [0.01, 100] by golden-section search on log T: the NLL is convex in 1/T, hence
     * unimodal in log T, and a 1-D search needs no derivatives. Non-finite logits are refused before the search:
     * their NLL is NaN at every T, and the search would end at a bound of the interval as if it had found T*.
     * Finite ones give a finite NLL at every T of the interval (the sums are in double precision, the largest
     * term is 1), so nothing else can make the fit NaN.
     */
    public static Result fit(float[] logits, int[] labels, int classes) {
        check(logits, labels, classes, 1.0);
        int bad = firstNonFinite(logits);
        if (bad >= 0) {
            throw new IllegalArgumentException("calibration: row " + bad / classes + " holds a non-finite logit ("
                    + logits[bad] + "); no temperature can be fitted to NaN or infinite logits");
        }
        double lo = Math.log(MIN_TEMPERATURE);
        double hi = Math.log(MAX_TEMPERATURE);
        double ratio = (Math.sqrt(5) - 1) / 2;
        double a = hi - ratio * (hi - lo);
        double b = lo + ratio * (hi - lo);
        double fa = negativeLogLikelihood(logits, labels, classes, Math.exp(a));
        double fb = negativeLogLikelihood(logits, labels, classes, Math.exp(b));
        while (hi - lo > 1e-6) {
            if (fa <= fb) {
                hi = b;
                b = a;
                fb = fa;
                a = hi - ratio * (hi - lo);
                fa = negativeLogLikelihood(logits, labels, classes, Math.exp(a));
            } else {
                lo = a;
                a = b;
                fa = fb;
                b = lo + ratio * (hi - lo);
                fb = negativeLogLikelihood(logits, labels, classes, Math.exp(b));
            }
        }
        double t = Math.exp((lo + hi) / 2);
        return new Result(t, negativeLogLikelihood(logits, labels, classes, 1.0),
                negativeLogLikelihood(logits, labels, classes, t),
                expectedCalibrationError(logits, labels, classes, 1.0, DEFAULT_BINS),
                expectedCalibrationError(logits, labels, classes, t, DEFAULT_BINS));
    }

    private static void check(float[] logits, int[] labels, int classes, double temperature) {
        if (classes < 1 || labels.length == 0 || logits.length != (long) labels.length * classes) {
            throw new IllegalArgumentException("calibration: " + logits.length + " logits do not match "
                    + labels.length + " labels × " + classes + " classes (need at least one row)");
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("calibration: temperature must be a positive finite number, got "
                    + temperature);
        }
        for (int r = 0; r < labels.length; r++) {
            if (labels[r] < 0 || labels[r] >= classes) {
                throw new IllegalArgumentException("calibration: label " + labels[r] + " at row " + r
                        + " is outside [0, " + classes + ")");
            }
        }
    }
}
