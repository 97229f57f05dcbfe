package dev.retort.optim;

import dev.retort.tensor.Tensor;
import java.util.List;
import java.util.Map;

/** Adam with decoupled weight decay (Loshchilov &amp; Hutter), with PyTorch's semantics and defaults. */
public final class AdamW extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Tensor[] firstMoments;
    private final Tensor[] secondMoments;
    private final long[] steps;

    /**
     * AdamW with the given rates: moments decayed by {@code beta1}, {@code beta2}, {@code eps} added to the root of
     * the second moment, and weight decay applied to the weights directly, scaled by the learning rate.
     */
    public AdamW(List<Tensor> parameters, double learningRate, double beta1, double beta2, double eps,
                 double weightDecay) {
        super(parameters, learningRate);
        checkHyperparameter("AdamW", "beta1", beta1, 0, 0.999999);
        checkHyperparameter("AdamW", "beta2", beta2, 0, 0.999999999);
        checkHyperparameter("AdamW", "eps", eps, Double.MIN_VALUE, 1);
        checkHyperparameter("AdamW", "weight decay", weightDecay, 0, Double.MAX_VALUE);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.firstMoments = new Tensor[this.parameters.size()];
        this.secondMoments = new Tensor[this.parameters.size()];
        this.steps = new long[this.parameters.size()];
    }

    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public AdamW(List<Tensor> parameters, double learningRate) {
        this(parameters, learningRate, 0.9, 0.999, 1e-8, 0.01);
    }

    @Override
    public void step() {
        for (int i = 0; i < parameters.size(); i++) {
            Tensor p = parameters.get(i);
            Tensor g = p.grad();
            if (g == null) {
                continue;
            }
            if (firstMoments[i] == null) {
                firstMoments[i] = stateLike(p);
                secondMoments[i] = stateLike(p);
            }
            p.backend().adamwStep(p.data(), g.data(), firstMoments[i].data(), secondMoments[i].data(), learningRate(),
                    beta1, beta2, eps, weightDecay, ++steps[i]);
        }
    }

    @Override
    protected void collectState(Map<String, Tensor> out) {
        for (int i = 0; i < firstMoments.length; i++) {
            if (firstMoments[i] != null) {
                out.put(i + ".step", Tensor.of(new double[] {steps[i]}));
                out.put(i + ".exp_avg", firstMoments[i]);
                out.put(i + ".exp_avg_sq", secondMoments[i]);
            }
        }
    }

    @Override
    protected boolean acceptsState(String buffer) {
        return buffer.equals("step") || buffer.equals("exp_avg") || buffer.equals("exp_avg_sq");
    }

    @Override
    protected List<String> buffers() {
        return List.of("exp_avg", "exp_avg_sq", "step");
    }

    @Override
    protected void restoreState(Map<String, Tensor> values) {
        for (int i = 0; i < firstMoments.length; i++) {
            Tensor step = values.get(i + ".step");
            Tensor first = values.get(i + ".exp_avg");
            Tensor second = values.get(i + ".exp_avg_sq");
            if (step == null && first == null && second == null) {
                continue;
            }
            if (step == null || first == null || second == null) {
                throw new IllegalArgumentException("AdamW state of parameter " + i
                        + " needs step, exp_avg and exp_avg_sq together");
            }
            release(i);
            firstMoments[i] = stateFrom(parameters.get(i), first);
            secondMoments[i] = stateFrom(parameters.get(i), second);
            steps[i] = Math.round(step.item());
        }
    }

    private void release(int i) {
        if (firstMoments[i] != null) {
            firstMoments[i].close();
            secondMoments[i].close();
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < firstMoments.length; i++) {
            if (firstMoments[i] != null) {
                firstMoments[i].close();
                secondMoments[i].close();
            }
        }
    }
}
