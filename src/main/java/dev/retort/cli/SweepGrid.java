package dev.retort.cli;

import dev.retort.distill.DistillationMode;
import dev.retort.distill.FeaturePairs;
import dev.retort.nn.Models;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
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
import picocli.CommandLine.Model.OptionSpec;

/**
 * The grid of a sweep: each {@code distill} option with its list of values, in the order given. It is counted from
 * the lists' sizes, checked for a value given twice, and only then made into its runs (each with only its mode's
 * options), so that a grid of millions is refused before one run exists.
 */
final class SweepGrid {
    /** The options whose values name a choice, compared in any case ({@code --mode HINTON} is {@code hinton}). */
    private static final Set<String> CHOICES = Set.of("--mode", "--optimizer", "--schedule", "--teacher-targets");

    private final Map<String, List<String>> options;

    private SweepGrid(Map<String, List<String>> options) {
        this.options = options;
    }

    /** Whether {@code option} is given more than one value, so that it names the sweep's runs. */
    boolean varies(String option) {
        return options.get(option).size() > 1;
    }

    /** Whether {@code option} is a mode's option that the cell's mode does not take (the baseline takes none). */
    private static boolean foreign(String option, String mode) {
        String name = option.substring(2);
        boolean modeOption = DistillationMode.OPTIONS.values().stream().anyMatch(o -> o.contains(name));
        return modeOption && !DistillationMode.OPTIONS.getOrDefault(mode.toLowerCase(Locale.ROOT), List.of())
                .contains(name);
    }

    /**
     * The runs the grid makes, from the lists' sizes alone: per mode the product of the sizes of the options it
     * takes (a mode's cells leave out the options of other modes), summed over the modes. A count past
     * {@code Long.MAX_VALUE} is {@code Long.MAX_VALUE}.
     */
    long count() {
        long total = 0;
        for (String mode : options.get("--mode")) {
            long cells = cellsOf(mode);
            total = total > Long.MAX_VALUE - cells ? Long.MAX_VALUE : total + cells;
        }
        return total;
    }

    private long cellsOf(String mode) {
        long cells = 1;
        for (var e : options.entrySet()) {
            if (!e.getKey().equals("--mode") && !foreign(e.getKey(), mode)) {
                int size = e.getValue().size();
                cells = cells > Long.MAX_VALUE / size ? Long.MAX_VALUE : cells * size;
            }
        }
        return cells;
    }

    /** The one line that refuses a grid of more than {@code max} runs, with the count per mode. */
    String tooMany(long max) {
        long count = count();
        List<String> modes = options.get("--mode");
        List<String> perMode = new ArrayList<>();
        for (String mode : modes) {
            long cells = cellsOf(mode);
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
    void refuseRepeatedValues() {
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
    static SweepGrid parse(List<String> args) {
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
        return new SweepGrid(options);
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
    List<Map<String, String>> expand() {
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

    /** The cell named by the options that vary, as a prefix of a message ("cell --mode hinton --alpha 0.5: "). */
    String describe(Map<String, String> combination) {
        List<String> parts = new ArrayList<>();
        combination.forEach((k, v) -> {
            if (options.get(k).size() > 1) {
                parts.add(v.isEmpty() ? k : k + " " + v);
            }
        });
        return parts.isEmpty() ? "" : "cell " + String.join(" ", parts) + ": ";
    }
}
