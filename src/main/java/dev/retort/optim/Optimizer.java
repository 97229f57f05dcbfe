package dev.retort.optim;

import dev.retort.backend.NdArray;
import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Updates parameters from their gradients. State (momentum, moments) is allocated per parameter
 * outside every scope and freed by {@link #close()}.
 */
public abstract class Optimizer implements AutoCloseable {
    protected final List<Tensor> parameters;
    private double learningRate;

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

    public double learningRate() {
        return learningRate;
    }

    public void setLearningRate(double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be a finite number "
                    + "≥ 0, got " + value);
        }
        learningRate = value;
    }

    /** Applies one update to every parameter that has a gradient. */
    public abstract void step();

    public void zeroGrad() {
        for (Tensor p : parameters) {
            p.zeroGrad();
        }
    }

    /** A zero-filled persistent tensor shaped like p, for optimizer state. */
    protected static Tensor stateLike(Tensor p) {
        NdArray data = p.backend().empty(p.dtype(), p.shape());
        p.backend().fill(data, 0);
        return Tensor.wrapPersistent(data);
    }

    protected static void checkHyperparameter(String optimizer, String name, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            throw new IllegalArgumentException(optimizer + ": " + name + " must be in [" + min + ", " + max + "], got "
                    + value);
        }
    }

    @Override
    public abstract void close();
}
