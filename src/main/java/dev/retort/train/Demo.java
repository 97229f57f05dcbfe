package dev.retort.train;

import dev.retort.distill.DistillationMode;
import dev.retort.io.AtomicFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The main job (docs/design.md): on Fashion-MNIST train the teacher, then in each setting train the student alone
 * and distill it in each of the three modes, print one table per setting and write {@code report.md} with plots.
 * The student runs of all settings are one {@link Sweep}: the teacher's outputs are computed once and shared by
 * every mode and setting, and a demo started again in the same folder reuses the runs that finished and resumes the
 * one that did not. The settings and their options are those the sweeps of docs/kd-modes.md chose.
 */
public final class Demo {
    /** The student's runs of a setting, in table order. */
    public static final List<String> STUDENT_RUNS = List.of("baseline", "temperature", "hinton", "hybrid");

    /**
     * One comparison: a student trained alone and distilled in each mode under the same schedule.
     *
     * @param name    the setting's folder and key, e.g. {@code limited-labels}
     * @param student the student's schedule (its {@code labelled} says how many labels it sees)
     * @param modes   each mode with its options, in table order
     */
    public record Setting(String name, TrainingConfig student, List<DistillationMode> modes) {
        /** Copies {@code modes}. */
        public Setting {
            modes = List.copyOf(modes);
        }

        /** One line for the table's heading: the student and the labels it sees. */
        public String title() {
            return student.model() + (student.labelled() > 0 ? ", the labels of " + student.labelled()
                    + " images; every training image in the transfer set" : ", every label");
        }

        /** The same setting with every mode at temperature {@code t}. */
        public Setting withTemperature(double t) {
            return new Setting(name, student, modes.stream().map(m -> m.withTemperature(t)).toList());
        }

        /** The same setting with another student schedule. */
        public Setting withStudent(TrainingConfig value) {
            return new Setting(name, value, modes);
        }
    }

    /**
     * How long everything trains.
     *
     * @param seeds student seeds 1..seeds (the teacher is trained once)
     */
    public record Schedule(String name, TrainingConfig teacher, List<Setting> settings, int seeds) {
        /**
         * Copies {@code settings}.
         *
         * @throws IllegalArgumentException if {@code seeds} is not positive (message names {@code --seeds})
         */
        public Schedule {
            if (seeds <= 0) {
                throw new IllegalArgumentException("--seeds must be positive, got " + seeds);
            }
            settings = List.copyOf(settings);
        }
    }

    /** The finished runs: the teacher, and every student run of every setting. */
    public record Result(Runs.Outcome teacher, List<Sweep.Result> students, double seconds) {}

    private Demo() {}

    /** Labels of this many training images in the limited-label setting (100 per class). */
    public static final int LABELLED = 1000;

    /**
     * The default schedule, about ten minutes on a 2-core CPU, one seed: a 3-epoch teacher, then cnn-student on the
     * labels of 1,000 images (every image in the transfer set) for 5 epochs, alone and in each mode at T = 2 — the
     * setting where distillation pays most (docs/kd-modes.md).
     */
    public static Schedule quick(int trainSize) {
        return new Schedule("default", teacher(3, 0, false, trainSize),
                List.of(limitedLabels(student("cnn-student", 5, trainSize))), 1);
    }

    /**
     * {@code --full}: a teacher trained 8 epochs (with every label the student gains only from a teacher this good:
     * docs/kd-modes.md), three student seeds, and both settings: the limited labels of the default, and mlp-student
     * on every label for 20 epochs at T = 4.
     */
    public static Schedule full(int trainSize) {
        return new Schedule("full", teacher(8, 0, false, trainSize),
                List.of(limitedLabels(student("cnn-student", 5, trainSize)),
                        allLabels(student("mlp-student", 20, trainSize))), 3);
    }

    /** The student sees the labels of {@link #LABELLED} images; the modes use every image's soft targets. */
    static Setting limitedLabels(TrainingConfig student) {
        return new Setting("limited-labels", student.withLabelled(LABELLED), modes(2, "5=13"));
    }

    /** Every label; the student has the capacity to use soft targets beyond them (Hinton et al.'s setting). */
    static Setting allLabels(TrainingConfig student) {
        return new Setting("all-labels", student, modes(4, "4=16"));
    }

