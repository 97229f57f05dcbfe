package dev.retort.cli;

import dev.retort.backend.Device;
import dev.retort.distill.DistillationMode;
import dev.retort.train.RetortFolder;
import dev.retort.train.Runs;
import dev.retort.train.Sweep;
import dev.retort.train.TrainingConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code retort sweep}: every combination of {@code distill} options given as lists, run against one teacher.
 * Each combination is parsed and checked as {@code retort distill} would before anything trains.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = {"Run a grid of distillations against one teacher: any option of 'retort distill' may be a "
                + "comma-separated list (--pairs, whose own value holds commas, separates its alternatives with "
                + "'/'), and --mode also takes 'baseline', the student trained on the labels alone (with --labelled, "
                + "on those labels only).",
                "Example: retort sweep --out runs/s --teacher-weights runs/teacher/model.safetensors "
                        + "--mode baseline,temperature,hinton --temperature 1,2,4 --alpha 0.1,0.5 --seed 1,2,3 "
                        + "--epochs 5 --labelled 1000",
                "Finished runs under --out are reused and an interrupted one resumes; the teacher's outputs are "
                        + "computed once. Writes sweep.md (mean ± std per cell, per-seed values), sweep.csv and "
                        + "sweep.png (accuracy against T per mode) into --out.",
                "A sweep takes no --config: it is many runs, each with its own config.json, and has no single "
                        + "configuration to replay; the same options and --out rerun it (reusing finished runs), and "
                        + "'retort distill --config DIR/<run>/config.json' replays one of its runs."})
final class SweepCommand extends ReportingCommand {
    /** Whether {@code option} is a mode's option that the cell's mode does not take (the baseline takes none). */
    private static boolean foreign(String option, String mode) {
        String name = option.substring(2);
        boolean modeOption = DistillationMode.OPTIONS.values().stream().anyMatch(o -> o.contains(name));
        return modeOption && !DistillationMode.OPTIONS.getOrDefault(mode.toLowerCase(Locale.ROOT), List.of())
                .contains(name);
    }

    @Option(names = "--out", paramLabel = "DIR", description = "Sweep folder (default runs/sweep-<time>).")
    Path out;

    @Unmatched
    List<String> grid = new ArrayList<>();

    @Override
    protected int run() throws IOException {
        PrintWriter log = out();
        Map<String, List<String>> options = parse(grid);
        List<Map<String, String>> combinations = expand(options);
        List<Sweep.Cell> cells = new ArrayList<>();
        DistillCommand first = null;
        Set<String> keys = new LinkedHashSet<>();
        for (Map<String, String> combination : combinations) {
            DistillCommand command = parseCell(combination);
            first = first == null ? command : first;
            String mode = combination.get("--mode");
            boolean baseline = mode.equalsIgnoreCase("baseline");
            TrainingConfig training = command.training.config(command.model);
            Map<String, String> varying = new LinkedHashMap<>();
            for (var e : options.entrySet()) {
                if (e.getValue().size() > 1 && combination.containsKey(e.getKey())
                        && !foreign(e.getKey(), mode)) {
                    varying.put(e.getKey().substring(2), combination.get(e.getKey()));
                }
            }
            Sweep.Cell cell = new Sweep.Cell(varying, training, baseline ? null : command.distillation());
            if (keys.add(cell.key())) { // a cell once, not once per value of an option its mode does not take
                cells.add(cell);
            }
        }
        Device device = first.device.resolve(log);
        List<Sweep.Cell> onDevice = new ArrayList<>();
        for (Sweep.Cell c : cells) {
            onDevice.add(new Sweep.Cell(c.varying(), c.training().withDevice(device), c.distillation()));
        }
        Path folder = out != null ? out : Path.of("runs", "sweep-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        log.println("sweep: " + onDevice.size() + " runs into " + folder);
        Runs.Data data = Commands.loadData(first.data, onDevice.get(0).training(), log);
        // A sweep folder, claimed and locked (one sweep per folder at a time); every run is a run folder inside it.
        List<Sweep.Result> results = RetortFolder.write(folder, RetortFolder.Kind.SWEEP, "--out",
                "sweep --out " + folder, () -> {
                    List<Sweep.Result> done = Sweep.run(onDevice, data, folder, log);
                    Sweep.write(done, "retort sweep: " + String.join(" ", grid), folder);
                    return done;
                });
        Path md = folder.resolve("sweep.md");
        log.println();
        log.print(Sweep.table(results));
        log.println("sweep: " + md);
        return 0;
    }

    /** The grid as option → alternatives, in the order given; flags stand alone, every other option takes a value. */
    static Map<String, List<String>> parse(List<String> args) {
        CommandLine.Model.CommandSpec distill = new CommandLine(new DistillCommand()).getCommandSpec();
        Map<String, List<String>> options = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            OptionSpec spec = name.startsWith("--") ? distill.findOption(name) : null;
            if (spec == null || List.of("--resume", "--out", "--config").contains(name) || spec.usageHelp()
                    || spec.versionHelp()) {
                throw new IllegalArgumentException(unknown(arg, spec));
            }
            if (options.containsKey(name)) {
                throw new IllegalArgumentException(name + " is given twice; give its values as one list, e.g. "
                        + name + " 1,2,4");
            }
            if (spec.arity().max() == 0) {
                options.put(name, List.of(""));
                continue;
            }
            String value;
            if (arg.contains("=")) {
                value = arg.substring(arg.indexOf('=') + 1);
            } else if (i + 1 < args.size()) {
                value = args.get(++i);
            } else {
                throw new IllegalArgumentException(name + " needs a value");
            }
            List<String> alternatives = new ArrayList<>();
            for (String v : value.split(name.equals("--pairs") ? "/" : ",", -1)) {
                if (v.isBlank()) {
                    throw new IllegalArgumentException(name + " " + value + ": an empty value in the list");
                }
                if (alternatives.contains(v.strip())) {
                    throw new IllegalArgumentException(name + " " + value + ": " + v.strip() + " is listed twice");
                }
                alternatives.add(v.strip());
            }
            options.put(name, alternatives);
        }
        for (String single : List.of("--train-size", "--data", "--device")) {
            if (options.getOrDefault(single, List.of()).size() > 1) {
                throw new IllegalArgumentException(single + " cannot vary in a sweep: its runs share one training set "
                        + "and one device; give one value");
            }
        }
        if (!options.containsKey("--mode")) {
            throw new IllegalArgumentException("--mode is required: a list of baseline, temperature, hinton, hybrid");
        }
        if (!options.containsKey("--teacher-weights")) {
            throw new IllegalArgumentException("--teacher-weights is required: the safetensors file of a trained "
                    + "teacher");
        }
        return options;
    }

