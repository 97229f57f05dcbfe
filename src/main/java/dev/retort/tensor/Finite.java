package dev.retort.tensor;

import dev.retort.backend.DType;
import java.util.Map;

/**
 * Whether named tensors (a state dict, an optimizer's state) hold only finite numbers: what a run checks
 * before it writes a checkpoint or exports a model, and what {@code predict} and {@code eval} check in the
 * weights they are given. Reads each tensor to the host once.
 */
public final class Finite {
    private Finite() {}

    /**
     * Null when every floating-point tensor of {@code tensors} is finite; otherwise one phrase naming the
     * first tensor that is not, how many of its values are NaN or infinite, and the first such value.
     */
    public static String describeNonFinite(Map<String, Tensor> tensors) {
        for (var e : tensors.entrySet()) {
            Tensor t = e.getValue();
            if (t.dtype() == DType.INT32 || t.isClosed()) {
                continue;
            }
            int bad = 0;
            double first = 0;
            if (t.dtype() == DType.FLOAT64) {
                for (double v : t.toDoubleArray()) {
                    if (!Double.isFinite(v) && bad++ == 0) {
                        first = v;
                    }
                }
            } else {
                for (float v : t.toFloatArray()) {
                    if (!Float.isFinite(v) && bad++ == 0) {
                        first = v;
                    }
                }
            }
            if (bad > 0) {
                return "tensor '" + e.getKey() + "' holds " + bad + " non-finite value" + (bad == 1 ? "" : "s")
                        + " of " + t.size() + " (first " + first + ")";
            }
        }
        return null;
    }

    /** Whether every value of {@code values} is finite. */
    public static boolean all(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