    private static List<DistillationMode> modes(double temperature, String pair) {
        DistillationMode.Options at = DistillationMode.Options.NONE.withTemperature(temperature);
        return List.of(DistillationMode.parse("temperature", at), DistillationMode.parse("hinton", at),
                DistillationMode.parse("hybrid", new DistillationMode.Options(temperature, null, null, null, null, null,
                        null, null, List.of(pair), null)));
    }

    private static TrainingConfig teacher(int epochs, int crop, boolean flip, int trainSize) {
        return new TrainingConfig("cnn-teacher", epochs, 128, "sgd", 0.05, 0.9, true, 5e-4, "cosine", 0.2, 0, crop, flip,
                trainSize, 1, 500);
    }

    private static TrainingConfig student(String model, int epochs, int trainSize) {
        return new TrainingConfig(model, epochs, 128, "sgd", 0.05, 0.9, true, 5e-4, "cosine", 0.2, 0, 0, false,
                trainSize, 1, 500);
    }

    /** The student runs of the schedule as sweep cells: per setting, the baseline and each mode, per seed. */
    static List<Sweep.Cell> cells(Schedule schedule, Path teacherWeights) {
        List<Sweep.Cell> cells = new ArrayList<>();
        for (Setting setting : schedule.settings()) {
            for (int seed = 1; seed <= schedule.seeds(); seed++) {
                TrainingConfig config = setting.student().withSeed(seed);
                List<DistillationConfig> runs = new ArrayList<>();
                runs.add(null);
                for (DistillationMode mode : setting.modes()) {
                    runs.add(new DistillationConfig(mode, schedule.teacher().model(), teacherWeights.toString()));
                }
                for (DistillationConfig run : runs) {
                    Map<String, String> varying = new LinkedHashMap<>();
                    varying.put("mode", run == null ? "baseline" : run.mode().name());
                    if (schedule.seeds() > 1) {
                        varying.put(Sweep.SEED, String.valueOf(seed));
                    }
                    cells.add(new Sweep.Cell(setting.name(), varying, config, run));
                }
            }
        }
        return cells;
    }

    /**
     * Runs (or reuses) every run of the schedule under {@code out}, a demo folder ({@link RetortFolder}): a new or
     * empty folder becomes one, and every run is a run folder inside it. Each run is checked before any trains.
     */
    public static Result run(Schedule schedule, Runs.Data data, Path out, PrintWriter log) throws IOException {
        return RetortFolder.write(out, RetortFolder.Kind.DEMO, "--out", "demo --out " + out,
                () -> runLocked(schedule, data, out, log));
    }

    private static Result runLocked(Schedule schedule, Runs.Data data, Path out, PrintWriter log) throws IOException {
        // Every run is checked against the data before the teacher trains: a student setting that cannot start
        // (--labelled past the data, say) is refused now, not after the teacher's minutes, and the claim on a new
        // folder is withdrawn.
        RunChecks checks = new RunChecks(data);
        checks.check(schedule.teacher(), null);
        for (Setting setting : schedule.settings()) {
            checks.check(setting.student(), null);
        }
        long start = System.nanoTime();
        Path teacherFolder = out.resolve("teacher");
        Runs.Outcome teacher = Runs.reuseOrRun("teacher", teacherFolder, schedule.teacher(), null, data, log,
                resume -> Runs.train("teacher", schedule.teacher(), data, teacherFolder, resume, log));
        List<Sweep.Result> students = Sweep.run(cells(schedule, teacher.model()), data, out, log);
        return new Result(teacher, students, (System.nanoTime() - start) / 1e9);
    }

    /** The results as Markdown: the teacher, then one table per setting. */
    public static String tables(Result result, Schedule schedule) {
        StringBuilder sb = new StringBuilder();
        Runs.Outcome t = result.teacher();
        sb.append(String.format(Locale.ROOT, "Teacher %s: test accuracy %.2f %%, NLL %.4f, ECE %.4f.%n",
                schedule.teacher().model(), 100 * t.test().accuracy(), t.test().nll(), t.test().ece()));
        Map<String, List<Sweep.Result>> groups = Sweep.groups(result.students());
        for (Setting setting : schedule.settings()) {
            sb.append("\n### ").append(setting.title()).append("\n\n");
            sb.append(Sweep.table(groups.get(setting.name())));
        }
        return sb.toString();
    }

