package dev.retort.train;

import dev.retort.Version;
import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.backend.Shapes;
import dev.retort.backend.cpu.Parallel;
import dev.retort.data.Dataset;
import dev.retort.data.Normalization;
import dev.retort.distill.TeacherOutputs;
import dev.retort.io.Checkpoints;
import dev.retort.nn.Models;
import dev.retort.nn.NetworkFile;
import dev.retort.nn.Module;
import dev.retort.tensor.Finite;
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
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One whole run, as the {@code train} and {@code distill} commands and the demo start it: build the
 * networks, put them on the config's device, open the run folder (or resume it), record the resolved
 * config, train, evaluate, export.
 */
public final class Runs {
    /**
     * The data of a run: training examples (already cut to the config's train size), test examples, where they came
     * from in words, and in fields for config.json ({@code dataset} and {@code folder}, so that a replay finds them,
     * and the files' {@link DataFingerprint}, so that a resume knows whether they changed),
     * and how raw pixels were normalised into them (null when they were not pixels or it is unknown), which
     * config.json and the weights' metadata record.
     */
    public record Data(Dataset train, Dataset test, String source, Map<String, Object> origin,
                       Normalization normalization) {
        /** Data whose normalisation is not recorded. */
        public Data(Dataset train, Dataset test, String source, Map<String, Object> origin) {
            this(train, test, source, origin, null);
        }

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
        new RunChecks(data).check(config, null);
        RunFolder.check(out, resume);
        if (resume) {
            ResumeCheck.requireSameInputs(out, RunFolder.at(out).readConfig(), data, null);
        }
        long start = System.nanoTime();
        return RetortFolder.write(out, RetortFolder.Kind.RUN, "--out", lockCommand(name, out, resume), () -> {
            try (Module model = Models.resolve(config.model(), config.seed());
                 Objective objective = Objective.crossEntropy(config.labelSmoothing())) {
                RunFolder folder = RunFolder.open(out, resume);
                return run(name, "train", model, objective, config, null, data,
                        config.trainingSet(data.train(), false), folder, resume, log, start);
            }
        });
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
        new RunChecks(data).check(config, distillation);
        RunFolder.check(out, resume);
        Path teacherFile = Path.of(distillation.teacherWeights()); // its file and fit checked by RunChecks above
        if (resume) {
            ResumeCheck.requireSameInputs(out, RunFolder.at(out).readConfig(), data, teacherFile);
        }
        long start = System.nanoTime();
        // The teacher is loaded before the folder is made, so weights that do not fit --teacher-model leave nothing
        // behind; the folder is locked and opened before the teacher's outputs are computed, so a second writer is
        // refused before that work, not after.
        try (Module teacher = Models.resolve(distillation.teacherModel(), config.seed());
             Module student = Models.resolve(config.model(), config.seed())) {
            loadTeacher(teacher, distillation.teacherModel(), teacherFile);
            return RetortFolder.write(out, RetortFolder.Kind.RUN, "--out", lockCommand(name, out, resume), () -> {
                RunFolder folder = RunFolder.open(out, resume);
                // Before the objective is made: it puts the teacher and the regressors on the student's device.
                student.to(config.device());
                Dataset transferSet = config.trainingSet(data.train(), true);
                long steps = (long) config.epochs() * Math.max(1, transferSet.size() / Math.min(config.batchSize(),
                        transferSet.size()));
                DistillationObjective objective;
                boolean computes = !config.augmented() && teacherOutputs == null;
                try (Progress progress = computes ? Progress.start(name + " teacher outputs", transferSet.size(),
                        "img") : null) {
                    objective = DistillationObjective.create(distillation, teacher, student, transferSet, config,
                            steps, progress, teacherOutputs);
                }
                try (objective) {
                    if (log != null) {
                        log.println(name + ": " + objective.describe() + (objective.cached()
                                ? ", teacher outputs cached" : ", teacher run on every augmented batch"));
                    }
                    return run(name, "distill", student, objective, config, distillation, data, transferSet, folder,
                            resume, log, start);
                }
            });
        }
    }

