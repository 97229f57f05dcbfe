package dev.retort.backend;

/** Elementwise functions of one argument that every backend implements. */
public enum UnaryOp {
    /** {@code -x}. */
    NEG,
    /** {@code e^x}; overflows to infinity past about 88.7 in float32. */
    EXP,
    /** Natural logarithm; NaN below zero and minus infinity at zero, as IEEE defines it. */
    LOG,
    /** {@code max(x, 0)}; its backward rule is {@link BinaryOp#RELU_BACKWARD}. */
    RELU,
    /** Square root; NaN below zero. */
    SQRT,
    /** {@code x * x}. */
    SQUARE
}
