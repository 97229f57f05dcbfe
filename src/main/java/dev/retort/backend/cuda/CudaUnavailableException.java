package dev.retort.backend.cuda;

/** CUDA cannot be used in this process; the message is the one-sentence reason users see. */
public final class CudaUnavailableException extends IllegalStateException {
    /**
     * @param reason the one sentence that names what is missing and what to install, as {@link
     * CudaAvailability} words it
     */
    public CudaUnavailableException(String reason) {
        super(reason);
    }
}
