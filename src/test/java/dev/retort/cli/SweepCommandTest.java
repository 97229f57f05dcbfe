package dev.retort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code retort sweep} and {@code distill --labelled}: grids, reuse, tables, and bad values in one line. */
class SweepCommandTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void quiet() {
        System.setProperty("retort.progress", "off");
    }

    private Path data() throws IOException {
        try (Module labeller = Models.create("cnn-student", 5)) {
            return CliFixtures.fashionMnist(dir, labeller, 256, 64, 0.1, 9);
        }
    }

    private static void assertFailsInOneLine(CliFixtures.Run run, String... fragments) {
        assertEquals(1, run.exitCode(), run.all());
        assertEquals(1, run.err().strip().lines().count(), "one line: " + run.err());
        for (String f : fragments) {
            assertTrue(run.err().contains(f), "'" + f + "' in: " + run.err());
        }
    }

    @Test
    void aGridRunsEveryCellOnceThenReusesThemAndWritesTheTables() throws IOException {
        Path data = data();
        Path teacher = CliFixtures.saveWeights(dir, "cnn-student", 5);
        Path out = dir.resolve("sweep");
        String[] args = {"sweep", "--out", out.toString(), "--teacher-model", "cnn-student", "--teacher-weights",
                teacher.toString(), "--mode", "baseline,temperature", "--temperature", "1,3", "--seed", "1,2",
                "--labelled", "40", "--epochs", "1", "--batch-size", "64", "--data", data.toString(), "--device", "cpu"};
        CliFixtures.Run first = CliFixtures.run(args);
        assertEquals(0, first.exitCode(), first.all());
        // The baseline once per seed, not once per temperature: 2 + 2 × 2 runs.
        List<String> folders = List.of("mode-baseline.seed-1", "mode-baseline.seed-2",
                "mode-temperature.temperature-1.seed-1", "mode-temperature.temperature-1.seed-2",
                "mode-temperature.temperature-3.seed-1", "mode-temperature.temperature-3.seed-2");
        for (String f : folders) {
            assertTrue(Files.isRegularFile(out.resolve(f).resolve(RunFolder.MODEL)), f);
        }
        assertEquals(6, Files.list(out).filter(Files::isDirectory).count());
        assertEquals(40, RunFolder.at(out.resolve("mode-baseline.seed-1")).readConfig().path("data").path("labelled")
                .asInt(), "the baseline trains on the kept labels only");
        assertEquals(256, RunFolder.at(out.resolve("mode-baseline.seed-1")).readConfig().path("data").path("train")
                .asInt(), "repeated to the training set's size");
        var distilled = RunFolder.at(out.resolve("mode-temperature.temperature-3.seed-2")).readConfig();
        assertEquals(3.0, distilled.path("distillation").path("student-temperature").asDouble());
        assertEquals(2, distilled.path("training").path("seed").asInt());
        assertEquals(40, distilled.path("data").path("labelled").asInt());
        assertEquals(256, distilled.path("data").path("train").asInt(), "every image in the transfer set");

        String md = Files.readString(out.resolve("sweep.md"));
        assertTrue(md.contains("| mode baseline | baseline | 2 |"), md);
        assertTrue(md.contains("| mode temperature, temperature 3 | temperature | 2 |"), md);
        assertTrue(md.contains("±") && md.contains("(seed 1)") && md.contains("(seed 2)"), md);
        assertEquals(7, Files.readAllLines(out.resolve("sweep.csv")).size(), "a header and one row per run");
        assertTrue(Files.size(out.resolve("sweep.png")) > 1000);

        CliFixtures.Run again = CliFixtures.run(args);
        assertEquals(0, again.exitCode(), again.all());
        assertEquals(6, again.out().lines().filter(l -> l.contains("finished earlier")).count(), again.out());
        assertFalse(again.out().contains("epoch 1/1"), "nothing trains again");

        // The same folder with another --epochs: the finished runs are not the runs asked for, and are not reused.
        String[] longer = args.clone();
        longer[java.util.Arrays.asList(args).indexOf("--epochs") + 1] = "2";
        assertFailsInOneLine(CliFixtures.run(longer), "holds a finished run of other options", "--epochs 1",
                "asks for 2");
    }

    @Test
    void badGridsAndValuesFailInOneLineBeforeAnyWork() throws IOException {
        Path data = data();
        Path teacher = CliFixtures.saveWeights(dir, "cnn-student", 5);
        String[] common = {"--teacher-model", "cnn-student", "--teacher-weights", teacher.toString(), "--data",
                data.toString(), "--epochs", "1", "--device", "cpu"};
        Path out = dir.resolve("bad");
        assertFailsInOneLine(CliFixtures.run(concat(new String[] {"sweep", "--out", out.toString(), "--mode",
                "hinton", "--frobnicate", "3"}, common)), "unknown option --frobnicate");
        assertFailsInOneLine(CliFixtures.run(concat(new String[] {"sweep", "--out", out.toString(), "--mode",
                "hinton,fitnet"}, common)), "--mode fitnet");
        assertFailsInOneLine(CliFixtures.run(concat(new String[] {"sweep", "--out", out.toString(), "--mode",
                "hinton", "--alpha", "0.1,1.5"}, common)), "--alpha", "1.5");
        assertFailsInOneLine(CliFixtures.run(concat(new String[] {"sweep", "--out", out.toString(), "--mode",
                "hinton", "--labelled", "0"}, common)), "--labelled must be positive");
        assertFailsInOneLine(CliFixtures.run(concat(new String[] {"sweep", "--out", out.toString(), "--mode",
                "temperature", "--train-size", "100,200"}, common)), "--train-size cannot vary");
        assertFailsInOneLine(CliFixtures.run(concat(new String[] {"sweep", "--out", out.toString(), "--mode",
                "hinton", "--config", "x.json"}, common)), "--config is not an option of a sweep's runs");
        assertFalse(Files.exists(out), "nothing was written");

        Path student = dir.resolve("student");
        assertFailsInOneLine(CliFixtures.run(concat(new String[] {"distill", "--mode", "hinton", "--out",
                student.toString(), "--labelled", "0"}, common)), "--labelled must be positive");
        assertFailsInOneLine(CliFixtures.run(concat(new String[] {"distill", "--mode", "hinton", "--out",
                student.toString(), "--labelled", "300"}, common)), "--labelled 300", "only 256");
        assertFailsInOneLine(CliFixtures.run(concat(new String[] {"distill", "--mode", "temperature", "--out",
                student.toString(), "--alpha", "0.5"}, common)), "--alpha belongs to");
    }

    @Test
    void distillWithLabelledKeepsEveryImageAndCachesTheTeacher() throws IOException {
        Path data = data();
        Path teacher = CliFixtures.saveWeights(dir, "cnn-student", 5);
        Path out = dir.resolve("hinton");
        CliFixtures.Run run = CliFixtures.run("distill", "--mode", "hinton", "--teacher-model", "cnn-student",
                "--teacher-weights", teacher.toString(), "--labelled", "30", "--epochs", "1", "--batch-size", "64",
                "--data", data.toString(), "--out", out.toString(), "--device", "cpu");
        assertEquals(0, run.exitCode(), run.all());
        assertTrue(run.out().contains("teacher outputs cached"), run.out());
        var config = RunFolder.at(out).readConfig();
        assertEquals(30, config.path("data").path("labelled").asInt());
        assertEquals(256, config.path("data").path("train").asInt());
        assertEquals(30, config.path("training").path("labelled").asInt());
    }

    /** {@code from..to} as one comma-separated list. */
    private static String range(int from, int to) {
        return String.join(",", java.util.stream.IntStream.rangeClosed(from, to).mapToObj(Integer::toString).toList());
    }

    /**
     * A sweep of mlp-tiny students from an mlp-tiny teacher on the tiny data for one epoch, with {@code grid}'s
     * options and values added or put in place of those.
     */
    private static String[] tiny(Path data, Path teacher, Path out, String... grid) {
        Map<String, String> options = new java.util.LinkedHashMap<>(Map.of("--model", "mlp-tiny", "--teacher-model",
                "mlp-tiny", "--teacher-weights", teacher.toString(), "--data", data.toString(), "--epochs", "1",
                "--batch-size", "64", "--device", "cpu"));
        for (int i = 0; i < grid.length; i += 2) {
            options.put(grid[i], grid[i + 1]);
        }
        List<String> args = new ArrayList<>(List.of("sweep", "--out", out.toString()));
        options.forEach((k, v) -> args.addAll(List.of(k, v)));
        return args.toArray(String[]::new);
    }

    @Test
    void theGridIsCountedPerModeFromTheListSizesWithoutExpandingIt() {
        SweepGrid options = SweepGrid.parse(List.of("--mode", "baseline,temperature,hinton,hybrid",
                "--teacher-weights", "t.safetensors", "--temperature", range(1, 100), "--seed", range(1, 100),
                "--alpha", "0.1,0.2,0.3,0.4,0.5"));
        // baseline: seeds; temperature: T × seeds; hinton and hybrid: T × α × seeds.
        assertEquals(100 + 100 * 100 + 2 * 100 * 5 * 100, options.count());

        // Far past a long: the count saturates instead of wrapping round to a small or negative number.
        List<String> huge = new ArrayList<>(List.of("--mode", "hinton", "--teacher-weights", "t.safetensors"));
        for (String option : List.of("--seed", "--epochs", "--batch-size", "--eval-batch-size", "--lr")) {
            huge.add(option);
            huge.add(range(1, 10_000));
        }
        assertEquals(Long.MAX_VALUE, SweepGrid.parse(huge).count());

        // What is counted is what is made: each mode with its own options, in the order of the full grid.
        SweepGrid small = SweepGrid.parse(List.of("--seed", "1,2", "--alpha", "0.1,0.5", "--mode",
                "baseline,hinton", "--teacher-weights", "t.safetensors"));
        List<Map<String, String>> cells = small.expand();
        assertEquals(small.count(), cells.size());
        assertEquals(List.of("1 baseline", "1 hinton 0.1", "1 hinton 0.5", "2 baseline", "2 hinton 0.1",
                "2 hinton 0.5"), cells.stream().map(c -> c.get("--seed") + " " + c.get("--mode")
                + (c.containsKey("--alpha") ? " " + c.get("--alpha") : "")).toList());
    }

    @Test
    void aGridPastMaxCellsIsRefusedInOneLineBeforeAnythingIsMade() throws IOException {
        Path out = dir.resolve("big");
        String[] args = {"sweep", "--out", out.toString(), "--teacher-weights", dir.resolve("none.safetensors")
                .toString(), "--mode", "baseline,temperature,hinton,hybrid", "--temperature", range(1, 100), "--seed",
                range(1, 100), "--alpha", "0.1,0.2,0.3,0.4,0.5"};
        long start = System.nanoTime();
        CliFixtures.Run run = CliFixtures.run(args);
        CliFixtures.assertRefused(run);
        assertTrue(run.err().contains("the grid makes 110100 runs (baseline 100, temperature 10000, hinton 50000, "
                + "hybrid 50000), more than --max-cells 10000"), run.err());
        assertTrue(run.err().contains("--max-cells 110100 to run them all"), run.err());
        assertTrue(System.nanoTime() - start < 10_000_000_000L, "refused without expanding the grid");
        assertFalse(Files.exists(out), "nothing was written");

        Path data = CliFixtures.tinyFashionMnist(dir);
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 5);
        CliFixtures.Run four = CliFixtures.run(tiny(data, teacher, out, "--mode", "baseline,temperature",
                "--seed", "1,2", "--max-cells", "3"));
        CliFixtures.assertRefused(four);
        assertTrue(four.err().contains("makes 4 runs") && four.err().contains("--max-cells 3"), four.err());
        CliFixtures.assertRefused(CliFixtures.run(tiny(data, teacher, out, "--mode", "hinton", "--max-cells", "0")));
        assertFalse(Files.exists(out), "nothing was written");
    }

    @Test
    void everyCellIsCheckedAgainstTheDataAndTheTeacherBeforeTheFirstTrains() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir);
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 5);
        Path other = CliFixtures.saveWeights(dir, "cnn-student", 5);
        Path out = dir.resolve("s");
        Map<String[], String[]> refusals = new java.util.LinkedHashMap<>();
        refusals.put(new String[] {"--mode", "hinton", "--labelled", "40,300"},
                new String[] {"--labelled 300: ", "only 256 labelled"});
        refusals.put(new String[] {"--mode", "baseline", "--labelled", "40,300"},
                new String[] {"--labelled 300: ", "only 256 labelled"});
        refusals.put(new String[] {"--mode", "hinton,temperature", "--alpha", "0.5", "--labelled", "40,300"},
                new String[] {"cell --mode hinton --labelled 300", "only 256 labelled"});
        refusals.put(new String[] {"--mode", "hinton", "--model", "mlp-tiny,resnet8"},
                new String[] {"cell --model resnet8", "takes inputs of [3, 32, 32]"});
        refusals.put(new String[] {"--mode", "temperature", "--teacher-model", "mlp-tiny,resnet8"},
                new String[] {"cell --teacher-model resnet8", "--teacher-model resnet8 takes inputs"});
        refusals.put(new String[] {"--mode", "hinton", "--teacher-weights", teacher + "," + other},
                new String[] {"--teacher-weights " + other + ": holds the weights of a different model than "
                        + "--teacher-model mlp-tiny"});
        refusals.put(new String[] {"--mode", "hinton", "--teacher-weights", teacher + "," + dir.resolve("no")},
                new String[] {"--teacher-weights " + dir.resolve("no") + ": no such file"});
        refusals.put(new String[] {"--mode", "hybrid", "--pairs", "3=3/9=3"},
                new String[] {"cell --pairs 9=3", "the student has no layer '9'"});
        refusals.put(new String[] {"--mode", "hinton", "--crop-padding", "0,28"},
                new String[] {"retort sweep: --crop-padding 28: not smaller than the 28×28 images"});
        for (var r : refusals.entrySet()) {
            CliFixtures.Run run = CliFixtures.run(tiny(data, teacher, out, r.getKey()));
            CliFixtures.assertRefused(run);
            for (String fragment : r.getValue()) {
                assertTrue(run.err().contains(fragment), "'" + fragment + "' in: " + run.err());
            }
            assertFalse(run.out().contains("epoch"), "nothing trained: " + run.out());
            assertFalse(Files.exists(out), "no folder for a refused sweep: " + String.join(" ", r.getKey()));
        }
    }

    @Test
    void threadsCannotVaryAndItsOneValueIsChecked() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir);
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 5);
        Path out = dir.resolve("s");
        CliFixtures.Run varies = CliFixtures.run(tiny(data, teacher, out, "--mode", "hinton", "--threads", "1,0"));
        CliFixtures.assertRefused(varies);
        assertTrue(varies.err().contains("--threads cannot vary in a sweep"), varies.err());
        CliFixtures.Run zero = CliFixtures.run(tiny(data, teacher, out, "--mode", "hinton", "--threads", "0"));
        CliFixtures.assertRefused(zero);
        assertTrue(zero.err().contains("--threads 0"), zero.err());
        CliFixtures.assertRefused(CliFixtures.run(tiny(data, teacher, out, "--mode", "hinton", "--dataset",
                "fashion-mnist,npy")));
        assertFalse(Files.exists(out));
    }

    @Test
    void theSameValueWrittenTwoWaysOrTheSameRunTwiceIsRefused() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir);
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 5);
        Path out = dir.resolve("s");
        Map<String[], String> refusals = new java.util.LinkedHashMap<>();
        refusals.put(new String[] {"--mode", "hinton", "--temperature", "2,2.0"}, "--temperature 2,2.0: 2 and 2.0");
        refusals.put(new String[] {"--mode", "hinton", "--lr", "0.1,1e-1"}, "--lr 0.1,1e-1: 0.1 and 1e-1");
        refusals.put(new String[] {"--mode", "HINTON,hinton"}, "--mode HINTON,hinton: HINTON and hinton");
        refusals.put(new String[] {"--mode", "hinton", "--optimizer", "sgd,SGD"}, "sgd and SGD");
        refusals.put(new String[] {"--mode", "hinton", "--teacher-targets", "soft,Soft"}, "soft and Soft");
        refusals.put(new String[] {"--mode", "hinton", "--epochs", "1,01"}, "1 and 01");
        refusals.put(new String[] {"--mode", "hybrid", "--prune", "0,-0"}, "0 and -0");
        refusals.put(new String[] {"--mode", "hybrid", "--pairs", "3=3,5=5/3 = 3,5=5"}, "are the same value");
        refusals.put(new String[] {"--mode", "hinton", "--teacher-weights", teacher + "," + teacher.getParent()
                .resolve(".").resolve(teacher.getFileName())}, "are the same value");
        refusals.put(new String[] {"--mode", "hybrid", "--pairs", "3=3,3=3"}, "the pair 3=3 is given twice");
        // Each value differs, but T_s, T_t and κ leave nothing of --temperature in mode temperature.
        refusals.put(new String[] {"--mode", "temperature", "--student-temperature", "2", "--teacher-temperature", "2",
                "--kappa", "4", "--temperature", "1,3"}, "cell --temperature 3: the same run as cell --temperature 1");
        refusals.put(new String[] {"--mode", "baseline,temperature", "--alpha", "0.5"},
                "--alpha belongs to --mode hinton and hybrid, and none of this sweep's modes");
        for (var r : refusals.entrySet()) {
            CliFixtures.Run run = CliFixtures.run(tiny(data, teacher, out, r.getKey()));
            CliFixtures.assertRefused(run);
            assertTrue(run.err().contains(r.getValue()), "'" + r.getValue() + "' in: " + run.err());
            assertFalse(Files.exists(out), "no folder for a refused sweep: " + String.join(" ", r.getKey()));
        }
    }

    @Test
    void aFinishedCellOfOtherOptionsIsRefusedBeforeAnyCellTrains() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir);
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 5);
        Path out = dir.resolve("s");
        CliFixtures.Run first = CliFixtures.run(tiny(data, teacher, out, "--mode", "hinton", "--seed", "1,2"));
        assertEquals(0, first.exitCode(), first.all());
        String[] longer = tiny(data, teacher, out, "--mode", "hinton", "--seed", "3,2");
        longer[java.util.Arrays.asList(longer).indexOf("--epochs") + 1] = "2";
        CliFixtures.Run second = CliFixtures.run(longer);
        CliFixtures.assertRefused(second);
        assertTrue(second.err().contains("seed-2") && second.err().contains("--epochs 1"), second.err());
        assertFalse(Files.exists(out.resolve("seed-3")), "the new cell before it did not train");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
