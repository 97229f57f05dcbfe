package dev.retort.train;

import dev.retort.data.DataLoader;
import dev.retort.data.Dataset;
import dev.retort.nn.Module;
import dev.retort.optim.LearningRateSchedule;
import dev.retort.optim.Optimizer;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Losses;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;

/** Supervised training of a classifier with cross-entropy: epochs of shuffled mini-batches, and evaluation. */
public final class Trainer {
    private final Module model;
    private final Optimizer optimizer;
    private final LearningRateSchedule schedule;
    private final int batchSize;
    private final long seed;
    private int epoch;
    private long step;

    public Trainer(Module model, Optimizer optimizer, LearningRateSchedule schedule, int batchSize, long seed) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        this.model = model;
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.batchSize = batchSize;
        this.seed = seed;
    }

    /** One pass over the data in a fresh random order; returns the mean loss. Stops on a non-finite loss. */
    public double trainEpoch(Dataset data) {
        if (data.size() == 0) {
            throw new IllegalArgumentException(data.name() + ": no examples to train on");
        }
        model.train();
        // Full batches only (PyTorch's drop_last), unless the data is smaller than one batch; the next
        // batches are assembled on a background thread while this one trains.
        DataLoader loader = DataLoader.builder(data, Math.min(batchSize, data.size())).seed(seed).dropLast(true)
                .prefetch(2).build();
        double total = 0;
        int batches = 0;
        try (DataLoader.Epoch epochBatches = loader.epoch(epoch++)) {
            for (DataLoader.Batch batch : epochBatches) {
                try (Scope scope = Scope.open()) {
                    optimizer.setLearningRate(schedule.at(step));
                    Tensor[] tensors = batch.toTensors();
                    Tensor loss = Losses.crossEntropy(model.forward(tensors[0]), tensors[1], 0.0);
                    double value = loss.item();
                    if (!Double.isFinite(value)) {
                        throw new IllegalStateException("training loss became " + value + " at step " + step
                                + "; lower the learning rate");
                    }
                    optimizer.zeroGrad();
                    loss.backward();
                    optimizer.step();
                    total += value;
                    batches++;
                    step++;
                }
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
}
