package dev.retort.backend.cpu;

import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.Storage;

/** Host memory: one Java array of the storage's dtype; float arrays are recycled through {@link HostArrayPool}. */
public final class CpuStorage extends Storage {
    final float[] floats;
    final double[] doubles;
    final int[] ints;

    private CpuStorage(DType dtype, int size, float[] floats, double[] doubles, int[] ints) {
        // Float arrays go back to the pool; others need no explicit free.
        super(dtype, size, floats == null ? () -> { } : () -> HostArrayPool.give(floats));
        this.floats = floats;
        this.doubles = doubles;
        this.ints = ints;
    }

    static CpuStorage allocate(DType dtype, int size) {
        return switch (dtype) {
            case FLOAT32 -> new CpuStorage(dtype, size, HostArrayPool.take(size), null, null);
            case FLOAT64 -> new CpuStorage(dtype, size, null, new double[size], null);
            case INT32 -> new CpuStorage(dtype, size, null, null, new int[size]);
        };
    }

    /** A pooled copy of the data. */
    static CpuStorage copyOf(float[] data) {
        float[] copy = HostArrayPool.take(data.length);
        System.arraycopy(data, 0, copy, 0, data.length);
        return wrap(copy);
    }

    static CpuStorage wrap(float[] data) {
        return new CpuStorage(DType.FLOAT32, data.length, data, null, null);
    }

    static CpuStorage wrap(double[] data) {
        return new CpuStorage(DType.FLOAT64, data.length, null, data, null);
    }

    static CpuStorage wrap(int[] data) {
        return new CpuStorage(DType.INT32, data.length, null, null, data);
    }

    @Override
    public Device device() {
        return Device.CPU;
    }
}
