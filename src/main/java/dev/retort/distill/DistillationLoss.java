package dev.retort.distill;

import dev.retort.backend.DistillationSpec;
import dev.retort.tensor.Losses;
import dev.retort.tensor.Tensor;

/**
 * The output-level distillation losses of docs/kd-modes.md, modes {@code temperature} and {@code hinton}, each
 * computed by the fused backend kernel in one pass per row. Pass the teacher's logits computed under
 * {@code Autograd.noGrad()}; the teacher is never differentiated. Bad options and shapes throw
 * IllegalArgumentException naming the option or the shapes.
 */
public final class DistillationLoss {
    /** T of both modes unless given: {@link DistillationMode.Defaults}, chosen by the sweeps of docs/kd-modes.md. */
    public static final double DEFAULT_TEMPERATURE = DistillationMode.Defaults.TEMPERATURE.get("hinton");
    /** Weight of the hard-label term in mode hinton unless given. */
    public static final double DEFAULT_ALPHA = DistillationMode.Defaults.HINTON_ALPHA;

    private DistillationLoss() {}

    /** Mode temperature with the defaults {@code T_s = T_t = 2}, {@code κ = T_s² = 4}. */
    public static DistillationResult temperature(Tensor student, Tensor teacher) {
        return temperature(student, teacher, DEFAULT_TEMPERATURE, DEFAULT_TEMPERATURE);
    }

    /** Mode temperature with {@code κ = T_s²}, which keeps the gradient's scale independent of T_s. */
    public static DistillationResult temperature(Tensor student, Tensor teacher, double studentTemperature,
                                                 double teacherTemperature) {
        return temperature(student, teacher, studentTemperature, teacherTemperature,
                studentTemperature * studentTemperature);
    }

    /** Mode temperature: {@code L = κ·(1/B)·Σ_b KL(softmax_{T_t}(t_b) ‖ softmax_{T_s}(s_b))}; no labels. */
    public static DistillationResult temperature(Tensor student, Tensor teacher, double studentTemperature,
                                                 double teacherTemperature, double kappa) {
        return compute(student, teacher, null,
                new DistillationMode.Temperature(studentTemperature, teacherTemperature, kappa).kernel());
    }

    /**
     * Mode temperature, also reporting the cross-entropy against labels (which does not enter the loss) — for
     * a labelled transfer set.
     */
    public static DistillationResult temperature(Tensor student, Tensor teacher, Tensor labels,
                                                 double studentTemperature, double teacherTemperature,
                                                 double kappa) {
        return compute(student, teacher, labels,
                new DistillationMode.Temperature(studentTemperature, teacherTemperature, kappa).kernel());
    }

    /** Mode hinton with the defaults {@code T = 2}, {@code α = 0.1}, no label smoothing, soft teacher targets. */
    public static DistillationResult hinton(Tensor student, Tensor teacher, Tensor labels) {
        return hinton(student, teacher, labels, DEFAULT_TEMPERATURE, DEFAULT_ALPHA, 0, false);
    }

    /**
     * Mode hinton: {@code L = α·CE(s, y, ε) + (1 − α)·T²·KL_T(t ‖ s)}; with {@code hardTeacherTargets} the soft
     * term becomes {@code (1 − α)·CE(s, argmax t)} (no temperature, no smoothing).
     */
    public static DistillationResult hinton(Tensor student, Tensor teacher, Tensor labels, double temperature,
                                            double alpha, double labelSmoothing, boolean hardTeacherTargets) {
        return compute(student, teacher, labels,
                new DistillationMode.Hinton(temperature, alpha, hardTeacherTargets).kernel(labelSmoothing));
    }

    /** Either mode from the kernel's numbers (a mode's {@code kernel}); labels may be null without a label term. */
    public static DistillationResult compute(Tensor student, Tensor teacher, Tensor labels, DistillationSpec spec) {
        Losses.Distillation d = Losses.distillation(student, teacher, labels, spec);
        boolean hard = spec.hardTeacherTargets();
        return new DistillationResult(d.loss(), d.total(), d.crossEntropy(),
                hard ? Double.NaN : d.teacherTerm(), hard ? d.teacherTerm() : Double.NaN);
    }
}
