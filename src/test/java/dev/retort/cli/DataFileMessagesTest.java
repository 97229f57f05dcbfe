package dev.retort.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.data.FashionMnist;
import dev.retort.io.Checkpoints;
import dev.retort.io.Npy;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import dev.retort.testing.BadImages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A bad data file is one line naming the file (and the row) and its real cause, exit 1, in training as in
 * prediction: an image whose header claims too many pixels, a corrupt or truncated image, a negative label, a gzip
 * IDX file cut short, a --config file that is not there.
 */
class DataFileMessagesTest {
    @TempDir
    Path dir;

    /** A bad image of {@code kind}, and what its refusal must say after the file's name. */
    private record BadImage(String name, byte[] bytes, String reason) {
        static BadImage of(String kind) {
            return switch (kind) {
                case "huge-header" -> new BadImage("huge.png", BadImages.pngClaiming(60000, 60000),
                        "its header claims 60000 × 60000 pixels; an image may have at most 67108864");
                case "corrupt-jpeg" -> new BadImage("corrupt.jpg", BadImages.corruptJpeg(),
                        "a corrupt JPEG image (the decoder says: Bogus DQT index 15)");
                case "truncated-png" -> new BadImage("cut.png", BadImages.cutInHalf("png"),
                        "truncated: the PNG image ends before its data does");
                default -> new BadImage("cut.jpg", BadImages.cutInHalf("jpg"),
                        "truncated: the JPEG image ends before its data does");
            };
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"huge-header", "corrupt-jpeg", "truncated-png", "truncated-jpeg"})
    void trainingOnImagesNamesTheBadImageAndItsCause(String kind) throws IOException {
        BadImage bad = BadImage.of(kind);
        Path data = CliFixtures.pngDataset(dir.resolve("pngs"), 4);
        Path file = data.resolve("train").resolve("stripes").resolve(bad.name());
        Files.write(file, bad.bytes());
        Path net = CliFixtures.convNetwork(dir.resolve("net.json"), 2);
        CliFixtures.Run run = CliFixtures.run("train", "--model", net.toString(), "--data", data.toString(),
                "--epochs", "1", "--device", "cpu", "--out", dir.resolve("run").toString());
        CliFixtures.assertRefused(run);
        assertTrue(run.err().contains(file + ": " + bad.reason()), run.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"huge-header", "corrupt-jpeg", "truncated-png", "truncated-jpeg"})
    void predictNamesTheBadImageAndItsCauseAloneOrInAFolder(String kind) throws IOException {
        BadImage bad = BadImage.of(kind);
        Path weights = CliFixtures.saveWeights(dir, "mlp-tiny", 1);
        Path folder = Files.createDirectories(dir.resolve("images"));
        Files.write(folder.resolve("a-good.png"), BadImages.encoded("png", 28, 28));
        Path file = folder.resolve(bad.name());
        Files.write(file, bad.bytes());
        Path output = dir.resolve("y.npy");
        for (Path input : new Path[] {file, folder}) {
            CliFixtures.Run run = CliFixtures.run("predict", "--model", "mlp-tiny", "--weights", weights.toString(),
                    "--input", input.toString(), "--output", output.toString(), "--device", "cpu");
            CliFixtures.assertRefused(run);
            assertTrue(run.err().contains(file + ": " + bad.reason()), run.err());
            assertFalse(Files.exists(output));
        }
    }

    /** An npy dataset of 4×4 single-channel images, with the given labels. */
    private Path npyDataset(int[] train, int[] test) throws IOException {
        Path data = Files.createDirectories(dir.resolve("npy"));
        try (Scope scope = Scope.open()) {
            Npy.write(data.resolve("x_train.npy"), Tensor.of(new float[train.length * 16], train.length, 1, 4, 4));
            Npy.write(data.resolve("y_train.npy"), Tensor.ofInts(train, train.length));
            Npy.write(data.resolve("x_test.npy"), Tensor.of(new float[test.length * 16], test.length, 1, 4, 4));
            Npy.write(data.resolve("y_test.npy"), Tensor.ofInts(test, test.length));
        }
        return data;
    }

