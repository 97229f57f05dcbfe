package dev.retort.backend.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * A CUDA driver call that did not return {@code CUDA_SUCCESS}: the message names the call, its
 * arguments where they help, and the status as the driver spells it. An {@link IllegalStateException},
 * so that the command line reports it in one line like other failures of the environment.
 */
public class CudaException extends IllegalStateException {
    /** The CUresult the failing call returned. */
    private final int status;

    /**
     * A failure with a ready-made message and the driver's status code.
     *
     * @param message the whole message users see: the call, its arguments where they help, the status in
     * words
     * @param status  the CUresult code the call returned
     */
    public CudaException(String message, int status) {
        super(message);
        this.status = status;
    }

    /** The CUresult code. */
    public int status() {
        return status;
    }

    /**
     * Throws unless {@code status} is success; {@code call} names the driver function and what it was asked. A
     * sticky fault ({@link #contextLost}) throws {@link CudaContextLostException}, whose message says that the call
     * named only noticed it.
     */
    static void check(int status, String call) {
        if (status == CUresult.CUDA_SUCCESS) {
            return;
        }
        if (contextLost(status)) {
            throw new CudaContextLostException(call, describe(status), status);
        }
        throw new CudaException(call + " failed: " + describe(status), status);
    }

    /**
     * True for the faults a kernel raises on the device (illegal or misaligned address, illegal instruction, a
     * failed assert, a launch that failed or timed out): CUDA reports them asynchronously, at whichever call comes
     * next, and from then on every call in the context returns the same error.
     */
    static boolean contextLost(int status) {
        return switch (status) {
            case CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, CUresult.CUDA_ERROR_LAUNCH_FAILED,
                 CUresult.CUDA_ERROR_MISALIGNED_ADDRESS, CUresult.CUDA_ERROR_ILLEGAL_INSTRUCTION,
                 CUresult.CUDA_ERROR_INVALID_ADDRESS_SPACE, CUresult.CUDA_ERROR_INVALID_PC,
                 CUresult.CUDA_ERROR_HARDWARE_STACK_ERROR, CUresult.CUDA_ERROR_ASSERT,
                 CUresult.CUDA_ERROR_LAUNCH_TIMEOUT -> true;
            default -> false;
        };
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
