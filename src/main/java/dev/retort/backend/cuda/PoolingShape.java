package dev.retort.backend.cuda;

import dev.retort.backend.PoolSpec;
import java.util.Arrays;

/**
 * The geometry of one NCHW float pooling, max or average (padding counted in the divisor, PyTorch's
 * {@code count_include_pad=True}): the key under which the bridge caches cuDNN descriptors.
 */
public record PoolingShape(int batch, int channels, int height, int width, int windowH, int windowW, int padH,
                           int padW, int strideH, int strideW, boolean max) {

    /**
     * Checks the geometry before any descriptor is made.
     *
     * @throws IllegalArgumentException if a size, window or stride is below 1, a padding negative or more
     * than half its window, the window larger than the padded input, or the input 2^31 elements or more
     */
    public PoolingShape {
        String what = (max ? "max" : "average") + " pooling: input [" + batch + ", " + channels + ", " + height
                + ", " + width + "], window " + windowH + "x" + windowW + ", padding " + padH + "x" + padW
                + ", stride " + strideH + "x" + strideW;
        if (batch < 1 || channels < 1 || height < 1 || width < 1 || windowH < 1 || windowW < 1 || strideH < 1
                || strideW < 1 || padH < 0 || padW < 0) {
            throw new IllegalArgumentException(what + ": sizes, window and stride must be at least 1 and padding"
                    + " not negative");
        }
        // PyTorch's rule; it also keeps every window over at least one real cell, which cuDNN's max needs.
        if (2 * padH > windowH || 2 * padW > windowW) {
            throw new IllegalArgumentException(what + ": padding must be at most half the window");
        }
        if (height + 2L * padH < windowH || width + 2L * padW < windowW) {
            throw new IllegalArgumentException(what + ": the window is larger than the padded input");
        }
        CudaHandles.requireIntElements(what, "input", (long) batch * channels * height * width);
    }

    /** From the backend's input shape [N, C, H, W] and pooling spec. */
    public static PoolingShape of(int[] input, PoolSpec spec, boolean max) {
        if (input.length != 4) {
            throw new IllegalArgumentException("pooling: input " + Arrays.toString(input) + " must be [N, C, H, W]");
        }
        return new PoolingShape(input[0], input[1], input[2], input[3], spec.kernelH(), spec.kernelW(), spec.padH(),
                spec.padW(), spec.strideH(), spec.strideW(), max);
    }

    /**
     * Output rows: {@code (height + 2 padH - windowH) / strideH + 1}, rounded down as PyTorch does by
     * default.
     */
    public int outHeight() {
        return (height + 2 * padH - windowH) / strideH + 1;
    }

    /** Output columns: {@code (width + 2 padW - windowW) / strideW + 1}. */
    public int outWidth() {
        return (width + 2 * padW - windowW) / strideW + 1;
    }
}
