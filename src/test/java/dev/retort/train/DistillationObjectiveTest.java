package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.distill.DistillationMode;
import dev.retort.backend.Storage;
import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.nn.NetworkFile;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Distillation as a training objective: the teacher cache, the three modes' terms, and what is refused. */
@SuppressWarnings("try")
class DistillationObjectiveTest {
    private static final Dataset DATA = SyntheticImages.generate("synthetic", 96, 10, 28, 5);

    @BeforeAll
    static void quiet() {
        System.setProperty("retort.progress", "off");
    }

    private static TrainingConfig training(boolean augmented) {
        return new TrainingConfig("cnn-student", 2, 32, "sgd", 0.05, 0.9, true, 0, "cosine", 0, 0.1,
                augmented ? 2 : 0, false, DATA.size(), 3, 50);
    }

    private static Map<String, Double> firstBatchTerms(DistillationConfig config, boolean augmented) {
        try (Module teacher = Models.create("cnn-student", 11);
             Module student = Models.create("cnn-student", 12);
             DistillationObjective objective = DistillationObjective.create(config, teacher, student, DATA,
                     training(augmented), 10, null);
             Scope scope = Scope.open()) {
            assertEquals(!augmented, objective.cached());
            int[] examples = {5, 0, 17, 42, 3, 95};
            Tensor[] batch = DATA.batch(examples, 0, examples.length);
            return objective.compute(student, batch[0], batch[1], examples).terms();
        }
    }

    @Test
    void cachedTeacherOutputsGiveTheSameLossAsRunningTheTeacher() {
        for (String mode : List.of("temperature", "hinton", "hybrid")) {
            DistillationConfig config = DistillationConfig.defaults(mode, "cnn-student", null);
            Map<String, Double> cached = firstBatchTerms(config, false);
            Map<String, Double> live = firstBatchTerms(config, true);
            assertEquals(live.keySet(), cached.keySet(), mode);
            for (String term : live.keySet()) {
                assertEquals(live.get(term), cached.get(term), 1e-6 * Math.abs(live.get(term)), mode + " " + term);
            }
        }
    }

    @Test
    void everyModeReportsItsTerms() {
        assertEquals(List.of("loss", "kl", "ce"),
                List.copyOf(firstBatchTerms(DistillationConfig.defaults("temperature", "t", null), false).keySet()));
        assertEquals(List.of("loss", "ce", "kl"),
                List.copyOf(firstBatchTerms(DistillationConfig.defaults("hinton", "t", null), false).keySet()));
        Map<String, Double> hybrid = firstBatchTerms(DistillationConfig.defaults("hybrid", "t", null), false);
        assertEquals(List.of("loss", "ce", "kl", "feature"), List.copyOf(hybrid.keySet()));
        for (double v : hybrid.values()) {
            assertTrue(Double.isFinite(v) && v >= 0, hybrid.toString());
        }
    }

    @Test
    void distillationTrainsTheStudentAndTheRegressorAndPrunes() throws java.io.IOException {
        long baseline = Storage.liveCount() + Storage.leakedCount();
        DistillationConfig config = new DistillationConfig(new DistillationMode.Hybrid(4, 0.1, 0.9, 1, List.of("5=5"),
                0.5), "cnn-student", null);
        try (Module teacher = Models.create("cnn-student", 11);
             Module student = Models.create("cnn-student", 12)) {
            TrainingConfig t = training(false);
            long steps = 2L * (DATA.size() / 32);
            try (DistillationObjective objective = DistillationObjective.create(config, teacher, student, DATA, t, steps,
                    null);
                 Trainer trainer = new Trainer(student, objective, t, DATA)) {
                assertTrue(objective.extraParameters().isEmpty(), "identity regressor between equal maps");
                List<Map<String, Object>> rows = trainer.log(null, null).fit(DATA);
                double sparsity = (Double) rows.get(1).get("sparsity");
                assertEquals(0.5, sparsity, 0.01, "the cubic schedule reaches its target at the last step");
                assertTrue(rows.get(1).containsKey("train_feature"), rows.get(1).toString());
            }
        }
        assertEquals(baseline, Storage.liveCount() + Storage.leakedCount(), "tensors leaked");
    }