    /**
     * A run that finished earlier in {@code folder} (its model.safetensors exists), as its metrics recorded it: the
     * last epoch's evaluation is the final model's. Empty when the run has not finished.
     */
    public static Optional<Outcome> finished(String name, Path folder) throws IOException {
        Path model = folder.resolve(RunFolder.MODEL);
        if (!Files.isRegularFile(model) || RetortFolder.kindOf(folder).orElse(null) != RetortFolder.Kind.RUN) {
            return Optional.empty();
        }
        List<Map<String, Object>> metrics = RunFolder.at(folder).readMetrics();
        if (metrics.isEmpty()) {
            throw new IOException(folder + ": holds " + RunFolder.MODEL + " but no metrics.jsonl rows");
        }
        return Optional.of(new Outcome(name, folder, metrics, lastEvaluation(metrics), model, 0));
    }

    /** A run's start, told whether to resume from the folder's newest checkpoint. */
    @FunctionalInterface
    public interface Start {
        /**
         * Trains (or resumes when {@code resume}) the run and returns its outcome.
         *
         * @throws IOException if the run folder cannot be read or written
         */
        Outcome run(boolean resume) throws IOException;
    }

    /**
     * The run in {@code folder}: reused when it finished earlier with the same options and inputs (saying so in one line),
     * resumed when it has a checkpoint, started otherwise. A finished run of other options is refused, naming the
     * first difference, rather than reused.
     *
     * @param distillation the run's distillation, or null for a run on the labels alone
     */
    public static Outcome reuseOrRun(String name, Path folder, TrainingConfig config, DistillationConfig distillation,
                                     Data data, PrintWriter log, Start start) throws IOException {
        Optional<Outcome> earlier = checkReusable(name, folder, config, distillation, data);
        if (earlier.isPresent()) {
            log.printf(Locale.ROOT, "%s: finished earlier (test accuracy %.2f %%)%n", name,
                    100 * earlier.get().test().accuracy());
            return earlier.get();
        }
        return start.run(RunFolder.at(folder).latestCheckpoint().isPresent());
    }

