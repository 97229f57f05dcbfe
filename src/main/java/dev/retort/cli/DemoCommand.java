package dev.retort.cli;

import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.data.Dataset;
import dev.retort.data.FashionMnist;
import dev.retort.data.SyntheticImages;
import dev.retort.nn.Module;
import dev.retort.nn.Models;
import dev.retort.optim.LearningRateSchedule;
import dev.retort.optim.Sgd;
import dev.retort.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The main job. Until distillation lands it trains one classifier (by default {@code mlp-student})
 * on Fashion-MNIST, or on generated images when the dataset is not installed, and prints accuracy.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train a classifier on Fashion-MNIST (or generated images) and print its test accuracy.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "DIR", description = "Folder with the Fashion-MNIST IDX files.")
    Path data;

    @Option(names = "--model", defaultValue = "mlp-student",
            description = "Network: cnn-teacher, cnn-student, mlp-teacher, mlp-student, mlp-tiny (default ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--epochs", defaultValue = "2", description = "Passes over the training set (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "128", description = "Examples per step (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "0.05", description = "Peak learning rate of SGD with momentum 0.9 (default ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--train-size", defaultValue = "60000", description = "Use at most this many training examples.")
    int trainSize;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of initialisation and shuffling.")
    long seed;

    @Override
    public Integer call() throws IOException {
        if (!Models.NAMES.contains(model) || model.startsWith("resnet")) {
            throw new IllegalArgumentException("--model " + model + ": expected one of cnn-teacher, cnn-student, "
                    + "mlp-teacher, mlp-student, mlp-tiny");
        }
        if (epochs <= 0 || batchSize <= 0 || trainSize <= 0) {
            throw new IllegalArgumentException("--epochs, --batch-size and --train-size must be positive");
        }
        System.out.println("retort demo: " + Backends.of(Device.CPU).describe());
        Dataset train;
        Dataset test;
        try {
            Path dir = FashionMnist.locate(data);
            train = FashionMnist.train(dir).head(trainSize);
            test = FashionMnist.test(dir);
            System.out.println("data: Fashion-MNIST from " + dir + " (" + train.size() + " train, " + test.size()
                    + " test)");
        } catch (IOException e) {
            if (data != null) {
                throw e;
            }
            System.out.println("data: " + e.getMessage());
            System.out.println("data: using generated 28×28 images instead (10 classes)");
            train = SyntheticImages.generate("synthetic/train", Math.min(trainSize, 12000), 10, 28, 7);
            test = SyntheticImages.generate("synthetic/test", 2000, 10, 28, 8);
        }
        try (Module net = Models.create(model, seed);
             Sgd sgd = new Sgd(net.parameters(), learningRate, 0.9, 0, 5e-4, true)) {
            System.out.println("model: " + model + ", " + net.parameterCount() + " parameters");
            long steps = (long) epochs * Math.max(1, train.size() / batchSize);
            Trainer trainer = new Trainer(net, sgd,
                    LearningRateSchedule.warmupCosine(learningRate, Math.min(100, steps / 10), steps, 0), batchSize, seed);
            for (int epoch = 1; epoch <= epochs; epoch++) {
                long start = System.nanoTime();
                double loss = trainer.trainEpoch(train);
                double seconds = (System.nanoTime() - start) / 1e9;
                double[] eval = Trainer.evaluate(net, test, 512);
                System.out.printf("epoch %d/%d  train loss %.4f  test loss %.4f  test accuracy %.2f%%  (%.1f s, %.0f "
                        + "images/s)%n", epoch, epochs, loss, eval[1], 100 * eval[0], seconds, train.size() / seconds);
            }
        }
        return 0;
    }
}
