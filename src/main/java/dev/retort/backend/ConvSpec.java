package dev.retort.backend;

/** Stride and zero padding of a 2-D convolution (groups 1, dilation 1). */
public record ConvSpec(int strideH, int strideW, int padH, int padW) {
    /**
     * Checks the geometry.
     *
     * @throws IllegalArgumentException if a stride is below 1 or a padding negative
     */
    public ConvSpec {
        if (strideH < 1 || strideW < 1) {
            throw new IllegalArgumentException("conv2d: stride must be at least 1, got (" + strideH + ", " + strideW + ")");
        }
        if (padH < 0 || padW < 0) {
            throw new IllegalArgumentException("conv2d: padding must not be negative, got (" + padH + ", " + padW + ")");
        }
    }

    /**
     * Output height for an input {@code height} and kernel {@code kernelH} rows: {@code (height + 2 padH -
     * kernelH) / strideH + 1}, rounded down as PyTorch does.
     */
    public int outHeight(int height, int kernelH) {
        return (height + 2 * padH - kernelH) / strideH + 1;
    }

    /**
     * Output width for an input {@code width} and kernel {@code kernelW} columns, rounded down like {@link
     * #outHeight}.
     */
    public int outWidth(int width, int kernelW) {
        return (width + 2 * padW - kernelW) / strideW + 1;
    }
}
