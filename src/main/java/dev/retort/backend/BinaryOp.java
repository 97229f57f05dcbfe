package dev.retort.backend;

/**
 * Elementwise functions of two broadcast arguments that every backend implements, each with an explicit code shared
 * with the CUDA kernels as {@link UnaryOp}'s are ({@code BOP_<NAME>} of {@code kernels/op_codes.cuh}).
 */
public enum BinaryOp {
    /** {@code a + b}. */
    ADD(0),
    /** {@code a - b}. */
    SUB(1),
    /** {@code a * b}, elementwise (not a matrix product: that is {@link Backend#matmul}). */
    MUL(2),
    /** {@code a / b}; IEEE rules apply, so division by zero gives an infinity or NaN, not an exception. */
    DIV(3),
    /** {@code b > 0 ? a : 0}: ReLU's backward rule, with a the upstream gradient and b the ReLU's output. */
    RELU_BACKWARD(4);

    private final int code;

    BinaryOp(int code) {
        this.code = code;
    }

    /** The op's code in the kernels ({@code BOP_<NAME>} of {@code kernels/op_codes.cuh}). */
    public int code() {
        return code;
    }
}
