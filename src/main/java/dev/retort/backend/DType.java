package dev.retort.backend;

/** Element types of tensors: float32 for training, float64 for gradient checks, int32 for labels and indices. */
public enum DType {
    /** IEEE single precision: what training computes in on every device. */
    FLOAT32(4, "float32"),
    /** IEEE double precision: the CPU's reference for gradient checks and the parity sweep. */
    FLOAT64(8, "float64"),
    /** Signed 32-bit integers: class labels and argmax indices; no arithmetic is done on them. */
    INT32(4, "int32");

    private final int bytes;
    private final String label;

    DType(int bytes, String label) {
        this.bytes = bytes;
        this.label = label;
    }

    /** Size of one element in bytes, as stored on the device and in checkpoint files. */
    public int bytes() {
        return bytes;
    }

    /** Whether the arithmetic operations of {@link Backend} accept this dtype (all but INT32). */
    public boolean isFloatingPoint() {
        return this != INT32;
    }

    @Override
    public String toString() {
        return label;
    }
}
