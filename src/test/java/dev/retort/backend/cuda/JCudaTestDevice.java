package dev.retort.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD8;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * The first CUDA device through JCuda, for the gpu-tagged parity tests: primary context, one stream, plain
 * cuMemAlloc. Independent of the CUDA backend's runtime, so that the kernels are tested on their own.
 */
final class JCudaTestDevice implements KernelTestDevice {
    /** A device pointer whose address can be read (getNativePointer is protected in JCuda). */
    private static final class Address extends CUdeviceptr {
        long address() {
            return getNativePointer();
        }
    }

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final CudaKernels kernels;
    private final String name;
    private final TreeMap<Long, Address> allocations = new TreeMap<>();

    private JCudaTestDevice() {
        CudaException.check(cuDeviceGet(device, 0), "cuDeviceGet");
        CudaException.check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        CudaException.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
        CudaException.check(cuStreamCreate(stream, 0), "cuStreamCreate");
        byte[] bytes = new byte[256];
        CudaException.check(cuDeviceGetName(bytes, bytes.length, device), "cuDeviceGetName");
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        name = new String(bytes, 0, end, StandardCharsets.UTF_8);
        kernels = CudaKernels.load(KernelImages.load(), stream);
    }

    /** Why no CUDA device can be used here, or null. */
    static String unavailableReason() {
        try {
            CudaException.check(cuInit(0), "cuInit");
            int[] count = {0};
            CudaException.check(cuDeviceGetCount(count), "cuDeviceGetCount");
            if (count[0] == 0) {
                return "no CUDA device";
            }
        } catch (Throwable e) { // UnsatisfiedLinkError without libcuda, CudaException without a driver or device
            return "CUDA is not usable here: " + e;
        }
        KernelImages images = KernelImages.load();
        return images.available() ? null : images.unavailableReason();
    }

    static JCudaTestDevice start() {
        return new JCudaTestDevice();
    }

    @Override
    public CudaKernels kernels() {
        return kernels;
    }

    @Override
    public long allocate(long bytes) {
        Address a = new Address();
        long size = Math.max(256, (bytes + 255) / 256 * 256);
        CudaException.check(cuMemAlloc(a, size), "cuMemAlloc");
        CudaException.check(cuMemsetD8(a, (byte) 0, size), "cuMemsetD8");
        allocations.put(a.address(), a);
        return a.address();
    }

    private CUdeviceptr at(long address) {
        Map.Entry<Long, Address> e = allocations.floorEntry(address);
        if (e == null) {
            throw new IllegalArgumentException("0x" + Long.toHexString(address) + " is not in an allocation");
        }
        return e.getValue().withByteOffset(address - e.getKey());
    }

    @Override
    public void write(long address, byte[] bytes) {
        CudaException.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
        CudaException.check(cuMemcpyHtoD(at(address), Pointer.to(bytes), bytes.length), "cuMemcpyHtoD");
    }

    @Override
    public byte[] read(long address, int bytes) {
        CudaException.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
        byte[] out = new byte[bytes];
        CudaException.check(cuMemcpyDtoH(Pointer.to(out), at(address), bytes), "cuMemcpyDtoH");
        return out;
    }

    @Override
    public void synchronize() {
        CudaException.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    @Override
    public String describe() {
        return name;
    }

    @Override
    public void close() {
        CudaException.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
        kernels.close();
        for (Address a : allocations.values()) {
            CudaException.check(cuMemFree(a), "cuMemFree");
        }
        allocations.clear();
        CudaException.check(cuStreamDestroy(stream), "cuStreamDestroy");
        CudaException.check(cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
    }
}
