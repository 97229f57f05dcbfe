package dev.retort.backend.cuda;

import jcuda.driver.CUresult;

/** The device could not hold a requested allocation even after Retort returned its cached blocks to the driver. */
public final class CudaOutOfMemoryException extends CudaException {
    /** Size of the allocation that failed, in bytes. */
    private final long requestedBytes;

    CudaOutOfMemoryException(String message, long requestedBytes) {
        super(message, CUresult.CUDA_ERROR_OUT_OF_MEMORY);
        this.requestedBytes = requestedBytes;
    }

    /**
     * Size in bytes of the allocation the device could not satisfy, for messages that suggest a smaller
     * batch.
     */
    public long requestedBytes() {
        return requestedBytes;
    }
}
