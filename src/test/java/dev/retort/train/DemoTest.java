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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The main job on a few generated images: every run, the table, report.md with plots, and reuse of finished runs. */
class DemoTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void quiet() {
        System.setProperty("retort.progress", "off");
    }

    @Test
    void runsTeacherBaselineAndEveryModeThenReusesThem() throws IOException {
        Dataset train = SyntheticImages.generate("synthetic/train", 256, 10, 28, 1);
        Dataset test = SyntheticImages.generate("synthetic/test", 100, 10, 28, 2);
        Runs.Data data = new Runs.Data(train, test, "generated");
        Demo.Schedule quick = Demo.quick(train.size());
        Demo.Schedule schedule = new Demo.Schedule("test", quick.teacher().withEpochs(1), quick.student().withEpochs(1),
                2, 3);
        StringWriter log = new StringWriter();
        Demo.Result result = Demo.run(schedule, data, dir, new PrintWriter(log, true));
        assertEquals(Demo.STUDENT_RUNS, java.util.List.copyOf(result.students().keySet()));
        result.students().values().forEach(outcomes -> assertEquals(2, outcomes.size()));
        String table = Demo.table(result);
        assertEquals(2 + 1 + 4, table.split("\n").length, table);
        assertTrue(table.contains("| hybrid | cnn-student |"), table);
        Path report = Demo.writeReport(result, schedule, data, "test machine", dir);
        String md = Files.readString(report);
        assertTrue(md.contains("at T = 3.0") && md.contains("accuracy.png"), md);
        assertTrue(Files.size(dir.resolve("accuracy.png")) > 1000 && Files.size(dir.resolve("nll.png")) > 1000);
        assertEquals(3.0, RunFolder.at(dir.resolve("student-hinton-seed2")).readConfig()
                .path("distillation").path("temperature").asDouble(), "the schedule's T");

        StringWriter again = new StringWriter();
        Demo.Result reused = Demo.run(schedule, data, dir, new PrintWriter(again, true));
        assertTrue(again.toString().contains("teacher: finished earlier"), again.toString());
        assertEquals(result.students().get("hinton").get(1).test().accuracy(),
                reused.students().get("hinton").get(1).test().accuracy());
    }
}
