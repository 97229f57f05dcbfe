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
import java.util.List;
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

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
