package dev.retort.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A device address that can tell its raw value: JCuda keeps {@code getNativePointer()} protected, and the
 * JNI bridge and the kernel launchers need plain {@code long} addresses, so every allocation is made into
 * this subclass.
 */
public final class DevicePointer extends CUdeviceptr {
    /** An empty pointer for a driver call to fill in. */
    DevicePointer() {}

    private DevicePointer(DevicePointer base, long byteOffset) {
        super(base, byteOffset);
    }

    /** The device address this pointer designates (base plus byte offset). */
    public long address() {
        return getNativePointer() + getByteOffset();
    }

    /** The same allocation {@code bytes} further on. */
    public DevicePointer plus(long bytes) {
        return bytes == 0 ? this : new DevicePointer(this, bytes);
    }

    @Override
    public String toString() {
        return "0x" + Long.toHexString(address());
    }
}
