package dev.retort.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.Storage;
import dev.retort.nn.Layers.Dropout;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import dev.retort.testing.Golden;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Module mechanics: training flag, dropout, batch norm statistics, state dicts, memory, initialisation. */
@SuppressWarnings("try") // scopes own what is created inside them without being referenced
class ModuleTest {

    // ---- training flag --------------------------------------------------------------------------

    @Test
    void trainAndEvalReachEveryDescendant() {
        try (Module model = Models.create("resnet8", 1)) {
            List<Module> all = descendants(model);
            assertTrue(all.size() > 20, "resnet8 has nested blocks, got " + all.size() + " modules");
            assertTrue(all.stream().allMatch(Module::isTraining), "a new module trains");
            assertSame(model, model.eval());
            for (Module m : all) {
                assertFalse(m.isTraining(), m + " still training after eval()");
            }
            assertSame(model, model.train());
            for (Module m : all) {
                assertTrue(m.isTraining(), m + " not training after train()");
            }
        }
    }

    private static List<Module> descendants(Module root) {
        List<Module> out = new ArrayList<>();
        out.add(root);
        for (Module child : root.children().values()) {
            out.addAll(descendants(child));
        }
        return out;
    }

    // ---- dropout --------------------------------------------------------------------------------

    @Test
    void dropoutIsTheIdentityInEval() {
        try (Scope scope = Scope.open()) {
            Dropout dropout = new Dropout(0.5, 42);
            dropout.eval();
            Tensor x = Tensor.of(new float[] {1, -2, 3, 4.5f}, 2, 2);
            Tensor y = dropout.forward(x);
            assertArrayEquals(x.toFloatArray(), y.toFloatArray());
        }
    }

