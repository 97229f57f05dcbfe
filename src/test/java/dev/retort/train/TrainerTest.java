package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.Storage;
import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import dev.retort.io.Checkpoints;
import dev.retort.nn.Layers.Dropout;
import dev.retort.nn.Layers.Flatten;
import dev.retort.nn.Layers.ReLU;
import dev.retort.nn.Linear;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.nn.Sequential;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer's run folder: metrics, checkpoints, exact resume, and stopping on a non-finite loss. */
class TrainerTest {
    private static final Dataset TRAIN = SyntheticImages.generate("synthetic/train", 640, 10, 28, 3);
    private static final Dataset TEST = SyntheticImages.generate("synthetic/test", 200, 10, 28, 4);

    @TempDir
    Path dir;

    @BeforeAll
    static void quiet() {
        System.setProperty("retort.progress", "off");
    }

    private static TrainingConfig config(String model, int epochs) {
        return new TrainingConfig(model, epochs, 64, "sgd", 0.05, 0.9, true, 5e-4, "cosine", 0.5, 0, 0, false,
                TRAIN.size(), 7, 200);
    }

    /** Fails at one step with an exception, like a crash in the middle of an epoch. */
    private static Objective crashingAt(long badStep, double value) {
        Objective inner = Objective.crossEntropy(0);
        return new Objective() {
            long steps;

            @Override
            public StepLoss compute(Module model, Tensor images, Tensor labels, int[] examples) {
                StepLoss loss = inner.compute(model, images, labels, examples);
                if (++steps == badStep) {
                    if (Double.isNaN(value)) {
                        return new StepLoss(loss.loss(), Map.of("loss", loss.terms().get("loss"), "kl", value));
                    }
                    throw new IllegalStateException("simulated crash at step " + badStep);
                }
                return loss;
            }

            @Override
            public String describe() {
                return "cross-entropy that fails at step " + badStep;
            }
        };
    }

    private static float[] weights(Module model) {
        return model.stateDict().get("1.weight").toFloatArray();
    }

