package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retort.backend.cpu.Parallel;
import dev.retort.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --threads N}, and what a run's config.json records of the environment that made its numbers. */
class RunEnvironmentTest {
    @TempDir
    Path dir;

    @Test
    void configJsonRecordsJavaThreadsKernelsCommitAndTheTeachersHash() throws Exception {
        Path data = CliFixtures.tinyFashionMnist(dir);
        Path teacher = CliFixtures.saveWeights(dir, "cnn-student", 5);
        int before = Parallel.threads();
        try {
            Path out = dir.resolve("kd");
            CliFixtures.Run r = run("distill", "--mode", "hinton", "--teacher-model", "cnn-student", "--teacher-weights",
                    teacher.toString(), "--model", "mlp-tiny", "--epochs", "1", "--batch-size", "64", "--data",
                    data.toString(), "--device", "cpu", "--threads", "1", "--out", out.toString());
            assertEquals(0, r.exitCode(), r.all());
            assertEquals(1, Parallel.threads());
            JsonNode env = RunFolder.at(out).readConfig().path("environment");
            assertTrue(env.path("java").asText().startsWith(System.getProperty("java.version")), env.toString());
            assertEquals(1, env.path("cpu_threads").asInt(), env.toString());
            assertTrue(env.path("cpu_kernels").asText().contains("on 1 threads"), env.toString());
            assertFalse(env.path("commit").asText().isEmpty(), env.toString());
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(teacher)));
            assertEquals(sha, env.path("teacher_weights_sha256").asText());
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void threadCountsOutOfRangeAreOneLineBeforeAnyThreadStarts() throws IOException {
        Path weights = CliFixtures.saveWeights(dir, "mlp-tiny", 1);
        int before = Parallel.threads();
        CliFixtures.Run r = run("eval", "--model", "mlp-tiny", "--weights", weights.toString(), "--threads", "0");
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--threads 0: the CPU kernels need at least 1 thread"), r.err());
        // 100,000 threads once started about 32,000 before the JVM ran out of memory.
        r = run("eval", "--model", "mlp-tiny", "--weights", weights.toString(), "--threads", "100000");
        CliFixtures.assertRefused(r);
        assertTrue(r.err().contains("--threads 100000: at most " + Parallel.maxThreads() + " (8 per core"), r.err());
        assertEquals(before, Parallel.threads());
    }
}
