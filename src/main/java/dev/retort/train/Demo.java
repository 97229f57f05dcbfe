package dev.retort.train;

import dev.retort.distill.DistillationLoss;
import dev.retort.io.AtomicFiles;
import dev.retort.io.Checkpoints;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The main job (docs/design.md): on Fashion-MNIST train the teacher, train the student alone, distill the
 * student in each of the three modes, evaluate all, print the table and write {@code report.md} with
 * plots. Every run has its own folder under the demo's; a demo started again in the same folder reuses
 * the runs that finished and resumes the one that did not.
 */
public final class Demo {
    /** The student's runs, in table order. */
    public static final List<String> STUDENT_RUNS = List.of("baseline", "temperature", "hinton", "hybrid");

    /**
     * How long everything trains.
     *
     * @param seeds       student seeds 1..seeds (the teacher is trained once)
     * @param temperature T of all three modes (T_s = T_t, κ = T²); docs/kd-modes.md's default is 4
     */
    public record Schedule(String name, TrainingConfig teacher, TrainingConfig student, int seeds,
                           double temperature) {
        /** Checks the seeds and the temperature. */
        public Schedule {
            if (seeds <= 0) {
                throw new IllegalArgumentException("--seeds must be positive, got " + seeds);
            }
            if (!(temperature > 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("--temperature must be a positive finite number, got " + temperature);
            }
        }
    }

    /** The finished runs: the teacher, and per student run one outcome per seed. */
    public record Result(Runs.Outcome teacher, Map<String, List<Runs.Outcome>> students, double seconds) {}

    private Demo() {}

    /**
     * The default schedule, about seven minutes on a 2-core CPU: 3 teacher epochs, 5 per student, one seed.
     * The students train without augmentation, so the teacher's outputs are computed once per run.
     */
    public static Schedule quick(int trainSize) {
        return new Schedule("default", teacher(3, 0, false, trainSize), student(5, trainSize), 1,
                DistillationLoss.DEFAULT_TEMPERATURE);
    }

    /** {@code --full}: 25 teacher epochs with random crops and flips, 20 per student, three seeds. */
    public static Schedule full(int trainSize) {
        return new Schedule("full", teacher(25, 2, true, trainSize), student(20, trainSize), 3,
                DistillationLoss.DEFAULT_TEMPERATURE);
    }

    private static TrainingConfig teacher(int epochs, int crop, boolean flip, int trainSize) {
        return new TrainingConfig("cnn-teacher", epochs, 128, "sgd", 0.05, 0.9, true, 5e-4, "cosine", 0.2, 0, crop, flip,
                trainSize, 1, 500);
    }

    private static TrainingConfig student(int epochs, int trainSize) {
        return new TrainingConfig("cnn-student", epochs, 128, "sgd", 0.05, 0.9, true, 5e-4, "cosine", 0.2, 0, 0, false,
                trainSize, 1, 500);
    }

    /** Runs (or reuses) every run of the schedule under {@code out}. */
    public static Result run(Schedule schedule, Runs.Data data, Path out, PrintWriter log) throws IOException {
        long start = System.nanoTime();
        Files.createDirectories(out);
        Runs.Outcome teacher = trainOrReuse("teacher", out.resolve("teacher"), schedule.teacher(), data, log,
                () -> Runs.train("teacher", schedule.teacher(), data, out.resolve("teacher"), resumable(out.resolve("teacher")), log));
        Map<String, List<Runs.Outcome>> students = new LinkedHashMap<>();
        for (int seed = 1; seed <= schedule.seeds(); seed++) {
            TrainingConfig config = schedule.student().withSeed(seed);
            for (String run : STUDENT_RUNS) {
                String name = run + (schedule.seeds() > 1 ? "-seed" + seed : "");
                Path folder = out.resolve("student-" + name);
                Runs.Outcome outcome = trainOrReuse(name, folder, config, data, log, () -> run.equals("baseline")
                        ? Runs.train(name, config, data, folder, resumable(folder), log)
                        : Runs.distill(name, config, modeConfig(run, schedule.temperature(), teacher.model()), data,
                                folder, resumable(folder), log));
                students.computeIfAbsent(run, k -> new ArrayList<>()).add(outcome);
            }
        }
        return new Result(teacher, students, (System.nanoTime() - start) / 1e9);
    }

    /** docs/kd-modes.md's defaults for a mode, at temperature T (κ = T²). */
    static DistillationConfig modeConfig(String mode, double t, Path teacherWeights) {
        DistillationConfig d = DistillationConfig.defaults(mode, "cnn-teacher", teacherWeights.toString());
        return new DistillationConfig(d.mode(), d.teacherModel(), d.teacherWeights(), t, t, t * t, d.alpha(), d.beta(),
                d.gamma(), d.hardTeacherTargets(), d.pairs(), d.prune());
    }

    private interface RunStep {
        Runs.Outcome run() throws IOException;
    }

    private static boolean resumable(Path folder) throws IOException {
        return RunFolder.at(folder).latestCheckpoint().isPresent();
    }

    /** A run whose model.safetensors exists finished earlier: read its metrics and evaluate it again. */
    private static Runs.Outcome trainOrReuse(String name, Path folder, TrainingConfig config, Runs.Data data,
                                             PrintWriter log, RunStep step) throws IOException {
        Path model = folder.resolve(RunFolder.MODEL);
        if (!Files.isRegularFile(model)) {
            return step.run();
        }
        try (Module net = Models.resolve(config.model(), config.seed())) {
            Checkpoints.load(net, model);
            net.to(config.device());
            Evaluation.Metrics test = Evaluation.evaluate(net, data.test(), config.evalBatchSize());
            log.printf(Locale.ROOT, "%s: finished earlier in %s (test accuracy %.2f %%)%n", name, folder,
                    100 * test.accuracy());
            return new Runs.Outcome(name, folder, RunFolder.at(folder).readMetrics(), test, model, 0);
        }
    }

    /** The results table, as Markdown: test accuracy per seed, mean, gain over the baseline, NLL and ECE. */
    public static String table(Result result) {
        StringBuilder sb = new StringBuilder();
        sb.append("| run | network | test accuracy per seed (%) | mean (%) | vs baseline (pp) | NLL | ECE |\n");
        sb.append("|---|---|---|---|---|---|---|\n");
        Runs.Outcome t = result.teacher();
        sb.append(String.format(Locale.ROOT, "| teacher | cnn-teacher | %.2f | %.2f | | %.4f | %.4f |%n",
                100 * t.test().accuracy(), 100 * t.test().accuracy(), t.test().nll(), t.test().ece()));
        double baseline = mean(result.students().get("baseline"), "accuracy");
        for (var e : result.students().entrySet()) {
            List<String> perSeed = new ArrayList<>();
            for (Runs.Outcome o : e.getValue()) {
                perSeed.add(String.format(Locale.ROOT, "%.2f", 100 * o.test().accuracy()));
            }
            double mean = mean(e.getValue(), "accuracy");
            String gain = e.getKey().equals("baseline") ? "" : String.format(Locale.ROOT, "%+.2f", 100 * (mean - baseline));
            sb.append(String.format(Locale.ROOT, "| %s | cnn-student | %s | %.2f | %s | %.4f | %.4f |%n", e.getKey(),
                    String.join(", ", perSeed), 100 * mean, gain, mean(e.getValue(), "nll"), mean(e.getValue(), "ece")));
        }
        return sb.toString();
    }

    private static double mean(List<Runs.Outcome> outcomes, String metric) {
        double sum = 0;
        for (Runs.Outcome o : outcomes) {
            sum += switch (metric) {
                case "accuracy" -> o.test().accuracy();
                case "nll" -> o.test().nll();
                default -> o.test().ece();
            };
        }
        return sum / outcomes.size();
    }

    /** Writes report.md and its plots into {@code out}; returns the report's path. */
    public static Path writeReport(Result result, Schedule schedule, Runs.Data data, String machine, Path out)
            throws IOException {
        List<Plots.Series> accuracy = new ArrayList<>();
        List<Plots.Series> loss = new ArrayList<>();
        accuracy.add(series("teacher", result.teacher(), "test_accuracy"));
        loss.add(series("teacher", result.teacher(), "test_nll"));
        for (var e : result.students().entrySet()) {
            Runs.Outcome first = e.getValue().get(0);
            accuracy.add(series(e.getKey(), first, "test_accuracy"));
            loss.add(series(e.getKey(), first, "test_nll"));
        }
        Plots.lineChart(out.resolve("accuracy.png"), "Test accuracy (students: seed 1)", "epoch", "test accuracy (%)",
                accuracy);
        Plots.lineChart(out.resolve("nll.png"), "Test NLL (students: seed 1)", "epoch", "negative log-likelihood",
                loss);

        StringBuilder md = new StringBuilder();
        md.append("# Retort demo: distilling cnn-teacher into cnn-student on Fashion-MNIST\n\n");
        md.append(String.format(Locale.ROOT, "Schedule `%s`, %d student seed(s), %.1f minutes in all. %s.%n%n",
                schedule.name(), schedule.seeds(), result.seconds() / 60, machine));
        md.append("Data: ").append(data.source()).append(" (").append(data.train().size()).append(" training, ")
                .append(data.test().size()).append(" test images).\n\n");
        md.append(table(result)).append('\n');
        double t = schedule.temperature();
        md.append(String.format(Locale.ROOT, "Modes as in docs/kd-modes.md at T = %s (its default is 4): "
                + "temperature T_s = T_t = %s, κ = %s; hinton α = 0.1; hybrid α 0.1, β 0.9, γ 1, the student's 16×7×7 "
                + "map paired with the teacher's 64×7×7 map through a 1×1 convolution.%n%n", t, t, t * t));
        md.append("## Training\n\n");
        md.append("- teacher: ").append(describe(schedule.teacher())).append('\n');
        md.append("- students: ").append(describe(schedule.student()))
                .append("; the teacher's outputs are computed once per run (no augmentation)\n\n");
        md.append("![test accuracy per epoch](accuracy.png)\n\n![test NLL per epoch](nll.png)\n\n");
        md.append("## Runs\n\n| run | folder | seconds |\n|---|---|---|\n");
        md.append(String.format(Locale.ROOT, "| teacher | %s | %.0f |%n", out.relativize(result.teacher().folder()),
                result.teacher().seconds()));
        for (List<Runs.Outcome> outcomes : result.students().values()) {
            for (Runs.Outcome o : outcomes) {
                md.append(String.format(Locale.ROOT, "| %s | %s | %.0f |%n", o.name(), out.relativize(o.folder()),
                        o.seconds()));
            }
        }
        md.append("\nA run that shows 0 seconds finished in an earlier invocation and was reused.\n");
        Path report = out.resolve("report.md");
        AtomicFiles.writeString(report, md.toString());
        return report;
    }

    private static String describe(TrainingConfig c) {
        return String.format(Locale.ROOT, "%s, %d epoch%s, batch %d, %s lr %s (momentum %s%s), weight decay %s, %s "
                        + "schedule%s", c.model(), c.epochs(), c.epochs() == 1 ? "" : "s", c.batchSize(), c.optimizer().toUpperCase(Locale.ROOT),
                c.learningRate(), c.momentum(), c.nesterov() ? ", Nesterov" : "", c.weightDecay(), c.schedule(),
                c.augmented() ? ", random crop (padding " + c.cropPadding() + ")" + (c.flip() ? " and flips" : "")
                        : "");
    }

    private static Plots.Series series(String name, Runs.Outcome outcome, String column) {
        List<Map<String, Object>> rows = outcome.metrics();
        double[] x = new double[rows.size()];
        double[] y = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            x[i] = ((Number) rows.get(i).get("epoch")).doubleValue();
            y[i] = switch (column) {
                case "test_accuracy" -> 100 * ((Number) rows.get(i).get(column)).doubleValue();
                default -> ((Number) rows.get(i).get(column)).doubleValue();
            };
        }
        return new Plots.Series(name, x, y);
    }
}
