package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retort.io.Npy;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An output never replaces what its command reads or a file of a Retort folder: predict and calibrate refuse, in one
 * line and before any work, an --output or --argmax that is (by real path) an input, the weights, the network file,
 * the config, a file of an input folder or a file inside a run folder, and leave every file as it was.
 */
class OutputFilesCommandTest {
    @TempDir
    Path dir;

    /** Every regular file under {@code root} with its bytes, to show that a refused command changed none. */
    private static Map<Path, byte[]> snapshot(Path root) throws IOException {
        Map<Path, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                files.put(root.relativize(p), Files.readAllBytes(p));
            }
        }
        return files;
    }

    private static void assertUnchanged(Map<Path, byte[]> before, Path root) throws IOException {
        Map<Path, byte[]> after = snapshot(root);
        assertEquals(before.keySet(), after.keySet(), "no file added or removed");
        for (var e : before.entrySet()) {
            assertArrayEquals(e.getValue(), after.get(e.getKey()), e.getKey() + " unchanged");
        }
    }

    private Path examples(String name) throws IOException {
        Path file = dir.resolve(name);
        try (Scope scope = Scope.open()) {
            Npy.write(file, Tensor.of(new float[3 * 784], 3, 784));
        }
        return file;
    }

    private static CliFixtures.Run predict(String... more) {
        List<String> args = new ArrayList<>(List.of("predict", "--device", "cpu"));
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    private static void assertRefusedNaming(CliFixtures.Run r, String... fragments) {
        CliFixtures.assertRefused(r);
        for (String f : fragments) {
            assertTrue(r.err().contains(f), "'" + f + "' in: " + r.err());
        }
    }

    @Test
    void predictRefusesAnOutputThatIsItsInputTheWeightsOrTheNetworkFile() throws IOException {
        Path weights = CliFixtures.saveWeights(dir, "mlp-tiny", 3);
        Path x = examples("x.npy");
        Map<Path, byte[]> before = snapshot(dir);
        String w = weights.toString();

        assertRefusedNaming(predict("--model", "mlp-tiny", "--weights", w, "--input", x.toString(), "--output",
                x.toString()), "--output " + x + ": is the --input file", "never replaces what the command reads");
        assertRefusedNaming(predict("--model", "mlp-tiny", "--weights", w, "--input", x.toString(), "--output",
                dir.resolve("y.npy").toString(), "--argmax", x.toString()), "--argmax " + x + ": is the --input file");
        assertRefusedNaming(predict("--model", "mlp-tiny", "--weights", w, "--input", x.toString(), "--output", w),
                "--output " + w + ": is the --weights file");
        // The same file by another name: ., .. and a link all lead to the input.
        Path dotted = dir.resolve("sub/../x.npy");
        Files.createDirectories(dir.resolve("sub"));
        assertRefusedNaming(predict("--model", "mlp-tiny", "--weights", w, "--input", x.toString(), "--output",
                dotted.toString()), "--output " + dotted + ": is the --input file");
        Path link = Files.createSymbolicLink(dir.resolve("link.npy"), x);
        before = snapshot(dir);
        assertRefusedNaming(predict("--model", "mlp-tiny", "--weights", w, "--input", x.toString(), "--output",
                link.toString()), "--output " + link + ": is the --input file");
        // A JSON network file is an input too.
        Path net = Files.writeString(dir.resolve("net.json"), "{\"input\": [784], \"layers\": [{\"type\": "
                + "\"linear\", \"out\": 10}]}");
        before = snapshot(dir);
        assertRefusedNaming(predict("--model", net.toString(), "--weights", w, "--input", x.toString(), "--output",
                net.toString()),
                "is the --model file");
        assertUnchanged(before, dir);
    }

    @Test
    void predictRefusesAnImageAsItsOwnOutputAndAFileOfTheInputFolder() throws IOException {
        CliFixtures.PngRun png = CliFixtures.trainOnPngs(dir, 1);
        Path image = png.data().resolve("test/circle/0.png");
        Path photos = png.data().resolve("test/stripes");
        Map<Path, byte[]> before = snapshot(dir);
        assertRefusedNaming(predict("--config", png.folder().resolve("config.json").toString(), "--input",
                image.toString(), "--output", image.toString()), "--output " + image + ": is the --input file");
        Path inFolder = photos.resolve("1.png");
        assertRefusedNaming(predict("--config", png.folder().resolve("config.json").toString(), "--input",
                photos.toString(), "--output", inFolder.toString()), "is a file of the --input folder " + photos);
        assertUnchanged(before, dir);
    }

    @Test
    void nothingInARunFolderIsReplacedButANewFileMayGoThere() throws IOException {
        CliFixtures.PngRun png = CliFixtures.trainOnPngs(dir, 1);
        Path run = png.folder();
        Path config = run.resolve("config.json");
        Path image = png.data().resolve("test/wedge/0.png");
        Path checkpointModel;
        try (Stream<Path> epochs = Files.list(run.resolve("checkpoints"))) {
            checkpointModel = epochs.findFirst().orElseThrow().resolve("model.safetensors");
        }
        Map<Path, byte[]> before = snapshot(dir);
        // The config (an input here), the exported weights (the input --config implies), a checkpoint's weights and
        // the run's metrics (neither an input): all refused.
        assertRefusedNaming(predict("--config", config.toString(), "--input", image.toString(), "--output",
                config.toString()), "--output " + config + ": is the --config file");
        assertRefusedNaming(predict("--config", config.toString(), "--input", image.toString(), "--output",
                run.resolve("model.safetensors").toString()), "is the --weights file");
        assertRefusedNaming(predict("--config", config.toString(), "--input", image.toString(), "--output",
                checkpointModel.toString()), "would replace a file of the Retort folder " + run.toRealPath()
                + " (run)", "never replaces a run's files");
        assertRefusedNaming(predict("--config", config.toString(), "--input", image.toString(), "--output",
                run.resolve("metrics.csv").toString()), "would replace a file of the Retort folder");
        assertUnchanged(before, dir);

        Path fresh = run.resolve("predictions.npy");
        CliFixtures.Run ok = predict("--config", config.toString(), "--input", image.toString(), "--output",
                fresh.toString());
        assertEquals(0, ok.exitCode(), ok.all());
        assertTrue(Files.isRegularFile(fresh));
    }

    @Test
    void calibrateRefusesAnOutputOverItsWeightsConfigOrData() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir, 64, 16);
        Path weights = CliFixtures.saveWeights(dir, "mlp-tiny", 4);
        Path labels = data.resolve(dev.retort.data.FashionMnist.TRAIN_LABELS);
        assumeTrue(Files.isRegularFile(labels), "the fixture writes raw IDX files");
        Map<Path, byte[]> before = snapshot(dir);
        for (Path target : List.of(weights, labels)) {
            CliFixtures.Run r = run("calibrate", "--model", "mlp-tiny", "--weights", weights.toString(), "--data",
                    data.toString(), "--holdout", "16", "--device", "cpu", "--output", target.toString());
            assertRefusedNaming(r, "--output " + target + ": ");
            assertFalse(r.out().contains("T* ="), "refused before any work: " + r.out());
        }
        assertUnchanged(before, dir);
    }
}
