package dev.retort.backend.cuda;

import jcuda.driver.CUresult;

/** The device could not hold a requested allocation even after Retort returned its cached blocks to the driver. */
public final class CudaOutOfMemoryException extends CudaException {
    private final long requestedBytes;

    CudaOutOfMemoryException(String message, long requestedBytes) {
        super(message, CUresult.CUDA_ERROR_OUT_OF_MEMORY);
        this.requestedBytes = requestedBytes;
    }

    public long requestedBytes() {
        return requestedBytes;
    }
}
