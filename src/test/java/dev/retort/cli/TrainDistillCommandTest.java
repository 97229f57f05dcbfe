package dev.retort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.io.Checkpoints;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code retort train} and {@code retort distill} end to end: run folders, loadable checkpoints, resume, bad options. */
class TrainDistillCommandTest {
    private static final Path REAL = Path.of("/usr/share/datasets/fashion-mnist");

    @TempDir
    Path dir;

    @BeforeAll
    static void quiet() {
        System.setProperty("retort.progress", "off");
    }

    private Path tinyData() throws IOException {
        try (Module labeller = Models.create("cnn-student", 5)) {
            return CliFixtures.fashionMnist(dir, labeller, 256, 64, 0.1, 9);
        }
    }

    private static void assertOk(CliFixtures.Run run) {
        assertEquals(0, run.exitCode(), run.all());
    }

    private static void assertFails(CliFixtures.Run run, String... fragments) {
        assertEquals(1, run.exitCode(), run.all());
        for (String f : fragments) {
            assertTrue(run.err().contains(f), "'" + f + "' in: " + run.err());
        }
    }

    @Test
    void aStudentDistilledOnRealDataThroughTheCliLoadsAndResumes() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(REAL), "Fashion-MNIST is not installed (dataset-fashion-mnist)");
        Path teacher = dir.resolve("teacher");
        CliFixtures.Run trained = CliFixtures.run("train", "--model", "cnn-student", "--epochs", "1", "--train-size",
                "3000", "--data", REAL.toString(), "--out", teacher.toString(), "--device", "cpu");
        assertOk(trained);
        assertTrue(trained.out().contains("test accuracy"), trained.out());

        for (String mode : List.of("temperature", "hinton", "hybrid")) {
            Path student = dir.resolve("student-" + mode);
            CliFixtures.Run distilled = CliFixtures.run("distill", "--mode", mode, "--teacher-model", "cnn-student",
                    "--teacher-weights", teacher.resolve("model.safetensors").toString(), "--model", "cnn-student",
                    "--epochs", "1", "--train-size", "3000", "--data", REAL.toString(), "--out", student.toString(),
                    "--seed", "2");
            assertOk(distilled);
            assertTrue(distilled.out().contains("teacher outputs cached"), distilled.out());
            try (Module loaded = Models.create("cnn-student", 77)) {
                assertEquals("1", Checkpoints.load(loaded, student.resolve("model.safetensors")).get("epoch"));
            }
            Map<String, Object> row = RunFolder.at(student).readMetrics().get(0);
            assertTrue(row.containsKey("train_kl") && row.containsKey("test_ece"), row.toString());
            assertTrue((Double) row.get("test_accuracy") > 0.3, mode + ": " + row);
            assertEquals(mode, RunFolder.at(student).readConfig().path("distillation").path("mode").asText());
        }

        CliFixtures.Run resumed = CliFixtures.run("distill", "--mode", "hinton", "--teacher-model", "cnn-student",
                "--teacher-weights", teacher.resolve("model.safetensors").toString(), "--epochs", "2", "--train-size",
                "3000", "--data", REAL.toString(), "--out", dir.resolve("student-hinton").toString(), "--seed", "2",
                "--resume");
        assertOk(resumed);
        assertTrue(resumed.out().contains("resumed from"), resumed.out());
        assertEquals(2, RunFolder.at(dir.resolve("student-hinton")).readMetrics().size());
    }

    @Test
    void temperatureModeTakesSeparateTemperaturesAndHybridPrunes() throws IOException {
        Path data = tinyData();
        Path teacher = CliFixtures.saveWeights(dir, "cnn-student", 5);
        Path out = dir.resolve("t");
        assertOk(CliFixtures.run("distill", "--mode", "temperature", "--teacher-model", "cnn-student",
                "--teacher-weights", teacher.toString(), "--student-temperature", "2", "--teacher-temperature", "6",
                "--epochs", "1", "--batch-size", "64", "--data", data.toString(), "--out", out.toString()));
        var config = RunFolder.at(out).readConfig().path("distillation");
        assertEquals(2.0, config.path("student-temperature").asDouble());
        assertEquals(6.0, config.path("teacher-temperature").asDouble());
        assertEquals(4.0, config.path("kappa").asDouble(), "κ = T_s² unless given");

        Path pruned = dir.resolve("p");
        assertOk(CliFixtures.run("distill", "--mode", "hybrid", "--teacher-model", "cnn-student",
                "--teacher-weights", teacher.toString(), "--pairs", "2=2,5=5", "--prune", "0.5", "--epochs", "2",
                "--batch-size", "64", "--flip", "--data", data.toString(), "--out", pruned.toString()));
        Map<String, Object> last = RunFolder.at(pruned).readMetrics().get(1);
        assertEquals(0.5, (Double) last.get("sparsity"), 0.01, last.toString());
    }

    @Test
    void badOptionsAndMismatchedRunsAreNamed() throws IOException {
        Path data = tinyData();
        Path teacher = CliFixtures.saveWeights(dir, "cnn-student", 5);
        String[] common = {"--teacher-model", "cnn-student", "--teacher-weights", teacher.toString(), "--epochs", "1",
                "--batch-size", "64", "--data", data.toString()};
        assertFails(distill(common, "--mode", "hinton", "--temperature", "0", "--out", dir.resolve("a").toString()),
                "--temperature");
        assertFails(distill(common, "--mode", "hinton", "--alpha", "1.5", "--out", dir.resolve("b").toString()),
                "--alpha");
        assertFails(distill(common, "--mode", "hybrid", "--pairs", "5=99", "--out", dir.resolve("c").toString()),
                "teacher has no layer '99'");
        assertFails(distill(common, "--mode", "hinton", "--kappa", "3", "--out", dir.resolve("d").toString()),
                "--kappa");
        assertFails(CliFixtures.run("distill", "--mode", "hinton", "--teacher-model", "mlp-tiny", "--teacher-weights",
                        teacher.toString(), "--data", data.toString(), "--out", dir.resolve("e").toString()),
                teacher.toString(), "different model");
        assertFails(CliFixtures.run("distill", "--mode", "hinton", "--teacher-model", "cnn-student", "--teacher-weights",
                dir.resolve("none.safetensors").toString(), "--data", data.toString(), "--out",
                dir.resolve("f").toString()), "none.safetensors");

        Path run = dir.resolve("run");
        assertOk(CliFixtures.run("train", "--model", "mlp-tiny", "--epochs", "1", "--batch-size", "64", "--data",
                data.toString(), "--out", run.toString()));
        assertFails(CliFixtures.run("train", "--model", "mlp-tiny", "--epochs", "1", "--data", data.toString(),
                "--out", run.toString()), "already holds a run", "--resume");
        assertFails(CliFixtures.run("train", "--model", "mlp-student", "--epochs", "2", "--data", data.toString(),
                "--out", run.toString(), "--resume"), "'mlp-tiny'", "'mlp-student'");
        assertTrue(Files.isRegularFile(run.resolve("model.safetensors")), "the finished run is untouched");
    }

    @Test
    void whatARunWouldRefuseAtItsStartIsRefusedBeforeItsFolderIsMade() throws IOException {
        Path data = tinyData();
        Path teacher = CliFixtures.saveWeights(dir, "cnn-student", 5);
        Path twelve = Files.writeString(dir.resolve("twelve.json"), "{\"input\": [1, 28, 28], \"layers\": [{\"type\": "
                + "\"flatten\"}, {\"type\": \"linear\", \"out\": 12}]}");
        // A 26×26 map: its pair with the teacher's 28×28 first layer cannot be pooled one onto the other.
        Path narrow = Files.writeString(dir.resolve("narrow.json"), "{\"input\": [1, 28, 28], \"layers\": [{\"type\": "
                + "\"conv2d\", \"out\": 4, \"kernel\": 3}, {\"type\": \"flatten\"}, {\"type\": \"linear\", \"out\": 10}]}");
        String[] common = {"--teacher-model", "cnn-student", "--teacher-weights", teacher.toString(), "--epochs", "1",
                "--batch-size", "64", "--data", data.toString()};
        Path out = dir.resolve("never");
        CliFixtures.Run classes = CliFixtures.run("train", "--model", twelve.toString(), "--data", data.toString(),
                "--out", out.toString());
        CliFixtures.assertRefused(classes);
        assertTrue(classes.err().contains("10 classes"), classes.err());
        CliFixtures.Run pairTwice = distill(common, "--mode", "hybrid", "--pairs", "5=5,5=5", "--out", out.toString());
        CliFixtures.assertRefused(pairTwice);
        assertTrue(pairTwice.err().contains("--pairs 5=5,5=5: the pair 5=5 is given twice"), pairTwice.err());
        CliFixtures.Run spatial = distill(common, "--mode", "hybrid", "--model", narrow.toString(), "--pairs", "0=0",
                "--out", out.toString());
        CliFixtures.assertRefused(spatial);
        assertTrue(spatial.err().contains("26×26 and 28×28"), spatial.err());
        CliFixtures.Run crop = distill(common, "--mode", "hinton", "--crop-padding", "28", "--out", out.toString());
        CliFixtures.assertRefused(crop);
        assertTrue(crop.err().contains("--crop-padding 28: not smaller than the 28×28 images"), crop.err());
        assertFalse(Files.exists(out), "no folder for a run refused at its start");
    }

    private static CliFixtures.Run distill(String[] common, String... more) {
        String[] args = new String[1 + common.length + more.length];
        args[0] = "distill";
        System.arraycopy(common, 0, args, 1, common.length);
        System.arraycopy(more, 0, args, 1 + common.length, more.length);
        return CliFixtures.run(args);
    }
}
