package dev.retort.nn;

import dev.retort.tensor.Tensor;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records the outputs of chosen layers, by their state-dict names, while a network runs forward on
 * this thread: the intermediate features that hybrid distillation pairs between teacher and student.
 *
 * <pre>try (FeatureCapture capture = FeatureCapture.of(net, List.of("6"))) {
 *     Tensor logits = net.call(x);
 *     Tensor features = capture.get("6");
 * }</pre>
 */
public final class FeatureCapture implements AutoCloseable {
    private static final ThreadLocal<FeatureCapture> ACTIVE = new ThreadLocal<>();

    private final Map<Module, String> wanted = new IdentityHashMap<>();
    private final Map<String, Tensor> captured = new LinkedHashMap<>();
    private final FeatureCapture previous;

    private FeatureCapture(Map<Module, String> wanted) {
        this.wanted.putAll(wanted);
        this.previous = ACTIVE.get();
        ACTIVE.set(this);
    }

    /** Starts capturing the named layers of {@code root}; every name must exist. */
    public static FeatureCapture of(Module root, List<String> names) {
        Map<String, Module> modules = root.namedModules();
        Map<Module, String> wanted = new IdentityHashMap<>();
        for (String name : names) {
            Module m = modules.get(name);
            if (m == null) {
                throw new IllegalArgumentException("feature layer '" + name + "' does not exist in "
                        + root.getClass().getSimpleName() + "; its layers are " + modules.keySet());
            }
            wanted.put(m, name);
        }
        return new FeatureCapture(wanted);
    }

    static void offer(Module module, Tensor output) {
        FeatureCapture capture = ACTIVE.get();
        if (capture != null) {
            String name = capture.wanted.get(module);
            if (name != null) {
                capture.captured.put(name, output);
            }
        }
    }

    /** The last output of a named layer; throws if the forward pass never reached it. */
    public Tensor get(String name) {
        Tensor t = captured.get(name);
        if (t == null) {
            throw new IllegalStateException("feature layer '" + name + "' produced no output: it was not requested, "
                    + "or the forward pass did not run it");
        }
        return t;
    }

    /** The captured outputs so far, by module name. */
    public Map<String, Tensor> features() {
        return Collections.unmodifiableMap(captured);
    }

    @Override
    public void close() {
        ACTIVE.set(previous);
    }
}
