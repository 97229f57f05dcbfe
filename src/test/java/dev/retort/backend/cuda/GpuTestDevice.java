package dev.retort.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * Device memory and a stream through JCuda's driver API, for the bridge's GPU tests. It stands in for the CUDA
 * runtime's own context, stream and allocator, which the bridge does not depend on: the bridge only needs raw
 * addresses and a current context.
 */
final class GpuTestDevice implements AutoCloseable {

    /** A stream whose address the bridge can take (JCuda keeps getNativePointer protected). */
    static final class AddressedStream extends CUstream {
        long address() {
            return getNativePointer();
        }
    }

    /** A device allocation whose address the bridge can take. */
    static final class AddressedPointer extends CUdeviceptr {
        long address() {
            return getNativePointer();
        }
    }

    private final CUdevice device = new CUdevice();
    private final AddressedStream stream = new AddressedStream();
    private final List<AddressedPointer> allocations = new ArrayList<>();

    /** Null when a GPU, the driver and the CUDA libraries are usable; otherwise why not (the skip message). */
    static String unavailableReason() {
        if (NativeBridge.unavailableReason() != null) {
            return NativeBridge.unavailableReason();
        }
        try {
            CudaException.check(cuInit(0), "cuInit");
            int[] count = {0};
            CudaException.check(cuDeviceGetCount(count), "cuDeviceGetCount");
            if (count[0] == 0) {
                return "no CUDA device";
            }
        } catch (Throwable t) { // UnsatisfiedLinkError without libcuda.so.1, CudaException without a device
            String message = String.valueOf(t.getMessage());
            return message.contains("libcuda.so.1")
                    ? "libcuda.so.1 (the NVIDIA driver) is not installed"
                    : "the CUDA driver is not usable: " + t.getClass().getSimpleName() + ": "
                            + message.lines().findFirst().orElse("");
        }
        try {
            NativeBridge.initFromEnvironment(null);
        } catch (CudaLibraryException e) {
            return e.getMessage();
        }
        return null;
    }

    GpuTestDevice() {
        CudaException.check(cuDeviceGet(device, 0), "cuDeviceGet");
        CUcontext context = new CUcontext();
        CudaException.check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        CudaException.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
        // A blocking stream orders itself after the legacy default stream, where cuMemcpyHtoD runs.
        CudaException.check(cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate");
    }

    long stream() {
        return stream.address();
    }

    long upload(float[] values) {
        AddressedPointer p = allocate(values.length);
        CudaException.check(cuMemcpyHtoD(p, Pointer.to(values), values.length * 4L), "cuMemcpyHtoD");
        CudaException.check(cuCtxSynchronize(), "cuCtxSynchronize");
        return p.address();
    }

    /** Zeroed device memory for {@code count} floats. */
    long zeros(int count) {
        AddressedPointer p = allocate(count);
        CudaException.check(cuMemsetD32(p, 0, count), "cuMemsetD32");
        CudaException.check(cuCtxSynchronize(), "cuCtxSynchronize");
        return p.address();
    }

    /** Waits for the stream, then copies {@code count} floats back. */
    float[] download(long address, int count) {
        CudaException.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
        for (AddressedPointer p : allocations) {
            if (p.address() == address) {
                float[] out = new float[count];
                CudaException.check(cuMemcpyDtoH(Pointer.to(out), p, count * 4L), "cuMemcpyDtoH");
                return out;
            }
        }
        throw new IllegalArgumentException("download: 0x" + Long.toHexString(address) + " was not allocated here");
    }

    private AddressedPointer allocate(int count) {
        AddressedPointer p = new AddressedPointer();
        CudaException.check(cuMemAlloc(p, Math.max(1, count) * 4L), "cuMemAlloc");
        allocations.add(p);
        return p;
    }

    @Override
    public void close() {
        CudaException.check(cuCtxSynchronize(), "cuCtxSynchronize");
        for (AddressedPointer p : allocations) {
            CudaException.check(cuMemFree(p), "cuMemFree");
        }
        allocations.clear();
        CudaException.check(cuStreamDestroy(stream), "cuStreamDestroy");
        CudaException.check(cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
    }
}