    /**
     * The run that finished earlier in {@code folder}, when it did, refused (naming the first difference) unless it
     * ran with these options: what {@link #reuseOrRun} refuses, checked on its own so that a grid can check every
     * cell's folder before any cell trains.
     */
    public static Optional<Outcome> checkReusable(String name, Path folder, TrainingConfig config,
                                                  DistillationConfig distillation, Data data) throws IOException {
        Optional<Outcome> earlier = finished(name, folder);
        if (earlier.isPresent()) {
            ResumeCheck.requireSameFinishedRun(folder, RunFolder.at(folder).readConfig(), config, distillation, data);
        }
        return earlier;
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
            loadTeacher(teacher, teacherModel, teacherWeights);
            teacher.to(config.device());
            return TeacherOutputs.compute(teacher, data.train(), layers, config.evalBatchSize(), progress::step);
        }
    }

    /** Refuses a teacher weights file that is missing, not a file or not readable, naming it. */
    static void requireTeacherFile(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("--teacher-weights " + file + ": " + (Files.exists(file) ? "is not a file"
                    : "no such file") + "; give the model.safetensors of a trained teacher run");
        }
        if (!Files.isReadable(file)) {
            throw new IOException("--teacher-weights " + file + ": not readable (permission denied)");
        }
    }

    /** The teacher's weights, with errors that name the option and the reason, and refused unless finite. */
    static void loadTeacher(Module teacher, String teacherModel, Path file) throws IOException {
        requireTeacherFile(file);
        try {
            Checkpoints.load(teacher, file);
        } catch (Checkpoints.Mismatch e) {
            throw new IllegalArgumentException(e.describe("--teacher-weights", "--teacher-model", teacherModel), e);
        }
        String bad = Finite.describeNonFinite(teacher.stateDict());
        if (bad != null) {
            throw new IllegalArgumentException("--teacher-weights " + file + ": " + bad + "; a teacher with non-finite "
                    + "weights cannot teach");
        }
    }

    /** What the run's lock file records of its holder. */
    private static String lockCommand(String name, Path out, boolean resume) {
        return name + " --out " + out + (resume ? " --resume" : "");
    }

    /**
     * Fails before any work when a network takes other inputs than the data holds (resnet8 on Fashion-MNIST's
     * single channel, say), naming both shapes, rather than in the middle of the first forward pass.
     */
    static void checkInput(String option, String model, Dataset data) throws IOException {
        int[] expected = Models.NAMES.contains(model) ? Models.inputShape(model) : fileInputShape(option, model);
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

    /** The input shape a JSON network file declares; its errors name the option. */
    private static int[] fileInputShape(String option, String model) throws IOException {
        if (!NetworkFile.isFileName(model) || !Files.isRegularFile(Path.of(model))) {
            throw new IllegalArgumentException(option + " " + model + ": neither a reference network " + Models.NAMES
                    + " nor an existing JSON network file (FILE" + NetworkFile.SUFFIX + ")");
        }
        NetworkFile.Network network;
        try {
            network = NetworkFile.load(Path.of(model), 0);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IOException(option + " " + e.getMessage(), e);
        }
        network.model().close();
        return network.inputShape();
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

    /** The file's SHA-256, in hex. */
    static String sha256(Path file) throws IOException {
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
                               DistillationConfig distillation, Data data, Dataset train, RunFolder folder,
                               boolean resume, PrintWriter log, long start) throws IOException {
        Path out = folder.dir();
        Map<String, Object> resolved = new LinkedHashMap<>();
        resolved.put("retort", Version.VERSION);
        resolved.put("command", command);
        resolved.put("name", name);
        resolved.put("objective", objective.describe());
        Map<String, Object> dataSizes = new LinkedHashMap<>(); // insertion order: config.json's bytes are stable
        dataSizes.put("source", data.source());
        data.origin().forEach((k, v) -> {
            if (!k.equals(DataFingerprint.FIELD)) {
                dataSizes.put(k, v);
            }
        });
        dataSizes.put("train", train.size());
        dataSizes.put("labelled", config.labelled() > 0 ? config.labelled() : train.labelledCount()); // distinct images
        dataSizes.put("test", data.test().size());
        if (data.normalization() != null) {
            dataSizes.put("normalization", data.normalization().toMap());
        }
        if (data.origin().containsKey(DataFingerprint.FIELD)) { // last: the longest, and read by resumes alone
            dataSizes.put(DataFingerprint.FIELD, data.origin().get(DataFingerprint.FIELD));
        }
        resolved.put("data", dataSizes);
        resolved.put("training", config);
        if (distillation != null) {
            resolved.put("distillation", distillation.toMap());
        }
        resolved.put("parameters", model.parameterCount());
        resolved.put("environment", environment(distillation));
        if (resume) {
            // Checked against the config.json of the run, which stays as that run wrote it.
            ResumeCheck.requireSameRun(out, folder.readConfig(), RunFolder.toTree(resolved));
        }
        try (Trainer trainer = new Trainer(model, objective, config, train)) {
            trainer.log(log, name + ": ");
            trainer.runFolder(folder, null);
            trainer.inputNormalization(data.normalization());
            if (resume) {
                trainer.resume();
            } else {
                folder.writeConfig(resolved);
            }
            List<Map<String, Object>> metrics = trainer.fit(data.test());
            // The last epoch's evaluation is the final model's: no second pass over the test data.
            Evaluation.Metrics last = lastEvaluation(metrics);
            Evaluation.Metrics test = new Evaluation.Metrics(last.accuracy(), last.nll(), last.ece(), data.test().size());
            return new Outcome(name, out, metrics, test, out.resolve(RunFolder.MODEL),
                    (System.nanoTime() - start) / 1e9);
        }
    }
}
