package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.Storage;
import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import dev.retort.nn.Layers;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Evaluation runs in eval mode without recording, in any batch size, and leaves the model's modes and memory as found. */
class EvaluationTest {
    private static final Dataset DATA = SyntheticImages.generate("synthetic", 45, 10, 28, 3);

    /** Logits of one forward pass over the whole dataset, in eval mode. */
    private static float[] reference(Module model, Dataset data) {
        model.eval();
        try (Autograd.NoGrad ignored = Autograd.noGrad(); Scope scope = Scope.open()) {
            return model.forward(Tensor.of(data.images(), data.size(), 1, 28, 28)).toFloatArray();
        }
    }

    private static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5 * Math.max(1, Math.abs(expected[i])), "element " + i);
        }
    }

    @Test
    void logitsDoNotDependOnTheBatchSizeAndMatchOneForwardPass() {
        // mlp-teacher has dropout: evaluation must switch it off to be deterministic.
        try (Module model = Models.create("mlp-teacher", 4)) {
            float[] expected = reference(model, DATA);
            model.train();
            for (int batch : new int[] {1, 7, 45, 512}) {
                assertClose(expected, Evaluation.logits(model, DATA, batch));
            }
        }
    }

    @Test
    void inputShapeReshapesEachExample() {
        try (Module model = Models.create("mlp-tiny", 4)) {
            assertClose(reference(model, DATA), Evaluation.logits(model, DATA, 16, new int[] {784}));
            assertClose(reference(model, DATA), Evaluation.logits(model, DATA.images(), new int[] {28, 28}, 10));
        }
    }

    @Test
    void metricsAreTheHandCountAndCalibrationsNumbers() {
        try (Module model = Models.create("cnn-student", 2)) {
            float[] logits = reference(model, DATA);
            int correct = 0;
            for (int r = 0; r < DATA.size(); r++) {
                int best = 0;
                for (int c = 1; c < 10; c++) {
                    best = logits[r * 10 + c] > logits[r * 10 + best] ? c : best;
                }
                correct += best == DATA.labels()[r] ? 1 : 0;
            }
            Evaluation.Metrics m = Evaluation.evaluate(model, DATA, 8);
            assertEquals(45, m.count());
            assertEquals(correct, m.correct());
            assertEquals((double) correct / 45, m.accuracy(), 0);
            assertEquals(Calibration.negativeLogLikelihood(logits, DATA.labels(), 10, 1), m.nll(), 1e-5);
            assertEquals(Calibration.expectedCalibrationError(logits, DATA.labels(), 10, 1, 15), m.ece(), 1e-5);
        }
    }

    @Test
    void metricsOfHandMadeLogits() {
        float[] logits = {
            2, 1, 0, // predicts 0, label 0
            0, 0, 5, // predicts 2, label 1
            1, 1, 0, // a tie goes to the first maximum: 0, label 0
            0, 3, 0}; // predicts 1, label 1
        int[] labels = {0, 1, 0, 1};
        Evaluation.Metrics m = Evaluation.metrics(logits, labels, 3, 1.0);
        assertEquals(0.75, m.accuracy(), 0);
        assertEquals(3, m.correct());
        assertEquals(Calibration.negativeLogLikelihood(logits, labels, 3, 1.0), m.nll(), 0);
        Evaluation.Metrics hot = Evaluation.metrics(logits, labels, 3, 0.5);
        assertEquals(m.accuracy(), hot.accuracy(), 0);
        assertEquals(Calibration.negativeLogLikelihood(logits, labels, 3, 0.5), hot.nll(), 0);
    }

    @Test
    void restoresEachModulesTrainingFlag() {
        try (Module model = Models.create("cnn-teacher", 1)) {
            model.train();
            Evaluation.evaluate(model, DATA.head(3), 2);
            assertTrue(model.isTraining());
            for (Module m : model.namedModules().values()) {
                assertTrue(m.isTraining());
            }
            model.eval();
            Evaluation.logits(model, DATA.head(3), 2);
            assertFalse(model.isTraining());
            // A partly frozen network: batch norm kept in eval mode while the rest trains.
            model.train();
            Module bn = model.namedModules().get("1");
            bn.eval();
            Evaluation.logits(model, DATA.head(3), 2);
            assertTrue(model.isTraining());
            assertFalse(bn.isTraining());
            assertTrue(model.namedModules().get("0").isTraining());
        }
    }

    @Test
    void leavesNoTensorsBehindAndRecordsNothing() {
        try (Module model = Models.create("mlp-tiny", 1)) {
            long baseline = Storage.liveCount() + Storage.leakedCount();
            Evaluation.evaluate(model, DATA, 10);
            assertEquals(baseline, Storage.liveCount() + Storage.leakedCount(), "blocks left live by evaluation");
            assertTrue(Autograd.isEnabled(), "recording must be back on");
            for (Tensor p : model.parameters()) {
                assertEquals(null, p.grad());
            }
        }
    }

    @Test
    void badArgumentsNameWhatIsWrong() {
        try (Module model = Models.create("mlp-tiny", 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Evaluation.evaluate(model, DATA, 0));
            assertTrue(e.getMessage().contains("batch size must be positive, got 0"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Evaluation.logits(model, DATA.head(0), 4));
            assertTrue(e.getMessage().contains("synthetic: no examples"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Evaluation.logits(model, new float[785], new int[] {784}, 4));
            assertTrue(e.getMessage().contains("785 input values") && e.getMessage().contains("[784]"),
                    e.getMessage());
            Dataset fiveClasses = new Dataset("five", DATA.images(), new int[DATA.size()], 1, 28, 28, 5);
            e = assertThrows(IllegalArgumentException.class, () -> Evaluation.evaluate(model, fiveClasses, 8));
            assertTrue(e.getMessage().contains("five: the network outputs 10 values per example, the dataset has 5 "
                    + "classes"), e.getMessage());
        }
    }

    @Test
    void aNonClassifierOutputIsRejected() {
        try (Module relu = new Layers.ReLU()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Evaluation.logits(relu, DATA, 8));
            assertTrue(e.getMessage().contains("[8, 1, 28, 28] to [8, 1, 28, 28]")
                    && e.getMessage().contains("[batch, classes]"), e.getMessage());
        }
    }
}
