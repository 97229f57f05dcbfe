package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retort.backend.Backends;
import dev.retort.backend.cuda.CudaAvailability;
import dev.retort.io.Npy;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Tensor;
import dev.retort.testing.StandInCudaBackend;
import dev.retort.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --device} on the commands that train, evaluate and predict: without CUDA, {@code cuda} stops in one
 * line with the reason and {@code auto} says why it uses the CPU; with a CUDA device (the stand-in of
 * {@link StandInCudaBackend}, which computes as the CPU does) every command runs there and writes exactly the
 * CPU's files.
 */
@SuppressWarnings("try")
class DeviceCommandTest {
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

    @Test
    void withoutCudaTheTrainingCommandsStopInOneLineWithTheReason() {
        String reason = CudaAvailability.unavailableReason();
        assumeTrue(reason != null, "CUDA is usable here");
        String expected = "--device cuda: CUDA is not usable: " + reason + "; use --device cpu";
        List<String[]> commands = List.of(
                new String[] {"train", "--model", "mlp-tiny", "--out", dir.resolve("t").toString()},
                new String[] {"distill", "--mode", "hinton", "--teacher-weights", "teacher.safetensors", "--out",
                    dir.resolve("d").toString()},
                new String[] {"demo", "--out", dir.resolve("demo").toString()});
        for (String[] command : commands) {
            String[] args = new String[command.length + 2];
            System.arraycopy(command, 0, args, 0, command.length);
            args[command.length] = "--device";
            args[command.length + 1] = "cuda";
            CliFixtures.Run r = run(args);
            assertEquals(1, r.exitCode(), r.all());
            assertEquals("retort " + command[0] + ": " + expected + System.lineSeparator(), r.err());
            assertEquals("", r.out(), "nothing ran before the device was decided");
        }
        assertFalse(Files.exists(dir.resolve("t")) || Files.exists(dir.resolve("d")) || Files.exists(dir.resolve("demo")),
                "no run folder was made");
    }

    @Test
    void withoutCudaAutoTrainsOnTheCpuAndSaysWhyOnlyWhereAGpuIsThere() throws IOException {
        String reason = CudaAvailability.unavailableReason();
        assumeTrue(reason != null, "CUDA is usable here");
        Path data = tinyData();
        Path out = dir.resolve("auto");
        CliFixtures.Run r = run("train", "--model", "mlp-tiny", "--epochs", "1", "--batch-size", "64", "--data",
                data.toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.all());
        if (Backends.cudaDriverMissing()) {
            // No NVIDIA driver or device: the CPU is the only choice, and auto does not tell to install a driver.
            assertFalse(r.out().contains("device:"), r.out());
            assertFalse(r.all().contains("NVIDIA"), r.all());
        } else {
            assertTrue(r.out().startsWith("device: cpu (CUDA is not usable: " + reason + ")" + System.lineSeparator()),
                    r.out());
        }
        assertEquals("cpu", RunFolder.at(out).readConfig().path("training").path("device").asText());
    }

    @Test
    void onACudaDeviceTrainAndDistillWriteTheCpuRunsWeights() throws IOException {
        Path data = tinyData();
        Path teacher = CliFixtures.saveWeights(dir, "cnn-student", 5);
        String[] train = {"train", "--model", "cnn-student", "--epochs", "2", "--batch-size", "64", "--data",
            data.toString()};
        String[] distill = {"distill", "--mode", "hybrid", "--teacher-model", "cnn-student", "--teacher-weights",
            teacher.toString(), "--pairs", "2=5", "--epochs", "2", "--batch-size", "64", "--data", data.toString()};
        StandInCudaBackend device = new StandInCudaBackend();
        try (Backends.Installation ignored = Backends.useForCuda(device)) {
            for (String[] command : List.of(train, distill)) {
                Path cpu = dir.resolve(command[0] + "-cpu");
                Path cuda = dir.resolve(command[0] + "-cuda");
                Path auto = dir.resolve(command[0] + "-auto");
                long before = device.arraysHandled();
                assertEquals(0, run(with(command, "--device", "cpu", "--out", cpu.toString())).exitCode());
                assertEquals(before, device.arraysHandled(), "--device cpu leaves the device alone");
                CliFixtures.Run onCuda = run(with(command, "--device", "cuda", "--out", cuda.toString()));
                assertEquals(0, onCuda.exitCode(), onCuda.all());
                assertTrue(device.arraysHandled() > before, command[0] + " --device cuda computed on the device");
                CliFixtures.Run onAuto = run(with(command, "--out", auto.toString()));
                assertEquals(0, onAuto.exitCode(), onAuto.all());
                assertFalse(onAuto.out().contains("device: cpu"), "auto takes a usable CUDA device: " + onAuto.out());
                for (Path run : List.of(cuda, auto)) {
                    assertEquals("cuda", RunFolder.at(run).readConfig().path("training").path("device").asText());
                    assertEquals(-1, Files.mismatch(cpu.resolve(RunFolder.MODEL), run.resolve(RunFolder.MODEL)),
                            command[0] + ": " + run.getFileName() + " wrote other weights than the cpu run");
                    assertEquals(timeless(RunFolder.at(cpu).readMetrics()), timeless(RunFolder.at(run).readMetrics()));
                }
            }
        }
    }

