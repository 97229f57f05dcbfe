package dev.retort.train;

import dev.retort.Version;
import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.backend.Shapes;
import dev.retort.backend.cpu.Parallel;
import dev.retort.data.Dataset;
import dev.retort.io.Checkpoints;
import dev.retort.nn.Models;
import dev.retort.nn.NetworkFile;
import dev.retort.nn.Module;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One whole run, as the {@code train} and {@code distill} commands and the demo start it: build the
 * networks, put them on the config's device, open the run folder (or resume it), record the resolved
 * config, train, evaluate, export.
 */
public final class Runs {
    /**
     * The data of a run: training examples (already cut to the config's train size), test examples, where they came
     * from in words, and in fields for config.json ({@code dataset} and {@code folder}, so that a replay finds them).
     */
    public record Data(Dataset train, Dataset test, String source, Map<String, Object> origin) {
        /** Data whose origin is told in words only. */
        public Data(Dataset train, Dataset test, String source) {
            this(train, test, source, Map.of());
        }
    }

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
        checkInput("--model", config.model(), data.train());
        try (Module model = Models.resolve(config.model(), config.seed());
             Objective objective = Objective.crossEntropy(config.labelSmoothing())) {
            return run(name, "train", model, objective, config, null, data, out, resume, log);
        }
    }

    /** Distills a student from a trained teacher in one of the three modes. */
    public static Outcome distill(String name, TrainingConfig config, DistillationConfig distillation, Data data,
                                  Path out, boolean resume, PrintWriter log) throws IOException {
        if (distillation.teacherWeights() == null) {
            throw new IllegalArgumentException("--teacher-weights is required: the safetensors file of a trained teacher");
        }
        checkInput("--model", config.model(), data.train());
        checkInput("--teacher-model", distillation.teacherModel(), data.train());
        try (Module teacher = Models.resolve(distillation.teacherModel(), config.seed());
             Module student = Models.resolve(config.model(), config.seed())) {
            try {
                Checkpoints.load(teacher, Path.of(distillation.teacherWeights()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--teacher-model " + distillation.teacherModel() + " and "
                        + "--teacher-weights do not match: " + e.getMessage(), e);
            }
            // Before the objective is made: it puts the teacher and the regressors on the student's device.
            student.to(config.device());
            long steps = (long) config.epochs() * Math.max(1, data.train().size() / Math.min(config.batchSize(),
                    data.train().size()));
            DistillationObjective objective;
            try (Progress progress = Progress.start(name + (config.augmented() ? " teacher check" : " teacher outputs"),
                    config.augmented() ? 0 : data.train().size(), "img")) {
                objective = DistillationObjective.create(distillation, teacher, student, data.train(), config, steps,
                        progress);
            }
            try (objective) {
                if (log != null) {
                    log.println(name + ": " + objective.describe() + (objective.cached()
                            ? ", teacher outputs cached" : ", teacher run on every augmented batch"));
                }
                return run(name, "distill", student, objective, config, distillation, data, out, resume, log);
            }
        }
    }

    /**
     * Fails before any work when a network takes other inputs than the data holds (resnet8 on Fashion-MNIST's
     * single channel, say), naming both shapes, rather than in the middle of the first forward pass.
     */
    static void checkInput(String option, String model, Dataset data) throws IOException {
        int[] expected = Models.NAMES.contains(model) ? Models.inputShape(model)
                : NetworkFile.load(Path.of(model), 0).inputShape();
        int[] holds = {data.channels(), data.height(), data.width()};
        boolean fits = expected.length == 3 ? Arrays.equals(expected, holds)
                : expected.length == 1 && expected[0] == data.imageSize();
        if (!fits) {
            throw new IllegalArgumentException(option + " " + model + " takes inputs of " + Shapes.format(expected)
                    + ", but " + data.name() + " holds " + Shapes.format(holds) + "; choose a network for this data ("
                    + "resnet8 and resnet20 take CIFAR-10's [3, 32, 32], the others [1, 28, 28]; a JSON network file "
                    + "says its \"input\")");
        }
    }

    /**
     * What else decides the run's numbers: Java, the CPU kernels and threads, the build's commit, and the teacher's
     * weights by their SHA-256 (a path alone does not say which file it held).
     */
    static Map<String, Object> environment(DistillationConfig distillation) throws IOException {
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("java", System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
        env.put("cpu_threads", Parallel.threads());
        env.put("cpu_kernels", Backends.of(Device.CPU).describe()); // the vector or scalar path, and its threads
        env.put("commit", Version.commit() == null ? "unknown" : Version.commit());
        if (distillation != null) {
            env.put("teacher_weights_sha256", sha256(Path.of(distillation.teacherWeights())));
        }
        return env;
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    private static Outcome run(String name, String command, Module model, Objective objective, TrainingConfig config,
                               DistillationConfig distillation, Data data, Path out, boolean resume, PrintWriter log)
            throws IOException {
        long start = System.nanoTime();
        RunFolder folder = RunFolder.open(out, resume);
        Map<String, Object> resolved = new LinkedHashMap<>();
        resolved.put("retort", Version.VERSION);
        resolved.put("command", command);
        resolved.put("name", name);
        resolved.put("objective", objective.describe());
        Map<String, Object> dataInfo = new LinkedHashMap<>();
        dataInfo.put("source", data.source());
        dataInfo.putAll(data.origin());
        dataInfo.put("train", data.train().size());
        dataInfo.put("test", data.test().size());
        resolved.put("data", dataInfo);
        resolved.put("training", config);
        if (distillation != null) {
            resolved.put("distillation", distillation);
        }
        resolved.put("parameters", model.parameterCount());
        resolved.put("environment", environment(distillation));
        try (Trainer trainer = new Trainer(model, objective, config, data.train())) {
            trainer.log(log, name + ": ");
            trainer.runFolder(folder, null);
            if (resume) {
                trainer.resume(); // checks the architecture against the config.json it replaces next
            }
            folder.writeConfig(resolved);
            List<Map<String, Object>> metrics = trainer.fit(data.test());
            // The last epoch's evaluation is the final model's: no second pass over the test data.
            Map<String, Object> last = metrics.get(metrics.size() - 1);
            Evaluation.Metrics test = new Evaluation.Metrics(((Number) last.get("test_accuracy")).doubleValue(),
                    ((Number) last.get("test_nll")).doubleValue(), ((Number) last.get("test_ece")).doubleValue(),
                    data.test().size());
            return new Outcome(name, out, metrics, test, out.resolve(RunFolder.MODEL),
                    (System.nanoTime() - start) / 1e9);
        }
    }
}