    @Test
    void aRunFolderHoldsConfigMetricsCheckpointAndModel() throws IOException {
        long baseline = Storage.liveCount() + Storage.leakedCount();
        Path out = dir.resolve("run");
        try (Module model = Models.create("mlp-tiny", 7);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), config("mlp-tiny", 2), TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(out, false), Map.of("training", config("mlp-tiny", 2)));
            List<Map<String, Object>> rows = trainer.fit(TEST);
            assertEquals(2, rows.size());
            assertEquals(2, rows.get(1).get("epoch"));
            assertTrue((Double) rows.get(1).get("test_accuracy") > 0.15, "above chance (0.1) after 20 steps: " + rows);
            assertTrue((Double) rows.get(1).get("train_loss") < (Double) rows.get(0).get("train_loss"), rows.toString());
            for (String column : List.of("train_loss", "test_nll", "test_ece", "lr", "seconds")) {
                assertTrue(rows.get(0).containsKey(column), column + " in " + rows.get(0).keySet());
            }
            assertEquals(2, RunFolder.at(out).readMetrics().size());
            assertEquals(3, Files.readAllLines(out.resolve("metrics.csv")).size(), "header and two rows");
            assertEquals("mlp-tiny", RunFolder.at(out).readConfig().path("training").path("model").asText());
            RunFolder.Checkpoint last = RunFolder.at(out).latestCheckpoint().orElseThrow();
            assertEquals(2, last.epoch());
            assertFalse(Files.exists(out.resolve("checkpoints/epoch-0001")), "older checkpoints are removed");
            try (Module loaded = Models.create("mlp-tiny", 99)) {
                Map<String, String> meta = Checkpoints.load(loaded, out.resolve(RunFolder.MODEL));
                assertEquals("2", meta.get("epoch"));
                assertArrayEquals(weights(model), weights(loaded));
            }
        }
        assertEquals(baseline, Storage.liveCount() + Storage.leakedCount(), "tensors leaked by training");
    }

    @Test
    void aResumedRunEndsWhereAnUninterruptedOneDoes() throws IOException {
        assertResumeIsExact("mlp-tiny", seed -> Models.create("mlp-tiny", seed));
    }

    /** The resumed model is built from another seed, so its dropout seed differs too: the checkpoint must carry both. */
    @Test
    void aResumedRunDrawsTheDropoutMasksOfAnUninterruptedOne() throws IOException {
        assertResumeIsExact("dropout-mlp", TrainerTest::dropoutMlp);
    }

    @Test
    void randomStateOfALayerThatIsNotDropoutIsRefusedNamingFileAndLayer() {
        try (Module model = dropoutMlp(1); Tensor state = Tensor.ofInts(new int[] {0, 1, 0, 2}, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> RandomState.restore(model, Map.of("1", state), "state.safetensors"));
            assertTrue(e.getMessage().contains("state.safetensors") && e.getMessage().contains("'1'"), e.getMessage());
            RandomState.restore(model, Map.of("3", state), "state.safetensors");
            long[] restored = ((Dropout) model.namedModules().get("3")).randomState();
            assertArrayEquals(new long[] {1, 2}, restored);
        }
    }

    private static Module dropoutMlp(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        return new Sequential(new Flatten(), new Linear(784, 32, rng), new ReLU(), new Dropout(0.5, rng.nextLong()),
                new Linear(32, 10, rng));
    }

    private void assertResumeIsExact(String name, LongFunction<Module> create) throws IOException {
        float[] straight;
        try (Module model = create.apply(7);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), config(name, 3), TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(dir.resolve("straight"), false), Map.of());
            trainer.fit(TEST);
            straight = weights(model);
        }
        Path out = dir.resolve("interrupted");
        int stepsPerEpoch = TRAIN.size() / 64;
        try (Module model = create.apply(7);
             Trainer trainer = new Trainer(model, crashingAt(2L * stepsPerEpoch + 3, 1), config(name, 3), TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(out, false), Map.of("training", config(name, 3)));
            assertThrows(IllegalStateException.class, () -> trainer.fit(TEST));
        }
        assertEquals(2, RunFolder.at(out).latestCheckpoint().orElseThrow().epoch());
        try (Module model = create.apply(12345);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), config(name, 3), TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(out, true), null);
            trainer.resume();
            assertEquals(2, trainer.epoch());
            assertEquals(2L * stepsPerEpoch, trainer.step());
            List<Map<String, Object>> rows = trainer.fit(TEST);
            assertEquals(3, rows.size(), "metrics of the epochs before the crash are kept");
            assertArrayEquals(straight, weights(model), "resuming restores weights, momentum, schedule, data order and dropout masks");
        }
    }

    @Test
    void aNonFiniteTermStopsTheRunNamingStepAndTermAndKeepsTheCheckpoint() throws IOException {
        Path out = dir.resolve("diverged");
        int stepsPerEpoch = TRAIN.size() / 64;
        long bad = stepsPerEpoch + 4;
        try (Module model = Models.create("mlp-tiny", 7);
             Trainer trainer = new Trainer(model, crashingAt(bad, Double.NaN), config("mlp-tiny", 3), TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(out, false), Map.of());
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> trainer.fit(TEST));
            assertEquals(bad, e.step());
            assertEquals(2, e.epoch());
            assertEquals("kl", e.term());
            assertTrue(e.getMessage().contains("'kl' became NaN at step " + bad), e.getMessage());
            assertTrue(e.getMessage().contains("epoch-0001"), e.getMessage());
        }
        RunFolder.Checkpoint kept = RunFolder.at(out).latestCheckpoint().orElseThrow();
        assertEquals(1, kept.epoch());
        try (Module loaded = Models.create("mlp-tiny", 1)) {
            assertEquals("1", Checkpoints.load(loaded, kept.model()).get("epoch"));
        }
    }

    @Test
    void resumingWithAnotherArchitectureIsRefused() throws IOException {
        Path out = dir.resolve("run");
        try (Module model = Models.create("mlp-tiny", 7);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), config("mlp-tiny", 1), TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(out, false), Map.of("training", config("mlp-tiny", 1)));
            trainer.fit(TEST);
        }
        try (Module model = Models.create("mlp-student", 7);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), config("mlp-student", 2), TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(out, true), null);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, trainer::resume);
            assertTrue(e.getMessage().contains("'mlp-tiny'") && e.getMessage().contains("'mlp-student'"),
                    e.getMessage());
        }
    }

    @Test
    void aFinishedRunIsNotOverwrittenByANewOne() throws IOException {
        Path out = dir.resolve("run");
        try (Module model = Models.create("mlp-tiny", 7);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), config("mlp-tiny", 1), TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(out, false), Map.of());
            trainer.fit(TEST);
        }
        IOException e = assertThrows(IOException.class, () -> RunFolder.open(out, false));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
        IOException none = assertThrows(IOException.class, () -> RunFolder.open(dir.resolve("empty"), true));
        assertTrue(none.getMessage().contains("config.json"), none.getMessage());
    }

    @Test
    void aModelWithOtherClassCountsIsRefusedBeforeTraining() {
        Dataset fiveClasses = SyntheticImages.generate("five", 64, 5, 28, 1);
        try (Module model = Models.create("mlp-tiny", 7)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(model, Objective.crossEntropy(0), config("mlp-tiny", 1), fiveClasses));
            assertTrue(e.getMessage().contains("5 classes"), e.getMessage());
        }
    }
}
