package dev.retort.cli;

import dev.retort.backend.Device;
import dev.retort.train.TrainingConfig;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import picocli.CommandLine.Option;

/** The options of every training run ({@code train}, {@code distill}): schedule, optimizer, augmentation, run folder. */
public final class TrainingOptions {
    @Option(names = "--epochs", defaultValue = "10", description = "Passes over the training set (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "128", description = "Examples per step (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--optimizer", defaultValue = "sgd", paramLabel = "sgd|adamw",
            description = "SGD with momentum, or AdamW (default ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--lr", defaultValue = "0.05", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--nesterov", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Nesterov momentum for SGD (default on; --no-nesterov turns it off).")
    boolean nesterov;

    @Option(names = "--weight-decay", defaultValue = "5e-4",
            description = "L2 weight decay (SGD) or decoupled decay (AdamW) (default ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--schedule", defaultValue = "cosine", paramLabel = "cosine|step|constant",
            description = "Learning-rate schedule: linear warm-up then cosine decay to 0, ×0.1 at 50 %% and 75 %% of the "
                    + "run, or constant (default ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--warmup-epochs", defaultValue = "0.2",
            description = "Warm-up of the cosine schedule, in epochs (default ${DEFAULT-VALUE}).")
    double warmupEpochs;

    @Option(names = "--label-smoothing", defaultValue = "0",
            description = "ε of the cross-entropy against labels (default ${DEFAULT-VALUE}).")
    double labelSmoothing;

    @Option(names = "--crop-padding", defaultValue = "0",
            description = "Random crop after zero padding by this many pixels; 0 for none (default ${DEFAULT-VALUE}).")
    int cropPadding;

    @Option(names = "--flip", description = "Random horizontal flips.")
    boolean flip;

    @Option(names = "--train-size", defaultValue = "60000",
            description = "Use at most this many training examples, the first ones (default ${DEFAULT-VALUE}).")
    int trainSize;

    @Option(names = "--labelled", paramLabel = "N",
            description = "Use the labels of only N training images, an even share per class chosen with --seed "
                    + "(default: every label). train: those N images alone, repeated to the training set's size per "
                    + "epoch; distill: every image as transfer set, the label term only where a label was kept.")
    Integer labelled;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of initialisation, shuffling and augmentation.")
    long seed;

    @Option(names = "--eval-batch-size", defaultValue = "500", description = "Batch size of evaluation (default ${DEFAULT-VALUE}).")
    int evalBatchSize;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Run folder: config.json, metrics, checkpoints, model.safetensors "
                    + "(default runs/<command>-<model>-<time>). A new or empty folder, or a run folder of Retort's; "
                    + "a folder holding other files is refused.")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its newest checkpoint.")
    boolean resume;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Replay a run: every option not given here takes its value from FILE, a run's config.json "
                    + "(data folder included; not --out), as typed: a value of the wrong type, a null or a path to "
                    + "the wrong kind of file is refused, naming the field.")
    Path config;

    TrainingConfig config(String model) {
        if (labelled != null && labelled <= 0) {
            throw new IllegalArgumentException("--labelled must be positive, got " + labelled);
        }
        return new TrainingConfig(model, epochs, batchSize, optimizer, learningRate, momentum, nesterov, weightDecay,
                schedule, warmupEpochs, labelSmoothing, cropPadding, flip, trainSize, seed, evalBatchSize,
                Device.CPU, labelled == null ? 0 : labelled);
    }

    Path out(String command, String model) {
        if (out != null) {
            return out;
        }
        if (resume) {
            throw new IllegalArgumentException("--resume needs --out DIR, the folder of the run to continue");
        }
        String name = Path.of(model).getFileName().toString().replaceAll("\\.json$", "");
        return Path.of("runs", command + "-" + name + "-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }
}