    @Test
    void aRegressorMapsStudentChannelsToTeacherChannelsAndIsCheckpointed() {
        DistillationConfig config = DistillationConfig.defaults("hybrid", "cnn-teacher", null);
        try (Module teacher = Models.create("cnn-teacher", 11);
             Module student = Models.create("cnn-student", 12);
             DistillationObjective objective = DistillationObjective.create(config, teacher, student,
                     DATA.head(8), training(true), 10, null)) {
            assertEquals(List.of("5"), objective.pairs().studentLayers());
            assertEquals(List.of("13"), objective.pairs().teacherLayers());
            Map<String, Tensor> state = objective.stateDict();
            assertEquals(List.of("regressor.0.conv.weight", "regressor.0.conv.bias"), List.copyOf(state.keySet()));
            assertEquals(List.of(64, 16, 1, 1), java.util.Arrays.stream(state.get("regressor.0.conv.weight").shape())
                    .boxed().toList());
            objective.loadStateDict(state, "test");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> objective.loadStateDict(Map.of("regressor.3.conv.weight", state.get("regressor.0.conv.weight")),
                            "state.safetensors"));
            assertTrue(e.getMessage().contains("state.safetensors"), e.getMessage());
        }
    }

    @Test
    void teacherAndStudentMustAgreeOnClasses() {
        Module twelve = NetworkFile.parse("twelve.json", "{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"flatten\"},"
                + " {\"type\": \"linear\", \"out\": 12}]}", 1).model();
        try (Module teacher = twelve; Module student = Models.create("mlp-tiny", 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DistillationObjective.create(DistillationConfig.defaults("hinton", "t", null), teacher, student,
                            DATA, training(false), 10, null));
            assertTrue(e.getMessage().contains("12 classes") && e.getMessage().contains("10"), e.getMessage());
        }
    }

    @Test
    void featurePairsMustNameExistingLayers() {
        DistillationConfig config = new DistillationConfig(new DistillationMode.Hybrid(4, 0.1, 0.9, 1, List.of("5=99"),
                0), "cnn-teacher", null);
        try (Module teacher = Models.create("cnn-teacher", 11); Module student = Models.create("cnn-student", 12)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DistillationObjective.create(config, teacher, student, DATA, training(false), 10, null));
            assertTrue(e.getMessage().contains("teacher has no layer '99'"), e.getMessage());
        }
    }

    @Test
    void theCheckRefusesFeaturesTheLossCannotCompareBeforeAnyStep() {
        long before = Storage.liveCount() + Storage.leakedCount();
        // 26×26 against 28×28: the pair exists and its channels map, but the loss could not pool one to the other.
        Module valid = NetworkFile.parse("valid.json", "{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"conv2d\", "
                + "\"out\": 4, \"kernel\": 3}, {\"type\": \"flatten\"}, {\"type\": \"linear\", \"out\": 10}]}", 1)
                .model();
        DistillationConfig config = new DistillationConfig(new DistillationMode.Hybrid(4, 0.1, 0.9, 1, List.of("0=0"),
                0), "cnn-student", null);
        try (Module teacher = Models.create("cnn-student", 11); Module student = valid) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DistillationObjective.check(config, teacher, student, DATA, training(false)));
            assertTrue(e.getMessage().contains("26×26 and 28×28"), e.getMessage());
            assertTrue(student.isTraining() && teacher.isTraining(), "the networks are left as they were");
            DistillationConfig flat = new DistillationConfig(new DistillationMode.Hybrid(4, 0.1, 0.9, 1,
                    List.of("1=6"), 0), "cnn-student", null);
            DistillationObjective.check(flat, teacher, student, DATA, training(false)); // 2704 features onto 784
        }
        assertEquals(before, Storage.liveCount() + Storage.leakedCount(), "the check keeps no tensor");
    }

    @Test
    void aPairGivenTwiceOrEveryWeightZeroIsRefusedWhenTheModeIsMade() {
        assertMessage("the pair 5=5 is given twice", () -> new DistillationMode.Hybrid(4, 0.1, 0.9, 1,
                List.of("5=5", " 5 = 5"), 0));
        assertMessage("every term has weight 0", () -> new DistillationMode.Hybrid(4, 0, 0, 0, List.of(), 0));
        new DistillationMode.Hybrid(4, 0.1, 0.9, 1, List.of("5=5", "5=13"), 0); // one layer in two pairs is fine
    }

    @Test
    void optionsOutsideTheirRangeNameTheOption() {
        assertMessage("--temperature", () -> new DistillationMode.Hinton(0, 0.1, false));
        assertMessage("--student-temperature", () -> new DistillationMode.Temperature(-1, 4, 1));
        assertMessage("--alpha", () -> new DistillationMode.Hinton(4, 1.5, false));
        assertMessage("--beta", () -> new DistillationMode.Hybrid(4, 0.1, -0.1, 1, List.of(), 0));
        assertMessage("--gamma", () -> new DistillationMode.Hybrid(4, 0.1, 0.9, Double.NaN, List.of(), 0));
        assertMessage("--mode", () -> DistillationConfig.defaults("fitnet", "t", null));
        assertMessage("--prune", () -> DistillationMode.parse("hinton", new DistillationMode.Options(null, null, null,
                null, null, null, null, null, null, 0.5)));
        assertMessage("--kappa", () -> DistillationMode.parse("hybrid", new DistillationMode.Options(null, null, null,
                2.0, null, null, null, null, null, null)));
        assertMessage("--alpha", () -> DistillationMode.parse("temperature", new DistillationMode.Options(null, null,
                null, null, 0.5, null, null, null, null, null)));
    }

    private static void assertMessage(String option, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, e);
        assertTrue(thrown.getMessage().contains(option), thrown.getMessage());
    }
}
