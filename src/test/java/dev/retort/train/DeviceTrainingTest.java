package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.backend.Storage;
import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import dev.retort.io.Checkpoints;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import dev.retort.testing.StandInCudaBackend;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Training with {@code device = cuda} on the stand-in device ({@link StandInCudaBackend}: the CPU's kernels
 * behind storage labelled cuda, refusing any array that is not its own). Since it computes exactly as the CPU
 * does, a run on it must equal the CPU's run bit for bit; any difference, or any refusal, means a tensor was
 * left on, or moved to, the wrong device, or work was ordered differently.
 */
@SuppressWarnings("try")
class DeviceTrainingTest {
    private static final Dataset TRAIN = SyntheticImages.generate("synthetic/train", 192, 10, 28, 3);
    private static final Dataset TEST = SyntheticImages.generate("synthetic/test", 64, 10, 28, 4);
    private static final int STEPS_PER_EPOCH = TRAIN.size() / 64;

    @TempDir
    Path dir;

    private Backends.Installation standIn;

    @BeforeAll
    static void quiet() {
        System.setProperty("retort.progress", "off");
    }

    @BeforeEach
    void installStandIn() {
        standIn = StandInCudaBackend.install();
    }

    @AfterEach
    void removeStandIn() {
        standIn.close();
    }

    private static TrainingConfig config(String model, String optimizer, boolean augmented, int epochs,
                                         Device device) {
        return new TrainingConfig(model, epochs, 64, optimizer, optimizer.equals("sgd") ? 0.05 : 0.003, 0.9, true,
                5e-4, "cosine", 0.5, augmented ? 0.1 : 0, augmented ? 2 : 0, augmented, TRAIN.size(), 7, 40, device);
    }

    private static RunTrace train(TrainingConfig config) {
        RunTrace.Steps steps = new RunTrace.Steps();
        try (Module model = Models.create(config.model(), 7);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(config.labelSmoothing()), config, TRAIN)) {
            trainer.log(null, null).onStep(steps.recorder());
            List<Map<String, Object>> rows = trainer.fit(TEST);
            assertEquals(config.device(), model.device());
            return new RunTrace(steps.terms, RunTrace.timeless(rows),
                    RunTrace.hostCopy("", model.stateDict(), new TreeMap<>()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{0} with {1}, augmented {2}")
    @CsvSource({"mlp-tiny, sgd, false", "cnn-student, adamw, false", "cnn-student, sgd, true"})
    void aRunOnTheDeviceEqualsTheCpuRunBitForBit(String model, String optimizer, boolean augmented) {
        RunTrace cpu = train(config(model, optimizer, augmented, 2, Device.CPU));
        long live = Storage.liveCount();
        RunTrace device = train(config(model, optimizer, augmented, 2, Device.CUDA));
        assertEquals(live, Storage.liveCount(), "a run on the device releases everything it made");
        assertEquals(2 * STEPS_PER_EPOCH, device.steps().size());
        assertTrue(device.steps().get(0).get("loss") > device.steps().get(device.steps().size() - 1).get("loss"),
                "the loss falls: " + device.steps());
        cpu.assertSameAs(device, model + " on the stand-in device");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"sgd", "adamw"})
    void afterSetupEveryParameterBufferAndOptimizerStateIsOnTheDevice(String optimizer) {
        try (Module model = Models.create("cnn-teacher", 3);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), config("cnn-teacher", optimizer, false, 1,
                     Device.CUDA), TRAIN.head(64))) {
            for (var e : model.stateDict().entrySet()) {
                assertEquals(Device.CUDA, e.getValue().device(), e.getKey() + " after the trainer was built");
            }
            trainer.log(null, null).trainEpoch();
            Map<String, Tensor> state = trainer.optimizer().stateDict();
            assertFalse(state.isEmpty());
            for (var e : state.entrySet()) {
                // AdamW's step counters are host scalars made for the checkpoint; everything else is per parameter.
                if (!e.getKey().endsWith(".step")) {
                    assertEquals(Device.CUDA, e.getValue().device(), "optimizer state " + e.getKey());
                }
            }
            for (var e : model.stateDict().entrySet()) {
                assertEquals(Device.CUDA, e.getValue().device(), e.getKey() + " after training");
                if (e.getValue().grad() != null) {
                    assertEquals(Device.CUDA, e.getValue().grad().device(), "gradient of " + e.getKey());
                }
            }
        }
    }

