package dev.retort.backend;

/**
 * The options of the fused knowledge-distillation loss (docs/kd-modes.md, modes {@code temperature} and
 * {@code hinton}): which mode, its temperatures and weights. The constructor rejects values the
 * formulas are not defined for, naming the option.
 *
 * <p>Mode {@code temperature}: {@code L = κ·KL(softmax_{T_t}(t) ‖ softmax_{T_s}(s))}; {@code alpha},
 * {@code labelSmoothing} and {@code hardTeacherTargets} are unused (0, 0, false). Mode {@code hinton}:
 * {@code T_s = T_t = T}, {@code κ = T²} and {@code L = α·CE(s, y, ε) + (1 − α)·T²·KL_T(t ‖ s)}, or with hard
 * teacher targets {@code L = α·CE(s, y, ε) + (1 − α)·CE(s, argmax t)}. Every reduction is batchmean.
 */
public record DistillationSpec(Mode mode, double studentTemperature, double teacherTemperature, double kappa,
                               double alpha, double labelSmoothing, boolean hardTeacherTargets) {

    /** The fused modes; {@code hybrid} composes this loss with feature terms in {@code distill}. */
    public enum Mode {
        TEMPERATURE("temperature"),
        HINTON("hinton");

        private final String label;

        Mode(String label) {
            this.label = label;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    public DistillationSpec {
        if (mode == null) {
            throw new IllegalArgumentException("distillation: mode must be temperature or hinton, got null");
        }
        String op = "distillation (" + mode + ")";
        checkTemperature(op, mode == Mode.HINTON ? "temperature T" : "student temperature T_s", studentTemperature);
        checkTemperature(op, mode == Mode.HINTON ? "temperature T" : "teacher temperature T_t", teacherTemperature);
        if (!(kappa >= 0) || Double.isInfinite(kappa)) {
            throw new IllegalArgumentException(op + ": kappa (κ) must be a finite number ≥ 0, got " + kappa);
        }
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException(op + ": alpha (α) must be in [0, 1], got " + alpha);
        }
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException(op + ": label smoothing (ε) must be in [0, 1], got " + labelSmoothing);
        }
        if (mode == Mode.HINTON) {
            if (studentTemperature != teacherTemperature) {
                throw new IllegalArgumentException(op + ": one temperature T for student and teacher, got T_s = "
                        + studentTemperature + " and T_t = " + teacherTemperature + " (use mode temperature for two)");
            }
            double t2 = studentTemperature * studentTemperature;
            if (kappa != t2) {
                throw new IllegalArgumentException(op + ": kappa is T² = " + t2 + " in mode hinton, got " + kappa);
            }
        } else if (alpha != 0 || labelSmoothing != 0 || hardTeacherTargets) {
            throw new IllegalArgumentException(op + ": alpha, label smoothing and hard teacher targets belong to mode "
                    + "hinton; mode temperature has no label term");
        }
    }

    private static void checkTemperature(String op, String name, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(op + ": " + name + " must be a positive finite number, got " + value);
        }
    }

    /** Mode {@code temperature}: soft targets only. */
    public static DistillationSpec temperature(double studentTemperature, double teacherTemperature, double kappa) {
        return new DistillationSpec(Mode.TEMPERATURE, studentTemperature, teacherTemperature, kappa, 0, 0, false);
    }

    /** Mode {@code hinton}: labels and soft (or hard) teacher targets. */
    public static DistillationSpec hinton(double temperature, double alpha, double labelSmoothing,
                                          boolean hardTeacherTargets) {
        return new DistillationSpec(Mode.HINTON, temperature, temperature, temperature * temperature, alpha,
                labelSmoothing, hardTeacherTargets);
    }

    /** Whether the loss has a label term, so that labels are required. */
    public boolean needsLabels() {
        return mode == Mode.HINTON;
    }

    /** Weight of the label cross-entropy in the total (0 in mode temperature). */
    public double crossEntropyWeight() {
        return mode == Mode.HINTON ? alpha : 0;
    }

    /**
     * Weight of the teacher term in the total: κ for the KL divergence (T² with (1 − α) in mode hinton), or
     * (1 − α) for the cross-entropy against the teacher's argmax.
     */
    public double teacherWeight() {
        if (mode == Mode.TEMPERATURE) {
            return kappa;
        }
        return hardTeacherTargets ? 1 - alpha : (1 - alpha) * kappa;
    }

    /** The total loss from the two batch-mean terms. */
    public double total(double crossEntropy, double teacherTerm) {
        double ce = crossEntropyWeight() == 0 ? 0 : crossEntropyWeight() * crossEntropy;
        return ce + teacherWeight() * teacherTerm;
    }
}
