package dev.retort.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxCreate;
import static jcuda.driver.JCudaDriver.cuCtxDestroy;
import static jcuda.driver.JCudaDriver.cuCtxGetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What the emulated CUDA device catches that the Java stand-ins could not: a launch from a thread with no current
 * context, a kernel argument passed in the wrong place, and a write past an allocation, each
 * reported as a GPU would (the fault at the next wait, the context unusable after). Each test works in a context of
 * its own, so the faults it provokes leave the primary context, which the other tests share, healthy.
 */
@Tag("emulated")
class EmulatedDeviceTest {
    private final CUcontext previous = new CUcontext();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private CudaKernels kernels;

    @BeforeAll
    static void device() {
        String reason = GpuAssumptions.emulated() ? JCudaTestDevice.unavailableReason() : "not the emulated device";
        GpuAssumptions.assumeDevice(reason, "no emulated CUDA device");
    }

    @BeforeEach
    void ownContext() {
        check(cuInit(0));
        check(cuCtxGetCurrent(previous));
        CUdevice device = new CUdevice();
        check(cuDeviceGet(device, 0));
        check(cuCtxCreate(context, 0, device));
        check(cuStreamCreate(stream, 0));
        kernels = CudaKernels.load(KernelImages.load(), stream);
    }

    @AfterEach
    void restore() {
        kernels.close();
        check(cuCtxDestroy(context));
        check(cuCtxSetCurrent(previous));
    }

    private static void check(int result) {
        assertEquals(CUresult.CUDA_SUCCESS, result, () -> CUresult.stringFor(result));
    }

    private static GpuTestDevice.AddressedPointer allocate(long bytes) {
        GpuTestDevice.AddressedPointer p = new GpuTestDevice.AddressedPointer();
        check(cuMemAlloc(p, bytes));
        return p;
    }

    private static float[] floats(CUdeviceptr p, int n) {
        float[] out = new float[n];
        check(cuMemcpyDtoH(Pointer.to(out), p, 4L * n));
        return out;
    }

    @Test
    void aLaunchFromAThreadWithNoCurrentContextIsRefused() throws InterruptedException {
        CUmodule module = new CUmodule();
        check(cuModuleLoadData(module, KernelImages.load().image("elementwise")));
        CUfunction fill = new CUfunction();
        check(cuModuleGetFunction(fill, module, "fill_f32"));
        GpuTestDevice.AddressedPointer out = allocate(4 * 64);
        Pointer params = JCudaKernelLauncher.parameters(new KernelArgs().pointer(out.address()).i64(64).f32(1f));
        AtomicInteger result = new AtomicInteger(-1);
        Thread fresh = new Thread(() -> result.set(cuLaunchKernel(fill, 1, 1, 1, 64, 1, 1, 0, stream, params, null)));
        fresh.start();
        fresh.join();
        assertEquals(CUresult.CUDA_ERROR_INVALID_CONTEXT, result.get(), CUresult.stringFor(result.get()));
    }

    /** The launcher makes its context current on a thread whose first CUDA call is a launch. */
    @Test
    void theKernelLauncherMakesItsContextCurrentOnAFreshThread() throws InterruptedException {
        GpuTestDevice.AddressedPointer out = allocate(4 * 100);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread fresh = new Thread(() -> {
            try {
                kernels.fill(out.address(), 100, 2.5);
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        fresh.start();
        fresh.join();
        assertEquals(null, failure.get());
        check(cuCtxSynchronize());
        float[] expected = new float[100];
        Arrays.fill(expected, 2.5f);
        assertArrayEquals(expected, floats(out, 100));
    }

    /** A launch whose arguments are in the wrong order returns at once; the next wait reports the fault. */
    @Test
    void aSwappedKernelArgumentFaultsTheContextAtTheNextWait() {
        GpuTestDevice.AddressedPointer out = allocate(4 * 64);
        JCudaKernelLauncher launcher = new JCudaKernelLauncher(KernelImages.load(), stream);
        try {
            launcher.launch(new Launch("fill_f32", 1, 64, 1, new KernelArgs().pointer(out.address()).i64(64).f32(1f)));
            check(cuCtxSynchronize());
            // fill_f32(float* out, long long n, float value) given (n, out, value): n lands where the pointer goes.
            launcher.launch(new Launch("fill_f32", 1, 64, 1, new KernelArgs().i64(64).pointer(out.address()).f32(1f)));
            assertEquals(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, cuCtxSynchronize());
            // Sticky, as on a GPU: the context is unusable from then on.
            assertEquals(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, cuMemcpyDtoH(Pointer.to(new float[1]), out, 4));
            // Item 7: the runtime's message blames the earlier launch, not the call that noticed the fault.
            CudaContextLostException e = assertThrows(CudaContextLostException.class,
                    () -> CudaException.check(cuCtxSynchronize(), "cuEventSynchronize on a staging buffer"));
            assertTrue(e.getMessage().contains("caused by a kernel or copy queued before it"), e.getMessage());
        } finally {
            launcher.close();
        }
    }

    @Test
    void aKernelWritingPastItsAllocationFaultsTheContext() {
        GpuTestDevice.AddressedPointer out = allocate(4 * 64);
        kernels.fill(out.address(), 64 + 16, 1.0);
        assertEquals(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, cuCtxSynchronize());
    }
}
