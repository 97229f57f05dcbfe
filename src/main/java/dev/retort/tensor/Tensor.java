package dev.retort.tensor;

import dev.retort.backend.Backend;
import dev.retort.backend.Backends;
import dev.retort.backend.BinaryOp;
import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.NdArray;
import dev.retort.backend.Shapes;
import dev.retort.backend.UnaryOp;
import java.util.Arrays;

/**
 * An n-dimensional array with reverse-mode autograd. Each operation computes its result on the
 * tensor's backend and, when recording, stores beside it the rule that maps the result's gradient to
 * its inputs'. Tensors own device memory: close them, or create them inside a {@link Scope}.
 */
public final class Tensor implements AutoCloseable {
    private NdArray data;
    private boolean requiresGrad;
    private Tensor grad;
    Node node;
    boolean graphReleased;
    Scope owner;

    private Tensor(NdArray data, boolean scoped) {
        this.data = data;
        if (scoped) {
            Scope scope = Scope.current();
            if (scope != null) {
                scope.adopt(this);
            }
        }
    }

    /** Wraps an array produced by a backend; the tensor takes over its storage reference. */
    public static Tensor wrap(NdArray data) {
        return new Tensor(data, true);
    }

    /** Wraps an array that no scope will close: parameters, gradients, optimizer state. */
    public static Tensor wrapPersistent(NdArray data) {
        return new Tensor(data, false);
    }

    // ---- creation -----------------------------------------------------------------------------

    /** A float32 tensor on the CPU holding a copy of {@code values} (row-major), of the given shape. */
    public static Tensor of(float[] values, int... shape) {
        return of(Device.CPU, values, shape);
    }

    /** Host values copied straight into a new tensor on {@code device}: one upload, no CPU tensor in between. */
    public static Tensor of(Device device, float[] values, int... shape) {
        checkLength("Tensor.of", values.length, shape);
        return wrap(Backends.of(device).fromHost(values, shape));
    }

    /** A float64 tensor on the CPU holding a copy of {@code values} (row-major); float64 serves gradient checks. */
    public static Tensor of(double[] values, int... shape) {
        checkLength("Tensor.of", values.length, shape);
        return wrap(Backends.of(Device.CPU).fromHost(values, shape));
    }

    /** Class indices and other integer data. */
    public static Tensor ofInts(int[] values, int... shape) {
        return ofInts(Device.CPU, values, shape);
    }

    /** Integer data (labels) copied straight into a new tensor on {@code device}. */
    public static Tensor ofInts(Device device, int[] values, int... shape) {
        checkLength("Tensor.ofInts", values.length, shape);
        return wrap(Backends.of(device).fromHost(values, shape));
    }

    /** A float32 tensor of shape [1] holding {@code value}. */
    public static Tensor scalar(double value) {
        return of(new float[] {(float) value});
    }

    /** A tensor of the given type, device and shape with every element {@code value}. */
    public static Tensor full(DType dtype, Device device, double value, int... shape) {
        Backend backend = Backends.of(device);
        NdArray out = backend.empty(dtype, shape);
        backend.fill(out, value);
        return wrap(out);
    }

    /** A float32 CPU tensor of zeros. */
    public static Tensor zeros(int... shape) {
        return full(DType.FLOAT32, Device.CPU, 0, shape);
    }

    /** A float32 CPU tensor of ones. */
    public static Tensor ones(int... shape) {
        return full(DType.FLOAT32, Device.CPU, 1, shape);
    }

    static Tensor fullLike(Tensor t, double value) {
        return full(t.dtype(), t.device(), value, t.shape());
    }

