package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.Device;
import dev.retort.backend.cuda.CudaAvailability;
import dev.retort.backend.cuda.GpuAssumptions;
import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Training and distillation on the real GPU against the same runs on the CPU: the losses of every step agree
 * within the tolerances of {@code retort doctor} (float rounding differs, so not bit for bit), and a checkpoint
 * written on the GPU resumes on the CPU. The stand-in device tests pin placement exactly; these pin the kernels.
 */
@Tag("gpu")
class DeviceTrainingGpuTest {
    // On the emulated device (a CPU running every CUDA thread in turn) half the data: the same steps are checked,
    // in CI's two-core budget.
    private static final Dataset TRAIN = SyntheticImages.generate("synthetic/train",
            GpuAssumptions.emulated() ? 128 : 256, 10, 28, 3);
    private static final Dataset TEST = SyntheticImages.generate("synthetic/test",
            GpuAssumptions.emulated() ? 64 : 128, 10, 28, 4);

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        String reason = CudaAvailability.unavailableReason();
        GpuAssumptions.assumeDevice(reason, "no CUDA backend");
        System.setProperty("retort.progress", "off");
    }

    private static TrainingConfig config(String model, Device device) {
        return new TrainingConfig(model, 2, 64, "sgd", 0.05, 0.9, true, 5e-4, "cosine", 0.5, 0, 0, false, TRAIN.size(),
                7, 64, device);
    }

    private static List<Map<String, Double>> train(String model, Objective objective, TrainingConfig config,
                                                   Module net) throws IOException {
        RunTrace.Steps steps = new RunTrace.Steps();
        try (Trainer trainer = new Trainer(net, objective, config, TRAIN)) {
            trainer.log(null, null).onStep(steps.recorder()).fit(TEST);
            assertEquals(config.device(), net.device(), model);
        }
        return steps.terms;
    }

    private static void assertCloseLosses(List<Map<String, Double>> cpu, List<Map<String, Double>> gpu, String what) {
        assertEquals(cpu.size(), gpu.size(), what);
        for (int i = 0; i < cpu.size(); i++) {
            double c = cpu.get(i).get("loss");
            double g = gpu.get(i).get("loss");
            double diff = Math.abs(g - c) / Math.max(Math.abs(c), 1e-6);
            double tolerance = i == 0 ? Doctor.FIRST_STEP_TOLERANCE : Doctor.DISTILLATION_TOLERANCE;
            assertTrue(diff <= tolerance, what + ": step " + (i + 1) + " loss " + g + " on cuda, " + c + " on cpu");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"mlp-tiny", "cnn-student", "cnn-teacher"})
    void aRunOnTheGpuFollowsTheCpuRun(String model) throws IOException {
        List<Map<String, Double>> cpu;
        List<Map<String, Double>> gpu;
        try (Module net = Models.create(model, 7)) {
            cpu = train(model, Objective.crossEntropy(0), config(model, Device.CPU), net);
        }
        try (Module net = Models.create(model, 7)) {
            gpu = train(model, Objective.crossEntropy(0), config(model, Device.CUDA), net);
        }
        assertCloseLosses(cpu, gpu, model);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"temperature", "hinton", "hybrid"})
    void eachDistillationModeOnTheGpuFollowsTheCpuRun(String mode) throws IOException {
        DistillationConfig distillation = DistillationConfig.defaults(mode, "cnn-teacher", null);
        List<List<Map<String, Double>>> runs = new ArrayList<>();
        for (Device device : List.of(Device.CPU, Device.CUDA)) {
            TrainingConfig config = config("cnn-student", device);
            try (Module teacher = Models.create("cnn-teacher", 11);
                 Module student = Models.create("cnn-student", 12).to(device);
                 DistillationObjective objective = DistillationObjective.create(distillation, teacher, student, TRAIN,
                         config, 2L * TRAIN.size() / 64, null)) {
                runs.add(train("cnn-student", objective, config, student));
                assertEquals(device, objective.teacher().device());
            }
        }
        assertCloseLosses(runs.get(0), runs.get(1), mode);
    }

    @Test
    void aCheckpointWrittenOnTheGpuResumesOnTheCpu() throws IOException {
        Path out = dir.resolve("run");
        TrainingConfig gpu = config("cnn-student", Device.CUDA).withEpochs(1);
        try (Module net = Models.create("cnn-student", 7);
             Trainer trainer = new Trainer(net, Objective.crossEntropy(0), gpu, TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(out, false), Map.of("training", gpu));
            trainer.fit(TEST);
        }
        try (Module net = Models.create("cnn-student", 8);
             Trainer trainer = new Trainer(net, Objective.crossEntropy(0), config("cnn-student", Device.CPU), TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(out, true), null);
            trainer.resume();
            assertEquals(1, trainer.epoch());
            List<Map<String, Object>> rows = trainer.fit(TEST);
            assertEquals(2, rows.size());
            assertTrue((Double) rows.get(1).get("test_accuracy") > 0.15, rows.toString());
        }
    }
}
