package dev.retort.backend.cuda;

/** CUDA cannot be used in this process; the message is the one-sentence reason users see. */
public final class CudaUnavailableException extends IllegalStateException {
    public CudaUnavailableException(String reason) {
        super(reason);
    }
}
