package dev.retort.nn;

import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.backend.NdArray;
import dev.retort.backend.Shapes;
import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer or a network: named parameters, buffers and child modules, a training flag, and a state
 * dict whose names and layouts are PyTorch's ({@code 0.weight}, {@code features.3.running_mean}).
 * Parameters and buffers outlive every {@link dev.retort.tensor.Scope}; {@link #close()} frees them.
 */
public abstract class Module implements AutoCloseable {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /**
     * Computes this module's output for a batch ({@code input}'s first dimension is the batch), recording the graph
     * for {@link Tensor#backward} unless gradients are off. Callers outside a module use {@link #call}, which also
     * serves {@link FeatureCapture}.
     */
    public abstract Tensor forward(Tensor input);

    /**
     * Runs {@link #forward} and hands the output to an active {@link FeatureCapture} that asked for
     * this module. Containers call their children through this, so any layer's output can be captured.
     */
    public final Tensor call(Tensor input) {
        Tensor output = forward(input);
        FeatureCapture.offer(this, output);
        return output;
    }

    /** A persistent FLOAT32 CPU tensor registered as a parameter that requires a gradient. */
    protected final Tensor addParameter(String name, float[] values, int... shape) {
        Tensor t = persistent(values, shape).requiresGrad(true);
        parameters.put(name, t);
        return t;
    }

    /** A persistent tensor registered as state that is saved but not trained (running statistics). */
    protected final Tensor addBuffer(String name, float[] values, int... shape) {
        Tensor t = persistent(values, shape);
        buffers.put(name, t);
        return t;
    }

    private static Tensor persistent(float[] values, int... shape) {
        if (values.length != Shapes.size(shape)) {
            throw new IllegalArgumentException("parameter: " + values.length + " values for shape "
                    + Shapes.format(shape));
        }
        return Tensor.wrapPersistent(Backends.of(Device.CPU).fromHost(values, shape));
    }

    /** Registers a child under {@code name}, the prefix of its state-dict keys ({@code name.weight}); returns it. */
    protected final <M extends Module> M addModule(String name, M module) {
        children.put(name, module);
        return module;
    }

    /** Direct children in registration order. */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** This module's descendants by dotted name ("0", "layer3.1.conv2", …), in registration order. */
    public final Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String prefix, Map<String, Module> out) {
        for (var e : children.entrySet()) {
            out.put(prefix + e.getKey(), e.getValue());
            e.getValue().collectModules(prefix + e.getKey() + ".", out);
        }
    }

    /** Every parameter of this module and its descendants, by dotted name. */
    public final Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, false);
        return out;
    }

    /** Every trainable tensor of this module and its descendants, in state-dict order: what an optimizer updates. */
    public final List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Parameters and buffers by dotted name: what a checkpoint holds. */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, true);
        return out;
    }

    private void collect(String prefix, Map<String, Tensor> out, boolean withBuffers) {
        for (var e : parameters.entrySet()) {
            out.put(prefix + e.getKey(), e.getValue());
        }
        if (withBuffers) {
            for (var e : buffers.entrySet()) {
                out.put(prefix + e.getKey(), e.getValue());
            }
        }
        for (var e : children.entrySet()) {
            e.getValue().collect(prefix + e.getKey() + ".", out, withBuffers);
        }
    }

    /**
     * Copies values into the state, by name. Every key must exist with the same shape, and every
     * state entry must be given: a mismatch names the key (and shapes) and changes nothing.
     */
    public final void loadStateDict(Map<String, Tensor> values) {
        Map<String, Tensor> state = stateDict();
        List<String> missing = new ArrayList<>();
        for (String key : state.keySet()) {
            if (!values.containsKey(key)) {
                missing.add(key);
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String key : values.keySet()) {
            if (!state.containsKey(key)) {
                unexpected.add(key);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IllegalArgumentException("loadStateDict: " + (missing.isEmpty() ? "" : "missing keys " + missing)
                    + (missing.isEmpty() || unexpected.isEmpty() ? "" : "; ")
                    + (unexpected.isEmpty() ? "" : "unexpected keys " + unexpected));
        }
        for (var e : state.entrySet()) {
            int[] have = e.getValue().shape();
            int[] given = values.get(e.getKey()).shape();
            if (!Arrays.equals(have, given)) {
                throw new IllegalArgumentException("loadStateDict: '" + e.getKey() + "' has shape "
                        + Shapes.format(given) + ", the module expects " + Shapes.format(have));
            }
        }
        for (var e : state.entrySet()) {
            NdArray target = e.getValue().data();
            NdArray source = values.get(e.getKey()).data();
            Backends.forCopy(source.device(), target.device()).copy(source, target);
        }
    }

    /**
     * Moves every parameter and buffer (and any accumulated gradient) of this module and its descendants to
     * {@code device}, in place: the Tensor objects stay the same, so layers' fields and an optimizer built before
     * the move keep working. Optimizers create their state on the parameter's device at the first step, so move
     * before stepping: state made earlier stays where it was. Returns this module.
     */
    public Module to(Device device) {
        for (Tensor t : stateDict().values()) {
            t.moveTo(device);
        }
        return this;
    }

    /**
     * Where this module's parameters and buffers are, so that callers can put its inputs there: the CPU for a
     * module without any.
     *
     * @throws IllegalStateException when they are split across devices, naming one tensor on each
     */
    public final Device device() {
        Device found = null;
        String first = null;
        for (var e : stateDict().entrySet()) {
            Device d = e.getValue().device();
            if (found == null) {
                found = d;
                first = e.getKey();
            } else if (d != found) {
                throw new IllegalStateException(this + ": '" + first + "' is on " + found + " but '" + e.getKey()
                        + "' is on " + d + "; move the whole module with to(Device)");
            }
        }
        return found == null ? Device.CPU : found;
    }

    /** True in training mode (dropout on, batch statistics), false after {@link #eval}. */
    public final boolean isTraining() {
        return training;
    }

    /** Switches this module and its descendants to training (dropout on, batch statistics). */
    public Module train() {
        setTraining(true);
        return this;
    }

    /** Switches this module and its descendants to evaluation (dropout off, running statistics). */
    public Module eval() {
        setTraining(false);
        return this;
    }

    private void setTraining(boolean value) {
        training = value;
        for (Module child : children.values()) {
            child.setTraining(value);
        }
    }

    /** Clears the gradient of every parameter. */
    public final void zeroGrad() {
        for (Tensor p : parameters()) {
            p.zeroGrad();
        }
    }

    /** Number of trainable scalars. */
    public final long parameterCount() {
        long n = 0;
        for (Tensor p : parameters()) {
            n += p.size();
        }
        return n;
    }

    /** Frees every parameter, gradient and buffer. */
    @Override
    public void close() {
        for (Tensor t : stateDict().values()) {
            t.close();
        }
    }

    /** A one-line description such as {@code Linear(784 → 10)}; containers list their children. */
    @Override
    public String toString() {
        return getClass().getSimpleName();
    }
}
