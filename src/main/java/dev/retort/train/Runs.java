package dev.retort.train;

import dev.retort.Version;
import dev.retort.data.Dataset;
import dev.retort.distill.TeacherOutputs;
import dev.retort.io.Checkpoints;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One whole run, as the {@code train} and {@code distill} commands and the demo start it: build the
 * networks, put them on the config's device, open the run folder (or resume it), record the resolved
 * config, train, evaluate, export.
 */
public final class Runs {
    /** The data of a run: training examples (already cut to the config's train size), test examples, origin. */
    public record Data(Dataset train, Dataset test, String source) {}

    /**
     * What a finished run left.
     *
     * @param metrics one row per epoch, as in metrics.jsonl
     * @param test    the final model's top-1 accuracy, NLL and ECE on the test data
     * @param model   the exported weights, {@code <folder>/model.safetensors}
     */
    public record Outcome(String name, Path folder, List<Map<String, Object>> metrics, Evaluation.Metrics test,
                          Path model, double seconds) {}

    private Runs() {}

    /** Trains a network alone on the labels (a teacher, or a baseline student). */
    public static Outcome train(String name, TrainingConfig config, Data data, Path out, boolean resume,
                                PrintWriter log) throws IOException {
        try (Module model = Models.resolve(config.model(), config.seed());
             Objective objective = Objective.crossEntropy(config.labelSmoothing())) {
            return run(name, "train", model, objective, config, null, data, config.trainingSet(data.train(), false), out,
                    resume, log);
        }
    }

    /** Distills a student from a trained teacher in one of the three modes. */
    public static Outcome distill(String name, TrainingConfig config, DistillationConfig distillation, Data data,
                                  Path out, boolean resume, PrintWriter log) throws IOException {
        return distill(name, config, distillation, data, null, out, resume, log);
    }

    /**
     * As above, reusing {@code teacherOutputs} when they hold what the run needs: the teacher's outputs over the
     * whole training set, computed once by {@link #teacherOutputs} for several runs.
     */
    public static Outcome distill(String name, TrainingConfig config, DistillationConfig distillation, Data data,
                                  TeacherOutputs teacherOutputs, Path out, boolean resume, PrintWriter log)
            throws IOException {
        if (distillation.teacherWeights() == null) {
            throw new IllegalArgumentException("--teacher-weights is required: the safetensors file of a trained teacher");
        }
        try (Module teacher = Models.resolve(distillation.teacherModel(), config.seed());
             Module student = Models.resolve(config.model(), config.seed())) {
            Checkpoints.load(teacher, Path.of(distillation.teacherWeights()));
            // Before the objective is made: it puts the teacher and the regressors on the student's device.
            student.to(config.device());
            Dataset transferSet = config.trainingSet(data.train(), true);
            long steps = (long) config.epochs() * Math.max(1, transferSet.size() / Math.min(config.batchSize(),
                    transferSet.size()));
            DistillationObjective objective;
            try (Progress progress = Progress.start(name + (config.augmented() ? " teacher check" : " teacher outputs"),
                    config.augmented() || teacherOutputs != null ? 0 : transferSet.size(), "img")) {
                objective = DistillationObjective.create(distillation, teacher, student, transferSet, config, steps,
                        progress, teacherOutputs);
            }
            try (objective) {
                if (log != null) {
                    log.println(name + ": " + objective.describe() + (objective.cached()
                            ? ", teacher outputs cached" : ", teacher run on every augmented batch"));
                }
                return run(name, "distill", student, objective, config, distillation, data, transferSet, out, resume,
                        log);
            }
        }
    }

    /**
     * A run that finished earlier in {@code folder} (its model.safetensors exists), as its metrics recorded it: the
     * last epoch's evaluation is the final model's. Empty when the run has not finished.
     */
    public static Optional<Outcome> finished(String name, Path folder) throws IOException {
        Path model = folder.resolve(RunFolder.MODEL);
        if (!Files.isRegularFile(model)) {
            return Optional.empty();
        }
        List<Map<String, Object>> metrics = RunFolder.at(folder).readMetrics();
        if (metrics.isEmpty()) {
            throw new IOException(folder + ": holds " + RunFolder.MODEL + " but no metrics.jsonl rows");
        }
        return Optional.of(new Outcome(name, folder, metrics, lastEvaluation(metrics), model, 0));
    }

    private static Evaluation.Metrics lastEvaluation(List<Map<String, Object>> metrics) {
        Map<String, Object> last = metrics.get(metrics.size() - 1);
        return new Evaluation.Metrics(((Number) last.get("test_accuracy")).doubleValue(),
                ((Number) last.get("test_nll")).doubleValue(), ((Number) last.get("test_ece")).doubleValue(),
                ((Number) last.getOrDefault("test_examples", 0)).intValue());
    }

    /**
     * The teacher's outputs over the training set, once, for every distillation run of a demo or a sweep: its
     * logits, and the outputs of {@code layers} (the teacher layers hybrid runs pair).
     */
    public static TeacherOutputs teacherOutputs(String teacherModel, Path teacherWeights, List<String> layers,
                                                TrainingConfig config, Data data) throws IOException {
        try (Module teacher = Models.resolve(teacherModel, config.seed());
             Progress progress = Progress.start("teacher outputs", data.train().size(), "img")) {
            Checkpoints.load(teacher, teacherWeights);
            teacher.to(config.device());
            return TeacherOutputs.compute(teacher, data.train(), layers, config.evalBatchSize(), progress::step);
        }
    }

    private static Outcome run(String name, String command, Module model, Objective objective, TrainingConfig config,
                               DistillationConfig distillation, Data data, Dataset train, Path out, boolean resume,
                               PrintWriter log) throws IOException {
        long start = System.nanoTime();
        RunFolder folder = RunFolder.open(out, resume);
        Map<String, Object> resolved = new LinkedHashMap<>();
        resolved.put("retort", Version.VERSION);
        resolved.put("command", command);
        resolved.put("name", name);
        resolved.put("objective", objective.describe());
        Map<String, Object> dataEntry = new LinkedHashMap<>();
        dataEntry.put("source", data.source());
        dataEntry.put("train", train.size());
        dataEntry.put("labelled", config.labelled() > 0 ? config.labelled() : train.labelledCount()); // distinct images
        dataEntry.put("test", data.test().size());
        resolved.put("data", dataEntry);
        resolved.put("training", config);
        if (distillation != null) {
            resolved.put("distillation", distillation.toMap());
        }
        resolved.put("parameters", model.parameterCount());
        try (Trainer trainer = new Trainer(model, objective, config, train)) {
            trainer.log(log, name + ": ");
            trainer.runFolder(folder, null);
            if (resume) {
                trainer.resume(); // checks the architecture against the config.json it replaces next
            }
            folder.writeConfig(resolved);
            List<Map<String, Object>> metrics = trainer.fit(data.test());
            // The last epoch's evaluation is the final model's: no second pass over the test data.
            Evaluation.Metrics last = lastEvaluation(metrics);
            Evaluation.Metrics test = new Evaluation.Metrics(last.accuracy(), last.nll(), last.ece(), data.test().size());
            return new Outcome(name, out, metrics, test, out.resolve(RunFolder.MODEL),
                    (System.nanoTime() - start) / 1e9);
        }
    }
}
