package dev.retort.train;

import dev.retort.data.Dataset;
import dev.retort.distill.DistillationMode;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What {@link Runs#train} and {@link Runs#distill} refuse at their start, checked without training and without a
 * run folder: the networks against the data's inputs and classes, {@code --labelled} against the data, the
 * teacher's weights against its network, the feature pairs against both networks and the mode's loss on one
 * example. The runs check themselves with it; a grid (a sweep) checks every cell with one instance, which does each
 * check once per distinct combination of the values it reads, so thousands of cells build a handful of networks.
 */
public final class RunChecks {
    private final Runs.Data data;
    private final Set<List<Object>> passed = new HashSet<>();

    /** Checks against {@code data}, the training set already cut to the runs' train size. */
    public RunChecks(Runs.Data data) {
        this.data = data;
    }

    /** A check that throws what the run would. */
    @FunctionalInterface
    private interface Check {
        void run() throws IOException;
    }

    /**
     * Throws what the run of {@code config} (a distillation when {@code distillation} is not null, else a run on the
     * labels) would throw before its first step.
     *
     * @throws IllegalArgumentException for a value that does not fit the data or the other values, naming the option
     * @throws IOException              for a file (teacher weights, a JSON network) that cannot be read
     */
    public void check(TrainingConfig config, DistillationConfig distillation) throws IOException {
        Dataset train = data.train();
        String model = config.model();
        boolean transfer = distillation != null;
        once(List.of("input", model), () -> Runs.checkInput("--model", model, train));
        // The training set the run would make (--labelled decides it; which labels are kept does not matter here).
        once(List.of("start", model, transfer, config.labelled(), config.cropPadding()), () -> {
            Dataset set = config.trainingSet(train, transfer);
            try (Module network = Models.resolve(model, 0)) {
                Trainer.check(network, config, set);
            }
        });
        if (distillation == null) {
            return;
        }
        if (distillation.teacherWeights() == null) {
            throw new IllegalArgumentException("--teacher-weights is required: the safetensors file of a trained "
                    + "teacher");
        }
        String teacherModel = distillation.teacherModel();
        once(List.of("input", teacherModel), () -> Runs.checkInput("--teacher-model", teacherModel, train));
        once(List.of("teacher", teacherModel, distillation.teacherWeights()), () -> {
            try (Module teacher = Models.resolve(teacherModel, 0)) {
                Runs.loadTeacher(teacher, teacherModel, Path.of(distillation.teacherWeights()));
            }
        });
        // Shapes only: the untrained networks pair as the trained ones do. The loss's weights were checked when the
        // mode was parsed.
        DistillationMode mode = distillation.mode();
        once(List.of("objective", teacherModel, model, mode.name(), mode.pairs()), () -> {
            try (Module teacher = Models.resolve(teacherModel, 0); Module student = Models.resolve(model, 0)) {
                DistillationObjective.check(distillation, teacher, student, train, config);
            }
        });
    }

    private void once(List<Object> key, Check check) throws IOException {
        if (!passed.contains(key)) {
            check.run();
            passed.add(key);
        }
    }
}
