package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One writer per run folder: a second one is refused naming the first, a killed one frees the folder, leftovers go. */
class RunLockTest {
    @TempDir
    Path dir;

    /** Run as a child JVM: locks the folder in args[0], says so, then waits to be killed. */
    public static void main(String[] args) throws Exception {
        RunLock lock = RunLock.acquire(Path.of(args[0]), "train mlp-tiny --out " + args[0]);
        System.out.println("locked");
        System.out.flush();
        Thread.sleep(60_000);
        lock.close();
    }

    @Test
    void aSecondWriterInTheSameProcessIsRefusedNamingTheHolder() throws IOException {
        Path run = dir.resolve("run");
        try (RunLock first = RunLock.acquire(run, "train mlp-student --out " + run)) {
            IOException e = assertThrows(IOException.class, () -> RunLock.acquire(run, "train mlp-tiny"));
            assertTrue(e.getMessage().contains("in use by another run"), e.getMessage());
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
            assertTrue(e.getMessage().contains("train mlp-student"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        RunLock.acquire(run, "train mlp-tiny").close(); // released on close
    }

    @Test
    void aDemoIntoAFolderInUseIsRefusedBeforeItTrains() throws IOException {
        Path run = dir.resolve("demo");
        dev.retort.data.Dataset images = dev.retort.data.SyntheticImages.generate("synthetic", 64, 10, 28, 1);
        Runs.Data data = new Runs.Data(images, images, "generated");
        try (RunLock held = RunLock.acquire(run, "train cnn-teacher --out " + run)) {
            IOException e = assertThrows(IOException.class,
                    () -> Demo.run(Demo.quick(64), data, run, new java.io.PrintWriter(java.io.Writer.nullWriter())));
            assertTrue(e.getMessage().contains("in use by another run"), e.getMessage());
        }
        assertFalse(Files.exists(run.resolve("teacher")), "the demo trained nothing");
    }

    @Test
    void anotherProcessHoldingTheLockIsRefusedAndItsDeathByKillReleasesIt() throws Exception {
        Path run = dir.resolve("run");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                RunLockTest.class.getName(), run.toString()).redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("locked", lines.readLine());
            IOException e = assertThrows(IOException.class, () -> RunLock.acquire(run, "train mlp-tiny"));
            assertTrue(e.getMessage().contains("pid " + child.pid()), e.getMessage());
            assertTrue(e.getMessage().contains("train mlp-tiny --out"), e.getMessage());
            child.destroyForcibly(); // SIGKILL: no shutdown hook, the OS alone releases the lock
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            RunLock.acquire(run, "train mlp-tiny").close();
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void aLockFileThatIsASymbolicLinkIsRefusedAndItsTargetUnchanged() throws IOException {
        Path run = Files.createDirectories(dir.resolve("run"));
        Path outside = Files.writeString(dir.resolve("outside.txt"), "mine\n");
        Files.createSymbolicLink(run.resolve(RunLock.FILE), outside);
        IOException e = assertThrows(IOException.class, () -> RunLock.acquire(run, "train mlp-tiny"));
        assertTrue(e.getMessage().contains(run.resolve(RunLock.FILE) + " is a symbolic link"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertEquals("mine\n", Files.readString(outside));
        Files.delete(run.resolve(RunLock.FILE));
        Files.createSymbolicLink(run.resolve(RunLock.FILE), dir.resolve("nowhere")); // dangling: not created either
        assertThrows(IOException.class, () -> RunLock.acquire(run, "train mlp-tiny"));
        assertFalse(Files.exists(dir.resolve("nowhere")));
    }

    @Test
    void aLockFileThatIsAHardLinkOrAFolderIsRefused() throws IOException {
        Path run = Files.createDirectories(dir.resolve("run"));
        Path outside = Files.writeString(dir.resolve("outside.txt"), "mine\n");
        Files.createLink(run.resolve(RunLock.FILE), outside);
        IOException e = assertThrows(IOException.class, () -> RunLock.acquire(run, "train mlp-tiny"));
        assertTrue(e.getMessage().contains("hard link"), e.getMessage());
        assertEquals("mine\n", Files.readString(outside));
        Files.delete(run.resolve(RunLock.FILE));
        Files.createDirectories(run.resolve(RunLock.FILE));
        e = assertThrows(IOException.class, () -> RunLock.acquire(run, "train mlp-tiny"));
        assertTrue(e.getMessage().contains("is a folder"), e.getMessage());
    }

    @Test
    void openingARunFolderRemovesWhatAKilledRunLeft() throws IOException {
        Path run = dir.resolve("run");
        RetortFolder.claim(run, RetortFolder.Kind.RUN, "--out");
        Path checkpoints = Files.createDirectories(run.resolve("checkpoints"));
        Path complete = completeCheckpoint(checkpoints.resolve("epoch-0003"));
        Path older = completeCheckpoint(checkpoints.resolve("epoch-0002"));
        Path halfDeleted = Files.createDirectories(checkpoints.resolve("epoch-0001"));
        Files.writeString(halfDeleted.resolve("state.safetensors"), "x");
        Path tempCheckpoint = completeCheckpoint(checkpoints.resolve(".epoch-4.1f2e3d.tmp"));
        Path tempFile = Files.writeString(run.resolve(".metrics.jsonl.a0b1c2.tmp"), "{");
        Path config = Files.writeString(run.resolve("config.json"), "{}");
        Path foreign = Files.writeString(run.resolve("notes.txt"), "mine");

        RunFolder.open(run, true);

        assertTrue(Files.isDirectory(complete), "the newest complete checkpoint stays");
        for (Path gone : List.of(older, halfDeleted, tempCheckpoint, tempFile)) {
            assertFalse(Files.exists(gone), gone + " should have been removed");
        }
        assertTrue(Files.exists(config) && Files.exists(foreign), "files Retort did not leave are kept");
    }

    @Test
    void anEpochFolderNumberBeyondIntIsOneClearLine() throws IOException {
        Path run = dir.resolve("run");
        RetortFolder.claim(run, RetortFolder.Kind.RUN, "--out");
        completeCheckpoint(run.resolve("checkpoints").resolve("epoch-99999999999"));
        Files.writeString(run.resolve("config.json"), "{}");
        IOException e = assertThrows(IOException.class, () -> RunFolder.open(run, true));
        assertTrue(e.getMessage().contains("epoch-99999999999: epoch number 99999999999 is out of range"),
                e.getMessage());
    }

    private static Path completeCheckpoint(Path folder) throws IOException {
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("model.safetensors"), "m");
        Files.writeString(folder.resolve("state.safetensors"), "s");
        return folder;
    }
}