    private static void checkLength(String op, int length, int[] shape) {
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(op + ": negative dimension in shape " + Shapes.format(shape));
            }
        }
        if (Shapes.size(shape) != length) {
            throw new IllegalArgumentException(op + ": " + length + " values do not fill shape "
                    + Shapes.format(shape) + " (" + Shapes.size(shape) + " elements)");
        }
    }

    // ---- state --------------------------------------------------------------------------------

    /** The backend array; throws if the tensor was closed. */
    public NdArray data() {
        if (data == null) {
            throw new IllegalStateException("tensor was closed (its scope ended or close() was called); keep it with "
                    + "Scope.keep to use it later");
        }
        return data;
    }

    /** The backend that computes on this tensor's device. */
    public Backend backend() {
        return Backends.of(data().device());
    }

    /** The dimensions, outermost first (a copy). */
    public int[] shape() {
        return data().shape();
    }

    /** The size of one dimension; a negative axis counts from the end. */
    public int dim(int axis) {
        return data().dim(axis);
    }

    /** The number of dimensions. */
    public int rank() {
        return data().rank();
    }

    /** The number of elements. */
    public int size() {
        return data().size();
    }

    /** The element type: float32, float64 or int32. */
    public DType dtype() {
        return data().dtype();
    }

    /** Where the elements live. */
    public Device device() {
        return data().device();
    }

    /** Whether {@link #backward} computes a gradient for this tensor (parameters, and results of ops on them). */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf as needing a gradient (the tensor is returned for chaining). */
    public Tensor requiresGrad(boolean value) {
        if (node != null) {
            throw new IllegalStateException("requiresGrad can only be set on a leaf tensor, not on the output of "
                    + node.op + "; use detach() first");
        }
        if (value && !dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("only floating-point tensors can require gradients, got " + dtype());
        }
        requiresGrad = value;
        return this;
    }

    /** The accumulated gradient of a leaf, or null before any backward pass reached it. */
    public Tensor grad() {
        return grad;
    }

    /** Drops the accumulated gradient. */
    public void zeroGrad() {
        if (grad != null) {
            grad.close();
            grad = null;
        }
    }

    /**
     * Moves this leaf's values to another device in place, keeping the Tensor object (layers hold their
     * parameters in final fields, optimizers by reference). The accumulated gradient, if any, moves too. For
     * {@code Module.to}; graph outputs must use {@link #to(Device)}, which records the copy for autograd.
     *
     * @throws IllegalStateException for a closed tensor or the output of a recorded operation
     */
    public void moveTo(Device target) {
        NdArray current = data();
        if (node != null) {
            throw new IllegalStateException("moveTo: only a leaf tensor can move in place; this one is the output of "
                    + node.op + " (use to(Device))");
        }
        if (current.device() != target) {
            NdArray moved = Backends.of(target).empty(current.dtype(), current.shape());
            Backends.forCopy(current.device(), target).copy(current, moved);
            data = moved;
            current.storage().release();
        }
        if (grad != null) {
            grad.moveTo(target);
        }
    }

    /** The name of the operation that produced this tensor, or null for a leaf. */
    public String gradFn() {
        return node == null ? null : node.op;
    }

    /** Whether {@link #close} released this tensor's memory. */
    public boolean isClosed() {
        return data == null;
    }

    /** Releases the memory (or this view's share of it). Idempotent. */
    @Override
    public void close() {
        if (data != null) {
            data.storage().release();
            data = null;
            node = null;
            owner = null;
        }
        zeroGrad();
    }

    // ---- host access --------------------------------------------------------------------------

    /** The elements as float, row-major, copied to the host (a device synchronisation on CUDA). */
    public float[] toFloatArray() {
        return backend().toFloats(data());
    }

    /** The elements as double, row-major, copied to the host (a device synchronisation on CUDA). */
    public double[] toDoubleArray() {
        return backend().toDoubles(data());
    }

    /** The elements of an int32 tensor, row-major, copied to the host. */
    public int[] toIntArray() {
        return backend().toInts(data());
    }

    /** The value of a one-element tensor. */
    public double item() {
        if (size() != 1) {
            throw new IllegalStateException("item: tensor of shape " + Shapes.format(shape())
                    + " does not hold exactly one element");
        }
        return toDoubleArray()[0];
    }

    /** Number of NaN or infinite elements. */
    public long countNonFinite() {
        return backend().countNonFinite(data());
    }

    @Override
    public String toString() {
        if (data == null) {
            return "Tensor(closed)";
        }
        return "Tensor(" + data + (node != null ? ", gradFn=" + node.op : requiresGrad ? ", requiresGrad" : "") + ")";
    }

    // ---- autograd -----------------------------------------------------------------------------

    /** Computes the gradient of this scalar with respect to every leaf that requires one. */
    public void backward() {
        Autograd.backward(this);
    }

    /** The same data, cut from the graph. */
    public Tensor detach() {
        NdArray d = data();
        return wrap(d.view(d.shape()));
    }

    void accumulateGrad(Tensor g) {
        if (graphReleased) {
            throw new IllegalStateException("backward: the graph through this tensor was already released by an "
                    + "earlier backward(); recompute the forward pass");
        }
        if (!requiresGrad) {
            return;
        }
        if (grad == null) {
            NdArray copy = backend().empty(dtype(), shape());
            backend().copy(g.data(), copy);
            grad = wrapPersistent(copy);
        } else {
            backend().accumulate(g.data(), 1.0, grad.data());
        }
    }

    /** Creates an op's output and, when recording and an input needs it, its graph node. */
    static Tensor record(String op, NdArray out, Node.BackwardRule rule, Tensor... inputs) {
        Tensor result = wrap(out);
        if (Autograd.isEnabled()) {
            for (Tensor input : inputs) {
                if (input != null && input.requiresGrad) {
                    result.requiresGrad = true;
                    result.node = new Node(op, inputs, rule);
                    break;
                }
            }
        }
        return result;
    }

    /** Throws unless every operand lives on one device with one floating-point dtype. */
    static void checkOperands(String op, Tensor first, Tensor... others) {
        if (!first.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(op + ": expected a floating-point tensor, got " + first.data());
        }
        for (Tensor other : others) {
            if (other == null) {
                continue;
            }
            if (other.device() != first.device()) {
                throw new IllegalArgumentException(op + ": tensors are on different devices: " + first.data()
                        + " and " + other.data());
            }
            if (other.dtype() != first.dtype()) {
                throw new IllegalArgumentException(op + ": tensors have different dtypes: " + first.data() + " and "
                        + other.data());
            }
        }
    }

    NdArray emptyLike() {
        return backend().empty(dtype(), shape());
    }

    NdArray empty(int... shape) {
        return backend().empty(dtype(), shape);
    }

    // ---- elementwise ----------------------------------------------------------------------------

    private Tensor binary(String name, BinaryOp op, Tensor other, Node.BackwardRule rule) {
        checkOperands(name, this, other);
        NdArray out = empty(Shapes.broadcast(name, shape(), other.shape()));
        backend().binary(op, data(), other.data(), out);
        return record(name, out, rule, this, other);
    }

    /** Element-wise sum, with NumPy broadcasting; differentiable. */
    public Tensor add(Tensor other) {
        return binary("add", BinaryOp.ADD, other, g -> new Tensor[] {g.sumTo(shape()), g.sumTo(other.shape())});
    }

    /** Element-wise difference, with NumPy broadcasting; differentiable. */
    public Tensor sub(Tensor other) {
        return binary("sub", BinaryOp.SUB, other,
                g -> new Tensor[] {g.sumTo(shape()), other.requiresGrad ? g.neg().sumTo(other.shape()) : null});
    }

    /** Element-wise product, with NumPy broadcasting; differentiable. */
    public Tensor mul(Tensor other) {
        return binary("mul", BinaryOp.MUL, other, g -> new Tensor[] {
                requiresGrad ? g.mul(other).sumTo(shape()) : null,
                other.requiresGrad ? g.mul(this).sumTo(other.shape()) : null});
    }

    /** Element-wise quotient, with NumPy broadcasting; differentiable. */
    public Tensor div(Tensor other) {
        return binary("div", BinaryOp.DIV, other, g -> new Tensor[] {
                requiresGrad ? g.div(other).sumTo(shape()) : null,
                other.requiresGrad ? g.mul(this).div(other.square()).neg().sumTo(other.shape()) : null});
    }

    /** {@code alpha * this + beta}. */
    public Tensor affine(double alpha, double beta) {
        NdArray out = emptyLike();
        backend().affine(data(), alpha, beta, out);
        return record("affine", out, g -> new Tensor[] {alpha == 1 ? g : g.affine(alpha, 0)}, this);
    }

    /** Adds a constant to every element; differentiable. */
    public Tensor add(double value) {
        return affine(1, value);
    }

    /** Multiplies every element by a constant; differentiable. */
    public Tensor mul(double value) {
        return affine(value, 0);
    }

    private Tensor unary(UnaryOp op, Node.BackwardRule rule) {
        checkOperands(op.name().toLowerCase(), this);
        NdArray out = emptyLike();
        backend().unary(op, data(), out);
        return record(op.name().toLowerCase(), out, rule, this);
    }

    /**
     * {@code op} applied elementwise, with its gradient: the one place each {@link UnaryOp} meets its backward rule,
     * so a new op does not compile until it has one.
     */
    public Tensor apply(UnaryOp op) {
        return switch (op) {
            case NEG -> neg();
            case EXP -> exp();
            case LOG -> log();
            case RELU -> relu();
            case SQRT -> sqrt();
            case SQUARE -> square();
        };
    }

    /** The negation; differentiable. */
    public Tensor neg() {
        return unary(UnaryOp.NEG, g -> new Tensor[] {g.neg()});
    }

    /** Element-wise {@code e^x}; differentiable. */
    public Tensor exp() {
        Tensor[] out = new Tensor[1];
        out[0] = unary(UnaryOp.EXP, g -> new Tensor[] {g.mul(out[0])});
        return out[0];
    }

    /** Element-wise natural logarithm; differentiable. */
    public Tensor log() {
        return unary(UnaryOp.LOG, g -> new Tensor[] {g.div(this)});
    }

    /** Element-wise square root; differentiable. */
    public Tensor sqrt() {
        Tensor[] out = new Tensor[1];
        out[0] = unary(UnaryOp.SQRT, g -> new Tensor[] {g.div(out[0]).mul(0.5)});
        return out[0];
    }

    /** Element-wise square; differentiable. */
    public Tensor square() {
        return unary(UnaryOp.SQUARE, g -> new Tensor[] {g.mul(this).mul(2)});
    }

    /** Element-wise {@code max(x, 0)}; differentiable (gradient 0 at 0). */
    public Tensor relu() {
        Tensor[] out = new Tensor[1];
        out[0] = unary(UnaryOp.RELU, g -> {
            NdArray gx = g.emptyLike();
            backend().binary(BinaryOp.RELU_BACKWARD, g.data(), out[0].data(), gx);
            return new Tensor[] {wrap(gx)};
        });
        return out[0];
    }

    /** A copy with another dtype; the gradient converts back. */
    public Tensor to(DType target) {
        if (target == dtype()) {
            return this;
        }
        DType source = dtype();
        NdArray converted = backend().empty(target, shape());
        backend().copy(data(), converted);
        return record("to", converted, g -> new Tensor[] {g.to(source)}, this);
    }

    /** A copy on another device (through host memory); the gradient moves back. */
    public Tensor to(Device target) {
        Device source = device();
        if (target == source) {
            return this;
        }
        Backend destination = Backends.of(target);
        NdArray copy = switch (dtype()) {
            case FLOAT32 -> destination.fromHost(toFloatArray(), shape());
            case FLOAT64 -> destination.fromHost(toDoubleArray(), shape());
            case INT32 -> destination.fromHost(toIntArray(), shape());
        };
        return record("toDevice", copy, g -> new Tensor[] {g.to(source)}, this);
    }

    // ---- shape --------------------------------------------------------------------------------

    /** The same elements under another shape, without copying; one dimension may be -1. */
    public Tensor reshape(int... newShape) {
        int[] resolved = resolveShape(newShape);
        int[] original = shape();
        return record("reshape", data().view(resolved), g -> new Tensor[] {g.reshape(original)}, this);
    }

    private int[] resolveShape(int[] newShape) {
        int[] resolved = newShape.clone();
        int inferred = -1;
        int known = 1;
        for (int i = 0; i < resolved.length; i++) {
            if (resolved[i] == -1) {
                if (inferred >= 0) {
                    throw new IllegalArgumentException("reshape: only one dimension can be -1 in "
                            + Shapes.format(newShape));
                }
                inferred = i;
            } else if (resolved[i] < 0) {
                throw new IllegalArgumentException("reshape: invalid dimension " + resolved[i] + " in "
                        + Shapes.format(newShape));
            } else {
                known *= resolved[i];
            }
        }
        if (inferred >= 0) {
            if (known == 0 || size() % known != 0) {
                throw new IllegalArgumentException("reshape: cannot reshape " + Shapes.format(shape()) + " to "
                        + Shapes.format(newShape));
            }
            resolved[inferred] = size() / known;
        }
        if (Shapes.size(resolved) != size()) {
            throw new IllegalArgumentException("reshape: cannot reshape " + Shapes.format(shape()) + " ("
                    + size() + " elements) to " + Shapes.format(newShape));
        }
        return resolved;
    }

    /** Merges dimensions from {@code startDim} on into one (PyTorch's flatten(x, startDim)). */
    public Tensor flatten(int startDim) {
        int[] s = shape();
        if (startDim < 0 || startDim >= Math.max(1, s.length)) {
            throw new IllegalArgumentException("flatten: start dimension " + startDim + " out of range for shape "
                    + Shapes.format(s));
        }
        int[] out = Arrays.copyOf(s, startDim + 1);
        out[startDim] = 1;
        for (int d = startDim; d < s.length; d++) {
            out[startDim] *= s[d];
        }
        return reshape(out);
    }

    /** Swaps the last two dimensions (a copy). */
    public Tensor transpose() {
        int[] s = shape();
        if (s.length < 2) {
            throw new IllegalArgumentException("transpose: needs at least 2 dimensions, got shape " + Shapes.format(s));
        }
        int[] t = s.clone();
        t[s.length - 2] = s[s.length - 1];
        t[s.length - 1] = s[s.length - 2];
        NdArray out = empty(t);
        backend().transposeLastTwo(data(), out);
        return record("transpose", out, g -> new Tensor[] {g.transpose()}, this);
    }

    /** Copies this tensor broadcast to a larger shape. */
    public Tensor expand(int... target) {
        int[] s = shape();
        int[] b = Shapes.broadcast("expand", s, target);
        if (!Arrays.equals(b, target)) {
            throw new IllegalArgumentException("expand: shape " + Shapes.format(s) + " cannot be expanded to "
                    + Shapes.format(target));
        }
        NdArray out = empty(target);
        backend().broadcastTo(data(), out);
        return record("expand", out, g -> new Tensor[] {g.sumTo(s)}, this);
    }

    // ---- reductions -----------------------------------------------------------------------------

    /** Sums over broadcast dimensions down to {@code target} (the reverse of broadcasting). */
    public Tensor sumTo(int... target) {
        int[] s = shape();
        if (Arrays.equals(s, target)) {
            return this;
        }
        int[] b = Shapes.broadcast("sumTo", target, s);
        if (!Arrays.equals(b, s)) {
            throw new IllegalArgumentException("sumTo: shape " + Shapes.format(s) + " cannot be reduced to "
                    + Shapes.format(target));
        }
        NdArray out = empty(target);
        backend().sumTo(data(), out);
        return record("sumTo", out, g -> new Tensor[] {g.expand(s)}, this);
    }

    /** Sum of all elements, as a one-element tensor of shape []. */
    public Tensor sum() {
        return sumTo();
    }

    /** Mean of all elements, as a one-element tensor of shape []. */
    public Tensor mean() {
        return sum().mul(1.0 / size());
    }

    /** Sums over the given dimensions (negative counts from the end). */
    public Tensor sum(boolean keepDim, int... dims) {
        int[] s = shape();
        int[] kept = s.clone();
        boolean[] reduced = new boolean[s.length];
        for (int d : dims) {
            int axis = d < 0 ? d + s.length : d;
            if (axis < 0 || axis >= s.length) {
                throw new IllegalArgumentException("sum: dimension " + d + " out of range for shape " + Shapes.format(s));
            }
            kept[axis] = 1;
            reduced[axis] = true;
        }
        Tensor summed = sumTo(kept);
        if (keepDim) {
            return summed;
        }
        int[] squeezed = new int[s.length - (int) java.util.stream.IntStream.range(0, s.length)
                .filter(i -> reduced[i]).count()];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (!reduced[i]) {
                squeezed[j++] = s[i];
            }
        }
        return summed.reshape(squeezed);
    }

    /** Means over the given dimensions (negative counts from the end); with {@code keepDim} they stay as size 1. */
    public Tensor mean(boolean keepDim, int... dims) {
        int before = size();
        Tensor summed = sum(keepDim, dims);
        return summed.mul((double) summed.size() / Math.max(1, before));
    }

    /** Index of the largest element along the last dimension (INT32, no gradient). */
    public Tensor argmax() {
        int[] s = shape();
        if (s.length == 0 || s[s.length - 1] == 0) {
            throw new IllegalArgumentException("argmax: needs a non-empty last dimension, got shape "
                    + Shapes.format(s));
        }
        NdArray out = backend().empty(DType.INT32, Arrays.copyOf(s, s.length - 1));
        backend().argmaxLastDim(data(), out);
        return wrap(out);
    }

    // ---- linear algebra -----------------------------------------------------------------------

    /** Matrix product of 2-D tensors, or of 3-D tensors batched over the first dimension. */
    public Tensor matmul(Tensor other) {
        return matmul(this, false, other, false);
    }

    /** {@code op(a)·op(b)}, where op transposes the last two dimensions when its flag is set. */
    static Tensor matmul(Tensor a, boolean transA, Tensor b, boolean transB) {
        checkOperands("matmul", a, b);
        int[] as = a.shape();
        int[] bs = b.shape();
        boolean batched = as.length == 3 && bs.length == 3 && as[0] == bs[0];
        if (!(as.length == 2 && bs.length == 2) && !batched) {
            throw new IllegalArgumentException("matmul: expected two 2-D tensors or two 3-D tensors with the same "
                    + "batch size, got " + Shapes.format(as) + " and " + Shapes.format(bs));
        }
        int r = as.length;
        int m = transA ? as[r - 1] : as[r - 2];
        int k = transA ? as[r - 2] : as[r - 1];
        int kb = transB ? bs[r - 1] : bs[r - 2];
        int n = transB ? bs[r - 2] : bs[r - 1];
        if (k != kb) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + Shapes.format(as)
                    + (transA ? "ᵀ" : "") + " · " + Shapes.format(bs) + (transB ? "ᵀ" : "") + " (" + k + " vs " + kb
                    + ")");
        }
        NdArray out = a.empty(batched ? new int[] {as[0], m, n} : new int[] {m, n});
        a.backend().matmul(a.data(), transA, b.data(), transB, out);
        return record("matmul", out, g -> new Tensor[] {
                !a.requiresGrad ? null : transA ? matmul(b, transB, g, true) : matmul(g, false, b, !transB),
                !b.requiresGrad ? null : transB ? matmul(g, true, a, transA) : matmul(a, !transA, g, false)}, a, b);
    }

    // ---- softmax ------------------------------------------------------------------------------

    /** {@code softmax(this / T)} over the last dimension. */
    public Tensor softmax(double temperature) {
        return softmax(temperature, false);
    }

    /** {@code log_softmax(this / T)} over the last dimension. */
    public Tensor logSoftmax(double temperature) {
        return softmax(temperature, true);
    }

    private Tensor softmax(double temperature, boolean log) {
        String op = log ? "logSoftmax" : "softmax";
        checkOperands(op, this);
        Functional.checkTemperature(op, temperature);
        if (rank() == 0) {
            throw new IllegalArgumentException(op + ": needs at least one dimension");
        }
        NdArray out = emptyLike();
        backend().softmax(data(), temperature, log, out);
        Tensor[] result = new Tensor[1];
        result[0] = record(op, out, g -> {
            NdArray gx = g.emptyLike();
            backend().softmaxBackward(g.data(), result[0].data(), temperature, log, gx);
            return new Tensor[] {wrap(gx)};
        }, this);
        return result[0];
    }
}