    @Test
    void aCpuTensorGivenToTheDeviceModelIsRefusedWithBothDevicesNamed() {
        try (Module model = Models.create("cnn-student", 3).to(Device.CUDA); Scope scope = Scope.open()) {
            Tensor[] batch = TRAIN.batch(new int[] {0, 1}, 0, 2);
            IllegalArgumentException images = assertThrows(IllegalArgumentException.class, () -> model.call(batch[0]));
            assertEquals("conv2d: tensors are on different devices: float32[2, 1, 28, 28]@cpu and float32[8, 1, 3, 3]@cuda",
                    images.getMessage());
            Tensor onDevice = batch[0].to(Device.CUDA);
            IllegalArgumentException labels = assertThrows(IllegalArgumentException.class,
                    () -> Objective.crossEntropy(0).compute(model, onDevice, batch[1], new int[] {0, 1}));
            assertEquals("crossEntropy: labels on cpu but scores on cuda", labels.getMessage());
        }
    }

    @Test
    void aCheckpointWrittenOnTheDeviceResumesOnTheDeviceAndOnTheCpuToTheSameWeights() throws IOException {
        TrainingConfig cpu = config("mlp-tiny", "adamw", false, 3, Device.CPU);
        float[][] straight;
        try (Module model = Models.create("mlp-tiny", 7);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), cpu, TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(dir.resolve("straight"), false), Map.of());
            trainer.fit(TEST);
            straight = weights(model);
        }

        Path crashed = dir.resolve("crashed");
        TrainingConfig device = cpu.withDevice(Device.CUDA);
        long crashAt = 2L * STEPS_PER_EPOCH + 1;
        try (Module model = Models.create("mlp-tiny", 7);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), device, TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(crashed, false), Map.of("training", device));
            trainer.onStep((step, terms) -> {
                if (step == crashAt) {
                    throw new IllegalStateException("simulated crash at step " + step);
                }
            });
            assertThrows(IllegalStateException.class, () -> trainer.fit(TEST));
        }
        assertEquals("cuda", RunFolder.at(crashed).readConfig().path("training").path("device").asText());
        assertEquals(2, RunFolder.at(crashed).latestCheckpoint().orElseThrow().epoch());

        for (Device resumeOn : List.of(Device.CUDA, Device.CPU)) {
            Path out = RunTrace.copyTree(crashed, dir.resolve("resumed-on-" + resumeOn));
            try (Module model = Models.create("mlp-tiny", 12345);
                 Trainer trainer = new Trainer(model, Objective.crossEntropy(0), cpu.withDevice(resumeOn), TRAIN)) {
                trainer.log(null, null).runFolder(RunFolder.open(out, true), null);
                trainer.resume();
                assertEquals(resumeOn, model.device());
                assertEquals(2L * STEPS_PER_EPOCH, trainer.step());
                assertEquals(3, trainer.fit(TEST).size());
                assertSameWeights(straight, weights(model), "resumed on " + resumeOn);
            }
            try (Module exported = Models.create("mlp-tiny", 1)) {
                Checkpoints.load(exported, out.resolve(RunFolder.MODEL));
                assertSameWeights(straight, weights(exported), "model.safetensors after resuming on " + resumeOn);
            }
        }
    }

    private static float[][] weights(Module model) {
        return model.stateDict().values().stream().map(Tensor::toFloatArray).toArray(float[][]::new);
    }

    private static void assertSameWeights(float[][] expected, float[][] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual[i], what + ": tensor " + i);
        }
    }
}
