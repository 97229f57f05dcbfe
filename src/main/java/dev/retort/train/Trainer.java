package dev.retort.train;

import dev.retort.backend.Device;
import dev.retort.data.DataLoader;
import dev.retort.data.Dataset;
import dev.retort.data.Normalization;
import dev.retort.io.Checkpoints;
import dev.retort.io.SafeTensors;
import dev.retort.nn.Module;
import dev.retort.optim.AdamW;
import dev.retort.optim.LearningRateSchedule;
import dev.retort.optim.Optimizer;
import dev.retort.optim.Sgd;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Finite;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Trains a model on an {@link Objective} for the epochs of a {@link TrainingConfig}: seeded, prefetched
 * mini-batches, the optimizer and learning-rate schedule the config names, an evaluation after every
 * epoch (top-1, NLL, ECE), and — given a {@link RunFolder} — metrics and an atomic checkpoint per epoch
 * from which {@link #resume} continues.
 *
 * <p>Everything trains on the config's device: the model, the objective's own state and the optimizer's
 * state live there, and each batch goes there from the (CPU) data loader. Reading the loss terms for the
 * log is a step's host synchronisation (hybrid distillation reads its feature term as well, and pruning
 * reads the weights when it updates its masks). Checkpoints hold host copies and load onto the device.
 *
 * <p>A loss term that turns NaN or infinite stops the run with {@link TrainingDivergedException}, naming
 * the step and the term; the last good checkpoint stays as it was.
 */
public final class Trainer implements AutoCloseable {
    private static final String FORMAT = "retort-checkpoint-1";

    /** Told the loss terms of every step, after the optimizer stepped. */
    @FunctionalInterface
    public interface StepListener {
        /** @param step the steps taken so far, this one included */
        void stepped(long step, Map<String, Double> terms);
    }

    private final Module model;
    private final Device device;
    private final Objective objective;
    private final TrainingConfig config;
    private final Dataset train;
    private final DataLoader loader;
    private final Optimizer optimizer;
    private final LearningRateSchedule schedule;
    private final long totalSteps;
    private final List<Map<String, Object>> metrics = new ArrayList<>();
    private RunFolder run;
    private PrintWriter log;
    private String label = "";
    private StepListener listener;
    private RunFolder.Checkpoint lastCheckpoint;
    private Normalization input;
    private int epoch;
    private long step;

    /**
     * Moves {@code model} and the objective's state to the config's device (in place), before the optimizer
     * is built, so that the optimizer's state is made there too.
     *
     * @param train the training examples; the config's {@code trainSize} is applied by the caller
     */
    public Trainer(Module model, Objective objective, TrainingConfig config, Dataset train) {
        DataLoader.Builder builder = loader(config, train);
        this.device = config.device();
        model.to(device);
        objective.to(device);
        checkClasses(model, train);
        this.model = model;
        this.objective = objective;
        this.config = config;
        this.train = train;
        this.loader = builder.build();
        this.totalSteps = (long) config.epochs() * loader.batchesPerEpoch();
        List<Tensor> parameters = new ArrayList<>(model.parameters());
        parameters.addAll(objective.extraParameters());
        this.optimizer = config.optimizer().equals("adamw")
                ? new AdamW(parameters, config.learningRate(), 0.9, 0.999, 1e-8, config.weightDecay())
                : new Sgd(parameters, config.learningRate(), config.momentum(), 0, config.weightDecay(),
                        config.nesterov());
        this.schedule = schedule(config, loader.batchesPerEpoch(), totalSteps);
    }

    /**
     * Refuses, without training, what the constructor would refuse: no examples, a crop padding the images cannot
     * take, a model that does not predict the data's classes (one example through {@code model}, where it is).
     */
    static void check(Module model, TrainingConfig config, Dataset train) {
        loader(config, train);
        checkClasses(model, train);
    }

    /** The data loader of a run, not started: refuses a training set without examples and a crop it cannot take. */
    private static DataLoader.Builder loader(TrainingConfig config, Dataset train) {
        if (train.size() == 0) {
            throw new IllegalArgumentException(train.name() + ": no examples to train on");
        }
        int batch = Math.min(config.batchSize(), train.size());
        // Full batches only (PyTorch's drop_last), so batch statistics never come from a stub of a batch.
        DataLoader.Builder builder = DataLoader.builder(train, batch).seed(config.seed()).dropLast(true).prefetch(2);
        if (config.cropPadding() > 0) {
            builder.randomCrop(config.cropPadding());
        }
        return builder.horizontalFlip(config.flip());
    }

