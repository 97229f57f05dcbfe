package dev.retort.tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Owns the tensors created while it is open on this thread and closes them when it closes, except
 * those {@link #keep kept} for the enclosing scope. A training step opens one; parameters, their
 * gradients and optimizer state live outside every scope.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

    private final Scope parent;
    private final List<Tensor> owned = new ArrayList<>();
    private final Thread thread = Thread.currentThread();
    private boolean closed;

    private Scope(Scope parent) {
        this.parent = parent;
    }

    /** Opens a scope nested in the current one. */
    public static Scope open() {
        Scope scope = new Scope(CURRENT.get());
        CURRENT.set(scope);
        return scope;
    }

    static Scope current() {
        return CURRENT.get();
    }

    void adopt(Tensor tensor) {
        owned.add(tensor);
        tensor.owner = this;
    }

    /**
     * Hands a tensor to the enclosing scope (or to the caller, outside every scope) so it survives
     * this one; returns it for chaining.
     */
    public Tensor keep(Tensor tensor) {
        if (tensor.owner == this) {
            if (parent != null) {
                parent.adopt(tensor);
            } else {
                tensor.owner = null;
            }
        }
        return tensor;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("a scope must be closed on the thread that opened it (" + thread.getName()
                    + ")");
        }
        if (CURRENT.get() != this) {
            throw new IllegalStateException("scopes must close in reverse order of opening");
        }
        closed = true;
        CURRENT.set(parent);
        for (int i = owned.size() - 1; i >= 0; i--) {
            Tensor t = owned.get(i);
            // A tensor kept for the parent scope has a new owner and survives.
            if (t.owner == this) {
                t.close();
            }
        }
        owned.clear();
    }
}
