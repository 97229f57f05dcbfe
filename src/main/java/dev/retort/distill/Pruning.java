package dev.retort.distill;

import dev.retort.backend.BinaryOp;
import dev.retort.backend.Device;
import dev.retort.nn.Conv2d;
import dev.retort.nn.Linear;
import dev.retort.nn.Module;
import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Magnitude pruning on the cubic schedule of Zhu &amp; Gupta (2017), the optional part of mode hybrid:
 * the target sparsity of every convolution and linear weight rises as {@code s·(1 − (1 − t/n)³)} over n
 * steps, each layer's smallest-magnitude weights are masked to reach it, and masked weights are held
 * at zero after every optimizer step.
 */
public final class Pruning implements AutoCloseable {
    private final double finalSparsity;
    private final long totalSteps;
    private final long updateEvery;
    private final List<Tensor> weights = new ArrayList<>();
    private final List<Tensor> masks = new ArrayList<>();

    /**
     * @param finalSparsity the fraction p of weights masked at the end, in [0, 1)
     * @param totalSteps    the steps over which the sparsity rises (the whole run)
     */
    public Pruning(Module student, double finalSparsity, long totalSteps) {
        if (!(finalSparsity >= 0 && finalSparsity < 1)) {
            throw new IllegalArgumentException("prune: the fraction of weights to mask must be in [0, 1), got "
                    + finalSparsity);
        }
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("prune: the schedule needs a positive number of steps, got "
                    + totalSteps);
        }
        this.finalSparsity = finalSparsity;
        this.totalSteps = totalSteps;
        this.updateEvery = Math.max(1, totalSteps / 100);
        for (Map.Entry<String, Module> e : student.namedModules().entrySet()) {
            if (e.getValue() instanceof Conv2d || e.getValue() instanceof Linear) {
                weights.add(e.getValue().namedParameters().get("weight"));
                masks.add(null);
            }
        }
    }

    /** The schedule's target sparsity after {@code step} steps. */
    public double sparsityAt(long step) {
        double progress = Math.min(1.0, Math.max(0.0, (double) step / totalSteps));
        return finalSparsity * (1 - Math.pow(1 - progress, 3));
    }

    /** Call after each optimizer step: re-derives the masks on schedule and zeroes the masked weights. */
    public void afterStep(long step) {
        boolean update = step % updateEvery == 0 || step >= totalSteps;
        for (int i = 0; i < weights.size(); i++) {
            Tensor w = weights.get(i);
            if (update) {
                Tensor previous = masks.get(i);
                masks.set(i, mask(w, sparsityAt(step)));
                if (previous != null) {
                    previous.close();
                }
            }
            Tensor m = masks.get(i);
            if (m != null) {
                w.backend().binary(BinaryOp.MUL, w.data(), m.data(), w.data());
            }
        }
    }

    /**
     * Rebuilds the masks a run had after {@code step} steps — those of its last mask update — when it
     * resumes from a checkpoint (the masked weights are zero in it, so the same ones are chosen again).
     */
    public void resumeAt(long step) {
        long lastUpdate = step >= totalSteps ? step : step - step % updateEvery;
        for (int i = 0; i < weights.size(); i++) {
            Tensor previous = masks.get(i);
            masks.set(i, lastUpdate == 0 ? null : mask(weights.get(i), sparsityAt(lastUpdate)));
            if (previous != null) {
                previous.close();
            }
        }
    }

    /** Ones except at the {@code ⌊s·n⌋} smallest magnitudes (ties broken by position, so exactly that many). */
    private static Tensor mask(Tensor weight, double sparsity) {
        float[] w = weight.toFloatArray();
        int pruned = (int) Math.floor(sparsity * w.length);
        Integer[] order = new Integer[w.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(Math.abs(w[a]), Math.abs(w[b])));
        float[] mask = new float[w.length];
        Arrays.fill(mask, 1f);
        for (int i = 0; i < pruned; i++) {
            mask[order[i]] = 0f;
        }
        return Tensor.wrapPersistent(weight.backend().fromHost(mask, weight.shape()));
    }

    /**
     * Moves the masks made so far to {@code device}, where the weights they hold at zero must be (new masks are
     * made on their weight's device).
     */
    public void to(Device device) {
        for (Tensor m : masks) {
            if (m != null) {
                m.moveTo(device);
            }
        }
    }

    /** The fraction of zero weights over all pruned layers now. */
    public double sparsity() {
        long zeros = 0;
        long total = 0;
        for (Tensor w : weights) {
            for (float v : w.toFloatArray()) {
                zeros += v == 0f ? 1 : 0;
            }
            total += w.size();
        }
        return total == 0 ? 0 : (double) zeros / total;
    }

    @Override
    public void close() {
        for (Tensor m : masks) {
            if (m != null) {
                m.close();
            }
        }
    }
}
