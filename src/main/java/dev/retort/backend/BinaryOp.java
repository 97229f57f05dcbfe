package dev.retort.backend;

/** Elementwise functions of two broadcast arguments that every backend implements. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV,
    /** {@code b > 0 ? a : 0}: ReLU's backward rule, with a the upstream gradient and b the ReLU's output. */
    RELU_BACKWARD
}
