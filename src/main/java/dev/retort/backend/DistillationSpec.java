package dev.retort.backend;

import java.util.Locale;

/**
 * The numbers the fused knowledge-distillation kernel computes with, one pass per row (docs/kd-modes.md, modes
 * {@code temperature} and {@code hinton}; hybrid's output terms are a hinton loss scaled by α + β):
 * {@code total = crossEntropyWeight · CE(s, y, ε) + teacherWeight · T}, where the teacher term {@code T} is
 * {@code KL(softmax(t / T_t) ‖ softmax(s / T_s))} or, with {@code hardTeacherTargets}, {@code CE(s, argmax t)}.
 * Every reduction is batchmean; a row whose label is −1 has no label term.
 *
 * <p>The modes ({@code dev.retort.distill.DistillationMode}) check their options once and derive these numbers; a
 * backend only computes with them.
 */
public record DistillationSpec(double inverseStudentTemperature, double inverseTeacherTemperature,
                               double crossEntropyWeight, double teacherWeight, double labelSmoothing,
                               boolean hardTeacherTargets) {

    /** Mode temperature's numbers: no label term, κ on the KL term. */
    public static DistillationSpec temperature(double studentTemperature, double teacherTemperature, double kappa) {
        return new DistillationSpec(1 / studentTemperature, 1 / teacherTemperature, 0, kappa, 0, false);
    }

    /** Mode hinton's numbers: α on the label term, (1 − α)·T² on the KL term, or (1 − α) on the hard one. */
    public static DistillationSpec hinton(double temperature, double alpha, double labelSmoothing,
                                          boolean hardTeacherTargets) {
        return new DistillationSpec(1 / temperature, 1 / temperature, alpha,
                hardTeacherTargets ? 1 - alpha : (1 - alpha) * temperature * temperature, labelSmoothing,
                hardTeacherTargets);
    }

    /** Whether the loss has a label term, so that labels are required. */
    public boolean needsLabels() {
        return crossEntropyWeight != 0;
    }

    /** The weight that multiplies (p_s − target) of the teacher term in ∂total/∂s of one row, before 1/B. */
    public double teacherGradientWeight() {
        return hardTeacherTargets ? teacherWeight : teacherWeight * inverseStudentTemperature;
    }

    /** The total loss from the two batch-mean terms. */
    public double total(double crossEntropy, double teacherTerm) {
        double ce = crossEntropyWeight == 0 ? 0 : crossEntropyWeight * crossEntropy;
        return ce + teacherWeight * teacherTerm;
    }

    /** For messages: the temperatures and weights. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "distillation (T_s %s, T_t %s, CE weight %s, %s weight %s%s)",
                1 / inverseStudentTemperature, 1 / inverseTeacherTemperature, crossEntropyWeight,
                hardTeacherTargets ? "teacher CE" : "KL", teacherWeight,
                labelSmoothing == 0 ? "" : ", label smoothing " + labelSmoothing);
    }
}
