package dev.retort.backend.cuda;

import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.NdArray;
import dev.retort.backend.Shapes;
import dev.retort.backend.cpu.CpuBackend;

/**
 * The CUDA backend's memory and transfers: arrays in device memory ({@link CudaStorage}), host-to-device and
 * device-to-host copies (the runtime stages them through its pinned buffers), fills, device-to-device copies, and
 * the one growable scratch workspace every op shares. {@link CudaBackend} owns one and answers the memory half of
 * the {@code Backend} interface with it.
 *
 * <p>It queues only copies and fills on the runtime's stream and launches none of our kernels, so it needs neither
 * the kernel images nor the cuBLAS/cuDNN bridge: the on-device dtype conversions, which are kernels, stay with the
 * backend's op dispatch.
 */
final class CudaMemory {
    private final CudaRuntime runtime;

    /**
     * One growable block of device scratch memory shared by every op (the reductions' partials, the KD loss's
     * per-row terms, batch-norm statistics). Ops run one at a time in stream order, so one block is enough: an op
     * queued later reuses it only after the earlier one's kernels ran. Growing frees the old block into the
     * runtime's stream-ordered cache, which is safe for the same reason.
     */
    private DevicePointer workspace;
    private long workspaceBytes;

    /** Memory on {@code runtime}'s context and stream. */
    CudaMemory(CudaRuntime runtime) {
        this.runtime = runtime;
    }

    /** A new array of {@code shape} with undefined contents. */
    NdArray empty(DType dtype, int... shape) {
        return new NdArray(CudaStorage.allocate(runtime, dtype, Shapes.size(shape)), 0, shape);
    }

    /** A new FLOAT32 array holding {@code data}. */
    NdArray fromHost(float[] data, int... shape) {
        CudaStorage s = CudaStorage.allocate(runtime, DType.FLOAT32, data.length);
        if (data.length > 0) {
            runtime.upload(data, 0, data.length, s.pointer());
        }
        return new NdArray(s, 0, shape);
    }

    /** A new FLOAT64 array holding {@code data}. */
    NdArray fromHost(double[] data, int... shape) {
        CudaStorage s = CudaStorage.allocate(runtime, DType.FLOAT64, data.length);
        if (data.length > 0) {
            runtime.upload(data, 0, data.length, s.pointer());
        }
        return new NdArray(s, 0, shape);
    }

    /** A new INT32 array holding {@code data}. */
    NdArray fromHost(int[] data, int... shape) {
        CudaStorage s = CudaStorage.allocate(runtime, DType.INT32, data.length);
        if (data.length > 0) {
            runtime.upload(data, 0, data.length, s.pointer());
        }
        return new NdArray(s, 0, shape);
    }

    /** The elements in their own dtype: one of float[], double[], int[]. */
    private Object download(NdArray x) {
        int n = x.size();
        return switch (x.dtype()) {
            case FLOAT32 -> {
                float[] out = new float[n];
                if (n > 0) {
                    runtime.download(CudaStorage.pointer(x), n, out, 0);
                }
                yield out;
            }
            case FLOAT64 -> {
                double[] out = new double[n];
                if (n > 0) {
                    runtime.download(CudaStorage.pointer(x), n, out, 0);
                }
                yield out;
            }
            case INT32 -> {
                int[] out = new int[n];
                if (n > 0) {
                    runtime.download(CudaStorage.pointer(x), n, out, 0);
                }
                yield out;
            }
        };
    }

    /** The elements of a device array as doubles; waits for the stream. */
    double[] toDoubles(NdArray x) {
        Object data = download(x);
        if (data instanceof double[] d) {
            return d;
        }
        double[] out = new double[x.size()];
        if (data instanceof float[] f) {
            for (int i = 0; i < out.length; i++) {
                out[i] = f[i];
            }
        } else {
            int[] v = (int[]) data;
            for (int i = 0; i < out.length; i++) {
                out[i] = v[i];
            }
        }
        return out;
    }

