package dev.retort.backend.cpu;

/**
 * The shape of one 2-D convolution (NCHW input, OIHW weights, one group, no dilation), as the CPU kernels need it.
 * The caller validates it; the output size follows PyTorch: {@code floor((size + 2 * pad - kernel) / stride) + 1}.
 */
public record Conv2dGeometry(int batch, int inChannels, int height, int width, int outChannels,
                             int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {

    /**
     * Output rows: {@code floor((height + 2 padH - kernelH) / strideH) + 1}; zero or less when the kernel
     * does not fit, which the caller rules out.
     */
    public int outHeight() {
        return Math.floorDiv(height + 2 * padH - kernelH, strideH) + 1;
    }

    /** Output columns, computed like {@link #outHeight}. */
    public int outWidth() {
        return Math.floorDiv(width + 2 * padW - kernelW, strideW) + 1;
    }
}
