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
import jcuda.driver.JCudaDriver;

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
        JCudaDriver.setExceptionsEnabled(true);
        cuDeviceGet(device, 0);
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        cuStreamCreate(stream, 0);
        byte[] bytes = new byte[256];
        cuDeviceGetName(bytes, bytes.length, device);
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
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = {0};
            cuDeviceGetCount(count);
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
        cuMemAlloc(a, size);
        cuMemsetD8(a, (byte) 0, size);
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
        cuStreamSynchronize(stream);
        cuMemcpyHtoD(at(address), Pointer.to(bytes), bytes.length);
    }

    @Override
    public byte[] read(long address, int bytes) {
        cuStreamSynchronize(stream);
        byte[] out = new byte[bytes];
        cuMemcpyDtoH(Pointer.to(out), at(address), bytes);
        return out;
    }

    @Override
    public void synchronize() {
        cuStreamSynchronize(stream);
    }

    @Override
    public String describe() {
        return name;
    }

    @Override
    public void close() {
        cuStreamSynchronize(stream);
        kernels.close();
        for (Address a : allocations.values()) {
            cuMemFree(a);
        }
        allocations.clear();
        cuStreamDestroy(stream);
        cuDevicePrimaryCtxRelease(device);
    }
}
