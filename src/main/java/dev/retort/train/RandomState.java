package dev.retort.train;

import dev.retort.backend.DType;
import dev.retort.nn.Layers.Dropout;
import dev.retort.nn.Module;
import dev.retort.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a model's dropout layers are in their sequences of masks, as checkpoint tensors, so that a
 * resumed run draws the masks an uninterrupted one would have. One int32 tensor per dropout layer,
 * named by the layer's dotted name: {@code [seed >>> 32, seed, calls >>> 32, calls]}.
 */
final class RandomState {
    private RandomState() {}

    static Map<String, Tensor> of(Module model) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        model.namedModules().forEach((name, module) -> {
            if (module instanceof Dropout dropout) {
                long[] state = dropout.randomState();
                out.put(name, Tensor.ofInts(new int[] {
                        (int) (state[0] >>> 32), (int) state[0], (int) (state[1] >>> 32), (int) state[1]}, 4));
            }
        });
        return out;
    }

    /**
     * Restores what {@link #of} saved. A checkpoint without random state (written before it was kept)
     * leaves the layers as they are; {@code source} names the file in errors.
     */
    static void restore(Module model, Map<String, Tensor> values, String source) {
        Map<String, Module> modules = model.namedModules();
        for (var e : values.entrySet()) {
            if (!(modules.get(e.getKey()) instanceof Dropout dropout)) {
                throw new IllegalArgumentException(source + ": holds the random state of layer '" + e.getKey()
                        + "', which is not a dropout layer of this model");
            }
            Tensor t = e.getValue();
            if (t.dtype() != DType.INT32 || !Arrays.equals(t.shape(), new int[] {4})) {
                throw new IllegalArgumentException(source + ": random state of layer '" + e.getKey()
                        + "' must be int32 [4], got " + t.dtype() + " " + Arrays.toString(t.shape()));
            }
            int[] v = t.toIntArray();
            dropout.restoreRandomState(join(v[0], v[1]), join(v[2], v[3]));
        }
    }

    private static long join(int high, int low) {
        return ((long) high << 32) | (low & 0xFFFFFFFFL);
    }
}