    /** The elements of a device array as floats; waits for the stream. */
    float[] toFloats(NdArray x) {
        if (x.dtype() == DType.FLOAT32) {
            return (float[]) download(x);
        }
        // As the CPU backend converts: through double, then a narrowing cast.
        double[] d = toDoubles(x);
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (float) d[i];
        }
        return out;
    }

    /** The elements of a device array as ints; waits for the stream. */
    int[] toInts(NdArray x) {
        if (x.dtype() == DType.INT32) {
            return (int[]) download(x);
        }
        double[] d = toDoubles(x);
        int[] out = new int[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (int) d[i];
        }
        return out;
    }

    /** A 64-bit integer at {@code source} (little-endian, as the kernels write it); waits for the stream. */
    long downloadLong(DevicePointer source) {
        int[] words = new int[2];
        runtime.download(source, 2, words, 0);
        return (words[0] & 0xFFFFFFFFL) | ((long) words[1] << 32);
    }

    /** Sets every element of a device array to {@code value}, cast to its dtype. */
    void fill(NdArray out, double value) {
        if (out.size() == 0) {
            return;
        }
        DevicePointer p = CudaStorage.pointer(out);
        switch (out.dtype()) {
            case FLOAT32 -> runtime.fill32(p, Float.floatToRawIntBits((float) value), out.size());
            case INT32 -> runtime.fill32(p, (int) value, out.size());
            case FLOAT64 -> runtime.fill64(p, Double.doubleToRawLongBits(value), out.size());
        }
    }

    /**
     * Copies {@code src} into {@code dst}, of the same size and at least one of them on the device, except the
     * device-to-device FLOAT32/INT32 conversions (those are kernels). Same dtype on the device is one
     * device-to-device copy; every other conversion goes through the host, converting as the CPU backend does
     * (through double).
     */
    void copy(NdArray src, NdArray dst) {
        boolean fromDevice = src.device() == Device.CUDA;
        boolean toDevice = dst.device() == Device.CUDA;
        if (fromDevice && toDevice && src.dtype() == dst.dtype()) {
            runtime.copy(CudaStorage.pointer(src), CudaStorage.pointer(dst), (long) src.size() * src.dtype().bytes());
        } else if (toDevice) {
            uploadInto(dst, src, fromDevice);
        } else {
            // Device to host: bring the values over, then let the CPU backend convert and store them.
            CpuBackend cpu = CpuBackend.get();
            NdArray host = switch (src.dtype()) {
                case FLOAT32 -> cpu.fromHost(toFloats(src), src.shape());
                case FLOAT64 -> cpu.fromHost(toDoubles(src), src.shape());
                case INT32 -> cpu.fromHost(toInts(src), src.shape());
            };
            try {
                cpu.copy(host, dst);
            } finally {
                host.storage().release();
            }
        }
    }

    /** Reads src (from the device, or through the CPU backend), converted to dst's dtype, and uploads it. */
    private void uploadInto(NdArray dst, NdArray src, boolean fromDevice) {
        DevicePointer p = CudaStorage.pointer(dst);
        CpuBackend cpu = CpuBackend.get();
        switch (dst.dtype()) {
            case FLOAT32 -> runtime.upload(fromDevice ? toFloats(src) : cpu.toFloats(src), 0, src.size(), p);
            case FLOAT64 -> runtime.upload(fromDevice ? toDoubles(src) : cpu.toDoubles(src), 0, src.size(), p);
            case INT32 -> runtime.upload(fromDevice ? toInts(src) : cpu.toInts(src), 0, src.size(), p);
        }
    }

    /**
     * The shared scratch block, grown to at least {@code bytes} (at least doubling, at least 64 KiB); its
     * contents are undefined.
     */
    synchronized DevicePointer workspace(long bytes) {
        if (bytes > workspaceBytes) {
            if (workspace != null) {
                runtime.free(workspace, workspaceBytes);
            }
            long grown = Math.max(bytes, Math.max(workspaceBytes * 2, 1L << 16));
            workspace = runtime.allocate(grown);
            workspaceBytes = grown;
        }
        return workspace;
    }
}
