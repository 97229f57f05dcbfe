package dev.retort.optim;

import dev.retort.backend.NdArray;
import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their gradients. State (momentum, moments) is allocated per parameter
 * outside every scope and freed by {@link #close()}.
 */
public abstract class Optimizer implements AutoCloseable {
    /** The tensors this optimizer updates, in the order given. */
    protected final List<Tensor> parameters;
    private double learningRate;

    /** Checks that every parameter requires a gradient; the state each subclass keeps is made lazily. */
    protected Optimizer(List<Tensor> parameters, double learningRate) {
        if (parameters.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters to optimise");
        }
        for (Tensor p : parameters) {
            if (!p.requiresGrad()) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter " + p
                        + " does not require a gradient");
            }
        }
        this.parameters = new ArrayList<>(parameters);
        setLearningRate(learningRate);
    }

    /** The learning rate the next {@link #step} uses. */
    public double learningRate() {
        return learningRate;
    }

    /** Sets the learning rate (a schedule calls this before every step); it must be finite and at least 0. */
    public void setLearningRate(double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be a finite number "
                    + "≥ 0, got " + value);
        }
        learningRate = value;
    }

    /** Applies one update to every parameter that has a gradient. */
    public abstract void step();

    /** Clears the gradients of the parameters, before the next backward pass. */
    public void zeroGrad() {
        for (Tensor p : parameters) {
            p.zeroGrad();
        }
    }

    /**
     * The optimizer's state by name, {@code <parameter index>.<buffer>} with PyTorch's buffer names
     * ({@code momentum_buffer}, {@code exp_avg}, {@code exp_avg_sq}, {@code step}): what a checkpoint needs
     * to resume training exactly. The tensors are the live state; copy before keeping them.
     */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectState(out);
        return out;
    }

    /**
     * Puts every state tensor into {@code out} under {@code <parameter index>.<buffer>}; the entries are the
     * live tensors, not copies.
     */
    protected abstract void collectState(Map<String, Tensor> out);

    /**
     * Restores state saved by {@link #stateDict()} from an optimizer of the same kind over the same
     * parameters; {@code source} names where it came from in errors. Entries are checked before any is
     * copied, so a mismatch changes nothing.
     */
    public final void loadStateDict(Map<String, Tensor> values, String source) {
        for (var e : values.entrySet()) {
            String key = e.getKey();
            int dot = key.indexOf('.');
            int index = -1;
            try {
                index = dot > 0 ? Integer.parseInt(key.substring(0, dot)) : -1;
            } catch (NumberFormatException ignored) {
                // reported below
            }
            if (index < 0 || index >= parameters.size() || !acceptsState(key.substring(dot + 1))) {
                throw new IllegalArgumentException(source + ": '" + key + "' is not state of " + getClass().getSimpleName()
                        + " over " + parameters.size() + " parameters; was it saved by another optimizer or model?");
            }
            int[] expected = key.endsWith(".step") ? new int[0] : parameters.get(index).shape();
            if (!Arrays.equals(expected, e.getValue().shape())) {
                throw new IllegalArgumentException(source + ": '" + key + "' has shape "
                        + Arrays.toString(e.getValue().shape()) + ", parameter " + index + " needs "
                        + Arrays.toString(expected));
            }
        }
        restoreState(values);
    }

    /**
     * Whether {@code buffer} (the part of a state key after the parameter index) names state this optimizer
     * keeps, so that state saved by another optimizer is refused.
     */
    protected abstract boolean acceptsState(String buffer);

    /** The buffers every parameter has once the optimizer has stepped (none for SGD without momentum). */
    protected abstract List<String> buffers();

    /**
     * The first state entry that an optimizer which has stepped must have and {@code values} lacks, or null:
     * a checkpoint missing some would resume with reset momentum or moments, silently changing the run.
     */
    public final String missingState(Map<String, Tensor> values) {
        for (int i = 0; i < parameters.size(); i++) {
            for (String buffer : buffers()) {
                if (!values.containsKey(i + "." + buffer)) {
                    return i + "." + buffer;
                }
            }
        }
        return null;
    }

    /** Called with checked values; copies them into (freshly allocated) state. */
    protected abstract void restoreState(Map<String, Tensor> values);

    /** A persistent copy of a saved state tensor for parameter p. */
    protected static Tensor stateFrom(Tensor p, Tensor saved) {
        Tensor state = stateLike(p);
        p.backend().copy(saved.to(p.dtype()).data(), state.data());
        return state;
    }

    /** A zero-filled persistent tensor shaped like p, for optimizer state. */
    protected static Tensor stateLike(Tensor p) {
        NdArray data = p.backend().empty(p.dtype(), p.shape());
        p.backend().fill(data, 0);
        return Tensor.wrapPersistent(data);
    }

    /**
     * Checks a constructor argument; NaN is always refused.
     *
     * @throws IllegalArgumentException naming the optimizer and the hyperparameter if {@code value} is
     * outside [min, max]
     */
    protected static void checkHyperparameter(String optimizer, String name, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            throw new IllegalArgumentException(optimizer + ": " + name + " must be in [" + min + ", " + max + "], got "
                    + value);
        }
    }

    @Override
    public abstract void close();
}
