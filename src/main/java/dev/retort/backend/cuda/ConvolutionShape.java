package dev.retort.backend.cuda;

import dev.retort.backend.ConvSpec;
import java.util.Arrays;

/**
 * The geometry of one NCHW float convolution (OIHW weights, groups 1, dilation 1): the key under which the bridge
 * caches cuDNN descriptors and the algorithm it chose.
 */
public record ConvolutionShape(int batch, int inChannels, int height, int width, int outChannels, int kernelH,
                               int kernelW, int padH, int padW, int strideH, int strideW) {

    /**
     * Checks the geometry before any descriptor is made.
     *
     * @throws IllegalArgumentException if a size is below 1, a padding negative, a stride below 1, the kernel
     * larger than the padded input, or the input or output tensor 2^31 elements or more (cuDNN's descriptors
     * hold int strides)
     */
    public ConvolutionShape {
        String what = "convolution: input [" + batch + ", " + inChannels + ", " + height + ", " + width + "], "
                + outChannels + " filters " + kernelH + "x" + kernelW + ", padding " + padH + "x" + padW
                + ", stride " + strideH + "x" + strideW;
        if (batch < 1 || inChannels < 1 || height < 1 || width < 1 || outChannels < 1 || kernelH < 1 || kernelW < 1) {
            throw new IllegalArgumentException(what + ": every size must be at least 1");
        }
        if (padH < 0 || padW < 0 || strideH < 1 || strideW < 1) {
            throw new IllegalArgumentException(what + ": padding must not be negative and stride must be at least 1");
        }
        if (height + 2L * padH < kernelH || width + 2L * padW < kernelW) {
            throw new IllegalArgumentException(what + ": the kernel is larger than the padded input");
        }
        // cuDNN's 4-D descriptors hold int strides: each tensor must stay under 2^31 elements.
        CudaHandles.requireIntElements(what, "input", (long) batch * inChannels * height * width);
        CudaHandles.requireIntElements(what, "output", (long) batch * outChannels
                * ((height + 2L * padH - kernelH) / strideH + 1) * ((width + 2L * padW - kernelW) / strideW + 1));
    }

    /** From the backend's shapes: input [N, C, H, W], weight [K, C, kH, kW]. */
    public static ConvolutionShape of(int[] input, int[] weight, ConvSpec spec) {
        if (input.length != 4 || weight.length != 4 || input[1] != weight[1]) {
            throw new IllegalArgumentException("convolution: input " + Arrays.toString(input) + " and weight "
                    + Arrays.toString(weight) + " must be [N, C, H, W] and [K, C, kH, kW] with the same C");
        }
        return new ConvolutionShape(input[0], input[1], input[2], input[3], weight[0], weight[2], weight[3],
                spec.padH(), spec.padW(), spec.strideH(), spec.strideW());
    }

    /** Output rows: {@code (height + 2 padH - kernelH) / strideH + 1}. */
    public int outHeight() {
        return (height + 2 * padH - kernelH) / strideH + 1;
    }

    /** Output columns: {@code (width + 2 padW - kernelW) / strideW + 1}. */
    public int outWidth() {
        return (width + 2 * padW - kernelW) / strideW + 1;
    }
}
