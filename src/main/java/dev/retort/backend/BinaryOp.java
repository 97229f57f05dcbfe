package dev.retort.backend;

/**
 * Elementwise functions of two broadcast arguments that every backend implements, each with an explicit code shared
 * with the CUDA kernels as {@link UnaryOp}'s are ({@code BOP_<NAME>} of {@code kernels/op_codes.cuh}).
 */
public enum BinaryOp {
    /** {@code a + b}. */
    ADD(0, false),
    /** {@code a - b}. */
    SUB(1, false),
    /** {@code a * b}, elementwise (not a matrix product: that is {@link Backend#matmul}). */
    MUL(2, false),
    /** {@code a / b}; IEEE rules apply, so division by zero gives an infinity or NaN, not an exception. */
    DIV(3, true),
    /** {@code b > 0 ? a : 0}: ReLU's backward rule, with a the upstream gradient and b the ReLU's output. */
    RELU_BACKWARD(4, false);

    private final int code;
    private final boolean nonZeroRight;

    BinaryOp(int code, boolean nonZeroRight) {
        this.code = code;
        this.nonZeroRight = nonZeroRight;
    }

    /** The op's code in the kernels ({@code BOP_<NAME>} of {@code kernels/op_codes.cuh}). */
    public int code() {
        return code;
    }

    /**
     * Whether the op is smooth only where {@code b} keeps away from zero (a division): the parity checks draw b so,
     * as {@link UnaryOp#positiveOnly()} draws a unary op's input.
     */
    public boolean nonZeroRight() {
        return nonZeroRight;
    }
}