    private static String unknown(String arg, OptionSpec spec) {
        if (spec != null) {
            String name = spec.longestName();
            return name + " is not an option of a sweep's runs (" + (name.equals("--out") ? "the sweep's own --out "
                    + "names its folder" : name.equals("--resume") ? "a sweep resumes interrupted runs by itself"
                    : name.equals("--config") ? "a sweep has no single config.json to replay, each of its runs has "
                    + "its own; give the options themselves, as lists where they vary, or replay one run with retort "
                    + "distill --config DIR/<run>/config.json"
                    : "give the options themselves, as lists where they vary") + ")";
        }
        return arg.startsWith("-") ? "unknown option " + arg + "; a sweep takes the options of 'retort distill'"
                : "unexpected argument " + arg + "; give options of 'retort distill', each with a value or a list";
    }

    /** Every combination, the first option outermost and the last innermost. */
    static List<Map<String, String>> expand(Map<String, List<String>> options) {
        List<Map<String, String>> out = new ArrayList<>();
        out.add(new LinkedHashMap<>());
        for (var e : options.entrySet()) {
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> partial : out) {
                for (String v : e.getValue()) {
                    Map<String, String> m = new LinkedHashMap<>(partial);
                    m.put(e.getKey(), v);
                    next.add(m);
                }
            }
            out = next;
        }
        return out;
    }

    /**
     * One combination parsed as {@code retort distill} parses its arguments, so every check runs before any
     * training; options of other modes are left out of a cell. The baseline is parsed with mode temperature and
     * without the modes' options, and only its training options are used.
     */
    private static DistillCommand parseCell(Map<String, String> combination) {
        String mode = combination.get("--mode");
        boolean baseline = mode.equalsIgnoreCase("baseline");
        List<String> args = new ArrayList<>();
        for (var e : combination.entrySet()) {
            if (foreign(e.getKey(), mode)) {
                continue;
            }
            args.add(e.getKey());
            if (!e.getValue().isEmpty()) { // a flag's value is empty; every other value is not (see parse)
                args.add(baseline && e.getKey().equals("--mode") ? "temperature" : e.getValue());
            }
        }
        DistillCommand command = new DistillCommand();
        try {
            new CommandLine(command).parseArgs(args.toArray(String[]::new));
            command.training.config(command.model);
            if (!baseline) {
                command.distillation();
            }
        } catch (CommandLine.ParameterException | IllegalArgumentException e) {
            throw new IllegalArgumentException(describe(combination) + ": " + e.getMessage(), e);
        }
        return command;
    }

    private static String describe(Map<String, String> combination) {
        List<String> parts = new ArrayList<>();
        combination.forEach((k, v) -> parts.add(v.isEmpty() ? k : k + " " + v));
        return "cell " + String.join(" ", parts);
    }
}
