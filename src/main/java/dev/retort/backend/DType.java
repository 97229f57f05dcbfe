package dev.retort.backend;

/** Element types of tensors: float32 for training, float64 for gradient checks, int32 for labels and indices. */
public enum DType {
    FLOAT32(4, "float32"),
    FLOAT64(8, "float64"),
    INT32(4, "int32");

    private final int bytes;
    private final String label;

    DType(int bytes, String label) {
        this.bytes = bytes;
        this.label = label;
    }

    public int bytes() {
        return bytes;
    }

    public boolean isFloatingPoint() {
        return this != INT32;
    }

    @Override
    public String toString() {
        return label;
    }
}
