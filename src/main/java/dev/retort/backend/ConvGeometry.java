package dev.retort.backend;

import java.util.Arrays;

/**
 * The geometry of one NCHW sliding-window op: a 2-D convolution (OIHW weights, groups 1, dilation 1) or a 2-D
 * pooling, which slides its window over each channel alone and so has as many output channels as input channels.
 * The reference, CPU and CUDA code all take their loop bounds and descriptor sizes from it, so the output-size
 * rule and the checks below exist once.
 *
 * <p>Output sizes follow PyTorch (ceil_mode=False): {@code (size + 2 pad - kernel) / stride + 1}, rounded down.
 * Empty batches and zero input channels are allowed here; a device that cannot run them (cuDNN) says so itself.
 *
 * @param batch N, at least 0
 * @param inChannels C, at least 0
 * @param height input rows, at least 0
 * @param width input columns, at least 0
 * @param outChannels K (filters of a convolution; C for a pooling), at least 1
 * @param kernelH kernel (window) rows, at least 1
 * @param kernelW kernel (window) columns, at least 1
 * @param strideH row stride, at least 1
 * @param strideW column stride, at least 1
 * @param padH zero rows added above and below, at least 0
 * @param padW zero columns added left and right, at least 0
 */
public record ConvGeometry(int batch, int inChannels, int height, int width, int outChannels, int kernelH,
                           int kernelW, int strideH, int strideW, int padH, int padW) {

    /**
     * Checks the geometry.
     *
     * @throws IllegalArgumentException if a size is negative, the output channels, a kernel size or a stride
     * below 1, a padding negative, or the kernel larger than the padded input (which would leave no output)
     */
    public ConvGeometry {
        String problem = batch < 0 || inChannels < 0 || height < 0 || width < 0
                ? "input sizes must not be negative"
                : outChannels < 1 || kernelH < 1 || kernelW < 1
                ? "output channels and kernel sizes must be at least 1"
                : strideH < 1 || strideW < 1
                ? "stride must be at least 1"
                : padH < 0 || padW < 0
                ? "padding must not be negative"
                : height + 2L * padH < kernelH || width + 2L * padW < kernelW
                ? "the kernel is larger than the padded input " + (height + 2L * padH) + "×" + (width + 2L * padW)
                : null;
        if (problem != null) {
            throw new IllegalArgumentException("conv2d: " + describe(batch, inChannels, height, width, outChannels,
                    kernelH, kernelW, strideH, strideW, padH, padW) + ": " + problem);
        }
    }

    /**
     * The geometry of a convolution of {@code input} [N, C, H, W] by {@code weight} [K, C, kH, kW].
     *
     * @throws IllegalArgumentException if either shape is not 4-D, their C differ, the weight is empty, or the
     * geometry is invalid (see the constructor)
     */
    public static ConvGeometry conv(int[] input, int[] weight, ConvSpec spec) {
        if (input.length != 4 || weight.length != 4 || input[1] != weight[1]) {
            throw new IllegalArgumentException("conv2d: input " + Arrays.toString(input) + " and weight "
                    + Arrays.toString(weight) + " must be [N, C, H, W] and [K, C, kH, kW] with the same C");
        }
        if (weight[0] < 1 || weight[2] < 1 || weight[3] < 1) {
            throw new IllegalArgumentException("conv2d: weight " + Arrays.toString(weight)
                    + " must have at least one filter and a kernel of at least 1×1");
        }
        return new ConvGeometry(input[0], input[1], input[2], input[3], weight[0], weight[2], weight[3],
                spec.strideH(), spec.strideW(), spec.padH(), spec.padW());
    }

    /**
     * The geometry of a pooling of {@code input} [N, C, H, W]: the window is the kernel, and the output has C
     * channels. {@code op} names the caller in messages ({@code maxPool2d}, {@code avgPool2d}).
     *
     * @throws IllegalArgumentException if the input is not 4-D, has no channel, or the window is larger than the
     * padded input
     */
    public static ConvGeometry pool(String op, int[] input, PoolSpec spec) {
        if (input.length != 4) {
            throw new IllegalArgumentException(op + ": input " + Arrays.toString(input) + " must be [N, C, H, W]");
        }
        if (input[2] + 2L * spec.padH() < spec.kernelH() || input[3] + 2L * spec.padW() < spec.kernelW()) {
            throw new IllegalArgumentException(op + ": window " + spec.kernelH() + "×" + spec.kernelW()
                    + " is larger than the padded input " + (input[2] + 2L * spec.padH()) + "×"
                    + (input[3] + 2L * spec.padW()) + " of " + Arrays.toString(input));
        }
        return new ConvGeometry(input[0], input[1], input[2], input[3], input[1], spec.kernelH(), spec.kernelW(),
                spec.strideH(), spec.strideW(), spec.padH(), spec.padW());
    }

    /** Output rows: {@code (height + 2 padH - kernelH) / strideH + 1}, at least 1. */
    public int outHeight() {
        return (height + 2 * padH - kernelH) / strideH + 1;
    }

    /** Output columns: {@code (width + 2 padW - kernelW) / strideW + 1}, at least 1. */
    public int outWidth() {
        return (width + 2 * padW - kernelW) / strideW + 1;
    }

    /** Elements of the input, N·C·H·W. */
    public long inputSize() {
        return (long) batch * inChannels * height * width;
    }

    /** Elements of the output, N·K·outH·outW. */
    public long outputSize() {
        return (long) batch * outChannels * outHeight() * outWidth();
    }

    /** The shape of the output, [N, K, outH, outW]. */
    public int[] outputShape() {
        return new int[] {batch, outChannels, outHeight(), outWidth()};
    }

    /**
     * One line naming every number, for error messages: {@code input [2, 3, 8, 8], 4 filters, kernel 3×3,
     * stride 1×1, padding 1×1}.
     */
    public String describe() {
        return describe(batch, inChannels, height, width, outChannels, kernelH, kernelW, strideH, strideW, padH, padW);
    }

    private static String describe(int batch, int inChannels, int height, int width, int outChannels, int kernelH,
                                   int kernelW, int strideH, int strideW, int padH, int padW) {
        return "input [" + batch + ", " + inChannels + ", " + height + ", " + width + "], " + outChannels
                + " filters, kernel " + kernelH + "×" + kernelW + ", stride " + strideH + "×" + strideW + ", padding "
                + padH + "×" + padW;
    }
}
