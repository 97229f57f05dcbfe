package dev.retort.optim;

import dev.retort.tensor.Tensor;
import java.util.List;
import java.util.Map;

/** Stochastic gradient descent with PyTorch's semantics: weight decay, momentum, dampening, Nesterov. */
public final class Sgd extends Optimizer {
    private final double momentum;
    private final double dampening;
    private final double weightDecay;
    private final boolean nesterov;
    private final Tensor[] buffers;
    private final boolean[] started;

    /**
     * SGD with PyTorch's semantics: momentum buffer {@code b = μ·b + (1 − dampening)·g}, coupled weight decay added to
     * the gradient, Nesterov's variant on request (it needs momentum and no dampening).
     */
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

    /** SGD with momentum, no dampening, no weight decay, no Nesterov. */
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
    protected void collectState(Map<String, Tensor> out) {
        for (int i = 0; i < buffers.length; i++) {
            if (buffers[i] != null) {
                out.put(i + ".momentum_buffer", buffers[i]);
            }
        }
    }

    @Override
    protected boolean acceptsState(String buffer) {
        return buffer.equals("momentum_buffer");
    }

    @Override
    protected List<String> buffers() {
        return momentum == 0 ? List.of() : List.of("momentum_buffer");
    }

    @Override
    protected void restoreState(Map<String, Tensor> values) {
        for (int i = 0; i < buffers.length; i++) {
            Tensor saved = values.get(i + ".momentum_buffer");
            if (saved != null) {
                if (buffers[i] != null) {
                    buffers[i].close();
                }
                buffers[i] = stateFrom(parameters.get(i), saved);
                started[i] = true;
            }
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
