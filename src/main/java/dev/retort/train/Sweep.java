package dev.retort.train;

import dev.retort.distill.DistillationMode;
import dev.retort.distill.FeaturePairs;
import dev.retort.distill.TeacherOutputs;
import dev.retort.io.AtomicFiles;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A grid of student runs against one teacher ({@code retort sweep}): every cell a run folder of its own, finished
 * runs reused, the teacher's outputs computed once per teacher and training set, and the results written as a
 * Markdown table (mean ± sample standard deviation over seeds, per-seed values), a CSV file with one row per run,
 * and a PNG of test accuracy against T per mode.
 */
public final class Sweep {
    /** The option that tells seeds apart: cells that differ only in it form one row of the table. */
    public static final String SEED = "seed";

    /**
     * One run of the grid.
     *
     * @param group        a subfolder and table of its own (the demo's settings); empty for a plain sweep
     * @param varying      the options that vary across the grid, with this cell's values, in grid order
     * @param training     the run's training options
     * @param distillation the mode and teacher; null for the student trained on the labels alone ({@code baseline})
     */
    public record Cell(String group, Map<String, String> varying, TrainingConfig training,
                       DistillationConfig distillation) {
        /** A cell of a plain sweep. */
        public Cell(Map<String, String> varying, TrainingConfig training, DistillationConfig distillation) {
            this("", varying, training, distillation);
        }

        /**
         * The cell's folder under the sweep's: its group, then its varying options, e.g.
         * {@code mode-hinton.temperature-2.seed-1}.
         */
        public String key() {
            List<String> parts = new ArrayList<>();
            for (var e : varying.entrySet()) {
                parts.add(e.getKey() + "-" + e.getValue().replaceAll("[^A-Za-z0-9._=-]", "_"));
            }
            String name = parts.isEmpty() ? "run" : String.join(".", parts);
            return group.isEmpty() ? name : group + "/" + name;
        }

        /** The row of the table this cell belongs to: its varying options less the seed. */
        String row() {
            List<String> parts = new ArrayList<>();
            for (var e : varying.entrySet()) {
                if (!e.getKey().equals(SEED)) {
                    parts.add(e.getKey() + " " + e.getValue());
                }
            }
            return parts.isEmpty() ? "all" : String.join(", ", parts);
        }

        String mode() {
            return distillation == null ? "baseline" : distillation.mode().name();
        }

        /** T of the cell's mode (its student temperature), or NaN for the baseline. */
        double temperature() {
            return distillation == null ? Double.NaN : distillation.mode().temperature();
        }
    }

    /** A finished cell. */
    public record Result(Cell cell, Runs.Outcome outcome) {}

    private Sweep() {}

    /**
     * Runs every cell not finished under {@code out}, in order; returns every cell's outcome. The teacher's outputs
     * over the training set are computed once per teacher, with every layer any hybrid cell pairs, when the first
     * cell that can use them (one without augmentation) runs.
     */
    public static List<Result> run(List<Cell> cells, Runs.Data data, Path out, PrintWriter log) throws IOException {
        Files.createDirectories(out);
        checkFinished(cells, data, out);
        Map<String, TeacherOutputs> teacherOutputs = new HashMap<>();
        List<Result> results = new ArrayList<>();
        int index = 0;
        for (Cell cell : cells) {
            index++;
            Path folder = out.resolve(cell.key());
            String name = String.format(Locale.ROOT, "[%d/%d] %s", index, cells.size(), cell.key());
            Runs.Outcome outcome = Runs.reuseOrRun(name, folder, cell.training(), cell.distillation(), data, log,
                    resume -> runCell(name, cell, folder, resume, cells, teacherOutputs, data, log));
            results.add(new Result(cell, outcome));
        }
        return results;
    }

    /**
     * Refuses the grid when a cell's folder under {@code out} holds a run that finished with other options, naming
     * the first difference, before any cell trains rather than when that cell's turn comes.
     */
    public static void checkFinished(List<Cell> cells, Runs.Data data, Path out) throws IOException {
        for (Cell cell : cells) {
            Runs.checkReusable(cell.key(), out.resolve(cell.key()), cell.training(), cell.distillation(), data);
        }
    }

