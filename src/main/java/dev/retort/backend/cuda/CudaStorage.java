package dev.retort.backend.cuda;

import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.NdArray;
import dev.retort.backend.Storage;

/**
 * Device memory for one storage: a block from {@link CudaRuntime#allocate}, handed back with
 * {@link CudaRuntime#free} when the last owner releases it.
 *
 * <p>The free is the same on every path, the explicit release and the {@link java.lang.ref.Cleaner}
 * backstop alike: the block goes back into the runtime's cache, a Java-side structure, and no CUDA
 * call is made (see {@link DeviceAllocator}). So the Cleaner's thread never touches the driver, and a
 * leaked block becomes reusable by later work on the stream, which stream order keeps safe. Empty
 * storages hold no block at all.
 */
public final class CudaStorage extends Storage {
    private final DevicePointer pointer;
    private final long bytes;

    private CudaStorage(DType dtype, int size, DevicePointer pointer, long bytes, CudaRuntime runtime) {
        super(dtype, size, freeAction(runtime, pointer, bytes));
        this.pointer = pointer;
        this.bytes = bytes;
    }

    /** Must not capture the storage itself, or the Cleaner could never run. */
    private static Runnable freeAction(CudaRuntime runtime, DevicePointer pointer, long bytes) {
        return pointer == null ? () -> { } : () -> runtime.free(pointer, bytes);
    }

    /** A new storage of {@code size} elements with undefined contents. */
    public static CudaStorage allocate(CudaRuntime runtime, DType dtype, int size) {
        long bytes = (long) size * dtype.bytes();
        DevicePointer p = bytes == 0 ? null : runtime.allocate(bytes);
        return new CudaStorage(dtype, size, p, bytes, runtime);
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    /** Bytes of the storage's elements (the block may be larger). */
    public long bytes() {
        return bytes;
    }

    /** The start of the block; throws when released (a use after free would read another tensor's data). */
    public DevicePointer pointer() {
        if (isReleased()) {
            throw new IllegalStateException("CUDA storage of " + size() + " " + dtype() + " elements was already "
                    + "released");
        }
        if (pointer == null) {
            throw new IllegalStateException("CUDA storage of 0 elements has no device memory");
        }
        return pointer;
    }

    /** The raw device address of the block's start, for the JNI bridge. */
    public long address() {
        return pointer().address();
    }

    /** The storage of a CUDA array; a clear error for an array on another device. */
    public static CudaStorage of(NdArray x) {
        if (!(x.storage() instanceof CudaStorage s)) {
            throw new IllegalArgumentException("expected an array on cuda, got " + x);
        }
        return s;
    }

    /** Where x's first element is: the block's start plus the view's offset. */
    public static DevicePointer pointer(NdArray x) {
        return of(x).pointer().plus((long) x.offset() * x.dtype().bytes());
    }

    /** The raw device address of x's first element, for the JNI bridge. */
    public static long address(NdArray x) {
        return pointer(x).address();
    }
}
