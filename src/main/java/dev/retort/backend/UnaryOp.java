package dev.retort.backend;

/** Elementwise functions of one argument that every backend implements. */
public enum UnaryOp {
    NEG, EXP, LOG, RELU, SQRT, SQUARE
}
