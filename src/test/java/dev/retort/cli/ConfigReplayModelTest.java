package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.io.Npy;
import dev.retort.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --config FILE} on the commands that use a trained network (eval, calibrate, predict, inspect): the run's
 * model, weights, data and device; options given beside it win. demo and sweep refuse it, saying why.
 */
class ConfigReplayModelTest {
    @TempDir
    static Path shared;

    private static CliFixtures.PngRun trained;
    private static Path config;

    @TempDir
    Path dir;

    @BeforeAll
    static void trainOnPngs() throws IOException {
        trained = CliFixtures.trainOnPngs(shared, 1);
        config = trained.folder().resolve(RunFolder.CONFIG);
    }

    private static Path weights() {
        return trained.folder().resolve(RunFolder.MODEL);
    }

    /** The lines of a command's report that hold numbers, not the paths it names. */
    private static String numbers(CliFixtures.Run r) {
        return r.out().lines().filter(l -> !l.startsWith("model:") && !l.startsWith("data:")
                && !l.startsWith("held-out:")).collect(Collectors.joining("\n"));
    }

    private static String[] explicit(String command, String... more) {
        List<String> args = new ArrayList<>(List.of(command, "--model", trained.network().toString(), "--weights",
                weights().toString(), "--device", "cpu"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void evalAndCalibrateReplayTheRunsModelWeightsAndData() {
        CliFixtures.Run given = run(explicit("eval", "--data", trained.data().toString()));
        CliFixtures.Run replayed = run("eval", "--config", config.toString());
        assertEquals(0, replayed.exitCode(), replayed.all());
        assertEquals(numbers(given), numbers(replayed));
        assertTrue(replayed.out().contains("with weights " + weights().toAbsolutePath()),
                replayed.out());

        CliFixtures.Run train = run("eval", "--config", config.toString(), "--split", "train");
        assertEquals(0, train.exitCode(), train.all());
        assertTrue(train.out().contains("(54 examples)"), "an option beside --config applies: " + train.out());

        CliFixtures.Run calibrated = run("calibrate", "--config", config.toString(), "--holdout", "20");
        assertEquals(0, calibrated.exitCode(), calibrated.all());
        assertEquals(numbers(run(explicit("calibrate", "--data", trained.data().toString(), "--holdout", "20"))),
                numbers(calibrated));
    }

    @Test
    void predictAndInspectReplayTheRunsModelAndWeights() throws IOException {
        Path png = trained.data().resolve("test").resolve("stripes").resolve("1.png");
        Path a = dir.resolve("a.npy");
        Path b = dir.resolve("b.npy");
        assertEquals(0, run(explicit("predict", "--input", png.toString(), "--output", a.toString())).exitCode());
        CliFixtures.Run r = run("predict", "--config", config.toString(), "--input", png.toString(), "--output",
                b.toString());
        assertEquals(0, r.exitCode(), r.all());
        assertArrayEquals(Npy.read(a).toFloatArray(), Npy.read(b).toFloatArray());

        r = run("inspect", "--config", config.toString());
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("model: " + trained.network()), r.out());
    }

    @Test
    void aGivenWeightsFileWinsAndARunWithoutWeightsIsNamed() throws IOException {
        Path other = dir.resolve("run-copy");
        Files.createDirectories(other);
        Path copied = Files.copy(config, other.resolve(RunFolder.CONFIG));
        CliFixtures.Run r = run("eval", "--config", copied.toString());
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().startsWith("retort eval: --config " + copied + ": no model.safetensors beside it"),
                r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        r = run("eval", "--config", copied.toString(), "--weights", weights().toString());
        assertEquals(0, r.exitCode(), r.all());

        Files.writeString(dir.resolve("not.json"), "{\"epochs\": 3}");
        r = run("predict", "--config", dir.resolve("not.json").toString(), "--input", "x.npy", "--output",
                dir.resolve("p.npy").toString());
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains("no \"training\" object; is it a run's config.json?"), r.err());
        r = run("eval", "--weights", weights().toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().startsWith("Missing required option: '--model=NAME|FILE.json' (or --config FILE"),
                r.err());
    }

    @Test
    void demoAndSweepRefuseConfigSayingWhy() {
        CliFixtures.Run demo = run("demo", "--config", config.toString());
        CliFixtures.assertRefused(demo);
        assertTrue(demo.err().contains("--config " + config + ": a demo has no single configuration to replay"),
                demo.err());
        assertTrue(run("demo", "--help").out().contains("A demo takes no --config"));

        CliFixtures.Run sweep = run("sweep", "--mode", "hinton", "--teacher-weights", "t.safetensors", "--config",
                config.toString());
        assertEquals(1, sweep.exitCode(), sweep.all());
        assertTrue(sweep.err().contains("--config is not an option of a sweep's runs (a sweep has no single "
                + "config.json to replay"), sweep.err());
        assertTrue(run("sweep", "--help").out().contains("A sweep takes no --config"));
    }
}
