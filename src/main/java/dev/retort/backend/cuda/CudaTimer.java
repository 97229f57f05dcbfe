package dev.retort.backend.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;

/**
 * Times device work between {@link #start} and {@link #stop} with two events on the runtime's stream:
 * device time, not host time, so that queueing and launch overhead on the host do not count, and no
 * synchronisation happens until {@link #elapsedMillis} is read. Reusable; close it to free the events.
 */
public final class CudaTimer implements AutoCloseable {
    private final CUstream stream;
    private final CUevent begin = new CUevent();
    private final CUevent end = new CUevent();
    private boolean closed;

    CudaTimer(CUstream stream) {
        this.stream = stream;
        CudaException.check(cuEventCreate(begin, CUevent_flags.CU_EVENT_DEFAULT), "cuEventCreate (timer start)");
        CudaException.check(cuEventCreate(end, CUevent_flags.CU_EVENT_DEFAULT), "cuEventCreate (timer stop)");
    }

    /**
     * Records the start event on the stream: work queued after this call is timed. Returns this timer, for
     * chaining.
     */
    public CudaTimer start() {
        CudaException.check(cuEventRecord(begin, stream), "cuEventRecord (timer start)");
        return this;
    }

    /**
     * Records the stop event on the stream, after the work to be timed; does not wait. Returns this timer.
     */
    public CudaTimer stop() {
        CudaException.check(cuEventRecord(end, stream), "cuEventRecord (timer stop)");
        return this;
    }

    /** Device milliseconds between the last start and stop; waits for the stop event. */
    public float elapsedMillis() {
        CudaException.check(cuEventSynchronize(end), "cuEventSynchronize (timer)");
        float[] ms = new float[1];
        CudaException.check(cuEventElapsedTime(ms, begin, end), "cuEventElapsedTime");
        return ms[0];
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cuEventDestroy(begin);
            cuEventDestroy(end);
        }
    }
}