    @Test
    void dropoutInTrainingIsSeededAndScaled() {
        int n = 4000;
        double p = 0.3;
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.of(ones, n);
            Dropout a = new Dropout(p, 42);
            Dropout b = new Dropout(p, 42);
            Dropout other = new Dropout(p, 43);
            float[] a1 = a.forward(x).toFloatArray();
            float[] a2 = a.forward(x).toFloatArray();
            assertArrayEquals(a1, b.forward(x).toFloatArray(), "same seed, first call");
            assertArrayEquals(a2, b.forward(x).toFloatArray(), "same seed, second call");
            assertFalse(Arrays.equals(a1, a2), "each call draws a fresh mask");
            assertFalse(Arrays.equals(a1, other.forward(x).toFloatArray()), "another seed draws another mask");
            int zeros = 0;
            float kept = (float) (1 / (1 - p));
            for (float v : a1) {
                if (v == 0) {
                    zeros++;
                } else {
                    assertEquals(kept, v, 1e-6f, "kept values are scaled by 1/(1-p)");
                }
            }
            double fraction = (double) zeros / n;
            assertTrue(Math.abs(fraction - p) < 0.04, "dropped fraction " + fraction + " for p = " + p);
        }
    }

    @Test
    void dropoutRejectsBadProbabilities() {
        for (double p : new double[] {-0.1, 1.0, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Dropout(p, 0));
            assertTrue(e.getMessage().contains("probability"), e.getMessage());
        }
    }

    // ---- batch norm -----------------------------------------------------------------------------

    @Test
    void batchNormUsesBatchStatisticsInTrainingAndRunningOnesInEval() {
        int n = 4;
        int c = 3;
        int hw = 5;
        double eps = 1e-5;
        SplittableRandom rng = new SplittableRandom(11);
        float[] x = new float[n * c * hw];
        for (int i = 0; i < x.length; i++) {
            int channel = (i / hw) % c;
            x[i] = (float) (rng.nextGaussian() * (1 + channel) + 2 * channel - 1);
        }
        double[] mean = new double[c];
        double[] sumSq = new double[c];
        int count = n * hw;
        for (int i = 0; i < x.length; i++) {
            mean[(i / hw) % c] += x[i] / (double) count;
        }
        for (int i = 0; i < x.length; i++) {
            int ch = (i / hw) % c;
            sumSq[ch] += (x[i] - mean[ch]) * (x[i] - mean[ch]);
        }
        try (BatchNorm2d bn = new BatchNorm2d(c); Scope scope = Scope.open()) {
            Tensor input = Tensor.of(x, n, c, 1, hw);
            float[] y = bn.forward(input).toFloatArray();
            for (int i = 0; i < x.length; i++) {
                int ch = (i / hw) % c;
                double expected = (x[i] - mean[ch]) / Math.sqrt(sumSq[ch] / count + eps);
                assertEquals(expected, y[i], 2e-5, "train output " + i);
            }
            float[] runningMean = bn.stateDict().get("running_mean").toFloatArray();
            float[] runningVar = bn.stateDict().get("running_var").toFloatArray();
            double[] expectedMean = new double[c];
            double[] expectedVar = new double[c];
            for (int ch = 0; ch < c; ch++) {
                expectedMean[ch] = 0.9 * 0 + 0.1 * mean[ch];
                expectedVar[ch] = 0.9 * 1 + 0.1 * sumSq[ch] / (count - 1); // unbiased, as PyTorch
                assertEquals(expectedMean[ch], runningMean[ch], 1e-6, "running_mean " + ch);
                assertEquals(expectedVar[ch], runningVar[ch], 1e-5, "running_var " + ch);
            }

            bn.eval();
            float[] z = bn.forward(input).toFloatArray();
            for (int i = 0; i < x.length; i++) {
                int ch = (i / hw) % c;
                double expected = (x[i] - runningMean[ch]) / Math.sqrt(runningVar[ch] + eps);
                assertEquals(expected, z[i], 2e-5, "eval output " + i);
            }
            assertArrayEquals(runningMean, bn.stateDict().get("running_mean").toFloatArray(), "eval changed stats");
            assertArrayEquals(runningVar, bn.stateDict().get("running_var").toFloatArray(), "eval changed stats");
        }
    }

    // ---- state dict ---------------------------------------------------------------------------

    @Test
    void loadStateDictCopiesTheValues() {
        try (Module model = twoLayers(1); Module source = twoLayers(2); Scope scope = Scope.open()) {
            Map<String, Tensor> values = new LinkedHashMap<>();
            for (var e : source.stateDict().entrySet()) {
                values.put(e.getKey(), Tensor.of(e.getValue().toFloatArray(), e.getValue().shape()));
            }
            model.loadStateDict(values);
            for (var e : source.stateDict().entrySet()) {
                assertArrayEquals(e.getValue().toFloatArray(), model.stateDict().get(e.getKey()).toFloatArray(),
                        e.getKey());
            }
            // A copy, not an alias: changing the given tensor later does not change the module.
            float[] before = model.stateDict().get("0.weight").toFloatArray();
            Tensor given = values.get("0.weight");
            given.backend().fill(given.data(), 5);
            assertArrayEquals(before, model.stateDict().get("0.weight").toFloatArray());
            // The loaded module computes what the source computes.
            Tensor x = Tensor.of(new float[] {0.5f, -1, 2, 0.25f, 1, -0.5f, 3, 0}, 2, 4);
            assertArrayEquals(source.forward(x).toFloatArray(), model.forward(x).toFloatArray(), 0f);
        }
    }

    @Test
    void loadStateDictRejectsMissingKeysAndChangesNothing() {
        try (Module model = twoLayers(1); Module source = twoLayers(2); Scope scope = Scope.open()) {
            Map<String, float[]> before = snapshot(model);
            Map<String, Tensor> values = copyOf(source);
            values.remove("2.bias");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.loadStateDict(values));
            assertTrue(e.getMessage().contains("missing") && e.getMessage().contains("2.bias"), e.getMessage());
            assertUnchanged(before, model);
        }
    }

    @Test
    void loadStateDictRejectsUnexpectedKeysAndChangesNothing() {
        try (Module model = twoLayers(1); Module source = twoLayers(2); Scope scope = Scope.open()) {
            Map<String, float[]> before = snapshot(model);
            Map<String, Tensor> values = copyOf(source);
            values.put("1.weight", Tensor.of(new float[] {1}, 1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.loadStateDict(values));
            assertTrue(e.getMessage().contains("unexpected") && e.getMessage().contains("1.weight"), e.getMessage());
            assertUnchanged(before, model);
        }
    }

    @Test
    void loadStateDictRejectsShapeMismatchesNamingKeyAndShapesAndChangesNothing() {
        try (Module model = twoLayers(1); Module source = twoLayers(2); Scope scope = Scope.open()) {
            Map<String, float[]> before = snapshot(model);
            Map<String, Tensor> values = copyOf(source);
            // The last entry is wrong, so a loader that copies as it checks would already have changed the others.
            values.put("2.bias", Tensor.of(new float[] {1, 2, 3}, 3));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.loadStateDict(values));
            String m = e.getMessage();
            assertTrue(m.contains("2.bias") && m.contains("[3]") && m.contains("[2]"), m);
            assertUnchanged(before, model);
            // Same element count, other layout: still a mismatch.
            Map<String, Tensor> transposed = copyOf(source);
            transposed.put("0.weight", Tensor.of(new float[12], 4, 3));
            e = assertThrows(IllegalArgumentException.class, () -> model.loadStateDict(transposed));
            m = e.getMessage();
            assertTrue(m.contains("0.weight") && m.contains("[4, 3]") && m.contains("[3, 4]"), m);
            assertUnchanged(before, model);
        }
    }

    @Test
    void loadStateDictIncludesBatchNormBuffers() {
        try (Module model = new Sequential(new BatchNorm2d(2)); Scope scope = Scope.open()) {
            Map<String, Tensor> values = new LinkedHashMap<>();
            values.put("0.weight", Tensor.of(new float[] {2, 3}, 2));
            values.put("0.bias", Tensor.of(new float[] {0.5f, -0.5f}, 2));
            values.put("0.running_mean", Tensor.of(new float[] {1, -1}, 2));
            values.put("0.running_var", Tensor.of(new float[] {4, 0.25f}, 2));
            model.loadStateDict(values);
            assertArrayEquals(new float[] {1, -1}, model.stateDict().get("0.running_mean").toFloatArray());
            assertArrayEquals(new float[] {4, 0.25f}, model.stateDict().get("0.running_var").toFloatArray());
            assertEquals(4, model.parameterCount(), "buffers are not parameters");
            assertEquals(List.of("0.weight", "0.bias"), new ArrayList<>(model.namedParameters().keySet()));
        }
    }

    /** Linear(4 → 3), ReLU, Linear(3 → 2): state keys 0.weight, 0.bias, 2.weight, 2.bias. */
    private static Module twoLayers(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        return new Sequential(new Linear(4, 3, rng), new Layers.ReLU(), new Linear(3, 2, rng));
    }

    private static Map<String, Tensor> copyOf(Module source) {
        Map<String, Tensor> values = new LinkedHashMap<>();
        for (var e : source.stateDict().entrySet()) {
            values.put(e.getKey(), Tensor.of(e.getValue().toFloatArray(), e.getValue().shape()));
        }
        return values;
    }

    private static Map<String, float[]> snapshot(Module m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (var e : m.stateDict().entrySet()) {
            out.put(e.getKey(), e.getValue().toFloatArray());
        }
        return out;
    }

    private static void assertUnchanged(Map<String, float[]> before, Module m) {
        for (var e : before.entrySet()) {
            assertArrayEquals(e.getValue(), m.stateDict().get(e.getKey()).toFloatArray(),
                    e.getKey() + " changed by a failed load");
        }
    }

    // ---- memory -------------------------------------------------------------------------------

    @Test
    void closeFreesEveryParameterGradientAndBuffer() {
        // A block reclaimed by the GC meanwhile moves from live to leaked; the sum is what this test owns.
        long baseline = Storage.liveCount() + Storage.leakedCount();
        Module model = Models.create("resnet8", 3);
        try (Scope scope = Scope.open()) {
            SplittableRandom rng = new SplittableRandom(1);
            float[] x = new float[2 * 3 * 8 * 8];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rng.nextGaussian();
            }
            model.forward(Tensor.of(x, 2, 3, 8, 8)).square().mean().backward();
        }
        for (var e : model.namedParameters().entrySet()) {
            assertNotNull(e.getValue().grad(), e.getKey() + " has no gradient");
        }
        assertTrue(Storage.liveCount() + Storage.leakedCount() > baseline, "parameters and gradients are live");
        List<Tensor> state = new ArrayList<>(model.stateDict().values());
        model.close();
        assertEquals(baseline, Storage.liveCount() + Storage.leakedCount(), "blocks still live after close()");
        for (Tensor t : state) {
            assertTrue(t.isClosed());
        }
        model.close(); // idempotent
        assertEquals(baseline, Storage.liveCount() + Storage.leakedCount());
    }

    // ---- initialisation ---------------------------------------------------------------------------

    @Test
    void linearInitIsUniformWithinOneOverSqrtFanIn() {
        try (Linear layer = new Linear(400, 64, new SplittableRandom(5))) {
            checkUniform("Linear weight", layer.stateDict().get("weight").toFloatArray(), 1 / Math.sqrt(400), true);
            checkUniform("Linear bias", layer.stateDict().get("bias").toFloatArray(), 1 / Math.sqrt(400), false);
        }
    }

    @Test
    void conv2dInitIsUniformWithinOneOverSqrtFanIn() {
        try (Conv2d layer = new Conv2d(3, 16, 5, 1, 2, true, new SplittableRandom(5))) {
            double bound = 1 / Math.sqrt(3 * 5 * 5);
            checkUniform("Conv2d weight", layer.stateDict().get("weight").toFloatArray(), bound, true);
            checkUniform("Conv2d bias", layer.stateDict().get("bias").toFloatArray(), bound, false);
        }
    }

    private static void checkUniform(String what, float[] values, double bound, boolean many) {
        float limit = (float) bound;
        double max = 0;
        double sum = 0;
        double sumSq = 0;
        for (float v : values) {
            assertTrue(Math.abs(v) <= limit, what + ": |" + v + "| exceeds 1/√fanIn = " + bound);
            max = Math.max(max, Math.abs(v));
            sum += v;
            sumSq += (double) v * v;
        }
        if (many) {
            int n = values.length;
            assertTrue(max >= 0.98 * bound, what + ": largest |w| " + max + " is far below the bound " + bound);
            double mean = sum / n;
            double std = Math.sqrt(sumSq / n - mean * mean);
            assertTrue(Math.abs(mean) < 0.1 * bound, what + ": mean " + mean);
            // U(−b, b) has standard deviation b/√3.
            assertEquals(bound / Math.sqrt(3), std, 0.05 * bound, what + ": standard deviation");
        }
    }

    // ---- golden forward -------------------------------------------------------------------------

    @Test
    void cnnStudentForwardMatchesPyTorch() {
        Golden.Case golden = Golden.load("models.json").get("cnn-student_forward");
        try (Module model = Models.create("cnn-student", 0); Scope scope = Scope.open();
             Autograd.NoGrad noGrad = Autograd.noGrad()) {
            Map<String, Tensor> values = new LinkedHashMap<>();
            for (Object key : (List<?>) golden.param("parameters")) {
                Golden.Array a = golden.tensor((String) key);
                values.put((String) key, Tensor.of(a.toFloats(), a.shape()));
            }
            model.loadStateDict(values);
            model.eval();
            Golden.Array input = golden.tensor("input");
            Golden.Array expected = golden.tensor("output");
            Tensor out = model.forward(Tensor.of(input.toFloats(), input.shape()));
            assertArrayEquals(expected.shape(), out.shape());
            float[] actual = out.toFloatArray();
            double scale = 0;
            for (double v : expected.data()) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < actual.length; i++) {
                double e = expected.data()[i];
                assertEquals(e, actual[i], 1e-5 * scale, "logit " + i + " (largest |logit| " + scale + ")");
            }
        }
    }

    @Test
    void toKeepsTheSameParameterAndBufferObjects() {
        Module m = Models.create("cnn-teacher", 3);
        Map<String, Tensor> before = new LinkedHashMap<>(m.stateDict());
        Map<String, float[]> values = new LinkedHashMap<>();
        before.forEach((k, v) -> values.put(k, v.toFloatArray()));
        assertSame(m, m.to(dev.retort.backend.Device.CPU));
        for (var e : m.stateDict().entrySet()) {
            assertSame(before.get(e.getKey()), e.getValue(), e.getKey());
            assertArrayEquals(values.get(e.getKey()), e.getValue().toFloatArray(), e.getKey());
        }
        m.close();
    }

    @Test
    void onlyLeafTensorsMoveInPlace() {
        Tensor a = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor b = a.mul(a);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> b.moveTo(dev.retort.backend.Device.CPU));
        assertTrue(e.getMessage().contains("leaf"), e.getMessage());
        b.close();
        a.close();
    }
}