    /** One example forward: the model must predict exactly the data's classes, or labels would fall outside. */
    private static void checkClasses(Module model, Dataset data) {
        boolean training = model.isTraining();
        model.eval();
        try (Autograd.NoGrad ignored = Autograd.noGrad(); Scope scope = Scope.open()) {
            Tensor out = model.call(data.batch(new int[] {0}, 0, 1)[0].to(model.device()));
            if (out.rank() != 2 || out.dim(1) != data.classes()) {
                throw new IllegalArgumentException(data.name() + " has " + data.classes() + " classes, the model "
                        + "outputs " + java.util.Arrays.toString(out.shape()) + " per batch; give it "
                        + data.classes() + " outputs");
            }
        } finally {
            if (training) {
                model.train();
            }
        }
    }

    private static LearningRateSchedule schedule(TrainingConfig c, int stepsPerEpoch, long total) {
        return switch (c.schedule()) {
            case "constant" -> LearningRateSchedule.constant(c.learningRate());
            case "step" -> {
                long half = Math.max(1, total / 2);
                long threeQuarters = Math.max(half + 1, total * 3 / 4);
                yield s -> c.learningRate() * (s < half ? 1 : s < threeQuarters ? 0.1 : 0.01);
            }
            default -> LearningRateSchedule.warmupCosine(c.learningRate(),
                    Math.min(total - 1, Math.round(c.warmupEpochs() * stepsPerEpoch)), total, 0);
        };
    }

    /** Writes metrics and checkpoints into {@code folder}; {@code resolvedConfig} becomes its config.json. */
    public Trainer runFolder(RunFolder folder, Map<String, Object> resolvedConfig) throws IOException {
        this.run = folder;
        if (resolvedConfig != null) {
            folder.writeConfig(resolvedConfig);
        }
        return this;
    }

    /**
     * Records how raw pixels became the training examples in every checkpoint's metadata (null: they were not
     * pixels, or it is not known), so the exported weights say how to prepare new images for them.
     */
    public Trainer inputNormalization(Normalization value) {
        this.input = value;
        return this;
    }

    /**
     * Where the per-epoch lines go ({@code null}, the default: nowhere), and a prefix naming this run in them.
     * Progress within an epoch is shown where {@link Progress#showOn} says.
     */
    public Trainer log(PrintWriter out, String runLabel) {
        this.log = out;
        this.label = runLabel == null ? "" : runLabel;
        return this;
    }

    /** Calls {@code stepListener} after every step (null: none), e.g. to record each step's loss. */
    public Trainer onStep(StepListener stepListener) {
        this.listener = stepListener;
        return this;
    }

    /** Epochs finished so far. */
    public int epoch() {
        return epoch;
    }

    /** Optimizer steps taken so far. */
    public long step() {
        return step;
    }

    /** The optimizer the config named, over the model's and the objective's parameters. */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** The metrics rows so far, one per finished epoch. */
    public List<Map<String, Object>> metrics() {
        return List.copyOf(metrics);
    }

