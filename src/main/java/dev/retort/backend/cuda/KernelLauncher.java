package dev.retort.backend.cuda;

/**
 * Runs a planned kernel launch on a stream, asynchronously. The CUDA implementation is
 * {@link JCudaKernelLauncher}; tests substitute recorders and an emulator, so that everything up to the
 * driver call is checked without a GPU.
 */
@FunctionalInterface
public interface KernelLauncher {
    void launch(Launch launch);
}
