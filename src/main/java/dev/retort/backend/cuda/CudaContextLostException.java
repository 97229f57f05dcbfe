package dev.retort.backend.cuda;

import dev.retort.backend.DeviceLost;

/**
 * A sticky CUDA fault, reported by whichever driver call came after the kernel or copy that caused it: the
 * message says so (it used to read as a failure of that later call, "cuEventSynchronize on a staging buffer"),
 * how to find the culprit, and that the process must restart to use the GPU again. A {@link CudaException}, so
 * existing handlers of driver failures still see it, and {@link DeviceLost}, so backend-neutral callers can stop.
 */
public final class CudaContextLostException extends CudaException implements DeviceLost {
    CudaContextLostException(String call, String status, int code) {
        super("the GPU faulted: " + status + ", reported by " + call + ", but caused by a kernel or copy queued before"
                + " it (CUDA reports device faults at the next call that waits); the CUDA context is now unusable, so "
                + "every later GPU operation in this process fails the same way. Rerun with CUDA_LAUNCH_BLOCKING=1 to "
                + "have the failing launch itself report it", code);
    }
}
