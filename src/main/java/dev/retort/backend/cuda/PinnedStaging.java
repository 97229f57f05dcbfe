package dev.retort.backend.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemHostAlloc;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;

/**
 * Host↔device copies of Java arrays through two reused page-locked (pinned) host buffers.
 *
 * <p>Why pinned and reused: the DMA engine reads and writes only page-locked memory, so a copy from a
 * Java array always goes through such a buffer; allocating one per copy costs far more than the copy.
 * Why two, each with an event: an upload returns as soon as its copy is queued (the host does not wait
 * for the device), and the next copy fills the other buffer while the first drains; a buffer is
 * refilled only after its event says the device has finished with it. A download queues its copy
 * behind all earlier work on the stream and waits on the event: that wait is the one host
 * synchronisation a read needs. Transfers larger than a buffer go through in chunks, alternating.
 *
 * <p>Not thread-safe: {@link CudaRuntime} serialises calls.
 */
final class PinnedStaging {
    /** Largest buffer: big enough to reach full PCIe/NVLink copy speed, small enough to keep two pinned. */
    static final int MAX_CHUNK = 16 << 20;
    private static final int MIN_CHUNK = 64 << 10;

    private final CUstream stream;
    private final Buffer[] buffers = {new Buffer(), new Buffer()};
    private int next;

    PinnedStaging(CUstream stream) {
        this.stream = stream;
    }

    private static final class Buffer {
        Pointer host;
        ByteBuffer bytes;
        int capacity;
        CUevent done;
        boolean pending;
    }

    /** Element-wise transfer between a Java array and a ByteBuffer view; one per primitive type. */
    interface ArrayAccess {
        /** Writes {@code count} elements of the array from {@code from} into the buffer at position 0. */
        void put(ByteBuffer target, int from, int count);

        /** Reads {@code count} elements from the buffer at position 0 into the array at {@code from}. */
        void get(ByteBuffer source, int from, int count);
    }

    static ArrayAccess of(float[] a) {
        return new ArrayAccess() {
            public void put(ByteBuffer t, int from, int n) {
                t.asFloatBuffer().put(a, from, n);
            }

            public void get(ByteBuffer s, int from, int n) {
                s.asFloatBuffer().get(a, from, n);
            }
        };
    }

    static ArrayAccess of(double[] a) {
        return new ArrayAccess() {
            public void put(ByteBuffer t, int from, int n) {
                t.asDoubleBuffer().put(a, from, n);
            }

            public void get(ByteBuffer s, int from, int n) {
                s.asDoubleBuffer().get(a, from, n);
            }
        };
    }

    static ArrayAccess of(int[] a) {
        return new ArrayAccess() {
            public void put(ByteBuffer t, int from, int n) {
                t.asIntBuffer().put(a, from, n);
            }

            public void get(ByteBuffer s, int from, int n) {
                s.asIntBuffer().get(a, from, n);
            }
        };
    }

    /** Queues the upload of {@code count} elements of {@code elementBytes} each; returns without waiting for it. */
    void upload(ArrayAccess array, int from, int count, int elementBytes, DevicePointer target) {
        int perChunk = MAX_CHUNK / elementBytes;
        for (int done = 0; done < count; ) {
            int n = Math.min(perChunk, count - done);
            Buffer b = take(n * elementBytes);
            array.put(b.bytes, from + done, n);
            CudaException.check(cuMemcpyHtoDAsync(target.plus((long) done * elementBytes), b.host,
                    (long) n * elementBytes, stream), "cuMemcpyHtoDAsync of " + (long) n * elementBytes + " bytes");
            record(b);
            done += n;
        }
    }

    /** Copies {@code count} elements from the device into the array; returns when they are there. */
    void download(DevicePointer source, int count, int elementBytes, ArrayAccess array, int from) {
        int perChunk = MAX_CHUNK / elementBytes;
        Buffer previous = null;
        int previousAt = 0;
        int previousCount = 0;
        for (int done = 0; done < count; ) {
            int n = Math.min(perChunk, count - done);
            Buffer b = take(n * elementBytes);
            CudaException.check(cuMemcpyDtoHAsync(b.host, source.plus((long) done * elementBytes),
                    (long) n * elementBytes, stream), "cuMemcpyDtoHAsync of " + (long) n * elementBytes + " bytes");
            record(b);
            // While this chunk is in flight, unpack the one before it.
            if (previous != null) {
                finish(previous, array, from + previousAt, previousCount);
            }
            previous = b;
            previousAt = done;
            previousCount = n;
            done += n;
        }
        if (previous != null) {
            finish(previous, array, from + previousAt, previousCount);
        }
    }

    private void finish(Buffer b, ArrayAccess array, int at, int n) {
        awaitIdle(b);
        array.get(b.bytes, at, n);
    }

    /** The next buffer, idle and at least {@code bytes} large. */
    private Buffer take(int bytes) {
        Buffer b = buffers[next];
        next ^= 1;
        awaitIdle(b);
        if (b.capacity < bytes) {
            grow(b, bytes);
        }
        b.bytes.clear();
        return b;
    }

    private static void awaitIdle(Buffer b) {
        if (b.pending) {
            CudaException.check(cuEventSynchronize(b.done), "cuEventSynchronize on a staging buffer");
            b.pending = false;
        }
    }

    private void record(Buffer b) {
        CudaException.check(cuEventRecord(b.done, stream), "cuEventRecord after a staging copy");
        b.pending = true;
    }

    private static void grow(Buffer b, int bytes) {
        int capacity = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, Integer.highestOneBit(bytes - 1) << 1));
        if (b.host != null) {
            CudaException.check(cuMemFreeHost(b.host), "cuMemFreeHost of a staging buffer");
        }
        if (b.done == null) {
            b.done = new CUevent();
            CudaException.check(cuEventCreate(b.done, CUevent_flags.CU_EVENT_DISABLE_TIMING),
                    "cuEventCreate for a staging buffer");
        }
        Pointer host = new Pointer();
        CudaException.check(cuMemHostAlloc(host, capacity, 0), "cuMemHostAlloc of " + capacity + " pinned bytes");
        b.host = host;
        b.bytes = host.getByteBuffer(0, capacity).order(ByteOrder.nativeOrder());
        b.capacity = capacity;
    }
}
