package dev.retort.backend;

/**
 * Elementwise functions of one argument that every backend implements. Each has an explicit code, the number the
 * CUDA kernels switch on ({@code kernels/op_codes.cuh} lists the same names and codes; {@code OpCodesTest} fails when
 * the two disagree), so that reordering or adding a value never shifts another op's code.
 */
public enum UnaryOp {
    /** {@code -x}. */
    NEG(0),
    /** {@code e^x}; overflows to infinity past about 88.7 in float32. */
    EXP(1),
    /** Natural logarithm; NaN below zero and minus infinity at zero, as IEEE defines it. */
    LOG(2),
    /** {@code max(x, 0)}; its backward rule is {@link BinaryOp#RELU_BACKWARD}. */
    RELU(3),
    /** Square root; NaN below zero. */
    SQRT(4),
    /** {@code x * x}. */
    SQUARE(5);

    private final int code;

    UnaryOp(int code) {
        this.code = code;
    }

    /** The op's code in the kernels ({@code UOP_<NAME>} of {@code kernels/op_codes.cuh}). */
    public int code() {
        return code;
    }
}
