package dev.retort.backend;

/**
 * Elementwise functions of one argument that every backend implements. Each has an explicit code, the number the
 * CUDA kernels switch on ({@code kernels/op_codes.cuh} lists the same names and codes; {@code OpCodesTest} fails when
 * the two disagree), so that reordering or adding a value never shifts another op's code. Each also says where its
 * inputs are drawn from in the parity and gradient checks, and how close its CUDA kernel is to the CPU, so that
 * those checks cover a new op without a line of their own; {@code Tensor.apply} gives every op its gradient.
 */
public enum UnaryOp {
    /** {@code -x}. */
    NEG(0, false, 0),
    /** {@code e^x}; overflows to infinity past about 88.7 in float32. */
    EXP(1, false, 2),
    /** Natural logarithm; NaN below zero and minus infinity at zero, as IEEE defines it. */
    LOG(2, true, 2),
    /** {@code max(x, 0)}; its backward rule is {@link BinaryOp#RELU_BACKWARD}. */
    RELU(3, false, 0),
    /** Square root; NaN below zero. */
    SQRT(4, true, 0),
    /** {@code x * x}. */
    SQUARE(5, false, 0);

    private final int code;
    private final boolean positiveOnly;
    private final int kernelUlps;

    UnaryOp(int code, boolean positiveOnly, int kernelUlps) {
        this.code = code;
        this.positiveOnly = positiveOnly;
        this.kernelUlps = kernelUlps;
    }

    /** The op's code in the kernels ({@code UOP_<NAME>} of {@code kernels/op_codes.cuh}). */
    public int code() {
        return code;
    }

    /**
     * Whether the op is real and smooth only for {@code x > 0} (a logarithm, a root): what the parity and gradient
     * checks draw their inputs from, so that a new op brings its own domain instead of a special case in each test.
     */
    public boolean positiveOnly() {
        return positiveOnly;
    }

    /**
     * How far, in float32 ulps, the CUDA kernel may be from the CPU's correctly rounded result: 0 where both round
     * the same operation (IEEE's add, multiply, divide and square root), 2 where CUDA's {@code expf}/{@code logf}
     * stand in for the rounded double.
     */
    public int kernelUlps() {
        return kernelUlps;
    }
}
