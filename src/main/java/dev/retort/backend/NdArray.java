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

    /**
     * A view of {@code shape} starting at element {@code offset} of {@code storage}. It takes over one
     * reference the caller holds (it does not retain), and the shape is copied.
     *
     * @throws IllegalArgumentException if the view does not fit inside the storage
     */
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

    /** The memory this view reads and writes; shared with every other view of it. */
    public Storage storage() {
        return storage;
    }

    /** First element's index in the storage. */
    public int offset() {
        return offset;
    }

    /** The dimensions, outermost first; a copy the caller may change. */
    public int[] shape() {
        return shape.clone();
    }

    /** Size of one dimension; a negative axis counts from the last ({@code -1} is the innermost). */
    public int dim(int axis) {
        return shape[axis < 0 ? shape.length + axis : axis];
    }

    /** Number of dimensions; 0 for a scalar. */
    public int rank() {
        return shape.length;
    }

    /** Number of elements: the product of the shape. */
    public int size() {
        return size;
    }

    /** Element type, that of the storage. */
    public DType dtype() {
        return storage.dtype();
    }

    /** Where the elements live, that of the storage. */
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