    private Path flatNetwork() throws IOException {
        Path net = dir.resolve("flat.json");
        Files.writeString(net, "{\"input\": [1, 4, 4], \"layers\": [{\"type\": \"flatten\"}, {\"type\": \"linear\", "
                + "\"out\": 3}]}");
        return net;
    }

    @Test
    void aNegativeLabelInYTrainIsNamedWithItsFileAndRow() throws IOException {
        Path data = npyDataset(new int[] {0, 1, 2, 0, -1, 2}, new int[] {0, 1});
        String net = flatNetwork().toString();
        Path weights = dir.resolve("flat.safetensors");
        try (Module module = Models.resolve(net, 1)) {
            Checkpoints.save(module, weights, Map.of());
        }
        String[][] commands = {
            {"train", "--model", net, "--out", dir.resolve("run-train").toString()},
            {"distill", "--mode", "hinton", "--teacher-model", net, "--teacher-weights", weights.toString(), "--model",
                net, "--out", dir.resolve("run-distill").toString()},
            {"eval", "--model", net, "--weights", weights.toString()}};
        for (String[] command : commands) {
            List<String> args = new ArrayList<>(List.of(command));
            args.addAll(List.of("--data", data.toString(), "--device", "cpu"));
            CliFixtures.Run run = CliFixtures.run(args.toArray(String[]::new));
            CliFixtures.assertRefused(run);
            assertTrue(run.err().contains(data.resolve("y_train.npy") + ": label -1 at row 4 is negative"),
                    run.err());
        }
    }

    @Test
    void aTestLabelTheTrainingSplitLacksIsNamedWithItsRow() throws IOException {
        Path data = npyDataset(new int[] {0, 1, 2, 0}, new int[] {0, 2, 5});
        CliFixtures.Run run = CliFixtures.run("train", "--model", flatNetwork().toString(), "--data", data.toString(),
                "--epochs", "1", "--device", "cpu", "--out", dir.resolve("run").toString());
        CliFixtures.assertRefused(run);
        assertTrue(run.err().contains(data.resolve("y_test.npy") + ": label 5 at row 2 does not occur in the "
                + "training split (3 classes)"), run.err());
    }

    @Test
    void aGzipIdxFileCutInHalfIsCalledTruncated() throws IOException {
        Path data = CliFixtures.tinyFashionMnist(dir, 64, 16);
        Path raw = data.resolve(FashionMnist.TRAIN_IMAGES);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(Files.readAllBytes(raw));
        }
        Path cut = data.resolve(FashionMnist.TRAIN_IMAGES + ".gz");
        Files.write(cut, Arrays.copyOf(bytes.toByteArray(), bytes.size() / 2));
        Files.delete(raw);
        for (String command : new String[] {"train", "eval"}) {
            String[] args = command.equals("train")
                    ? new String[] {"train", "--model", "mlp-tiny", "--data", data.toString(), "--device", "cpu",
                        "--out", dir.resolve("run").toString()}
                    : new String[] {"eval", "--model", "mlp-tiny", "--weights",
                        CliFixtures.saveWeights(dir, "mlp-tiny", 1).toString(), "--data", data.toString(), "--split",
                        "train", "--device", "cpu"};
            CliFixtures.Run run = CliFixtures.run(args);
            CliFixtures.assertRefused(run);
            assertTrue(run.err().contains(cut + ": truncated: the gzip stream stops after"), run.err());
            assertTrue(run.err().contains("of the 50176 data bytes its header declares ([64, 28, 28])"), run.err());
            assertFalse(run.err().contains("trailer"), run.err());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"eval", "calibrate", "predict", "inspect", "train", "distill"})
    void aMissingConfigFileIsNamedAsMissing(String command) {
        Path missing = dir.resolve("missing.json");
        String[] args = command.equals("predict")
                ? new String[] {command, "--config", missing.toString(), "--input", "x.npy", "--output", "y.npy"}
                : new String[] {command, "--config", missing.toString()};
        CliFixtures.Run run = CliFixtures.run(args);
        CliFixtures.assertRefused(run);
        assertTrue(run.err().contains("--config " + missing + ": no such file"), run.err());
    }
}
