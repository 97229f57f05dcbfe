package dev.retort.nn;

import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Modules applied in order, named "0", "1", … as in PyTorch's nn.Sequential. */
public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    /** The layers in order, named 0, 1, 2, … as PyTorch's nn.Sequential names them. */
    public Sequential(Module... layers) {
        for (Module layer : layers) {
            add(layer);
        }
    }

    /** Appends a layer under the next index; returns this. */
    public Sequential add(Module layer) {
        addModule(Integer.toString(layers.size()), layer);
        layers.add(layer);
        return this;
    }

    /** The layers in order. */
    public List<Module> layers() {
        return List.copyOf(layers);
    }

    @Override
    public Tensor forward(Tensor input) {
        Tensor x = input;
        for (Module layer : layers) {
            x = layer.call(x);
        }
        return x;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("Sequential(\n");
        for (int i = 0; i < layers.size(); i++) {
            b.append("  (").append(i).append("): ").append(layers.get(i).toString().replace("\n", "\n  ")).append('\n');
        }
        return b.append(')').toString();
    }
}
