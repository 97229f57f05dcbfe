package dev.retort.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The graph walk of reverse-mode differentiation and the switch that turns recording off. It knows
 * no operation: every derivative rule lives beside its forward rule in {@link Tensor},
 * {@link Functional} and {@link Losses}.
 */
public final class Autograd {
    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> Boolean.TRUE);

    private Autograd() {}

    /** Whether ops on this thread record the graph (false inside {@link #noGrad()}). */
    public static boolean isEnabled() {
        return ENABLED.get();
    }

    /** Turns recording off on this thread until the returned handle closes (PyTorch's {@code no_grad}). */
    public static NoGrad noGrad() {
        return new NoGrad(false);
    }

    /** Restores recording inside a no-grad region. */
    public static NoGrad enableGrad() {
        return new NoGrad(true);
    }

    /** A region with recording switched on or off; closing it restores the previous state. */
    public static final class NoGrad implements AutoCloseable {
        private final boolean previous = ENABLED.get();

        private NoGrad(boolean enabled) {
            ENABLED.set(enabled);
        }

        @Override
        public void close() {
            ENABLED.set(previous);
        }
    }

    /** Back-propagates from a scalar into the gradients of every leaf that requires one, then frees the graph. */
    static void backward(Tensor root) {
        if (root.size() != 1) {
            throw new IllegalStateException("backward: the output must hold a single element, got shape "
                    + java.util.Arrays.toString(root.shape()) + "; reduce it (sum, mean) first");
        }
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the output does not require a gradient (no input it was "
                    + "computed from requires one, or it was computed under noGrad)");
        }
        List<Tensor> order = topologicalOrder(root);
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, Tensor.fullLike(root, 1.0));
        try (NoGrad ignored = noGrad()) {
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Tensor g = grads.remove(t);
                if (g == null) {
                    continue;
                }
                if (t.node == null) {
                    t.accumulateGrad(g);
                    continue;
                }
                Tensor[] inputGrads = t.node.rule.apply(g);
                Tensor[] inputs = t.node.inputs;
                for (int k = 0; k < inputs.length; k++) {
                    Tensor input = inputs[k];
                    Tensor gi = inputGrads[k];
                    if (gi == null || input == null || !input.requiresGrad()) {
                        continue;
                    }
                    if (!java.util.Arrays.equals(gi.shape(), input.shape())) {
                        throw new IllegalStateException("backward of " + t.node.op + ": gradient of input " + k
                                + " has shape " + java.util.Arrays.toString(gi.shape()) + ", expected "
                                + java.util.Arrays.toString(input.shape()));
                    }
                    Tensor previous = grads.get(input);
                    grads.put(input, previous == null ? gi : previous.add(gi));
                }
            }
        } finally {
            for (Tensor t : order) {
                if (t.node != null) {
                    t.node = null;
                    t.graphReleased = true;
                }
            }
        }
    }

    /** Inputs before outputs, iteratively so that deep graphs cannot overflow the stack. */
    private static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (Integer) frame[1];
            Tensor[] inputs = t.node == null ? new Tensor[0] : t.node.inputs;
            if (next < inputs.length) {
                frame[1] = next + 1;
                Tensor input = inputs[next];
                // An optional input (conv2d's bias) may be absent.
                if (input != null && input.requiresGrad() && visited.add(input)) {
                    stack.push(new Object[] {input, 0});
                }
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order;
    }
}