    /**
     * Continues from the run folder's newest checkpoint: model, optimizer and objective state, the epoch
     * and step counters, where each dropout layer is in its sequence of masks, and the metrics of the epochs
     * done. The run must have trained the same model.
     */
    public void resume() throws IOException {
        if (run == null) {
            throw new IllegalStateException("resume: no run folder set");
        }
        String savedModel = run.readConfig().path("training").path("model").asText("");
        if (!savedModel.isEmpty() && !savedModel.equals(config.model())) {
            throw new IllegalArgumentException("--resume: " + run.dir() + " trained model '" + savedModel
                    + "', this command asks for '" + config.model() + "'; resume with the same --model or choose "
                    + "another --out");
        }
        RunFolder.Checkpoint checkpoint = run.latestCheckpoint().orElseThrow(() -> new IOException(
                "--resume: " + run.dir() + " holds no complete checkpoint"));
        Map<String, String> meta = Checkpoints.load(model, checkpoint.model());
        try (Scope scope = Scope.open();
             SafeTensors.Contents contents = SafeTensors.read(checkpoint.state())) {
            Map<String, Tensor> optimizerState = new LinkedHashMap<>();
            Map<String, Tensor> objectiveState = new LinkedHashMap<>();
            Map<String, Tensor> randomState = new LinkedHashMap<>();
            for (var e : contents.tensors().entrySet()) {
                if (e.getKey().startsWith("optimizer.")) {
                    optimizerState.put(e.getKey().substring("optimizer.".length()), e.getValue());
                } else if (e.getKey().startsWith("objective.")) {
                    objectiveState.put(e.getKey().substring("objective.".length()), e.getValue());
                } else if (e.getKey().startsWith("random.")) {
                    randomState.put(e.getKey().substring("random.".length()), e.getValue());
                } else {
                    throw new IOException(checkpoint.state() + ": unexpected tensor '" + e.getKey() + "'");
                }
            }
            String missing = optimizer.missingState(optimizerState);
            if (missing != null) {
                throw new IOException(checkpoint.state() + ": optimizer state '" + missing + "' is missing (has "
                        + optimizerState.size() + " optimizer tensors); resuming would reset it and change the run. "
                        + "The checkpoint is incomplete; start the run again without --resume");
            }
            optimizer.loadStateDict(optimizerState, checkpoint.state().toString());
            objective.loadStateDict(objectiveState, checkpoint.state().toString());
            RandomState.restore(model, randomState, checkpoint.state().toString());
        }
        try {
            epoch = Integer.parseInt(meta.getOrDefault("epoch", ""));
            step = Long.parseLong(meta.getOrDefault("step", ""));
        } catch (NumberFormatException e) {
            throw new IOException(checkpoint.model() + ": metadata lacks the epoch and step of the checkpoint");
        }
        if (epoch != checkpoint.epoch()) {
            throw new IOException(checkpoint.model() + ": metadata says epoch " + epoch + " but the checkpoint's "
                    + "folder is " + checkpoint.folder().getFileName() + "; the checkpoint was altered, start the run "
                    + "again without --resume");
        }
        if (step != (long) epoch * loader.batchesPerEpoch()) {
            throw new IOException(checkpoint.model() + ": metadata says step " + step + " after epoch " + epoch
                    + ", this run takes " + loader.batchesPerEpoch() + " steps per epoch; resume with the run's "
                    + "--batch-size and --train-size");
        }
        String bad = Finite.describeNonFinite(model.stateDict());
        if (bad == null) {
            try (Scope scope = Scope.open()) {
                bad = Finite.describeNonFinite(trainingState());
            }
        }
        if (bad != null) {
            throw new IOException(checkpoint.folder() + ": " + bad + "; a non-finite checkpoint cannot be resumed, "
                    + "start the run again without --resume");
        }
        metrics.clear();
        for (Map<String, Object> row : run.readMetrics()) {
            if (row.get("epoch") instanceof Number n && n.intValue() <= epoch) {
                metrics.add(row);
            }
        }
        lastCheckpoint = checkpoint;
        objective.resumeAt(model, step);
        if (log != null) {
            log.printf("%sresumed from %s (epoch %d, step %d)%n", label, checkpoint.folder(), epoch, step);
        }
    }

    /** Trains the remaining epochs, evaluating on {@code test} after each; returns all metrics rows. */
    public List<Map<String, Object>> fit(Dataset test) throws IOException {
        while (epoch < config.epochs()) {
            Map<String, Object> row = trainEpoch();
            checkFiniteState();
            Evaluation.Metrics m = Evaluation.evaluate(model, test, config.evalBatchSize());
            if (!Double.isFinite(m.nll())) {
                // Finite weights can still be large enough to overflow the logits (a huge --lr): such a model
                // predicts nothing, so it is no more a checkpoint than one with NaN weights.
                throw new TrainingDivergedException(epoch, step, "test_nll", m.nll(), label + "after epoch " + epoch
                        + " the model's outputs on the test data are not finite (NLL " + m.nll() + "); the weights "
                        + "overflow. The run stopped without writing this epoch's checkpoint and " + kept()
                        + ". Lower --lr or check the data.");
            }
            row.put("test_accuracy", m.accuracy());
            row.put("test_nll", m.nll());
            row.put("test_ece", m.ece());
            metrics.add(row);
            if (log != null) {
                log.println(label + describe(row));
            }
            if (run != null) {
                run.writeMetrics(metrics);
                try (Scope scope = Scope.open()) { // frees the host copies made for the files
                    Map<String, String> metadata = new LinkedHashMap<>(Map.of("format", FORMAT,
                            "epoch", Integer.toString(epoch), "step", Long.toString(step),
                            Checkpoints.MODEL_METADATA, config.model()));
                    if (input != null) {
                        metadata.putAll(input.toMetadata());
                    }
                    lastCheckpoint = run.saveCheckpoint(epoch, model, trainingState(), metadata);
                }
            }
        }
        if (run != null && lastCheckpoint != null) {
            run.exportModel(lastCheckpoint);
        }
        return metrics();
    }

