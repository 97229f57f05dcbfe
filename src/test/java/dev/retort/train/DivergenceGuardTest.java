package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import dev.retort.io.SafeTensors;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run never checkpoints or exports a non-finite model, and a broken teacher is blamed as the teacher. */
@SuppressWarnings("try")
class DivergenceGuardTest {
    private static final Dataset TRAIN = SyntheticImages.generate("synthetic/train", 128, 10, 28, 3);
    private static final Dataset TEST = SyntheticImages.generate("synthetic/test", 64, 10, 28, 4);

    @TempDir
    Path dir;

    private static TrainingConfig config(int epochs, double lr) {
        return new TrainingConfig("mlp-tiny", epochs, 64, "sgd", lr, 0.9, true, 0, "constant", 0, 0, 0, false,
                TRAIN.size(), 7, 64);
    }

    /** Cross-entropy that writes NaN into the first layer's weight after step {@code poisonAt}: a last update gone bad. */
    private static Objective poisoningAfter(long poisonAt) {
        Objective inner = Objective.crossEntropy(0);
        return new Objective() {
            @Override
            public StepLoss compute(Module model, Tensor images, Tensor labels, int[] examples) {
                return inner.compute(model, images, labels, examples);
            }

            @Override
            public void afterStep(Module model, long step) {
                if (step == poisonAt) {
                    try (Scope scope = Scope.open()) {
                        Map<String, Tensor> values = new LinkedHashMap<>();
                        model.stateDict().forEach((k, v) -> values.put(k, Tensor.of(v.toFloatArray(), v.shape())));
                        float[] w = values.get("1.weight").toFloatArray();
                        Arrays.fill(w, 0, 3, Float.NaN);
                        values.put("1.weight", Tensor.of(w, values.get("1.weight").shape()));
                        model.loadStateDict(values);
                    }
                }
            }

            @Override
            public String describe() {
                return "cross-entropy poisoned after step " + poisonAt;
            }
        };
    }

    @Test
    void weightsThatTurnNaNInAnEpochsLastStepAreNeitherCheckpointedNorExported() throws IOException {
        Path out = dir.resolve("run");
        long stepsPerEpoch = TRAIN.size() / 64;
        try (Module model = Models.create("mlp-tiny", 7);
             Trainer trainer = new Trainer(model, poisoningAfter(2 * stepsPerEpoch), config(3, 0.01), TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(out, false), Map.of());
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> trainer.fit(TEST));
            assertEquals(2, e.epoch());
            assertTrue(e.getMessage().contains("weights are not finite: tensor '1.weight' holds 3 non-finite"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("the last good checkpoint") && e.getMessage().contains("epoch-0001"),
                    e.getMessage());
        }
        assertEquals(1, RunFolder.at(out).latestCheckpoint().orElseThrow().epoch(), "epoch 2 was not checkpointed");
        assertFalse(Files.exists(out.resolve(RunFolder.MODEL)), "nothing exported");
        assertEquals(1, RunFolder.at(out).readMetrics().size(), "no metrics row for the diverged epoch");
    }

    @Test
    void aHugeLearningRateThatOverflowsTheOutputsStopsTheRunWithoutExport() throws IOException {
        Path out = dir.resolve("run");
        try (Module model = Models.create("mlp-tiny", 7);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), config(1, 1e30), TRAIN.head(64))) {
            trainer.log(null, null).runFolder(RunFolder.open(out, false), Map.of());
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> trainer.fit(TEST));
            assertTrue(e.getMessage().contains("not finite"), e.getMessage());
        }
        assertTrue(RunFolder.at(out).latestCheckpoint().isEmpty());
        assertFalse(Files.exists(out.resolve(RunFolder.MODEL)));
    }

    @Test
    void aCheckpointWithNonFiniteWeightsOrMissingOptimizerStateIsNotResumed() throws IOException {
        Path out = dir.resolve("run");
        try (Module model = Models.create("mlp-tiny", 7);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), config(1, 0.01), TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(out, false), Map.of());
            trainer.fit(TEST);
        }
        RunFolder.Checkpoint checkpoint = RunFolder.at(out).latestCheckpoint().orElseThrow();
        Map<String, String> metadata;
        Map<String, Tensor> partial = new LinkedHashMap<>();
        try (SafeTensors.Contents state = SafeTensors.read(checkpoint.state())) {
            metadata = state.metadata();
            state.tensors().forEach((k, v) -> {
                if (!k.equals("optimizer.2.momentum_buffer")) {
                    partial.put(k, Tensor.of(v.toFloatArray(), v.shape()));
                }
            });
            SafeTensors.write(checkpoint.state(), partial, metadata);
        }
        try (Module model = Models.create("mlp-tiny", 7);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), config(2, 0.01), TRAIN)) {
            trainer.log(null, null).runFolder(RunFolder.open(out, true), null);
            IOException e = assertThrows(IOException.class, trainer::resume);
            assertTrue(e.getMessage().contains("optimizer state '2.momentum_buffer' is missing"), e.getMessage());
        }
    }

    @Test
    void aTeacherWithNonFiniteOutputsIsNamedAsTheTeacherCachedOrLive() {
        Dataset data = TRAIN.head(32);
        for (boolean augmented : new boolean[] {false, true}) {
            TrainingConfig training = new TrainingConfig("cnn-student", 1, 16, "sgd", 0.05, 0.9, true, 0, "constant",
                    0, 0, augmented ? 2 : 0, false, data.size(), 3, 16);
            DistillationConfig kd = DistillationConfig.defaults("hinton", "cnn-student", "teacher.safetensors");
            try (Module teacher = Models.create("cnn-student", 11);
                 Module student = Models.create("cnn-student", 12);
                 Scope scope = Scope.open()) {
                Map<String, Tensor> values = new LinkedHashMap<>();
                teacher.stateDict().forEach((k, v) -> {
                    float[] x = v.toFloatArray();
                    if (k.endsWith("bias")) {
                        Arrays.fill(x, Float.NaN);
                    }
                    values.put(k, Tensor.of(x, v.shape()));
                });
                teacher.loadStateDict(values);
                RuntimeException e = assertThrows(RuntimeException.class, () -> {
                    try (DistillationObjective objective = DistillationObjective.create(kd, teacher, student, data,
                            training, 10, null)) {
                        int[] examples = {0, 1, 2, 3};
                        Tensor[] batch = data.batch(examples, 0, examples.length);
                        objective.compute(student, batch[0], batch[1], examples);
                    }
                });
                assertTrue(e.getMessage().contains("the teacher is broken, not the student"),
                        augmented + ": " + e.getMessage());
            }
        }
    }
}
