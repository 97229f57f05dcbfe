package dev.retort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retort.data.FashionMnist;
import dev.retort.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A resume, and a sweep's reuse of a finished run, read the files the run was made from: a teacher's weights replaced
 * at the same path, or data files changed, are refused in one line naming what changed.
 */
class ResumeInputsCommandTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void quiet() {
        System.setProperty("retort.progress", "off");
    }

    private static CliFixtures.Run run(String command, Path data, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of(command, "--model", "mlp-tiny", "--batch-size", "64", "--device",
                "cpu", "--data", data.toString(), "--out", out.toString()));
        if (!List.of(more).contains("--epochs")) {
            args.addAll(List.of("--epochs", "1"));
        }
        args.addAll(List.of(more));
        return CliFixtures.run(args.toArray(String[]::new));
    }

    private static CliFixtures.Run distill(Path data, Path teacher, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("--mode", "hinton", "--teacher-model", "mlp-tiny",
                "--teacher-weights", teacher.toString()));
        args.addAll(List.of(more));
        return run("distill", data, out, args.toArray(String[]::new));
    }

    private static void assertRefused(CliFixtures.Run run, String... fragments) {
        CliFixtures.assertRefused(run);
        for (String f : fragments) {
            assertTrue(run.err().contains(f), "'" + f + "' in: " + run.err());
        }
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(file)));
    }

    @Test
    void aDistillationResumedWithOtherTeacherWeightsAtTheSamePathIsRefusedNamingBothDigests() throws Exception {
        Path data = CliFixtures.tinyFashionMnist(dir, 128, 32);
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 3);
        Path kd = dir.resolve("kd");
        assertEquals(0, distill(data, teacher, kd).exitCode());
        String before = sha256(teacher);
        Path kept = Files.copy(teacher, dir.resolve("kept.safetensors"));
        Files.copy(CliFixtures.saveWeights(dir, "mlp-tiny", 4), teacher, StandardCopyOption.REPLACE_EXISTING);

        assertRefused(distill(data, teacher, kd, "--resume", "--epochs", "2"), "--resume", kd.toString(),
                "teacher weights", before.substring(0, 12), sha256(teacher).substring(0, 12), teacher.toString());
        assertEquals(1, RunFolder.at(kd).readMetrics().size(), "the run did not go on");

        Files.copy(kept, teacher, StandardCopyOption.REPLACE_EXISTING);
        CliFixtures.Run resumed = distill(data, teacher, kd, "--resume", "--epochs", "2");
        assertEquals(0, resumed.exitCode(), "the run's own teacher resumes: " + resumed.all());
    }

    @Test
    void aRunResumedOnChangedDataIsRefusedNamingTheFile() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir, 128, 32);
        Path out = dir.resolve("run");
        assertEquals(0, run("train", data, out).exitCode());
        assertTrue(RunFolder.at(out).readConfig().path("data").path("fingerprint")
                .has(FashionMnist.TRAIN_LABELS), "config.json records the data's fingerprint");
        Path labels = data.resolve(FashionMnist.TRAIN_LABELS);
        byte[] original = Files.readAllBytes(labels);
        byte[] relabelled = original.clone();
        relabelled[relabelled.length - 1] = (byte) ((relabelled[relabelled.length - 1] + 1) % 10);
        Files.write(labels, relabelled);

        assertRefused(run("train", data, out, "--resume", "--epochs", "2"), "--resume", "trained on has changed",
                FashionMnist.TRAIN_LABELS, "other bytes");
        Files.write(data.resolve(FashionMnist.TEST_IMAGES), new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
        Files.write(labels, original);
        assertRefused(run("train", data, out, "--resume", "--epochs", "2"), FashionMnist.TEST_IMAGES, "bytes");
    }

    @Test
    void aRunWhoseConfigRecordsNoFingerprintStillResumes() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir, 128, 32);
        Path out = dir.resolve("run");
        assertEquals(0, run("train", data, out).exitCode());
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(out.resolve(RunFolder.CONFIG).toFile());
        ((ObjectNode) config.path("data")).remove("fingerprint"); // as a run of an earlier version wrote it
        Files.writeString(out.resolve(RunFolder.CONFIG), json.writeValueAsString(config));

        CliFixtures.Run resumed = run("train", data, out, "--resume", "--epochs", "2");
        assertEquals(0, resumed.exitCode(), resumed.all());
        assertEquals(2, RunFolder.at(out).readMetrics().size());
    }

    /** A baseline and a hinton run of mlp-tiny, one epoch each. */
    private static String[] sweep(Path data, Path teacher, Path study) {
        return new String[] {"sweep", "--mode", "baseline,hinton", "--teacher-model", "mlp-tiny", "--teacher-weights",
            teacher.toString(), "--model", "mlp-tiny", "--epochs", "1", "--batch-size", "64", "--device", "cpu",
            "--data", data.toString(), "--out", study.toString()};
    }

    @Test
    void aSweepDoesNotReuseADistillationWhoseTeacherWeightsChanged() throws Exception {
        Path data = CliFixtures.tinyFashionMnist(dir, 128, 32);
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 3);
        Path study = dir.resolve("study");
        String[] args = sweep(data, teacher, study);
        assertEquals(0, CliFixtures.run(args).exitCode());
        String before = sha256(teacher);
        Files.copy(CliFixtures.saveWeights(dir, "mlp-tiny", 4), teacher, StandardCopyOption.REPLACE_EXISTING);

        assertRefused(CliFixtures.run(args), study.resolve("mode-hinton").toString(), "teacher weights",
                before.substring(0, 12), sha256(teacher).substring(0, 12));
    }

    @Test
    void aSweepDoesNotReuseARunOfChangedData() throws Exception {
        Path data = CliFixtures.tinyFashionMnist(dir, 128, 32);
        Path teacher = CliFixtures.saveWeights(dir, "mlp-tiny", 3);
        Path study = dir.resolve("study");
        String[] args = sweep(data, teacher, study);
        assertEquals(0, CliFixtures.run(args).exitCode());
        Path labels = data.resolve(FashionMnist.TRAIN_LABELS);
        byte[] relabelled = Files.readAllBytes(labels);
        relabelled[relabelled.length - 1] = (byte) ((relabelled[relabelled.length - 1] + 1) % 10);
        Files.write(labels, relabelled);

        assertRefused(CliFixtures.run(args), study.resolve("mode-baseline").toString(), "finished run of other data",
                FashionMnist.TRAIN_LABELS);
    }
}