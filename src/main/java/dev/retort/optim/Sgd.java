package dev.retort.optim;

import dev.retort.tensor.Tensor;
import java.util.List;

/** Stochastic gradient descent with PyTorch's semantics: weight decay, momentum, dampening, Nesterov. */
public final class Sgd extends Optimizer {
    private final double momentum;
    private final double dampening;
    private final double weightDecay;
    private final boolean nesterov;
    private final Tensor[] buffers;
    private final boolean[] started;

    public Sgd(List<Tensor> parameters, double learningRate, double momentum, double dampening, double weightDecay,
               boolean nesterov) {
        super(parameters, learningRate);
        checkHyperparameter("SGD", "momentum", momentum, 0, 1);
        checkHyperparameter("SGD", "dampening", dampening, 0, 1);
        checkHyperparameter("SGD", "weight decay", weightDecay, 0, Double.MAX_VALUE);
        if (nesterov && (momentum == 0 || dampening != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum requires momentum > 0 and dampening 0");
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        this.buffers = new Tensor[this.parameters.size()];
        this.started = new boolean[this.parameters.size()];
    }

    public Sgd(List<Tensor> parameters, double learningRate, double momentum) {
        this(parameters, learningRate, momentum, 0, 0, false);
    }

    @Override
    public void step() {
        for (int i = 0; i < parameters.size(); i++) {
            Tensor p = parameters.get(i);
            Tensor g = p.grad();
            if (g == null) {
                continue;
            }
            if (momentum != 0 && buffers[i] == null) {
                buffers[i] = stateLike(p);
            }
            p.backend().sgdStep(p.data(), g.data(), buffers[i] == null ? null : buffers[i].data(), learningRate(),
                    momentum, dampening, weightDecay, nesterov, !started[i]);
            started[i] = true;
        }
    }

    @Override
    public void close() {
        for (Tensor b : buffers) {
            if (b != null) {
                b.close();
            }
        }
    }
}
