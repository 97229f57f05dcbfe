package dev.retort.backend;

import java.util.Arrays;

/**
 * A contiguous row-major view into a {@link Storage}: what the backends compute on. It carries no
 * autograd state; {@code dev.retort.tensor.Tensor} wraps it for that.
 */
public final class NdArray {
    private final Storage storage;
    private final int offset;
    private final int[] shape;
    private final int size;

    public NdArray(Storage storage, int offset, int... shape) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape.clone();
        this.size = Shapes.size(shape);
        if (offset < 0 || offset + size > storage.size()) {
            throw new IllegalArgumentException("view of shape " + Shapes.format(shape) + " at offset " + offset
                    + " does not fit a storage of " + storage.size() + " elements");
        }
    }

    public Storage storage() {
        return storage;
    }

    /** First element's index in the storage. */
    public int offset() {
        return offset;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int dim(int axis) {
        return shape[axis < 0 ? shape.length + axis : axis];
    }

    public int rank() {
        return shape.length;
    }

    public int size() {
        return size;
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return storage.device();
    }

    /** The same elements under another shape; the caller owns one more reference to the storage. */
    public NdArray view(int... newShape) {
        if (Shapes.size(newShape) != size) {
            throw new IllegalArgumentException("view: cannot view shape " + Shapes.format(shape) + " ("
                    + size + " elements) as " + Shapes.format(newShape));
        }
        storage.retain();
        return new NdArray(storage, offset, newShape);
    }

    /** Rows {@code [start, end)} along the first dimension; the caller owns one more reference. */
    public NdArray rows(int start, int end) {
        if (shape.length == 0 || start < 0 || end > shape[0] || start > end) {
            throw new IllegalArgumentException("rows: range [" + start + ", " + end + ") out of bounds for shape "
                    + Shapes.format(shape));
        }
        int rowSize = shape[0] == 0 ? 0 : size / shape[0];
        int[] s = shape.clone();
        s[0] = end - start;
        storage.retain();
        return new NdArray(storage, offset + start * rowSize, s);
    }

    @Override
    public String toString() {
        return dtype() + Arrays.toString(shape) + "@" + device();
    }
}
