package dev.retort.train;

import dev.retort.backend.Device;
import dev.retort.data.Dataset;
import java.util.Locale;

/**
 * How a network is trained, every option resolved: what the run folder's {@code config.json} records and
 * what {@link Trainer} builds its optimizer, schedule and data loader from. Errors name the CLI option.
 *
 * @param model          a reference network name or a JSON network file
 * @param optimizer      {@code sgd} (with momentum) or {@code adamw}
 * @param schedule       {@code cosine} (linear warm-up, cosine decay to 0), {@code step} (×0.1 at 50 % and
 *                       75 % of the run) or {@code constant}
 * @param warmupEpochs   warm-up length of the cosine schedule, in epochs (fractions allowed)
 * @param cropPadding    random-crop padding in pixels, 0 for none
 * @param flip           random horizontal flips
 * @param trainSize      use at most this many training examples (the first ones)
 * @param labelled       use the labels of only this many of them, chosen per class with the run's seed
 *                       ({@code --labelled}); 0 for every label. A run on labels alone trains on those examples,
 *                       repeated to the training set's size per epoch; a distillation run keeps every image as
 *                       its transfer set and applies its label term only where a label was kept
 * @param device         where the model, its optimizer state and each batch live (the data loader stays on the
 *                       CPU); the run's results do not depend on it beyond the device's float rounding
 */
public record TrainingConfig(String model, int epochs, int batchSize, String optimizer, double learningRate,
                             double momentum, boolean nesterov, double weightDecay, String schedule,
                             double warmupEpochs, double labelSmoothing, int cropPadding, boolean flip,
                             int trainSize, long seed, int evalBatchSize, Device device, int labelled) {
    /** Checks every option, naming the command-line option at fault. */
    public TrainingConfig {
        if (labelled < 0) {
            throw new IllegalArgumentException("--labelled must be ≥ 0 (0: every label), got " + labelled);
        }
        if (device == null) {
            throw new IllegalArgumentException("--device: a training run needs a device (cpu or cuda)");
        }
        positive("--epochs", epochs);
        positive("--batch-size", batchSize);
        positive("--train-size", trainSize);
        positive("--eval-batch-size", evalBatchSize);
        optimizer = optimizer.toLowerCase(Locale.ROOT);
        if (!optimizer.equals("sgd") && !optimizer.equals("adamw")) {
            throw new IllegalArgumentException("--optimizer " + optimizer + ": expected sgd or adamw");
        }
        schedule = schedule.toLowerCase(Locale.ROOT);
        if (!schedule.equals("cosine") && !schedule.equals("step") && !schedule.equals("constant")) {
            throw new IllegalArgumentException("--schedule " + schedule + ": expected cosine, step or constant");
        }
        finite("--lr", learningRate, 0, Double.MAX_VALUE, false);
        finite("--momentum", momentum, 0, 1, true);
        finite("--weight-decay", weightDecay, 0, Double.MAX_VALUE, true);
        finite("--warmup-epochs", warmupEpochs, 0, epochs, true);
        finite("--label-smoothing", labelSmoothing, 0, 1, true);
        if (cropPadding < 0) {
            throw new IllegalArgumentException("--crop-padding must be ≥ 0, got " + cropPadding);
        }
        if (nesterov && momentum == 0) {
            throw new IllegalArgumentException("--nesterov needs --momentum > 0");
        }
    }

    /** A run with every label. */
    public TrainingConfig(String model, int epochs, int batchSize, String optimizer, double learningRate,
                          double momentum, boolean nesterov, double weightDecay, String schedule, double warmupEpochs,
                          double labelSmoothing, int cropPadding, boolean flip, int trainSize, long seed,
                          int evalBatchSize, Device device) {
        this(model, epochs, batchSize, optimizer, learningRate, momentum, nesterov, weightDecay, schedule, warmupEpochs,
                labelSmoothing, cropPadding, flip, trainSize, seed, evalBatchSize, device, 0);
    }

    /** A run on the CPU with every label. */
    public TrainingConfig(String model, int epochs, int batchSize, String optimizer, double learningRate,
                          double momentum, boolean nesterov, double weightDecay, String schedule, double warmupEpochs,
                          double labelSmoothing, int cropPadding, boolean flip, int trainSize, long seed,
                          int evalBatchSize) {
        this(model, epochs, batchSize, optimizer, learningRate, momentum, nesterov, weightDecay, schedule, warmupEpochs,
                labelSmoothing, cropPadding, flip, trainSize, seed, evalBatchSize, Device.CPU);
    }

    /** True when examples change from epoch to epoch, so a teacher's outputs cannot be cached. */
    public boolean augmented() {
        return cropPadding > 0 || flip;
    }

    /** The same config with another number of epochs. */
    public TrainingConfig withEpochs(int value) {
        return new TrainingConfig(model, value, batchSize, optimizer, learningRate, momentum, nesterov, weightDecay,
                schedule, Math.min(warmupEpochs, value), labelSmoothing, cropPadding, flip, trainSize, seed,
                evalBatchSize, device, labelled);
    }

    /** The same config with another seed. */
    public TrainingConfig withSeed(long value) {
        return new TrainingConfig(model, epochs, batchSize, optimizer, learningRate, momentum, nesterov, weightDecay,
                schedule, warmupEpochs, labelSmoothing, cropPadding, flip, trainSize, value, evalBatchSize, device,
                labelled);
    }

    /** The same run on another device. */
    public TrainingConfig withDevice(Device value) {
        return new TrainingConfig(model, epochs, batchSize, optimizer, learningRate, momentum, nesterov, weightDecay,
                schedule, warmupEpochs, labelSmoothing, cropPadding, flip, trainSize, seed, evalBatchSize, value,
                labelled);
    }

    /** The same run on the labels of {@code value} examples (0: every label). */
    public TrainingConfig withLabelled(int value) {
        return new TrainingConfig(model, epochs, batchSize, optimizer, learningRate, momentum, nesterov, weightDecay,
                schedule, warmupEpochs, labelSmoothing, cropPadding, flip, trainSize, seed, evalBatchSize, device, value);
    }

    /**
     * The examples this run trains on, from the training set already cut to {@code trainSize}: with
     * {@code labelled > 0}, the kept labels only (repeated to the set's size) when {@code transfer} is false, or
     * every image with the other labels marked {@code Dataset.UNLABELLED} when it is (distillation).
     */
    public Dataset trainingSet(Dataset train, boolean transfer) {
        if (labelled == 0) {
            return train;
        }
        Dataset kept = train.keepLabels(labelled, seed);
        return transfer ? kept : kept.labelledOnly().repeat(train.size());
    }

    private static void positive(String option, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(option + " must be positive, got " + value);
        }
    }

    private static void finite(String option, double value, double min, double max, boolean minInclusive) {
        boolean aboveMin = minInclusive ? value >= min : value > min;
        if (!(aboveMin && value <= max) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(option + " must be " + (minInclusive ? "in [" : "in (") + min + ", "
                    + (max == Double.MAX_VALUE ? "∞)" : max + "]") + ", got " + value);
        }
    }
}
