package dev.retort.train;

import java.util.List;
import java.util.Locale;

/**
 * The options of a distillation run, resolved (docs/kd-modes.md is the reference for each): recorded in the
 * run's {@code config.json}. Errors name the CLI option.
 *
 * @param mode               {@code temperature}, {@code hinton} or {@code hybrid}
 * @param teacherModel       the teacher's network (reference name or JSON file)
 * @param teacherWeights     its safetensors file
 * @param studentTemperature T_s (mode temperature); T in the other modes
 * @param teacherTemperature T_t (mode temperature); equal to T_s in the other modes
 * @param kappa              κ of mode temperature (T_s² by default)
 * @param alpha              hard-label weight (hinton, hybrid)
 * @param beta               soft-target weight (hybrid)
 * @param gamma              feature weight (hybrid)
 * @param hardTeacherTargets hinton's {@code teacher-targets=hard}
 * @param pairs              hybrid feature pairs {@code STUDENT=TEACHER}; empty for the default pair
 * @param prune              hybrid's final fraction of pruned weights, 0 for none
 */
public record DistillationConfig(String mode, String teacherModel, String teacherWeights, double studentTemperature,
                                 double teacherTemperature, double kappa, double alpha, double beta, double gamma,
                                 boolean hardTeacherTargets, List<String> pairs, double prune) {
    /** Checks every option against the mode, naming the command-line option at fault. */
    public DistillationConfig {
        mode = mode.toLowerCase(Locale.ROOT);
        if (!List.of("temperature", "hinton", "hybrid").contains(mode)) {
            throw new IllegalArgumentException("--mode " + mode + ": expected temperature, hinton or hybrid");
        }
        temperature(mode.equals("temperature") ? "--student-temperature" : "--temperature", studentTemperature);
        temperature(mode.equals("temperature") ? "--teacher-temperature" : "--temperature", teacherTemperature);
        if (!mode.equals("temperature") && studentTemperature != teacherTemperature) {
            throw new IllegalArgumentException("--mode " + mode + " uses one temperature for teacher and student; "
                    + "separate temperatures are a feature of --mode temperature");
        }
        if (!(kappa >= 0) || Double.isInfinite(kappa)) {
            throw new IllegalArgumentException("--kappa must be a finite number ≥ 0, got " + kappa);
        }
        unit("--alpha", alpha);
        unit("--beta", beta);
        if (!(gamma >= 0) || Double.isInfinite(gamma)) {
            throw new IllegalArgumentException("--gamma must be a finite number ≥ 0, got " + gamma);
        }
        if (!(prune >= 0 && prune < 1)) {
            throw new IllegalArgumentException("--prune must be in [0, 1), got " + prune);
        }
        if (prune > 0 && !mode.equals("hybrid")) {
            throw new IllegalArgumentException("--prune belongs to --mode hybrid");
        }
        if (hardTeacherTargets && !mode.equals("hinton")) {
            throw new IllegalArgumentException("--teacher-targets hard belongs to --mode hinton");
        }
        pairs = pairs == null ? List.of() : List.copyOf(pairs);
        if (!pairs.isEmpty() && !mode.equals("hybrid")) {
            throw new IllegalArgumentException("--pairs belongs to --mode hybrid");
        }
        if (teacherModel == null || teacherModel.isBlank()) {
            throw new IllegalArgumentException("--teacher-model is required");
        }
    }

    /** docs/kd-modes.md's defaults for a mode: T = 4 (both), κ = T², α 0.1, β 0.9, γ 1, soft targets, no pruning. */
    public static DistillationConfig defaults(String mode, String teacherModel, String teacherWeights) {
        return new DistillationConfig(mode, teacherModel, teacherWeights, 4, 4, 16, 0.1, 0.9, 1, false, List.of(), 0);
    }

    private static void temperature(String option, double t) {
        if (!(t > 0) || Double.isInfinite(t)) {
            throw new IllegalArgumentException(option + " must be a positive finite number, got " + t);
        }
    }

    private static void unit(String option, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new IllegalArgumentException(option + " must be in [0, 1], got " + value);
        }
    }
}
