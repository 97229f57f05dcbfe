package dev.retort.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.tensor.Autograd;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import dev.retort.testing.Golden;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The reference networks have PyTorch's state dicts (models.json) and produce class logits. */
@SuppressWarnings("try") // scopes own what is created inside them without being referenced
class ModelsTest {
    private static final Golden MODELS = Golden.load("models.json");

    static List<String> names() {
        return Models.NAMES;
    }

    @Test
    void everyReferenceNetworkHasAPyTorchFixture() {
        TreeSet<String> inFixture = new TreeSet<>();
        for (Golden.Case c : MODELS.cases()) {
            if (c.hasParam("state_keys")) {
                inFixture.add(c.stringParam("model"));
            }
        }
        assertEquals(new TreeSet<>(Models.NAMES), inFixture);
    }

    @ParameterizedTest
    @MethodSource("names")
    void stateDictKeysOrderAndShapesMatchPyTorch(String name) {
        Golden.Case expected = MODELS.get(name);
        List<?> keys = (List<?>) expected.param("state_keys");
        List<?> shapes = (List<?>) expected.param("state_shapes");
        try (Module model = Models.create(name, 1)) {
            Map<String, Tensor> state = model.stateDict();
            List<String> actualKeys = new ArrayList<>(state.keySet());
            assertEquals(keys, actualKeys, name + ": state-dict keys or their order");
            for (int i = 0; i < keys.size(); i++) {
                String key = (String) keys.get(i);
                assertArrayEquals(toInts((List<?>) shapes.get(i)), state.get(key).shape(), name + ": shape of " + key);
            }
            assertEquals((long) expected.intParam("parameter_count"), model.parameterCount(), name + ": parameter count");
            assertArrayEquals(toInts((List<?>) expected.param("input_shape")), Models.inputShape(name), name);
        }
    }

    @ParameterizedTest
    @MethodSource("names")
    void forwardGivesTenLogitsPerExample(String name) {
        int[] chw = Models.inputShape(name);
        int n = 2;
        try (Module model = Models.create(name, 7); Scope scope = Scope.open();
             Autograd.NoGrad noGrad = Autograd.noGrad()) {
            SplittableRandom rng = new SplittableRandom(3);
            float[] x = new float[n * chw[0] * chw[1] * chw[2]];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rng.nextGaussian();
            }
            Tensor input = Tensor.of(x, n, chw[0], chw[1], chw[2]);
            for (boolean training : new boolean[] {true, false}) {
                if (training) {
                    model.train();
                } else {
                    model.eval();
                }
                Tensor logits = model.forward(input);
                assertArrayEquals(new int[] {n, 10}, logits.shape(), name + (training ? " (train)" : " (eval)"));
                assertEquals(0, logits.countNonFinite(), name);
                float[] v = logits.toFloatArray();
                boolean rowsDiffer = false;
                for (int j = 0; j < 10; j++) {
                    rowsDiffer |= v[j] != v[10 + j];
                }
                assertTrue(rowsDiffer, name + ": two different inputs gave the same logits");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("names")
    void backwardReachesEveryParameter(String name) {
        int[] chw = Models.inputShape(name);
        try (Module model = Models.create(name, 7)) {
            try (Scope scope = Scope.open()) {
                SplittableRandom rng = new SplittableRandom(4);
                float[] x = new float[2 * chw[0] * chw[1] * chw[2]];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rng.nextGaussian();
                }
                Tensor logits = model.forward(Tensor.of(x, 2, chw[0], chw[1], chw[2]));
                dev.retort.tensor.Losses.crossEntropy(logits, Tensor.ofInts(new int[] {3, 8}, 2), 0.0).backward();
            }
            for (var e : model.namedParameters().entrySet()) {
                Tensor g = e.getValue().grad();
                assertTrue(g != null, name + ": no gradient for " + e.getKey());
                assertArrayEquals(e.getValue().shape(), g.shape(), name + ": gradient shape of " + e.getKey());
                assertEquals(0, g.countNonFinite(), name + ": non-finite gradient for " + e.getKey());
            }
        }
    }

    @Test
    void sameSeedBuildsTheSameNetwork() {
        try (Module a = Models.create("mlp-tiny", 5); Module b = Models.create("mlp-tiny", 5);
             Module c = Models.create("mlp-tiny", 6)) {
            for (String key : a.stateDict().keySet()) {
                assertArrayEquals(a.stateDict().get(key).toFloatArray(), b.stateDict().get(key).toFloatArray(), key);
            }
            float[] wa = a.stateDict().get("1.weight").toFloatArray();
            float[] wc = c.stateDict().get("1.weight").toFloatArray();
            assertTrue(!java.util.Arrays.equals(wa, wc), "different seeds gave the same weights");
        }
    }

    @Test
    void unknownNameIsRejectedNamingTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Models.create("resnet18", 0));
        assertTrue(e.getMessage().contains("resnet18"), e.getMessage());
        for (String name : Models.NAMES) {
            assertTrue(e.getMessage().contains(name), e.getMessage() + " does not name " + name);
        }
    }

    private static int[] toInts(List<?> values) {
        int[] out = new int[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (int) (double) (Double) values.get(i);
        }
        return out;
    }
}
