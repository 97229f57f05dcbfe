package dev.retort.backend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The parameters of one kernel launch, in the kernel's order and with the kernel's C types: what
 * {@code cuLaunchKernel} reads through its array of parameter pointers. The type of each value must match
 * the CUDA signature exactly (the driver copies as many bytes as the kernel declares), so every value is
 * added through a method named for its C type.
 */
public final class KernelArgs {
    /** C parameter types a kernel takes. STRUCT is a by-value struct of ints (BroadcastIndex, SumToIndex). */
    public enum Kind {
        /** A device pointer: an address, 8 bytes. */
        POINTER(8),
        /** A C {@code int}: sizes and op codes that fit 32 bits. */
        INT(4),
        /** A C {@code long long}: element counts, which may pass 2^31. */
        LONG_LONG(8),
        /** A C {@code float}: scalars the kernel computes with in single precision. */
        FLOAT(4),
        /** A C {@code double}: scalars the CPU reference also keeps in double (temperature, smoothing). */
        DOUBLE(8),
        /** A by-value struct of ints; its size depends on the struct. */
        STRUCT(-1);

        private final int bytes;

        Kind(int bytes) {
            this.bytes = bytes;
        }

        /** Size of a value of this kind in bytes; for STRUCT, -1 (it is 4 per int). */
        public int bytes() {
            return bytes;
        }
    }

    /** One parameter: its kind and value (bits for scalars and pointers, ints for a struct). */
    public record Arg(Kind kind, long bits, int[] ints) {
        /** Bytes the driver copies for this parameter: the kind's size, or 4 per int of a struct. */
        public int byteSize() {
            return kind == Kind.STRUCT ? 4 * ints.length : kind.bytes();
        }

        /** The value of a FLOAT parameter, from the low 32 bits. */
        public float floatValue() {
            return Float.intBitsToFloat((int) bits);
        }

        /** The value of a DOUBLE parameter, from its 64 bits. */
        public double doubleValue() {
            return Double.longBitsToDouble(bits);
        }

        @Override
        public String toString() {
            return switch (kind) {
                case POINTER -> "0x" + Long.toHexString(bits);
                case INT, LONG_LONG -> Long.toString(bits);
                case FLOAT -> Float.toString(floatValue());
                case DOUBLE -> Double.toString(doubleValue());
                case STRUCT -> Arrays.toString(ints);
            };
        }
    }

    private final List<Arg> args = new ArrayList<>();

    /** Appends a device pointer (a raw address, already offset to the view's first element). */
    public KernelArgs pointer(long address) {
        args.add(new Arg(Kind.POINTER, address, null));
        return this;
    }

    /** Appends a C {@code int}. */
    public KernelArgs i32(int value) {
        args.add(new Arg(Kind.INT, value, null));
        return this;
    }

    /** Appends a C {@code long long}. */
    public KernelArgs i64(long value) {
        args.add(new Arg(Kind.LONG_LONG, value, null));
        return this;
    }

    /** Appends a C {@code float}, bit for bit (NaN payloads kept). */
    public KernelArgs f32(float value) {
        args.add(new Arg(Kind.FLOAT, Float.floatToRawIntBits(value) & 0xffffffffL, null));
        return this;
    }

    /** Appends a C {@code double}, bit for bit. */
    public KernelArgs f64(double value) {
        args.add(new Arg(Kind.DOUBLE, Double.doubleToRawLongBits(value), null));
        return this;
    }

    /** A struct of ints passed by value; the array is copied. */
    public KernelArgs struct(int[] ints) {
        args.add(new Arg(Kind.STRUCT, 0, ints.clone()));
        return this;
    }

    /** The parameters in order, read-only; later appends show through. */
    public List<Arg> list() {
        return Collections.unmodifiableList(args);
    }

    /** Number of parameters appended so far. */
    public int size() {
        return args.size();
    }

    /** The {@code i}-th parameter, counting from 0 in the kernel's order. */
    public Arg get(int i) {
        return args.get(i);
    }

    @Override
    public String toString() {
        return args.toString();
    }
}
