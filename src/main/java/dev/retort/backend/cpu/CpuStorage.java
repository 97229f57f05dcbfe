package dev.retort.backend.cpu;

import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.Storage;

/** Host memory: one Java array of the storage's dtype. */
public final class CpuStorage extends Storage {
    final float[] floats;
    final double[] doubles;
    final int[] ints;

    private CpuStorage(DType dtype, int size, float[] floats, double[] doubles, int[] ints) {
        // Java arrays need no explicit free; the release hook only balances the live count.
        super(dtype, size, () -> { });
        this.floats = floats;
        this.doubles = doubles;
        this.ints = ints;
    }

    static CpuStorage allocate(DType dtype, int size) {
        return switch (dtype) {
            case FLOAT32 -> new CpuStorage(dtype, size, new float[size], null, null);
            case FLOAT64 -> new CpuStorage(dtype, size, null, new double[size], null);
            case INT32 -> new CpuStorage(dtype, size, null, null, new int[size]);
        };
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
