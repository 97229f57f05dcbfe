package dev.retort.cli;

import dev.retort.backend.Device;
import dev.retort.distill.DistillationMode;
import dev.retort.distill.FeaturePairs;
import dev.retort.nn.Models;
import dev.retort.train.RetortFolder;
import dev.retort.train.RunChecks;
import dev.retort.train.Runs;
import dev.retort.train.Sweep;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
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
    /** The options whose values name a choice, compared in any case ({@code --mode HINTON} is {@code hinton}). */
    private static final Set<String> CHOICES = Set.of("--mode", "--optimizer", "--schedule", "--teacher-targets");

    /** Whether {@code option} is a mode's option that the cell's mode does not take (the baseline takes none). */
    private static boolean foreign(String option, String mode) {
        String name = option.substring(2);
        boolean modeOption = DistillationMode.OPTIONS.values().stream().anyMatch(o -> o.contains(name));
        return modeOption && !DistillationMode.OPTIONS.getOrDefault(mode.toLowerCase(Locale.ROOT), List.of())
                .contains(name);
    }

    @Option(names = "--out", paramLabel = "DIR", description = "Sweep folder (default runs/sweep-<time>).")
    Path out;

    @Option(names = "--max-cells", paramLabel = "N", defaultValue = "10000",
            description = "Refuse a grid of more than N runs; the runs are counted before anything is expanded, "
                    + "checked or written (default ${DEFAULT-VALUE}). Raise it to run a larger grid.")
    long maxCells;

    @Unmatched
    List<String> grid = new ArrayList<>();

    @Override
    protected int run() throws IOException {
        PrintWriter log = out();
        if (maxCells < 1) {
            throw optionError("--max-cells must be at least 1, got " + maxCells);
        }
        Map<String, List<String>> options = parse(grid);
        // Counted from the lists' sizes alone: a grid of millions is refused before one cell exists.
        long count = count(options);
        if (count > maxCells) {
            throw optionError(tooMany(options, count, maxCells));
        }
        refuseRepeatedValues(options);
        List<Map<String, String>> combinations = expand(options);
        List<Sweep.Cell> cells = cells(options, combinations);
        DistillCommand first = parseCell(combinations.get(0), options, new CommandLine(new DistillCommand()));
        Device device = first.device.resolve(log);
        List<Sweep.Cell> onDevice = new ArrayList<>();
        for (Sweep.Cell c : cells) {
            onDevice.add(new Sweep.Cell(c.varying(), c.training().withDevice(device), c.distillation()));
        }
        Path folder = out != null ? out : Path.of("runs", "sweep-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        RetortFolder.check(folder, RetortFolder.Kind.SWEEP, "--out"); // before the data is read, not after
        Runs.Data data = Commands.loadData(first.data, onDevice.get(0).training(), log);
        checkEveryCell(cells, combinations, options, data);
        log.println("sweep: " + onDevice.size() + " runs into " + folder);
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

    /**
     * Every cell checked against the data and the teacher before the first trains, as its run would check itself at
     * its start: a value that fails only in one cell, or only with this data, is refused before anything is written.
     */
    private static void checkEveryCell(List<Sweep.Cell> cells, List<Map<String, String>> combinations,
                                       Map<String, List<String>> options, Runs.Data data) throws IOException {
        RunChecks checks = new RunChecks(data);
        for (int i = 0; i < cells.size(); i++) {
            String cell = describe(combinations.get(i), options);
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
     * The runs the grid makes, from the lists' sizes alone: per mode the product of the sizes of the options it
     * takes (a mode's cells leave out the options of other modes), summed over the modes. A count past
     * {@code Long.MAX_VALUE} is {@code Long.MAX_VALUE}.
     */
    static long count(Map<String, List<String>> options) {
        long total = 0;
        for (String mode : options.get("--mode")) {
            long cells = cellsOf(options, mode);
            total = total > Long.MAX_VALUE - cells ? Long.MAX_VALUE : total + cells;
        }
        return total;
    }

    private static long cellsOf(Map<String, List<String>> options, String mode) {
        long cells = 1;
        for (var e : options.entrySet()) {
            if (!e.getKey().equals("--mode") && !foreign(e.getKey(), mode)) {
                int size = e.getValue().size();
                cells = cells > Long.MAX_VALUE / size ? Long.MAX_VALUE : cells * size;
            }
        }
        return cells;
    }

    private static String tooMany(Map<String, List<String>> options, long count, long max) {
        List<String> modes = options.get("--mode");
        List<String> perMode = new ArrayList<>();
        for (String mode : modes) {
            long cells = cellsOf(options, mode);
            perMode.add(mode + " " + (cells == Long.MAX_VALUE ? "over " + Long.MAX_VALUE : cells));
        }
        return "the grid makes " + (count == Long.MAX_VALUE ? "over " + Long.MAX_VALUE : count) + " runs"
                + (modes.size() > 1 ? " (" + String.join(", ", perMode) + ")" : "") + ", more than --max-cells " + max
                + "; give fewer values" + (count == Long.MAX_VALUE ? "" : ", or --max-cells " + count
                + " to run them all");
    }

    /**
     * Refuses a list that holds one value twice, compared as the option parses it: {@code --temperature 2,2.0},
     * {@code --lr 0.1,1e-1}, {@code --mode HINTON,hinton}, a path written two ways. Each would be the same run twice.
     */
    static void refuseRepeatedValues(Map<String, List<String>> options) {
        CommandLine parser = new CommandLine(new DistillCommand());
        for (var e : options.entrySet()) {
            if (e.getValue().size() < 2) {
                continue;
            }
            Map<Object, String> seen = new HashMap<>();
            for (String value : e.getValue()) {
                String earlier = seen.putIfAbsent(parsed(parser, e.getKey(), value), value);
                if (earlier != null) {
                    throw new IllegalArgumentException(e.getKey() + " " + String.join(e.getKey().equals("--pairs")
                            ? "/" : ",", e.getValue()) + ": " + earlier + " and " + value + " are the same value, "
                            + "so every run with one would be run again with the other; give each value once");
                }
            }
        }
    }

    /**
     * A value as its option takes it, for comparison: a number by its value (0 and -0 alike), a choice in lower case,
     * a path made absolute, a network by its name or file, feature pairs without spaces. A value the option cannot
     * take is left as given; its cell refuses it.
     */
    private static Object parsed(CommandLine parser, String option, String value) {
        if (CHOICES.contains(option)) {
            return value.toLowerCase(Locale.ROOT);
        }
        if (option.equals("--model") || option.equals("--teacher-model")) {
            return Models.NAMES.contains(value) ? value : absolute(value);
        }
        Object v;
        try {
            parser.parseArgs(option, value);
            v = parser.getCommandSpec().findOption(option).getValue();
        } catch (CommandLine.ParameterException e) {
            return value;
        }
        if (v instanceof Double d) {
            return d == 0 ? 0.0 : d;
        }
        if (v instanceof Path p) {
            return absolute(p.toString());
        }
        if (v instanceof List<?> pairs && option.equals("--pairs")) {
            try {
                return FeaturePairs.parse(pairs.stream().map(String::valueOf).toList()).stream()
                        .map(pair -> pair[0] + "=" + pair[1]).toList();
            } catch (IllegalArgumentException e) {
                return value;
            }
        }
        return v;
    }

    private static String absolute(String path) {
        try {
            return Path.of(path).toAbsolutePath().normalize().toString();
        } catch (InvalidPathException e) {
            return path;
        }
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
            // A set, not a list: a list's contains() would make a long list quadratic before it is counted.
            Set<String> alternatives = new LinkedHashSet<>();
            for (String v : value.split(name.equals("--pairs") ? "/" : ",", -1)) {
                if (v.isBlank()) {
                    throw new IllegalArgumentException(name + " " + value + ": an empty value in the list");
                }
                if (!alternatives.add(v.strip())) {
                    throw new IllegalArgumentException(name + " " + value + ": " + v.strip() + " is listed twice");
                }
            }
            options.put(name, List.copyOf(alternatives));
        }
        for (String single : List.of("--train-size", "--data", "--dataset", "--device", "--threads")) {
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
        List<String> modes = options.get("--mode");
        for (String mode : modes) {
            if (!mode.equalsIgnoreCase("baseline") && !DistillationMode.NAMES.contains(mode.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("--mode " + mode + ": expected baseline, temperature, hinton or "
                        + "hybrid");
            }
        }
        for (String name : options.keySet()) {
            if (modes.stream().allMatch(mode -> foreign(name, mode))) {
                List<String> owners = DistillationMode.NAMES.stream().filter(m -> !foreign(name, m)).toList();
                String list = owners.size() == 1 ? owners.get(0) : String.join(", ", owners.subList(0,
                        owners.size() - 1)) + " and " + owners.get(owners.size() - 1);
                throw new IllegalArgumentException(name + " belongs to --mode " + list
                        + ", and none of this sweep's modes (" + String.join(",", modes) + ") takes it; add one of "
                        + "those modes or leave " + name + " out");
            }
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

    /**
     * The grid's runs, each as option → value with only the options its mode takes, in the order of every
     * combination with the first option outermost and the last innermost (a mode's cells appear where their first
     * combination would). Made per mode, so that only real runs are made: {@link #count} of them.
     */
    static List<Map<String, String>> expand(Map<String, List<String>> options) {
        List<String> names = new ArrayList<>(options.keySet());
        int modeAt = names.indexOf("--mode");
        List<String> modes = options.get("--mode");
        List<int[]> runs = new ArrayList<>();
        for (int m = 0; m < modes.size(); m++) {
            int[] sizes = new int[names.size()];
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = i == modeAt || foreign(names.get(i), modes.get(m)) ? 1 : options.get(names.get(i)).size();
            }
            int[] index = new int[names.size()];
            index[modeAt] = m;
            do {
                runs.add(index.clone());
            } while (next(index, sizes, modeAt));
        }
        runs.sort(Arrays::compare);
        List<Map<String, String>> out = new ArrayList<>();
        for (int[] run : runs) {
            String mode = modes.get(run[modeAt]);
            Map<String, String> combination = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) {
                if (!foreign(names.get(i), mode)) {
                    combination.put(names.get(i), options.get(names.get(i)).get(run[i]));
                }
            }
            out.add(combination);
        }
        return out;
    }

    /** Steps {@code index} to the next combination of {@code sizes}, the last place fastest; false past the end. */
    private static boolean next(int[] index, int[] sizes, int fixed) {
        for (int i = index.length - 1; i >= 0; i--) {
            if (i != fixed && ++index[i] < sizes[i]) {
                return true;
            }
            if (i != fixed) {
                index[i] = 0;
            }
        }
        return false;
    }

    /**
     * Every combination parsed as {@code retort distill} parses its arguments, as the sweep's cells. Two cells that
     * resolve to the same run (mode temperature's T_s, T_t and κ leave nothing of --temperature, say), or whose
     * folders would have the same name, are refused.
     */
    private static List<Sweep.Cell> cells(Map<String, List<String>> options, List<Map<String, String>> combinations) {
        CommandLine parser = new CommandLine(new DistillCommand()); // one parser for every cell: it resets each time
        List<Sweep.Cell> cells = new ArrayList<>();
        Map<List<Object>, String> runs = new HashMap<>();
        Map<String, String> folders = new HashMap<>();
        for (Map<String, String> combination : combinations) {
            DistillCommand command = parseCell(combination, options, parser);
            boolean baseline = combination.get("--mode").equalsIgnoreCase("baseline");
            Map<String, String> varying = new LinkedHashMap<>();
            combination.forEach((k, v) -> {
                if (options.get(k).size() > 1) {
                    varying.put(k.substring(2), v);
                }
            });
            Sweep.Cell cell = new Sweep.Cell(varying, command.training.config(command.model),
                    baseline ? null : command.distillation());
            String described = describe(combination, options);
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
    private static DistillCommand parseCell(Map<String, String> combination, Map<String, List<String>> options,
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
            throw new IllegalArgumentException(inCell(describe(combination, options), e.getMessage()), e);
        }
        return command;
    }

    /** {@code message} told of {@code cell}, unless it already begins with all the cell says. */
    private static String inCell(String cell, String message) {
        String named = cell.replaceFirst("^cell ", "").replaceFirst(": $", "");
        return !cell.isEmpty() && message.startsWith(named + ":") ? message : cell + message;
    }

    /** The cell named by the options that vary, as a prefix of a message ("cell --mode hinton --alpha 0.5: "). */
    private static String describe(Map<String, String> combination, Map<String, List<String>> options) {
        List<String> parts = new ArrayList<>();
        combination.forEach((k, v) -> {
            if (options.get(k).size() > 1) {
                parts.add(v.isEmpty() ? k : k + " " + v);
            }
        });
        return parts.isEmpty() ? "" : "cell " + String.join(" ", parts) + ": ";
    }
}
