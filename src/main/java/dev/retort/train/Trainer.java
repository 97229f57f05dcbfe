package dev.retort.train;

import dev.retort.data.Dataset;
import dev.retort.nn.Module;
import dev.retort.optim.LearningRateSchedule;
import dev.retort.optim.Optimizer;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Losses;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.util.SplittableRandom;

/** Supervised training of a classifier with cross-entropy: epochs of shuffled mini-batches, and evaluation. */
public final class Trainer {
    /** Mean training loss of an epoch, and accuracy in [0, 1] with mean loss on an evaluation set. */
    public record EpochResult(double trainLoss, double accuracy, double testLoss) {}

    private final Module model;
    private final Optimizer optimizer;
    private final LearningRateSchedule schedule;
    private final int batchSize;
    private final SplittableRandom shuffle;
    private long step;

    public Trainer(Module model, Optimizer optimizer, LearningRateSchedule schedule, int batchSize, long seed) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        this.model = model;
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.batchSize = batchSize;
        this.shuffle = new SplittableRandom(seed);
    }

    /** One pass over the data in a fresh random order; returns the mean loss. Stops on a non-finite loss. */
    public double trainEpoch(Dataset data) {
        if (data.size() == 0) {
            throw new IllegalArgumentException(data.name() + ": no examples to train on");
        }
        model.train();
        int[] order = permutation(data.size());
        double total = 0;
        // Full batches only (PyTorch's drop_last), unless the data is smaller than one batch.
        int batches = Math.max(1, data.size() / batchSize);
        for (int b = 0; b < batches; b++) {
            int from = b * batchSize;
            int to = Math.min(data.size(), from + batchSize);
            try (Scope scope = Scope.open()) {
                optimizer.setLearningRate(schedule.at(step));
                Tensor[] batch = data.batch(order, from, to);
                Tensor loss = Losses.crossEntropy(model.forward(batch[0]), batch[1], 0.0);
                double value = loss.item();
                if (!Double.isFinite(value)) {
                    throw new IllegalStateException("training loss became " + value + " at step " + step
                            + "; lower the learning rate");
                }
                optimizer.zeroGrad();
                loss.backward();
                optimizer.step();
                total += value;
                step++;
            }
        }
        return total / batches;
    }

    /** Top-1 accuracy and mean cross-entropy over a dataset, in evaluation mode without recording. */
    public static double[] evaluate(Module model, Dataset data, int batchSize) {
        model.eval();
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        long correct = 0;
        double lossSum = 0;
        try (Autograd.NoGrad ignored = Autograd.noGrad()) {
            for (int from = 0; from < data.size(); from += batchSize) {
                int to = Math.min(data.size(), from + batchSize);
                try (Scope scope = Scope.open()) {
                    Tensor[] batch = data.batch(order, from, to);
                    Tensor logits = model.forward(batch[0]);
                    lossSum += Losses.crossEntropy(logits, batch[1], 0.0).item() * (to - from);
                    int[] predicted = logits.argmax().toIntArray();
                    for (int i = 0; i < predicted.length; i++) {
                        if (predicted[i] == data.labels()[from + i]) {
                            correct++;
                        }
                    }
                }
            }
        }
        model.train();
        return new double[] {(double) correct / Math.max(1, data.size()), lossSum / Math.max(1, data.size())};
    }

    private int[] permutation(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = shuffle.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
