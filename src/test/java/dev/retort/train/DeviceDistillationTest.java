package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.distill.DistillationMode;
import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.backend.Storage;
import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import dev.retort.distill.Pruning;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Tensor;
import dev.retort.testing.StandInCudaBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
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
 * Each distillation mode, with and without the teacher cache, trained on the stand-in CUDA device
 * ({@link StandInCudaBackend}) must equal the same run on the CPU bit for bit — student, regressors, every
 * step's terms — with teacher, student, regressors and optimizer state all on the device.
 */
@SuppressWarnings("try")
class DeviceDistillationTest {
    private static final Dataset TRAIN = SyntheticImages.generate("synthetic/train", 192, 10, 28, 5);
    private static final Dataset TEST = SyntheticImages.generate("synthetic/test", 64, 10, 28, 6);

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

    /** Without the cache the teacher runs on every (flipped) batch. */
    private static TrainingConfig training(boolean cached, Device device) {
        return new TrainingConfig("cnn-student", 2, 64, "sgd", 0.05, 0.9, true, 5e-4, "cosine", 0.5, 0.1, 0, !cached,
                TRAIN.size(), 3, 40, device);
    }

    /**
     * Hybrid pairs the student's 8×14×14 map with the teacher's 16×7×7 one (a 1×1 convolution regressor, then
     * pooling) and its 16×7×7 map with the same (an identity regressor), and prunes half the weights.
     */
    private static DistillationConfig mode(String mode) {
        return switch (mode) {
            case "hybrid" -> new DistillationConfig(new DistillationMode.Hybrid(4, 0.1, 0.9, 1, List.of("2=5", "5=5"),
                    0.5), "cnn-student", null);
            case "hinton-hard" -> new DistillationConfig(new DistillationMode.Hinton(4, 0.1, true), "cnn-student",
                    null);
            default -> DistillationConfig.defaults(mode, "cnn-student", null);
        };
    }

