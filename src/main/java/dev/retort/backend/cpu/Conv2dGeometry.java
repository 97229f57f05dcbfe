package dev.retort.backend.cpu;

/**
 * The shape of one 2-D convolution (NCHW input, OIHW weights, one group, no dilation), as the CPU kernels need it.
 * The caller validates it; the output size follows PyTorch: {@code floor((size + 2 * pad - kernel) / stride) + 1}.
 */
public record Conv2dGeometry(int batch, int inChannels, int height, int width, int outChannels,
                             int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {

    public int outHeight() {
        return Math.floorDiv(height + 2 * padH - kernelH, strideH) + 1;
    }

    public int outWidth() {
        return Math.floorDiv(width + 2 * padW - kernelW, strideW) + 1;
    }
}
