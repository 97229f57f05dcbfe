package dev.retort.nn;

import dev.retort.tensor.Functional;
import dev.retort.tensor.Tensor;
import java.util.SplittableRandom;

/** {@code y = x·Wᵀ + b}, weight [out, in] as in PyTorch. */
public final class Linear extends Module {
    private final int inFeatures;
    private final int outFeatures;
    private final Tensor weight;
    private final Tensor bias;

    /**
     * A fully connected layer {@code y = x·Wᵀ + b}, W of shape [out, in], initialised as PyTorch does from {@code
     * rng}.
     */
    public Linear(int inFeatures, int outFeatures, boolean bias, SplittableRandom rng) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("Linear: feature counts must be positive, got " + inFeatures + " → "
                    + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = addParameter("weight", Init.defaultUniform(rng, outFeatures * inFeatures, inFeatures),
                outFeatures, inFeatures);
        this.bias = bias ? addParameter("bias", Init.defaultUniform(rng, outFeatures, inFeatures), outFeatures) : null;
    }

    /** A fully connected layer with a bias. */
    public Linear(int inFeatures, int outFeatures, SplittableRandom rng) {
        this(inFeatures, outFeatures, true, rng);
    }

    /** The input width. */
    public int inFeatures() {
        return inFeatures;
    }

    /** The output width. */
    public int outFeatures() {
        return outFeatures;
    }

    @Override
    public Tensor forward(Tensor input) {
        return Functional.linear(input, weight, bias);
    }

    @Override
    public String toString() {
        return "Linear(" + inFeatures + " → " + outFeatures + (bias == null ? ", no bias" : "") + ")";
    }
}
