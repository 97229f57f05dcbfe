package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The main job on a few generated images: every run, the tables, report.md with plots, and reuse of finished runs. */
class DemoTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void quiet() {
        System.setProperty("retort.progress", "off");
    }

    @Test
    void theDefaultIsTheLimitedLabelSettingAndFullAddsEveryLabelWithThreeSeeds() {
        Demo.Schedule quick = Demo.quick(60000);
        assertEquals(1, quick.seeds());
        assertEquals(List.of("limited-labels"), quick.settings().stream().map(Demo.Setting::name).toList());
        assertEquals(Demo.LABELLED, quick.settings().get(0).student().labelled());
        Demo.Schedule full = Demo.full(60000);
        assertEquals(3, full.seeds());
        assertEquals(List.of("limited-labels", "all-labels"), full.settings().stream().map(Demo.Setting::name).toList());
        assertEquals(0, full.settings().get(1).student().labelled());
    }

    @Test
    void runsTeacherAndEverySettingsBaselineAndModesThenReusesThem() throws IOException {
        Dataset train = SyntheticImages.generate("synthetic/train", 256, 10, 28, 1);
        Dataset test = SyntheticImages.generate("synthetic/test", 100, 10, 28, 2);
        Runs.Data data = new Runs.Data(train, test, "generated");
        Demo.Schedule full = Demo.full(train.size());
        List<Demo.Setting> settings = new ArrayList<>();
        for (Demo.Setting s : full.settings()) {
            TrainingConfig student = s.student().withEpochs(1);
            settings.add(s.withStudent(student.labelled() > 0 ? student.withLabelled(50) : student).withTemperature(3));
        }
        Demo.Schedule schedule = new Demo.Schedule("test", full.teacher().withEpochs(1), settings, 2);
        StringWriter log = new StringWriter();
        Demo.Result result = Demo.run(schedule, data, dir, new PrintWriter(log, true));
        assertEquals(2 * 4 * 2, result.students().size(), "two settings, four runs each, two seeds");
        assertEquals(1, log.toString().lines().filter(l -> l.contains("computed once for every run")).count(),
                "the teacher's outputs are computed once for every mode of every setting: " + log);
        String tables = Demo.tables(result, schedule);
        assertTrue(tables.contains("| mode hybrid | hybrid | 2 |") && tables.contains("| mode baseline | baseline | 2 |"),
                tables);
        assertEquals(2, tables.lines().filter(l -> l.startsWith("### ")).count(), tables);
        Path report = Demo.writeReport(result, schedule, data, "test machine", dir);
        String md = Files.readString(report);
        assertTrue(md.contains("limited-labels.png") && md.contains("all-labels.png"), md);
        assertTrue(Files.size(dir.resolve("limited-labels.png")) > 1000);
        var hinton = RunFolder.at(dir.resolve("limited-labels/mode-hinton.seed-2")).readConfig();
        assertEquals(3.0, hinton.path("distillation").path("temperature").asDouble(), "the schedule's T");
        assertEquals(50, hinton.path("data").path("labelled").asInt());
        assertEquals(256, hinton.path("data").path("train").asInt(), "every image in the transfer set");
        var mlp = RunFolder.at(dir.resolve("all-labels/mode-hybrid.seed-1")).readConfig();
        assertEquals("mlp-student", mlp.path("training").path("model").asText());
        assertEquals("4=16", mlp.path("distillation").path("pairs").asText());

        StringWriter again = new StringWriter();
        Demo.Result reused = Demo.run(schedule, data, dir, new PrintWriter(again, true));
        assertTrue(again.toString().contains("teacher: finished earlier"), again.toString());
        assertEquals(16, again.toString().lines().filter(l -> l.contains("finished earlier")).count() - 1,
                again.toString());
        assertEquals(result.students().get(5).outcome().test().accuracy(),
                reused.students().get(5).outcome().test().accuracy());
    }
}
