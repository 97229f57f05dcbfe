package dev.retort.nn;

import dev.retort.backend.ConvSpec;
import dev.retort.tensor.Functional;
import dev.retort.tensor.Tensor;
import java.util.SplittableRandom;

/** 2-D convolution with square kernels, weight [out, in, k, k] as in PyTorch. */
public final class Conv2d extends Module {
    private final int inChannels;
    private final int outChannels;
    private final int kernel;
    private final ConvSpec spec;
    private final Tensor weight;
    private final Tensor bias;

    /** A 2-D convolution with a square kernel, weight OIHW, initialised as PyTorch does from {@code rng}. */
    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, boolean bias,
                  SplittableRandom rng) {
        if (inChannels <= 0 || outChannels <= 0 || kernel <= 0) {
            throw new IllegalArgumentException("Conv2d: channels and kernel must be positive, got " + inChannels
                    + " → " + outChannels + ", kernel " + kernel);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.spec = new ConvSpec(stride, stride, padding, padding);
        int fanIn = inChannels * kernel * kernel;
        this.weight = addParameter("weight", Init.defaultUniform(rng, outChannels * fanIn, fanIn), outChannels,
                inChannels, kernel, kernel);
        this.bias = bias ? addParameter("bias", Init.defaultUniform(rng, outChannels, fanIn), outChannels) : null;
    }

    /** Input channels. */
    public int inChannels() {
        return inChannels;
    }

    /** Output channels. */
    public int outChannels() {
        return outChannels;
    }

    @Override
    public Tensor forward(Tensor input) {
        return Functional.conv2d(input, weight, bias, spec);
    }

    @Override
    public String toString() {
        return "Conv2d(" + inChannels + " → " + outChannels + ", " + kernel + "×" + kernel + ", stride "
                + spec.strideH() + ", padding " + spec.padH() + (bias == null ? ", no bias" : "") + ")";
    }
}
