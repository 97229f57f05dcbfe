// The op codes of dev.retort.backend.UnaryOp and BinaryOp, which the elementwise kernels switch on. The Java enums
// carry the same names and codes (UnaryOp.code(), BinaryOp.code()); OpCodesTest fails when the two lists disagree or
// when a code has no case of its own in elementwise.cu. A new op takes the next free code on both sides.
#pragma once

enum UnaryOpCode {
    UOP_NEG = 0,
    UOP_EXP = 1,
    UOP_LOG = 2,
    UOP_RELU = 3,
    UOP_SQRT = 4,
    UOP_SQUARE = 5,
};

enum BinaryOpCode {
    BOP_ADD = 0,
    BOP_SUB = 1,
    BOP_MUL = 2,
    BOP_DIV = 3,
    BOP_RELU_BACKWARD = 4,
};