    /**
     * Trains one cell: the baseline on the labels, or a distillation with the teacher's outputs shared by every cell
     * of that teacher (computed at the first that can use them, with every layer any hybrid cell pairs).
     */
    private static Runs.Outcome runCell(String name, Cell cell, Path folder, boolean resume, List<Cell> cells,
                                        Map<String, TeacherOutputs> teacherOutputs, Runs.Data data, PrintWriter log)
            throws IOException {
        TrainingConfig c = cell.training();
        DistillationConfig d = cell.distillation();
        Runs.Outcome outcome;
        if (d == null) {
            outcome = Runs.train(name, c, data, folder, resume, log);
        } else {
            TeacherOutputs shared = null;
            if (!c.augmented()) {
                String teacher = teacherKey(d, c);
                if (!teacherOutputs.containsKey(teacher)) {
                    teacherOutputs.clear(); // one teacher's outputs in memory at a time
                    List<String> layers = teacherLayers(cells, teacher);
                    teacherOutputs.put(teacher, Runs.teacherOutputs(d.teacherModel(), Path.of(d.teacherWeights()),
                            layers, c, data));
                    log.printf(Locale.ROOT, "teacher outputs of %s over %d images (logits%s): computed once for every "
                            + "run%n", d.teacherWeights(), data.train().size(),
                            layers.isEmpty() ? "" : ", layers " + String.join(", ", layers));
                }
                shared = teacherOutputs.get(teacher);
            }
            outcome = Runs.distill(name, c, d, data, shared, folder, resume, log);
        }
        log.printf(Locale.ROOT, "%s: test accuracy %.2f %%%n", name, 100 * outcome.test().accuracy());
        return outcome;
    }

    private static String teacherKey(DistillationConfig d, TrainingConfig c) {
        return d.teacherModel() + "|" + d.teacherWeights() + "|" + c.device();
    }

    /**
     * Every teacher layer the hybrid cells of this teacher pair, found on freshly built networks once per student and
     * pairs (not once per cell of a large grid).
     */
    private static List<String> teacherLayers(List<Cell> cells, String teacher) throws IOException {
        LinkedHashSet<String> layers = new LinkedHashSet<>();
        Set<List<Object>> seen = new HashSet<>();
        for (Cell cell : cells) {
            DistillationConfig d = cell.distillation();
            if (d != null && d.mode() instanceof DistillationMode.Hybrid && !cell.training().augmented()
                    && teacherKey(d, cell.training()).equals(teacher)
                    && seen.add(List.of(cell.training().model(), d.mode().pairs()))) {
                try (Module t = Models.resolve(d.teacherModel(), 0);
                     Module s = Models.resolve(cell.training().model(), 0)) {
                    layers.addAll(FeaturePairs.resolve(d.mode().pairs(), s, t).teacherLayers());
                }
            }
        }
        return List.copyOf(layers);
    }

