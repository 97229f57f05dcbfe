package dev.retort.backend.cuda;

/**
 * Runs a planned kernel launch on a stream, asynchronously. The CUDA implementation is
 * {@link JCudaKernelLauncher}; tests substitute recorders and an emulator, so that everything up to the
 * driver call is checked without a GPU.
 */
@FunctionalInterface
public interface KernelLauncher {
    /**
     * Queues the launch and returns without waiting; a failure may surface only at a later synchronising
     * call.
     *
     * @throws IllegalStateException if the kernel was not loaded or the driver rejects the launch
     */
    void launch(Launch launch);
}
