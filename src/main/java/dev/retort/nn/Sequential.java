package dev.retort.nn;

import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Modules applied in order, named "0", "1", … as in PyTorch's nn.Sequential. */
public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();
    private int[] inputShape;

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

    /**
     * Makes the network take examples of {@code exampleShape} from inputs of any shape with as many values per
     * example: a JSON network declared for [784] then trains on [N, 1, 28, 28] images. Not part of the state dict.
     */
    public Sequential inputShape(int[] exampleShape) {
        this.inputShape = exampleShape.clone();
        return this;
    }

    /** The layers in order. */
    public List<Module> layers() {
        return List.copyOf(layers);
    }

    @Override
    public Tensor forward(Tensor input) {
        Tensor x = input;
        if (inputShape != null && x.rank() != inputShape.length + 1 && x.rank() > 0) {
            int[] shape = new int[inputShape.length + 1];
            shape[0] = x.dim(0);
            System.arraycopy(inputShape, 0, shape, 1, inputShape.length);
            x = x.reshape(shape);
        }
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