    /**
     * The table of one group: one row per cell less its seed, mean ± standard deviation of test accuracy, the gain
     * over the group's baseline (where it has one), every seed's value.
     */
    public static String table(List<Result> results) {
        Map<String, List<Result>> rows = rows(results);
        List<List<Result>> baselines = rows.values().stream().filter(r -> r.get(0).cell().distillation() == null)
                .toList();
        double baseline = baselines.size() == 1 ? accuracy(baselines.get(0))[0] : Double.NaN;
        StringBuilder sb = new StringBuilder();
        sb.append("| cell | mode | n | test accuracy, mean ± std (%) | vs baseline (pp) | per seed (%) | NLL | ECE |\n");
        sb.append("|---|---|---|---|---|---|---|---|\n");
        for (var e : rows.entrySet()) {
            List<Result> row = e.getValue();
            double[] a = accuracy(row);
            List<String> perSeed = new ArrayList<>();
            double nll = 0;
            double ece = 0;
            for (Result r : row) {
                perSeed.add(String.format(Locale.ROOT, "%.2f (seed %d)", 100 * r.outcome().test().accuracy(),
                        r.cell().training().seed()));
                nll += r.outcome().test().nll() / row.size();
                ece += r.outcome().test().ece() / row.size();
            }
            String gain = Double.isNaN(baseline) || row.get(0).cell().distillation() == null ? ""
                    : String.format(Locale.ROOT, "%+.2f", 100 * (a[0] - baseline));
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %.2f ± %.2f | %s | %s | %.4f | %.4f |%n", e.getKey(),
                    row.get(0).cell().mode(), row.size(), 100 * a[0], 100 * a[1], gain, String.join(", ", perSeed),
                    nll, ece));
        }
        return sb.toString();
    }

    /** One row per run: its varying options, seed, test accuracy, NLL, ECE and seconds. */
    public static String csv(List<Result> results) {
        List<String> columns = new ArrayList<>();
        for (Result r : results) {
            for (String k : r.cell().varying().keySet()) {
                if (!columns.contains(k)) {
                    columns.add(k);
                }
            }
        }
        StringBuilder sb = new StringBuilder("run,");
        for (String c : columns) {
            sb.append(c).append(',');
        }
        sb.append("test_accuracy,test_nll,test_ece,seconds\n");
        for (Result r : results) {
            sb.append(r.cell().key()).append(',');
            for (String c : columns) {
                sb.append(r.cell().varying().getOrDefault(c, "")).append(',');
            }
            sb.append(String.format(Locale.ROOT, "%.4f,%.5f,%.5f,%.1f%n", r.outcome().test().accuracy(),
                    r.outcome().test().nll(), r.outcome().test().ece(), r.outcome().seconds()));
        }
        return sb.toString();
    }

    /**
     * Test accuracy against T: one line per mode (and per value of any other varying option) with ± one standard
     * deviation over seeds, and the baseline drawn flat across the temperatures.
     */
    public static void plot(List<Result> results, Path png) throws IOException {
        Map<String, List<Result>> rows = rows(results);
        Map<String, List<double[]>> lines = new LinkedHashMap<>();
        List<double[]> baselines = new ArrayList<>();
        double low = Double.POSITIVE_INFINITY;
        double high = Double.NEGATIVE_INFINITY;
        for (List<Result> row : rows.values()) {
            Cell cell = row.get(0).cell();
            double[] a = accuracy(row);
            if (cell.distillation() == null) {
                baselines.add(new double[] {a[0], a[1]});
                continue;
            }
            double t = cell.temperature();
            low = Math.min(low, t);
            high = Math.max(high, t);
            List<String> rest = new ArrayList<>();
            rest.add(cell.mode());
            for (var e : cell.varying().entrySet()) {
                if (!e.getKey().equals(SEED) && !e.getKey().equals("mode") && !e.getKey().contains("temperature")) {
                    rest.add(e.getKey() + " " + e.getValue());
                }
            }
            lines.computeIfAbsent(String.join(", ", rest), k -> new ArrayList<>()).add(new double[] {t, a[0], a[1]});
        }
        List<Plots.Series> series = new ArrayList<>();
        for (var e : lines.entrySet()) {
            List<double[]> points = e.getValue();
            points.sort((p, q) -> Double.compare(p[0], q[0]));
            double[] x = new double[points.size()];
            double[] y = new double[points.size()];
            double[] err = new double[points.size()];
            for (int i = 0; i < points.size(); i++) {
                x[i] = points.get(i)[0];
                y[i] = 100 * points.get(i)[1];
                err[i] = 100 * points.get(i)[2];
            }
            series.add(new Plots.Series(e.getKey(), x, y, err));
        }
        if (series.isEmpty()) {
            low = 1;
            high = 1;
        }
        for (int i = 0; i < baselines.size(); i++) {
            double y = 100 * baselines.get(i)[0];
            series.add(new Plots.Series(baselines.size() == 1 ? "baseline" : "baseline " + (i + 1),
                    new double[] {low, high}, new double[] {y, y}));
        }
        Plots.lineChart(png, "Test accuracy against T (mean ± std over seeds)", "temperature T", "test accuracy (%)",
                series);
    }

    /** Writes sweep.md, sweep.csv and sweep.png into {@code out}; returns the Markdown file. */
    public static Path write(List<Result> results, String title, Path out) throws IOException {
        plot(results, out.resolve("sweep.png"));
        AtomicFiles.writeString(out.resolve("sweep.csv"), csv(results));
        Path md = out.resolve("sweep.md");
        AtomicFiles.writeString(md, "# " + title + "\n\n" + table(results)
                + "\nMean and sample standard deviation over the seeds of each row (n runs); each run's folder is "
                + "named by its options under this folder. Accuracy against T: sweep.png.\n\n![accuracy against T]"
                + "(sweep.png)\n");
        return md;
    }

    private static Map<String, List<Result>> rows(List<Result> results) {
        Map<String, List<Result>> rows = new LinkedHashMap<>();
        for (Result r : results) {
            rows.computeIfAbsent(r.cell().row(), k -> new ArrayList<>()).add(r);
        }
        return rows;
    }

    /** The results by group, in order. */
    public static Map<String, List<Result>> groups(List<Result> results) {
        Map<String, List<Result>> groups = new LinkedHashMap<>();
        for (Result r : results) {
            groups.computeIfAbsent(r.cell().group(), k -> new ArrayList<>()).add(r);
        }
        return groups;
    }

    /** Mean and sample standard deviation (0 for one run) of the test accuracy of a row's runs. */
    static double[] accuracy(List<Result> row) {
        double mean = 0;
        for (Result r : row) {
            mean += r.outcome().test().accuracy() / row.size();
        }
        double squares = 0;
        for (Result r : row) {
            double d = r.outcome().test().accuracy() - mean;
            squares += d * d;
        }
        return new double[] {mean, row.size() > 1 ? Math.sqrt(squares / (row.size() - 1)) : 0};
    }
}