    /** Writes report.md and its plots into {@code out}; returns the report's path. */
    public static Path writeReport(Result result, Schedule schedule, Runs.Data data, String machine, Path out)
            throws IOException {
        Map<String, List<Sweep.Result>> groups = Sweep.groups(result.students());
        StringBuilder md = new StringBuilder();
        md.append("# Retort demo: distilling cnn-teacher on Fashion-MNIST\n\n");
        md.append(String.format(Locale.ROOT, "Schedule `%s`, %d student seed(s), %.1f minutes in all. %s.%n%n",
                schedule.name(), schedule.seeds(), result.seconds() / 60, machine));
        md.append("Data: ").append(data.source()).append(" (").append(data.train().size()).append(" training, ")
                .append(data.test().size()).append(" test images).\n\n");
        md.append(tables(result, schedule)).append('\n');
        md.append(schedule.seeds() == 1
                ? "One seed (seed 1), so the table shows no spread: over seeds 1–3 this repository measured the "
                        + "limited-label setting's rows to spread by 0.1–0.7 points (sample standard deviation) and "
                        + "every mode to gain about 9 points (docs/kd-modes.md, \"The evidence\"); `retort demo --full` "
                        + "measures the spread itself with three seeds.\n\n"
                : "Mean ± sample standard deviation over the seeds of each row.\n\n");
        md.append("## Training\n\n");
        md.append("- teacher: ").append(describe(schedule.teacher())).append('\n');
        for (Setting setting : schedule.settings()) {
            md.append("- ").append(setting.name()).append(": ").append(describe(setting.student()));
            for (DistillationMode mode : setting.modes()) {
                md.append("; ").append(mode.describe());
            }
            md.append('\n');
        }
        md.append("\nThe teacher's outputs are computed once and shared by every run (no augmentation for the "
                + "students). With limited labels the baseline trains on the labelled images alone, repeated to the "
                + "training set's size each epoch, so every run takes as many steps; the modes use every image's soft "
                + "targets and their label term only where a label was kept (docs/kd-modes.md).\n\n");
        for (Setting setting : schedule.settings()) {
            List<Plots.Series> accuracy = new ArrayList<>();
            for (Sweep.Result r : groups.get(setting.name())) {
                if (r.cell().training().seed() == 1) {
                    accuracy.add(series(r.cell().varying().get("mode"), r.outcome()));
                }
            }
            String png = setting.name() + ".png";
            Plots.lineChart(out.resolve(png), "Test accuracy, " + setting.name() + " (seed 1)", "epoch",
                    "test accuracy (%)", accuracy);
            md.append("![test accuracy per epoch, ").append(setting.name()).append("](").append(png).append(")\n\n");
        }
        md.append("## Runs\n\n| run | folder | seconds |\n|---|---|---|\n");
        md.append(String.format(Locale.ROOT, "| teacher | %s | %.0f |%n", out.relativize(result.teacher().folder()),
                result.teacher().seconds()));
        for (Sweep.Result r : result.students()) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %.0f |%n", r.cell().key(), r.cell().key(),
                    r.outcome().seconds()));
        }
        md.append("\nA run that shows 0 seconds finished in an earlier invocation and was reused.\n");
        Path report = out.resolve("report.md");
        AtomicFiles.writeString(report, md.toString());
        return report;
    }

    private static String describe(TrainingConfig c) {
        return String.format(Locale.ROOT, "%s, %d epoch%s, batch %d, %s lr %s (momentum %s%s), weight decay %s, %s "
                        + "schedule%s%s", c.model(), c.epochs(), c.epochs() == 1 ? "" : "s", c.batchSize(),
                c.optimizer().toUpperCase(Locale.ROOT),
                c.learningRate(), c.momentum(), c.nesterov() ? ", Nesterov" : "", c.weightDecay(), c.schedule(),
                c.augmented() ? ", random crop (padding " + c.cropPadding() + ")" + (c.flip() ? " and flips" : "")
                        : "", c.labelled() > 0 ? ", the labels of " + c.labelled() + " images" : "");
    }

    private static Plots.Series series(String name, Runs.Outcome outcome) {
        List<Map<String, Object>> rows = outcome.metrics();
        double[] x = new double[rows.size()];
        double[] y = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            x[i] = ((Number) rows.get(i).get("epoch")).doubleValue();
            y[i] = 100 * ((Number) rows.get(i).get("test_accuracy")).doubleValue();
        }
        return new Plots.Series(name, x, y);
    }
}
