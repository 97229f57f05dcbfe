package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import dev.retort.io.SafeTensors;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run killed with SIGKILL at random moments — mid-epoch, mid-evaluation, mid-checkpoint — and resumed each time
 * ends with weights equal bit for bit to an uninterrupted run's, in a folder with nothing left over.
 */
class KillResumeTest {
    private static final int EPOCHS = 6;

    @TempDir
    Path dir;

    private static TrainingConfig config() {
        return new TrainingConfig("mlp-tiny", EPOCHS, 32, "sgd", 0.05, 0.9, true, 5e-4, "cosine", 0.5, 0, 0, false,
                512, 7, 200);
    }

    private static Runs.Data data() {
        Dataset train = SyntheticImages.generate("synthetic/train", 512, 10, 28, 3);
        Dataset test = SyntheticImages.generate("synthetic/test", 200, 10, 28, 4);
        return new Runs.Data(train, test, "generated");
    }

    /** Trains (or resumes) the run in args[0] to the end, in a child JVM that the test kills. */
    public static void main(String[] args) throws IOException {
        System.setProperty("retort.progress", "off");
        train(Path.of(args[0]));
        System.exit(0);
    }

    private static void train(Path out) throws IOException {
        boolean resume = RunFolder.at(out).latestCheckpoint().isPresent();
        Runs.train("train mlp-tiny", config(), data(), out, resume, new PrintWriter(java.io.Writer.nullWriter()));
    }

    /**
     * The run in {@code out} in a child JVM on the scalar path. The Vector API's lane reductions may add in another
     * order once C2 has compiled them than in the interpreter, so a run that restarts cold at another point would
     * differ from an uninterrupted one in the last bits for that reason alone; plain Java arithmetic does not.
     */
    private static Process child(Path out) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "--add-modules=jdk.incubator.vector", "-Dretort.vector=false", "-cp",
                System.getProperty("java.class.path"), KillResumeTest.class.getName(), out.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    @Test
    void killedAtRandomAndResumedEndsBitForBitAsAnUninterruptedRun() throws Exception {
        Path straight = dir.resolve("straight");
        Process uninterrupted = child(straight);
        assertTrue(uninterrupted.waitFor(120, TimeUnit.SECONDS) && uninterrupted.exitValue() == 0);

        Path killed = dir.resolve("killed");
        SplittableRandom rng = new SplittableRandom(14);
        int kills = 0;
        for (int attempt = 0; attempt < 6; attempt++) {
            Process child = child(killed);
            if (!child.waitFor(300 + rng.nextInt(1700), TimeUnit.MILLISECONDS)) {
                child.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
                kills++;
            }
            assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        }
        Process rest = child(killed); // whatever is left
        assertTrue(rest.waitFor(120, TimeUnit.SECONDS) && rest.exitValue() == 0);
        assertTrue(kills > 0, "no child was killed; the kill times are too late for this machine");

        try (SafeTensors.Contents a = SafeTensors.read(straight.resolve(RunFolder.MODEL));
             SafeTensors.Contents b = SafeTensors.read(killed.resolve(RunFolder.MODEL))) {
            assertEquals(a.tensors().keySet(), b.tensors().keySet());
            for (String name : a.tensors().keySet()) {
                assertArrayEquals(a.tensors().get(name).toFloatArray(), b.tensors().get(name).toFloatArray(),
                        name + " after " + kills + " kills");
            }
        }
        assertEquals(EPOCHS, RunFolder.at(killed).readMetrics().size());
        try (Stream<Path> files = Files.walk(killed)) {
            List<Path> leftovers = files.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
            assertEquals(List.of(), leftovers);
        }
        try (Stream<Path> checkpoints = Files.list(killed.resolve("checkpoints"))) {
            assertEquals(List.of(killed.resolve("checkpoints").resolve(String.format("epoch-%04d", EPOCHS))),
                    checkpoints.toList(), "only the newest checkpoint is kept");
        }
    }
}
