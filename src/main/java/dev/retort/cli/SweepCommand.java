package dev.retort.cli;

import dev.retort.backend.Device;
import dev.retort.train.RetortFolder;
import dev.retort.train.RunChecks;
import dev.retort.train.Runs;
import dev.retort.train.Sweep;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code retort sweep}: every combination of {@code distill} options given as lists, run against one teacher.
 * The grid is counted before it is made, and every run is parsed and checked as {@code retort distill} would check
 * it, against the data and the teacher too, before anything is written or trains.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = {"Run a grid of distillations against one teacher: any option of 'retort distill' may be a "
                + "comma-separated list (--pairs, whose own value holds commas, separates its alternatives with "
                + "'/'), and --mode also takes 'baseline', the student trained on the labels alone (with --labelled, "
                + "on those labels only).",
                "Example: retort sweep --out runs/s --teacher-weights runs/teacher/model.safetensors "
                        + "--mode baseline,temperature,hinton --temperature 1,2,4 --alpha 0.1,0.5 --seed 1,2,3 "
                        + "--epochs 5 --labelled 1000",
                "Before anything trains or is written: the runs are counted (more than --max-cells is refused), "
                        + "every run is checked against the data and the teacher, and a value given twice (2 and 2.0, "
                        + "hinton and HINTON) is refused; --train-size, --data, --dataset, --device and --threads "
                        + "take one value.",
                "Finished runs under --out are reused and an interrupted one resumes; the teacher's outputs are "
                        + "computed once. Writes sweep.md (mean ± std per cell, per-seed values), sweep.csv and "
                        + "sweep.png (accuracy against T per mode) into --out.",
                "A sweep takes no --config: it is many runs, each with its own config.json, and has no single "
                        + "configuration to replay; the same options and --out rerun it (reusing finished runs), and "
                        + "'retort distill --config DIR/<run>/config.json' replays one of its runs."})
final class SweepCommand extends ReportingCommand {
    @Option(names = "--out", paramLabel = "DIR", description = "Sweep folder (default runs/sweep-<time>).")
    Path out;

    @Option(names = "--max-cells", paramLabel = "N", defaultValue = "10000",
            description = "Refuse a grid of more than N runs; the runs are counted before anything is expanded, "
                    + "checked or written (default ${DEFAULT-VALUE}). Raise it to run a larger grid.")
    long maxCells;

    @Unmatched
    List<String> arguments = new ArrayList<>();

