package dev.retort.backend.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * A CUDA driver call that did not return {@code CUDA_SUCCESS}: the message names the call, its
 * arguments where they help, and the status as the driver spells it. An {@link IllegalStateException},
 * so that the command line reports it in one line like other failures of the environment.
 */
public class CudaException extends IllegalStateException {
    private final int status;

    public CudaException(String message, int status) {
        super(message);
        this.status = status;
    }

    /** The CUresult code. */
    public int status() {
        return status;
    }

    /** Throws unless {@code status} is success; {@code call} names the driver function and what it was asked. */
    static void check(int status, String call) {
        if (status != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call + " failed: " + describe(status), status);
        }
    }

    /** "CUDA_ERROR_OUT_OF_MEMORY (out of memory)": the enum name, and the driver's own words when it has some. */
    static String describe(int status) {
        String name = CUresult.stringFor(status);
        try {
            String[] text = new String[1];
            if (JCudaDriver.cuGetErrorString(status, text) == CUresult.CUDA_SUCCESS && text[0] != null) {
                return name + " (" + text[0] + ")";
            }
        } catch (LinkageError e) {
            // The driver library is not loaded: the enum name alone has to do.
        }
        return name;
    }
}
