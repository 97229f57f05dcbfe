package dev.retort.backend;

/** Elementwise functions of two broadcast arguments that every backend implements. */
public enum BinaryOp {
    /** {@code a + b}. */
    ADD,
    /** {@code a - b}. */
    SUB,
    /** {@code a * b}, elementwise (not a matrix product: that is {@link Backend#matmul}). */
    MUL,
    /** {@code a / b}; IEEE rules apply, so division by zero gives an infinity or NaN, not an exception. */
    DIV,
    /** {@code b > 0 ? a : 0}: ReLU's backward rule, with a the upstream gradient and b the ReLU's output. */
    RELU_BACKWARD
}
