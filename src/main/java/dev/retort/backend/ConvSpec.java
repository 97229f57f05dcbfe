package dev.retort.backend;

/**
 * Stride and zero padding of a 2-D convolution (groups 1, dilation 1): the option a layer holds and the backend
 * takes. It stays apart from {@link ConvGeometry} because it is fixed when a layer is built, while the geometry
 * also needs the input and weight shapes of each call; {@link ConvGeometry#conv} joins the two.
 */
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
}
