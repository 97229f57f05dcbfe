package dev.retort.backend.cuda;

/**
 * A cuBLAS, cuDNN or CUDA driver call failed, or one of those libraries could not be bound. The message names the
 * call and the library's status string, or the library, the folders searched and what to install.
 */
public class CudaLibraryException extends RuntimeException {

    /** Thrown from native/bridge_*.c through JNI's ThrowNew, which needs this constructor. */
    public CudaLibraryException(String message) {
        super(message);
    }
}
