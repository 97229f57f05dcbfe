package dev.retort.nn;

import dev.retort.tensor.Functional;
import dev.retort.tensor.Tensor;

/**
 * Batch normalisation over channels (PyTorch's BatchNorm2d, also accepting [N, C] input): batch
 * statistics and running averages in training, running averages in evaluation.
 */
public final class BatchNorm2d extends Module {
    private final int channels;
    private final double eps;
    private final double momentum;
    private final Tensor weight;
    private final Tensor bias;
    private final Tensor runningMean;
    private final Tensor runningVar;

    /**
     * Batch normalisation over [N, C, H, W] per channel, with learned scale and shift and running statistics updated
     * by {@code momentum} (PyTorch's convention).
     */
    public BatchNorm2d(int channels, double eps, double momentum) {
        if (channels <= 0) {
            throw new IllegalArgumentException("BatchNorm2d: channel count must be positive, got " + channels);
        }
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("BatchNorm2d: momentum must be in [0, 1], got " + momentum);
        }
        this.channels = channels;
        this.eps = eps;
        this.momentum = momentum;
        this.weight = addParameter("weight", Init.constant(channels, 1f), channels);
        this.bias = addParameter("bias", Init.constant(channels, 0f), channels);
        this.runningMean = addBuffer("running_mean", Init.constant(channels, 0f), channels);
        this.runningVar = addBuffer("running_var", Init.constant(channels, 1f), channels);
    }

    /** Batch normalisation with PyTorch's defaults, eps 1e-5 and momentum 0.1. */
    public BatchNorm2d(int channels) {
        this(channels, 1e-5, 0.1);
    }

    @Override
    public Tensor forward(Tensor input) {
        return Functional.batchNorm(input, weight, bias, runningMean, runningVar, isTraining(), momentum, eps);
    }

    @Override
    public String toString() {
        return "BatchNorm2d(" + channels + ")";
    }
}