    /**
     * One run. {@code objectiveFirst}: the objective is made while the networks are still on the CPU and the
     * trainer moves it ({@link Objective#to}); otherwise the student is moved first, as {@link Runs} does, and
     * the teacher computes its cache on the device.
     */
    private static RunTrace distill(String modeName, boolean cached, boolean objectiveFirst, Device device) {
        TrainingConfig config = training(cached, device);
        RunTrace.Steps steps = new RunTrace.Steps();
        try (Module teacher = Models.create("cnn-student", 11);
             Module student = Models.create("cnn-student", 12)) {
            if (!objectiveFirst) {
                student.to(device);
            }
            try (DistillationObjective objective = DistillationObjective.create(mode(modeName), teacher, student, TRAIN,
                    config, 2L * TRAIN.size() / 64, null);
                 Trainer trainer = objectiveFirst ? new Trainer(student, objective, config, TRAIN)
                         : placedByCreate(device, objective, student, config)) {
                assertEquals(cached, objective.cached());
                trainer.log(null, null).onStep(steps.recorder());
                List<Map<String, Object>> rows = trainer.fit(TEST);
                assertOn(device, "student", student.stateDict());
                assertOn(device, "teacher", objective.teacher().stateDict());
                assertOn(device, "objective", objective.stateDict());
                for (var e : trainer.optimizer().stateDict().entrySet()) {
                    assertEquals(device, e.getValue().device(), "optimizer state " + e.getKey());
                }
                Map<String, float[]> state = RunTrace.hostCopy("student.", student.stateDict(), new TreeMap<>());
                RunTrace.hostCopy("objective.", objective.stateDict(), state);
                return new RunTrace(steps.terms, RunTrace.timeless(rows), state);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Checks that the objective put teacher and regressors on the student's device before any trainer moved them. */
    private static Trainer placedByCreate(Device device, DistillationObjective objective, Module student,
                                          TrainingConfig config) {
        assertOn(device, "teacher after create", objective.teacher().stateDict());
        assertOn(device, "regressors after create", objective.stateDict());
        return new Trainer(student, objective, config, TRAIN);
    }

    private static void assertOn(Device device, String what, Map<String, Tensor> tensors) {
        for (var e : tensors.entrySet()) {
            assertEquals(device, e.getValue().device(), what + " " + e.getKey());
        }
    }

    @ParameterizedTest(name = "{0}, cached {1}, objective made on the cpu {2}")
    @CsvSource({
        "temperature, true, false", "temperature, false, true",
        "hinton, true, false", "hinton, false, false", "hinton-hard, true, true",
        "hybrid, true, false", "hybrid, false, false", "hybrid, true, true"})
    void eachModeOnTheDeviceEqualsTheCpuRunBitForBit(String mode, boolean cached, boolean objectiveFirst) {
        RunTrace cpu = distill(mode, cached, objectiveFirst, Device.CPU);
        // Live plus leaked: a block some earlier test leaked, reclaimed by the collector during this run, moves from
        // one count to the other and must not read as this run releasing more than it made.
        long live = Storage.liveCount() + Storage.leakedCount();
        RunTrace device = distill(mode, cached, objectiveFirst, Device.CUDA);
        assertEquals(live, Storage.liveCount() + Storage.leakedCount(),
                "a run on the device releases everything it made");
        assertEquals(2 * (TRAIN.size() / 64), device.steps().size());
        if (mode.equals("hybrid")) {
            assertTrue(device.state().keySet().stream().anyMatch(k -> k.startsWith("objective.regressor.0.conv")),
                    "the first pair trains a convolution regressor: " + device.state().keySet());
        }
        cpu.assertSameAs(device, mode + " on the stand-in device");
    }

    @Test
    void pruningMasksMadeOnTheCpuFollowTheStudentToTheDevice() {
        try (Module student = Models.create("cnn-student", 12); Pruning pruning = new Pruning(student, 0.5, 1000)) {
            pruning.afterStep(10); // masks made on the CPU; step 11 reuses them without an update
            double sparsity = pruning.sparsity();
            student.to(Device.CUDA);
            IllegalStateException left = assertThrows(IllegalStateException.class, () -> pruning.afterStep(11));
            assertTrue(left.getMessage().contains("@cpu is not an array of this device"), left.getMessage());
            pruning.to(Device.CUDA);
            pruning.afterStep(11);
            assertEquals(sparsity, pruning.sparsity());
        }
    }

    @Test
    void aHybridCheckpointWrittenOnTheDeviceResumesOnTheCpuWithItsRegressors() throws IOException {
        Path straight = dir.resolve("straight");
        RunTrace expected = hybridRun(straight, Device.CPU, Device.CPU, false, 0);
        Path crashed = dir.resolve("crashed");
        assertThrows(IllegalStateException.class,
                () -> hybridRun(crashed, Device.CUDA, Device.CUDA, false, TRAIN.size() / 64 + 1));
        assertEquals(1, RunFolder.at(crashed).latestCheckpoint().orElseThrow().epoch());
        RunTrace resumed = hybridRun(crashed, Device.CPU, Device.CPU, true, 0);
        // Its end state and last row must be the straight run's (the first row was read back from metrics.jsonl).
        new RunTrace(List.of(), lastRow(expected), expected.state())
                .assertSameAs(new RunTrace(List.of(), lastRow(resumed), resumed.state()), "resumed on the cpu");
    }

    private static List<Map<String, Object>> lastRow(RunTrace trace) {
        return trace.rows().subList(trace.rows().size() - 1, trace.rows().size());
    }

    /** A hybrid run in {@code out} (the networks start on {@code build}), crashing after step {@code crashAt}. */
    private static RunTrace hybridRun(Path out, Device build, Device device, boolean resume, long crashAt)
            throws IOException {
        TrainingConfig config = training(true, device);
        try (Module teacher = Models.create("cnn-student", 11);
             Module student = Models.create("cnn-student", resume ? 99 : 12).to(build);
             DistillationObjective objective = DistillationObjective.create(mode("hybrid"), teacher, student, TRAIN,
                     config, 2L * TRAIN.size() / 64, null);
             Trainer trainer = new Trainer(student, objective, config, TRAIN)) {
            trainer.log(null, null).runFolder(resume ? RunFolder.open(out, true) : RunFolder.open(out, false),
                    Map.of("training", config));
            if (resume) {
                trainer.resume();
            }
            trainer.onStep((step, terms) -> {
                if (step == crashAt) {
                    throw new IllegalStateException("simulated crash at step " + step);
                }
            });
            List<Map<String, Object>> rows = trainer.fit(TEST);
            Map<String, float[]> state = RunTrace.hostCopy("student.", student.stateDict(), new TreeMap<>());
            RunTrace.hostCopy("objective.", objective.stateDict(), state);
            return new RunTrace(List.of(), RunTrace.timeless(rows), state);
        }
    }
}
