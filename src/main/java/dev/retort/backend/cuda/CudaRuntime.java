package dev.retort.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemPoolCreate;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD2D32Async;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.charset.StandardCharsets;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUmemAllocationHandleType;
import jcuda.driver.CUmemAllocationType;
import jcuda.driver.CUmemLocation;
import jcuda.driver.CUmemLocationType;
import jcuda.driver.CUmemPoolProps;
import jcuda.driver.CUmemoryPool;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * The process's one CUDA device, started on first use: the device's primary context, one non-blocking
 * stream that every kernel, copy and library call is queued on, the device-memory cache
 * ({@link DeviceAllocator}) and the pinned staging buffers ({@link PinnedStaging}).
 *
 * <p>Nothing here waits for the device except where the host reads a value ({@link #download}) or asks
 * to ({@link #synchronize}). One stream means stream order is the only ordering anyone needs: that is
 * what makes freed memory reusable at once and uploads safe to return early.
 *
 * <p>Threads: the primary context is bound to a thread the first time that thread calls in
 * ({@link #makeCurrent}); callers that launch work themselves (the kernel launchers, the JNI bridge)
 * call it first. Transfers and allocation are serialised by this object's lock.
 *
 * <p>The device is {@code RETORT_CUDA_DEVICE} (an ordinal, default 0).
 */
public final class CudaRuntime {
    /** Environment variable naming the device ordinal to use. */
    public static final String DEVICE_VARIABLE = "RETORT_CUDA_DEVICE";

    /** The oldest driver API the JCuda 12.6 bindings are used with: CUDA 12.0. */
    static final int MINIMUM_DRIVER_VERSION = 12000;

    private static final Object START_LOCK = new Object();
    private static volatile CudaRuntime instance;
    private static String startFailure;

    private final CudaDeviceInfo info;
    private final CUdevice device;
    private final CUcontext context;
    private final CUstream stream;
    private final CUmemoryPool pool;
    private final DeviceAllocator allocator;
    private final PinnedStaging staging;
    private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> Boolean.FALSE);

    /**
     * The started runtime.
     *
     * @throws CudaUnavailableException with the one-sentence reason when CUDA cannot start here
     */
    public static CudaRuntime get() {
        CudaRuntime r = instance;
        if (r != null) {
            return r;
        }
        String reason = tryStart();
        if (reason != null) {
            throw new CudaUnavailableException(reason);
        }
        return instance;
    }

    /** Starts the runtime once; null on success, else why not. Never throws, never retries a failure. */
    static String tryStart() {
        synchronized (START_LOCK) {
            if (instance != null) {
                return null;
            }
            if (startFailure != null) {
                return startFailure;
            }
            try {
                instance = start();
                return null;
            } catch (CudaUnavailableException e) {
                startFailure = e.getMessage();
            } catch (CudaException e) {
                startFailure = "CUDA could not start: " + e.getMessage();
            } catch (LinkageError e) {
                startFailure = DriverProbe.explain(e);
            }
            return startFailure;
        }
    }

    private static CudaRuntime start() {
        DriverProbe.checkPlatform();
        // Loads libJCudaDriver and with it libcuda.so.1: the first place a missing driver shows (a LinkageError).
        JCudaDriver.setExceptionsEnabled(false);
        int[] version = new int[1];
        int versionStatus = cuDriverGetVersion(version);
        if (versionStatus != CUresult.CUDA_SUCCESS) {
            // The toolkit's stub libcuda answers every call with CUDA_ERROR_STUB_LIBRARY, this one included.
            throw new CudaUnavailableException(DriverProbe.explainInit(versionStatus));
        }
        if (version[0] < MINIMUM_DRIVER_VERSION) {
            throw new CudaUnavailableException("the NVIDIA driver supports only CUDA "
                    + CudaDeviceInfo.formatVersion(version[0]) + ", older than the CUDA 12.0 that Retort's JCuda 12.6 "
                    + "bindings need; install NVIDIA driver 525 or newer");
        }
        int status = cuInit(0);
        if (status != CUresult.CUDA_SUCCESS) {
            throw new CudaUnavailableException(DriverProbe.explainInit(status));
        }
        int[] count = new int[1];
        CudaException.check(cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) {
            throw new CudaUnavailableException("the NVIDIA driver is installed but sees no CUDA device");
        }
        int ordinal = DriverProbe.deviceOrdinal(System.getenv(DEVICE_VARIABLE), count[0]);
        CUdevice device = new CUdevice();
        CudaException.check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        CudaDeviceInfo info = readInfo(device, ordinal, version[0]);
        if (info.computeMajor() < 5) {
            throw new CudaUnavailableException("device " + ordinal + " (" + info.name() + ") has compute capability "
                    + info.computeCapability() + "; CUDA 12 and Retort's kernels need 5.0 or newer");
        }

        // The primary context is the one the CUDA runtime, cuBLAS and cuDNN also use: one context per device
        // per process, so that memory and streams are shared with the libraries the bridge calls.
        CUcontext context = new CUcontext();
        CudaException.check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
        CudaException.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");

        // Non-blocking: the legacy default stream, which other code in the process might use, does not
        // serialise with ours.
        CUstream stream = new RawHandles.Stream();
        CudaException.check(cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");

        CUmemoryPool pool = null;
        DeviceAllocator.Source source = DeviceAllocator.Source.SYNCHRONOUS;
        if (info.memoryPools()) {
            pool = new RawHandles.Pool();
            CUmemPoolProps props = new CUmemPoolProps();
            props.allocType = CUmemAllocationType.CU_MEM_ALLOCATION_TYPE_PINNED;
            props.handleTypes = CUmemAllocationHandleType.CU_MEM_HANDLE_TYPE_NONE;
            props.location = new CUmemLocation(CUmemLocationType.CU_MEM_LOCATION_TYPE_DEVICE, ordinal);
            if (cuMemPoolCreate(pool, props) == CUresult.CUDA_SUCCESS) {
                source = DeviceAllocator.Source.CREATED_POOL;
            } else {
                pool = null;
                source = DeviceAllocator.Source.DEFAULT_POOL;
            }
        }
        return new CudaRuntime(info, device, context, stream, pool, source);
    }

    private static CudaDeviceInfo readInfo(CUdevice device, int ordinal, int driverVersion) {
        byte[] name = new byte[256];
        CudaException.check(cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int end = 0;
        while (end < name.length && name[end] != 0) {
            end++;
        }
        long[] total = new long[1];
        CudaException.check(cuDeviceTotalMem(total, device), "cuDeviceTotalMem");
        return new CudaDeviceInfo(ordinal, new String(name, 0, end, StandardCharsets.UTF_8),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR), total[0],
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), driverVersion,
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED) != 0);
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] value = new int[1];
        CudaException.check(cuDeviceGetAttribute(value, attribute, device), "cuDeviceGetAttribute(" + attribute + ")");
        return value[0];
    }

    private CudaRuntime(CudaDeviceInfo info, CUdevice device, CUcontext context, CUstream stream, CUmemoryPool pool,
                        DeviceAllocator.Source source) {
        this.info = info;
        this.device = device;
        this.context = context;
        this.stream = stream;
        this.pool = pool;
        this.allocator = new DeviceAllocator(stream, pool, source, "device " + info.ordinal() + " (" + info.name() + ")");
        this.staging = new PinnedStaging(stream);
        bound.set(Boolean.TRUE);
    }

    // ---- what other CUDA code needs ------------------------------------------------------------

    /** The device's name, compute capability and memory, read when the runtime started. */
    public CudaDeviceInfo info() {
        return info;
    }

    /** The JCuda handle of the device this runtime drives. */
    public CUdevice device() {
        return device;
    }

    /**
     * The device's primary context, which every thread binds with {@link #makeCurrent} before a driver call.
     */
    public CUcontext context() {
        return context;
    }

    /** The one stream all device work goes on; kernels, cuBLAS and cuDNN must be queued on it. */
    public CUstream stream() {
        return stream;
    }

    /** The stream's raw handle, for the JNI bridge ({@code cublasSetStream}, {@code cudnnSetStream}). */
    public long streamAddress() {
        return RawHandles.address(stream);
    }

    /** The created memory pool's raw handle, or 0 when allocation uses the default pool or no pool. */
    public long poolAddress() {
        return pool == null ? 0 : RawHandles.address(pool);
    }

    /** Where device memory comes from, in words, for doctor and describe(). */
    public String allocationSource() {
        return switch (allocator.source()) {
            case CREATED_POOL -> "stream-ordered pool (created) + Retort's block cache";
            case DEFAULT_POOL -> "stream-ordered default pool + Retort's block cache";
            case SYNCHRONOUS -> "cuMemAlloc (no memory pools on this device) + Retort's block cache";
        };
    }

    /** Binds the primary context to the calling thread; cheap after the first call on a thread. */
    public void makeCurrent() {
        if (!bound.get()) {
            CudaException.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            bound.set(Boolean.TRUE);
        }
    }

    // ---- memory ----------------------------------------------------------------------------------

    /** A device block of at least {@code bytes} (positive); stream-ordered: usable by work queued after this. */
    public DevicePointer allocate(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("CudaRuntime.allocate: " + bytes + " bytes; must be positive");
        }
        makeCurrent();
        return allocator.allocate(bytes);
    }

    /**
     * Returns a block from {@link #allocate} (with the same byte count) for reuse by later work on the
     * stream. Touches no CUDA, so any thread may call it, the Cleaner's included.
     */
    public void free(DevicePointer block, long bytes) {
        allocator.free(block, bytes);
    }

    /** Gives cached blocks back to the driver (and the OS); the next steps allocate afresh. */
    public void releaseCachedMemory() {
        makeCurrent();
        allocator.releaseCached();
    }

    /** The allocator's counters: bytes in use, bytes and blocks cached for reuse, driver allocations and reuses; touches no CUDA. */
    public CudaMemoryStats memoryStats() {
        return allocator.stats();
    }

    /** {free, total} bytes of the device as the driver sees them (other processes included). */
    public long[] deviceMemory() {
        makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        CudaException.check(cuMemGetInfo(free, total), "cuMemGetInfo");
        return new long[] {free[0], total[0]};
    }

    // ---- transfers and fills (all queued on the stream) -------------------------------------------

    /**
     * Queues a copy of {@code count} floats from {@code source[from...]} to the device block through pinned
     * staging memory; returns without waiting for the device.
     */
    public synchronized void upload(float[] source, int from, int count, DevicePointer target) {
        makeCurrent();
        staging.upload(PinnedStaging.of(source), from, count, Float.BYTES, target);
    }

    /**
     * Queues a copy of {@code count} doubles from {@code source[from...]} to the device block; returns
     * without waiting for the device.
     */
    public synchronized void upload(double[] source, int from, int count, DevicePointer target) {
        makeCurrent();
        staging.upload(PinnedStaging.of(source), from, count, Double.BYTES, target);
    }

    /**
     * Queues a copy of {@code count} ints from {@code source[from...]} to the device block; returns without
     * waiting for the device.
     */
    public synchronized void upload(int[] source, int from, int count, DevicePointer target) {
        makeCurrent();
        staging.upload(PinnedStaging.of(source), from, count, Integer.BYTES, target);
    }

    /** Waits for all work queued before it, then copies; the host's only wait on the device besides {@link #synchronize}. */
    public synchronized void download(DevicePointer source, int count, float[] target, int from) {
        makeCurrent();
        staging.download(source, count, Float.BYTES, PinnedStaging.of(target), from);
    }

    /**
     * Waits for all work queued before it, then copies {@code count} doubles into {@code target[from...]}.
     */
    public synchronized void download(DevicePointer source, int count, double[] target, int from) {
        makeCurrent();
        staging.download(source, count, Double.BYTES, PinnedStaging.of(target), from);
    }

    /** Waits for all work queued before it, then copies {@code count} ints into {@code target[from...]}. */
    public synchronized void download(DevicePointer source, int count, int[] target, int from) {
        makeCurrent();
        staging.download(source, count, Integer.BYTES, PinnedStaging.of(target), from);
    }

    /**
     * Queues a device-to-device copy of {@code bytes} bytes on the stream; a zero count queues nothing.
     *
     * @throws CudaException if the driver refuses the copy
     */
    public void copy(DevicePointer source, DevicePointer target, long bytes) {
        if (bytes == 0) {
            return;
        }
        makeCurrent();
        CudaException.check(cuMemcpyDtoDAsync(target, source, bytes, stream), "cuMemcpyDtoDAsync of " + bytes + " bytes");
    }

    /** Sets {@code count} 32-bit words to {@code bits}. */
    public void fill32(DevicePointer target, int bits, long count) {
        if (count == 0) {
            return;
        }
        makeCurrent();
        CudaException.check(cuMemsetD32Async(target, bits, count, stream), "cuMemsetD32Async of " + count + " words");
    }

    /**
     * Sets {@code count} 64-bit words to {@code bits}: one 32-bit memset when both halves agree (0.0
     * among others), else two strided 2-D memsets, one per half (the driver has no 64-bit memset).
     */
    public void fill64(DevicePointer target, long bits, long count) {
        if (count == 0) {
            return;
        }
        int low = (int) bits;
        int high = (int) (bits >>> 32);
        if (low == high) {
            fill32(target, low, 2 * count);
            return;
        }
        makeCurrent();
        // Little-endian: the low word comes first. Pitch 8 bytes, one word wide, count rows.
        CudaException.check(cuMemsetD2D32Async(target, 8, low, 1, count, stream), "cuMemsetD2D32Async (low words)");
        CudaException.check(cuMemsetD2D32Async(target.plus(4), 8, high, 1, count, stream),
                "cuMemsetD2D32Async (high words)");
    }

    /** Waits until the device has finished all work queued so far. Call only where a host value is needed. */
    public void synchronize() {
        makeCurrent();
        CudaException.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    /** A start/stop pair of events on the stream for timing device work. */
    public CudaTimer timer() {
        makeCurrent();
        return new CudaTimer(stream);
    }
}
