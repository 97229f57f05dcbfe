package dev.retort.backend.cpu;

import dev.retort.backend.DType;
import dev.retort.backend.NdArray;
import java.util.Arrays;

/**
 * Lets the float64 reference kernels run on an array of any dtype: a (data, offset) pair that is the
 * array itself for float64 and a converted copy otherwise, with the conversions back.
 */
record DoubleView(double[] data, int offset) {

    static DoubleView read(NdArray x) {
        if (x.dtype() == DType.FLOAT64) {
            return new DoubleView(CpuBackend.storage(x).doubles, x.offset());
        }
        return new DoubleView(toDoubles(x), 0);
    }

    /** Where a reference kernel writes x: in place for float64, a scratch array otherwise. */
    static DoubleView target(NdArray x) {
        if (x.dtype() == DType.FLOAT64) {
            return new DoubleView(CpuBackend.storage(x).doubles, x.offset());
        }
        return new DoubleView(new double[x.size()], 0);
    }

    /** Publishes a scratch array written by a reference kernel (no-op for float64). */
    void commit(NdArray x) {
        if (x.dtype() != DType.FLOAT64) {
            store(data, offset, x);
        }
    }

    /** The elements of x as a double array of exactly its size. */
    static double[] whole(NdArray x) {
        DoubleView d = read(x);
        return d.offset == 0 && d.data.length == x.size() ? d.data : Arrays.copyOfRange(d.data, d.offset,
                d.offset + x.size());
    }

    static double[] toDoubles(NdArray x) {
        double[] out = new double[x.size()];
        CpuStorage s = CpuBackend.storage(x);
        int o = x.offset();
        switch (x.dtype()) {
            case FLOAT32 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = s.floats[o + i];
                }
            }
            case FLOAT64 -> System.arraycopy(s.doubles, o, out, 0, out.length);
            case INT32 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = s.ints[o + i];
                }
            }
        }
        return out;
    }

    /** Writes doubles into x with conversion to its dtype. */
    static void store(double[] values, int from, NdArray x) {
        CpuStorage s = CpuBackend.storage(x);
        int o = x.offset();
        int n = x.size();
        switch (x.dtype()) {
            case FLOAT32 -> {
                for (int i = 0; i < n; i++) {
                    s.floats[o + i] = (float) values[from + i];
                }
            }
            case FLOAT64 -> System.arraycopy(values, from, s.doubles, o, n);
            case INT32 -> {
                for (int i = 0; i < n; i++) {
                    s.ints[o + i] = (int) values[from + i];
                }
            }
        }
    }
}
