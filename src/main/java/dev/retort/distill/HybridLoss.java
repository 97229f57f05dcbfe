package dev.retort.distill;

import dev.retort.backend.PoolSpec;
import dev.retort.tensor.Functional;
import dev.retort.tensor.Losses;
import dev.retort.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Mode {@code hybrid} of docs/kd-modes.md: outputs plus intermediate features,
 * {@code L = α·CE(s, y) + β·T²·KL_T(t ‖ s) + γ·Σ_pairs mean((r(h_s) − h_t)²)}. The output terms run
 * on the fused kernel as {@code (α + β)·hinton(α / (α + β))}; where two paired maps differ in spatial
 * size, the larger is average-pooled to the smaller before the squared error.
 */
public final class HybridLoss {
    /** The weights of the three terms and the temperature; defaults α 0.1, β 0.9, γ 1, T 4. */
    public record Weights(double alpha, double beta, double gamma, double temperature) {
        /** The defaults of docs/kd-modes.md: α 0.1, β 0.9, γ 1, T 4. */
        public static final Weights DEFAULTS = new Weights(0.1, 0.9, 1.0, 4.0);

        /** Checks α and β in [0, 1], γ ≥ 0 and T > 0, all finite. */
        public Weights {
            check("alpha (α)", alpha);
            check("beta (β)", beta);
            if (!(gamma >= 0) || Double.isInfinite(gamma)) {
                throw new IllegalArgumentException("hybrid: gamma (γ) must be a finite number ≥ 0, got " + gamma);
            }
            if (!(temperature > 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("hybrid: temperature T must be a positive finite number, got "
                        + temperature);
            }
        }

        private static void check(String name, double value) {
            if (!(value >= 0 && value <= 1)) {
                throw new IllegalArgumentException("hybrid: " + name + " must be in [0, 1], got " + value);
            }
        }
    }

    /**
     * The loss and its terms (batch means, unweighted; KL without T²).
     *
     * @param feature the sum over pairs of the mean squared feature error
     */
    public record Result(Tensor loss, double total, double crossEntropy, double klDivergence, double feature) {}

    private HybridLoss() {}

    /**
     * @param studentFeatures the student's paired features, in pair order
     * @param teacherFeatures the teacher's, computed without gradient recording
     * @param regressors      one per pair, trained with the student
     */
    public static Result compute(Tensor studentLogits, Tensor teacherLogits, Tensor labels,
                                 List<Tensor> studentFeatures, List<Tensor> teacherFeatures,
                                 List<FeatureRegressor> regressors, Weights w) {
        if (studentFeatures.size() != teacherFeatures.size() || studentFeatures.size() != regressors.size()) {
            throw new IllegalArgumentException("hybrid: " + studentFeatures.size() + " student features, "
                    + teacherFeatures.size() + " teacher features and " + regressors.size()
                    + " regressors must pair up");
        }
        double outputWeight = w.alpha() + w.beta();
        Tensor loss = null;
        double ce = Double.NaN;
        double kl = Double.NaN;
        if (outputWeight > 0) {
            DistillationResult out = DistillationLoss.hinton(studentLogits, teacherLogits, labels, w.temperature(),
                    w.alpha() / outputWeight, 0, false);
            loss = outputWeight == 1 ? out.loss() : out.loss().mul(outputWeight);
            ce = out.crossEntropy();
            kl = out.klDivergence();
        }
        Tensor featureSum = null;
        for (int i = 0; i < regressors.size(); i++) {
            Tensor term = featureError(i, regressors.get(i).call(studentFeatures.get(i)), teacherFeatures.get(i));
            featureSum = featureSum == null ? term : featureSum.add(term);
        }
        double feature = featureSum == null ? 0 : featureSum.item();
        if (featureSum != null && w.gamma() > 0) {
            Tensor weighted = featureSum.mul(w.gamma());
            loss = loss == null ? weighted : loss.add(weighted);
        }
        if (loss == null) {
            throw new IllegalArgumentException("hybrid: every term has weight 0 (α = β = 0 and γ = 0 or no pairs)");
        }
        return new Result(loss, loss.item(), ce, kl, feature);
    }

    /** Mean squared error of one pair after pooling the larger map to the smaller one's size. */
    private static Tensor featureError(int pair, Tensor student, Tensor teacher) {
        int[] s = student.shape();
        int[] t = teacher.shape();
        if (s.length != t.length || s[0] != t[0] || s[1] != t[1]) {
            throw new IllegalArgumentException("hybrid: feature pair " + pair + ": regressed student feature "
                    + Arrays.toString(s) + " does not match teacher feature " + Arrays.toString(t)
                    + " in batch or channels");
        }
        if (s.length == 4 && (s[2] != t[2] || s[3] != t[3])) {
            boolean studentLarger = s[2] >= t[2] && s[3] >= t[3];
            int[] big = studentLarger ? s : t;
            int[] small = studentLarger ? t : s;
            if (big[2] % small[2] != 0 || big[3] % small[3] != 0 || !studentLarger && (s[2] > t[2] || s[3] > t[3])) {
                throw new IllegalArgumentException("hybrid: feature pair " + pair + ": spatial sizes "
                        + s[2] + "×" + s[3] + " and " + t[2] + "×" + t[3] + " are not integer multiples of each other");
            }
            PoolSpec pool = new PoolSpec(big[2] / small[2], big[3] / small[3], big[2] / small[2], big[3] / small[3],
                    0, 0);
            if (studentLarger) {
                student = Functional.avgPool2d(student, pool);
            } else {
                teacher = Functional.avgPool2d(teacher, pool);
            }
        }
        return Losses.mse(student, teacher.detach());
    }
}