    @Override
    protected int run() throws IOException {
        PrintWriter log = out();
        if (maxCells < 1) {
            throw optionError("--max-cells must be at least 1, got " + maxCells);
        }
        SweepGrid grid = SweepGrid.parse(arguments);
        // Counted from the lists' sizes alone: a grid of millions is refused before one cell exists.
        if (grid.count() > maxCells) {
            throw optionError(grid.tooMany(maxCells));
        }
        grid.refuseRepeatedValues();
        List<Map<String, String>> combinations = grid.expand();
        List<Sweep.Cell> cells = cells(grid, combinations);
        DistillCommand first = parseCell(combinations.get(0), grid, new CommandLine(new DistillCommand()));
        Device device = first.device.resolve(log);
        List<Sweep.Cell> onDevice = new ArrayList<>();
        for (Sweep.Cell c : cells) {
            onDevice.add(new Sweep.Cell(c.varying(), c.training().withDevice(device), c.distillation()));
        }
        Path folder = out != null ? out : Path.of("runs", "sweep-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        RetortFolder.check(folder, RetortFolder.Kind.SWEEP, "--out"); // before the data is read, not after
        Runs.Data data = Commands.loadData(first.data, onDevice.get(0).training(), log);
        checkEveryCell(cells, combinations, grid, data);
        log.println("sweep: " + onDevice.size() + " runs into " + folder);
        // A sweep folder, claimed and locked (one sweep per folder at a time); every run is a run folder inside it.
        List<Sweep.Result> results = RetortFolder.write(folder, RetortFolder.Kind.SWEEP, "--out",
                "sweep --out " + folder, () -> {
                    List<Sweep.Result> done = Sweep.run(onDevice, data, folder, log);
                    Sweep.write(done, "retort sweep: " + String.join(" ", arguments), folder);
                    return done;
                });
        Path md = folder.resolve("sweep.md");
        log.println();
        log.print(Sweep.table(results));
        log.println("sweep: " + md);
        return 0;
    }

    /**
     * Every cell checked against the data and the teacher before the first trains, as its run would check itself at
     * its start: a value that fails only in one cell, or only with this data, is refused before anything is written.
     */
    private static void checkEveryCell(List<Sweep.Cell> cells, List<Map<String, String>> combinations,
                                       SweepGrid grid, Runs.Data data) throws IOException {
        RunChecks checks = new RunChecks(data);
        for (int i = 0; i < cells.size(); i++) {
            String cell = grid.describe(combinations.get(i));
            try {
                checks.check(cells.get(i).training(), cells.get(i).distillation());
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new IllegalArgumentException(inCell(cell, e.getMessage()), e);
            } catch (IOException | UncheckedIOException e) {
                throw new IOException(inCell(cell, describe(e)), e);
            }
        }
    }

    /**
     * Every combination parsed as {@code retort distill} parses its arguments, as the sweep's cells. Two cells that
     * resolve to the same run (mode temperature's T_s, T_t and κ leave nothing of --temperature, say), or whose
     * folders would have the same name, are refused.
     */
    private static List<Sweep.Cell> cells(SweepGrid grid, List<Map<String, String>> combinations) {
        CommandLine parser = new CommandLine(new DistillCommand()); // one parser for every cell: it resets each time
        List<Sweep.Cell> cells = new ArrayList<>();
        Map<List<Object>, String> runs = new HashMap<>();
        Map<String, String> folders = new HashMap<>();
        for (Map<String, String> combination : combinations) {
            DistillCommand command = parseCell(combination, grid, parser);
            boolean baseline = combination.get("--mode").equalsIgnoreCase("baseline");
            Map<String, String> varying = new LinkedHashMap<>();
            combination.forEach((k, v) -> {
                if (grid.varies(k)) {
                    varying.put(k.substring(2), v);
                }
            });
            Sweep.Cell cell = new Sweep.Cell(varying, command.training.config(command.model),
                    baseline ? null : command.distillation());
            String described = grid.describe(combination);
            String sameRun = runs.putIfAbsent(Arrays.asList(cell.training(), cell.distillation()), described);
            if (sameRun != null) {
                throw new IllegalArgumentException(described + "the same run as " + sameRun.replaceAll(": $", "")
                        + " (their options resolve to the same values); give each run once");
            }
            String sameFolder = folders.putIfAbsent(cell.key(), described);
            if (sameFolder != null) {
                throw new IllegalArgumentException(described + "its folder " + cell.key() + " would be that of "
                        + sameFolder.replaceAll(": $", "") + "; give values whose names differ in letters, digits or "
                        + "._=-");
            }
            cells.add(cell);
        }
        return cells;
    }

    /**
     * One combination parsed as {@code retort distill} parses its arguments, so every check runs before any
     * training. The baseline is parsed with mode temperature (it takes no mode's options), and only its training
     * options are used.
     */
    private static DistillCommand parseCell(Map<String, String> combination, SweepGrid grid,
                                            CommandLine parser) {
        boolean baseline = combination.get("--mode").equalsIgnoreCase("baseline");
        List<String> args = new ArrayList<>();
        for (var e : combination.entrySet()) {
            args.add(e.getKey());
            if (!e.getValue().isEmpty()) { // a flag's value is empty; every other value is not (see parse)
                args.add(baseline && e.getKey().equals("--mode") ? "temperature" : e.getValue());
            }
        }
        DistillCommand command = parser.getCommand();
        try {
            parser.parseArgs(args.toArray(String[]::new));
            command.training.config(command.model);
            if (!baseline) {
                command.distillation();
            }
        } catch (CommandLine.ParameterException | IllegalArgumentException e) {
            throw new IllegalArgumentException(inCell(grid.describe(combination), e.getMessage()), e);
        }
        return command;
    }

    /** {@code message} told of {@code cell}, unless it already begins with all the cell says. */
    private static String inCell(String cell, String message) {
        String named = cell.replaceFirst("^cell ", "").replaceFirst(": $", "");
        return !cell.isEmpty() && message.startsWith(named + ":") ? message : cell + message;
    }
}
