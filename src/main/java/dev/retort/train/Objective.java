package dev.retort.train;

import dev.retort.backend.Device;
import dev.retort.nn.Module;
import dev.retort.tensor.Losses;
import dev.retort.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a training step minimises: the loss of one batch, with each of its terms reported on its own
 * (so a run that goes bad says which term did), and whatever the objective trains or keeps besides
 * the model (the regressors of hybrid distillation, pruning masks).
 */
public interface Objective extends AutoCloseable {
    /**
     * The loss to differentiate and its terms by name, {@code loss} first: batch means, unweighted
     * (the distillation modes' CE, KL without T², feature error).
     */
    record StepLoss(Tensor loss, Map<String, Double> terms) {}

    /**
     * @param examples the dataset indices of the batch's rows, for cached per-example values
     */
    StepLoss compute(Module model, Tensor images, Tensor labels, int[] examples);

    /** One line for logs and reports, e.g. {@code cross-entropy (label smoothing 0.1)}. */
    String describe();

    /**
     * Moves what the objective keeps besides the model (a teacher, regressors, masks) to {@code device}, in place.
     * The trainer calls it with its model's device before it builds the optimizer.
     */
    default void to(Device device) {}

    /** Parameters trained alongside the model (by the same optimizer) but not part of it. */
    default List<Tensor> extraParameters() {
        return List.of();
    }

    /** State beyond the model's and the optimizer's that a checkpoint must hold to resume exactly. */
    default Map<String, Tensor> stateDict() {
        return Map.of();
    }

    /** Restores {@link #stateDict()}; {@code source} names the file in errors. */
    default void loadStateDict(Map<String, Tensor> values, String source) {
        if (!values.isEmpty()) {
            throw new IllegalArgumentException(source + ": holds objective state " + values.keySet()
                    + " that " + describe() + " does not have; was it written by another kind of run?");
        }
    }

    /** Called after every optimizer step with the number of steps taken so far. */
    default void afterStep(Module model, long step) {}

    /** Called once when a run resumes after {@code step} steps, after the state is restored. */
    default void resumeAt(Module model, long step) {}

    /** Values to record once per epoch besides the losses (e.g. sparsity), by name. */
    default Map<String, Double> epochValues() {
        return Map.of();
    }

    @Override
    default void close() {}

    /** Supervised training: cross-entropy against the labels, with optional label smoothing. */
    static Objective crossEntropy(double labelSmoothing) {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("--label-smoothing must be in [0, 1], got " + labelSmoothing);
        }
        return new Objective() {
            @Override
            public StepLoss compute(Module model, Tensor images, Tensor labels, int[] examples) {
                Tensor loss = Losses.crossEntropy(model.call(images), labels, labelSmoothing);
                Map<String, Double> terms = new LinkedHashMap<>();
                terms.put("loss", loss.item());
                return new StepLoss(loss, terms);
            }

            @Override
            public String describe() {
                return labelSmoothing == 0 ? "cross-entropy" : "cross-entropy (label smoothing " + labelSmoothing + ")";
            }
        };
    }
}