    @Test
    void onACudaDeviceEvalCalibrateAndPredictPrintAndWriteWhatTheCpuDoes() throws IOException {
        Path data = tinyData();
        Path weights = CliFixtures.saveWeights(dir, "cnn-student", 3);
        Path images = dir.resolve("x.npy");
        try (Tensor x = Tensor.of(CliFixtures.normalised(CliFixtures.randomPixels(5, 2)), 5, 1, 28, 28)) {
            Npy.write(images, x);
        }
        String[] model = {"--model", "cnn-student", "--weights", weights.toString()};
        StandInCudaBackend standIn = new StandInCudaBackend();
        try (Backends.Installation ignored = Backends.useForCuda(standIn)) {
            for (String device : List.of("cpu", "cuda")) {
                long before = standIn.arraysHandled();
                CliFixtures.Run eval = run(with(with(new String[] {"eval"}, model), "--data", data.toString(),
                        "--batch-size", "24", "--device", device));
                assertEquals(0, eval.exitCode(), eval.all());
                assertRanOn(device, standIn, before, "eval");
                before = standIn.arraysHandled();
                CliFixtures.Run calibrate = run(with(with(new String[] {"calibrate"}, model), "--data",
                        data.toString(), "--holdout", "100", "--output", dir.resolve("t-" + device + ".json").toString(),
                        "--device", device));
                assertEquals(0, calibrate.exitCode(), calibrate.all());
                assertRanOn(device, standIn, before, "calibrate");
                before = standIn.arraysHandled();
                CliFixtures.Run predict = run(with(with(new String[] {"predict"}, model), "--input", images.toString(),
                        "--output", dir.resolve("p-" + device + ".npy").toString(), "--probabilities", "--device",
                        device));
                assertEquals(0, predict.exitCode(), predict.all());
                assertRanOn(device, standIn, before, "predict");
                Files.writeString(dir.resolve("out-" + device + ".txt"), eval.out() + calibrate.out()
                        .replace(device + ".json", "DEVICE.json") + predict.out().replace(device + ".npy", "DEVICE.npy"));
            }
        }
        assertEquals(Files.readString(dir.resolve("out-cpu.txt")), Files.readString(dir.resolve("out-cuda.txt")));
        assertEquals(-1, Files.mismatch(dir.resolve("t-cpu.json"), dir.resolve("t-cuda.json")));
        assertEquals(-1, Files.mismatch(dir.resolve("p-cpu.npy"), dir.resolve("p-cuda.npy")));
    }

    private static void assertRanOn(String device, StandInCudaBackend standIn, long before, String command) {
        if (device.equals("cuda")) {
            assertTrue(standIn.arraysHandled() > before, command + " --device cuda computed on the device");
        } else {
            assertEquals(before, standIn.arraysHandled(), command + " --device cpu leaves the device alone");
        }
    }

    private static List<Map<String, Object>> timeless(List<Map<String, Object>> rows) {
        for (Map<String, Object> row : rows) {
            row.remove("seconds");
            row.remove("images_per_s");
        }
        return rows;
    }

    private static String[] with(String[] base, String... more) {
        String[] args = new String[base.length + more.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        return args;
    }
}
