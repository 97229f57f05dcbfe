package dev.retort.backend;

/**
 * Window, stride and padding of a 2-D pooling: the option a layer holds and the backend takes; {@link
 * ConvGeometry#pool} joins it to an input shape.
 */
public record PoolSpec(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
    /**
     * Checks the geometry.
     *
     * @throws IllegalArgumentException if a kernel size or stride is below 1, a padding negative, or a
     * padding more than half its kernel (which PyTorch refuses, since a window could then hold only padding)
     */
    public PoolSpec {
        if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1 || padH < 0 || padW < 0) {
            throw new IllegalArgumentException("pool2d: kernel and stride must be at least 1 and padding not negative,"
                    + " got kernel (" + kernelH + ", " + kernelW + "), stride (" + strideH + ", " + strideW
                    + "), padding (" + padH + ", " + padW + ")");
        }
        if (2 * padH > kernelH || 2 * padW > kernelW) {
            throw new IllegalArgumentException("pool2d: padding (" + padH + ", " + padW
                    + ") must be at most half the kernel (" + kernelH + ", " + kernelW + "), as in PyTorch");
        }
    }
}