    /** One pass over the training data; returns the epoch's row (means of every loss term) without evaluation. */
    public Map<String, Object> trainEpoch() {
        model.train();
        int[] order = loader.order(epoch);
        int batches = loader.batchesPerEpoch();
        Map<String, Double> sums = new LinkedHashMap<>();
        long start = System.nanoTime();
        String task = String.format(Locale.ROOT, "%sepoch %d/%d", label, epoch + 1, config.epochs());
        try (DataLoader.Epoch epochBatches = loader.epoch(epoch);
             Progress progress = Progress.start(task, batches, "batch")) {
            for (DataLoader.Batch batch : epochBatches) {
                int[] examples = new int[batch.size()];
                System.arraycopy(order, batch.index() * loader.batchSize(), examples, 0, batch.size());
                try (Scope scope = Scope.open()) {
                    optimizer.setLearningRate(schedule.at(step));
                    Tensor[] tensors = batch.toTensors(device);
                    Objective.StepLoss loss = objective.compute(model, tensors[0], tensors[1], examples);
                    checkFinite(loss.terms());
                    optimizer.zeroGrad();
                    loss.loss().backward();
                    optimizer.step();
                    step++;
                    objective.afterStep(model, step);
                    loss.terms().forEach((k, v) -> sums.merge(k, v, Double::sum));
                    if (listener != null) {
                        listener.stepped(step, loss.terms());
                    }
                    // The last batch's loss, named so, beside the epoch summary's mean.
                    progress.message(String.format(Locale.ROOT, "batch loss %.4f", loss.terms().get("loss")));
                    progress.step(1);
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        epoch++;
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("epoch", epoch);
        row.put("step", step);
        row.put("lr", optimizer.learningRate());
        sums.forEach((k, v) -> row.put("train_" + k, v / batches));
        row.putAll(objective.epochValues());
        row.put("seconds", seconds);
        row.put("images_per_s", batches * (double) loader.batchSize() / seconds);
        return row;
    }

    private void checkFinite(Map<String, Double> terms) {
        for (var e : terms.entrySet()) {
            if (!Double.isFinite(e.getValue())) {
                throw new TrainingDivergedException(epoch + 1, step + 1, e.getKey(), e.getValue(),
                        label + "loss term '" + e.getKey() + "' became " + e.getValue() + " at step " + (step + 1)
                                + " (epoch " + (epoch + 1) + "); the run stopped and " + kept()
                                + ". Lower --lr or check the data.");
            }
        }
    }

    /**
     * The loss is checked before each update, so an update that itself overflows (the last step of an epoch
     * with a huge learning rate) shows only here: weights and optimizer state are checked before they may become
     * a checkpoint, so a checkpoint — and the model exported from it — is always finite.
     */
    private void checkFiniteState() {
        String bad = Finite.describeNonFinite(model.stateDict());
        String where = "weights";
        if (bad == null) {
            try (Scope scope = Scope.open()) { // frees the host copies some states are read into
                bad = Finite.describeNonFinite(trainingState());
                where = "training state";
            }
        }
        if (bad != null) {
            throw new TrainingDivergedException(epoch, step, where, Double.NaN, label + "after step " + step
                    + " (end of epoch " + epoch + ") the " + where + " are not finite: " + bad + "; the run stopped "
                    + "without writing this epoch's checkpoint and " + kept() + ". Lower --lr or check the data.");
        }
    }

    private String kept() {
        return lastCheckpoint == null ? "no checkpoint had been written yet"
                : "the last good checkpoint, " + lastCheckpoint.folder() + " (epoch " + lastCheckpoint.epoch()
                  + "), is kept";
    }

    private Map<String, Tensor> trainingState() {
        Map<String, Tensor> state = new LinkedHashMap<>();
        optimizer.stateDict().forEach((k, v) -> state.put("optimizer." + k, v));
        objective.stateDict().forEach((k, v) -> state.put("objective." + k, v));
        RandomState.of(model).forEach((k, v) -> state.put("random." + k, v));
        return state;
    }

    private String describe(Map<String, Object> row) {
        StringBuilder terms = new StringBuilder();
        for (var e : row.entrySet()) {
            if (e.getKey().startsWith("train_") && !e.getKey().equals("train_loss")) {
                terms.append(terms.length() == 0 ? " (" : ", ").append(e.getKey().substring(6)).append(' ')
                        .append(String.format(Locale.ROOT, "%.4f", (Double) e.getValue()));
            }
        }
        if (terms.length() > 0) {
            terms.append(')');
        }
        return String.format(Locale.ROOT, "epoch %d/%d  mean loss %.4f%s  test %.2f %%  nll %.4f  ece %.4f  (%.1f s, %.0f img/s)",
                (Integer) row.get("epoch"), config.epochs(), (Double) row.get("train_loss"), terms,
                100 * (Double) row.get("test_accuracy"), (Double) row.get("test_nll"), (Double) row.get("test_ece"),
                (Double) row.get("seconds"), (Double) row.get("images_per_s"));
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
