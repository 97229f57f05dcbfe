package dev.retort.train;

import dev.retort.distill.DistillationMode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a distillation run distills from: the mode with its options, and the teacher. Recorded in the run's
 * {@code config.json}; errors name the CLI option.
 *
 * @param mode           the mode and its resolved options (docs/kd-modes.md)
 * @param teacherModel   the teacher's network (reference name or JSON file)
 * @param teacherWeights its safetensors file
 */
public record DistillationConfig(DistillationMode mode, String teacherModel, String teacherWeights) {
    /** @throws IllegalArgumentException naming the CLI option if the mode or the teacher model is missing */
    public DistillationConfig {
        if (mode == null) {
            throw new IllegalArgumentException("--mode is required: temperature, hinton or hybrid");
        }
        if (teacherModel == null || teacherModel.isBlank()) {
            throw new IllegalArgumentException("--teacher-model is required");
        }
    }

    /** A mode with every default of docs/kd-modes.md. */
    public static DistillationConfig defaults(String mode, String teacherModel, String teacherWeights) {
        return new DistillationConfig(DistillationMode.parse(mode, DistillationMode.Options.NONE), teacherModel,
                teacherWeights);
    }

    /** As config.json records it: the mode's options, then the teacher. */
    public Map<String, Object> toMap() {
        Map<String, Object> out = new LinkedHashMap<>(mode.options());
        out.put("teacher-model", teacherModel);
        out.put("teacher-weights", teacherWeights);
        return out;
    }
}
