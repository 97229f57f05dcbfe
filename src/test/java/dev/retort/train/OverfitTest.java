package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.Storage;
import dev.retort.data.Dataset;
import dev.retort.data.FashionMnist;
import dev.retort.data.SyntheticImages;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.optim.AdamW;
import dev.retort.optim.Optimizer;
import dev.retort.optim.Sgd;
import dev.retort.tensor.Losses;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * End to end: the networks learn. Uses real Fashion-MNIST where Debian's dataset-fashion-mnist is
 * installed (/usr/share/datasets/fashion-mnist), else generated images, so the test runs everywhere.
 */
@SuppressWarnings("try") // scopes own what is created inside them without being referenced
class OverfitTest {
    private static final Path DEBIAN_FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    /** 64 images: the first 64 of Fashion-MNIST's (smaller) test file, or generated ones. */
    private static Dataset oneBatch() throws IOException {
        if (Files.isDirectory(DEBIAN_FASHION_MNIST)) {
            return FashionMnist.test(FashionMnist.locate(DEBIAN_FASHION_MNIST)).head(64);
        }
        return SyntheticImages.generate("synthetic", 64, 10, 28, 1);
    }

    @Test
    void cnnStudentOverfitsOneBatch() throws IOException {
        Dataset data = oneBatch();
        assertEquals(64, data.size());
        long baseline = Storage.liveCount() + Storage.leakedCount();
        // It takes 29 steps on Fashion-MNIST, 10 on generated images; a step is ~0.3 s on 2 cores.
        int maxSteps = 60;
        int steps = 0;
        double firstLoss = Double.NaN;
        double accuracy = 0;
        int[] order = new int[data.size()];
        Arrays.setAll(order, i -> i);
        try (Module model = Models.create("cnn-student", 1);
             Optimizer optimizer = new AdamW(model.parameters(), 3e-3, 0.9, 0.999, 1e-8, 0)) {
            while (steps < maxSteps && accuracy < 1.0) {
                try (Scope scope = Scope.open()) {
                    Tensor[] batch = data.batch(order, 0, data.size());
                    Tensor logits = model.forward(batch[0]);
                    Tensor loss = Losses.crossEntropy(logits, batch[1], 0.0);
                    if (steps == 0) {
                        firstLoss = loss.item();
                    }
                    accuracy = accuracy(logits.argmax().toIntArray(), data.labels());
                    if (accuracy == 1.0) {
                        break;
                    }
                    optimizer.zeroGrad();
                    loss.backward();
                    optimizer.step();
                    steps++;
                }
            }
            Evaluation.Metrics evaluated = Evaluation.evaluate(model, data, 64);
            assertEquals(1.0, evaluated.accuracy(), data.name() + ": training accuracy after " + steps + " steps");
            assertTrue(evaluated.nll() < firstLoss / 4, data.name() + ": loss " + evaluated.nll() + " from " + firstLoss);
            System.out.println("cnn-student fits 64 " + data.name() + " images in " + steps + " steps; loss "
                    + firstLoss + " → " + evaluated.nll());
        }
        assertEquals(baseline, Storage.liveCount() + Storage.leakedCount(), "tensors leaked by the training loop");
    }

    @Test
    void mlpTinyLearnsSyntheticImagesWithTheTrainer() {
        Dataset all = SyntheticImages.generate("synthetic", 2500, 10, 28, 5);
        Dataset train = all.head(2000);
        int n = all.size() - train.size();
        Dataset test = new Dataset("synthetic/test", Arrays.copyOfRange(all.images(), 2000 * 784, all.images().length),
                Arrays.copyOfRange(all.labels(), 2000, all.size()), 1, 28, 28, 10);
        assertEquals(500, n);
        System.setProperty("retort.progress", "off");
        TrainingConfig config = new TrainingConfig("mlp-tiny", 4, 50, "sgd", 0.05, 0.9, false, 0, "constant", 0, 0, 0,
                false, train.size(), 3, 250);
        try (Module model = Models.create("mlp-tiny", 2);
             Trainer trainer = new Trainer(model, Objective.crossEntropy(0), config, train)) {
            Evaluation.Metrics start = Evaluation.evaluate(model, test, 250);
            double[] before = {start.accuracy(), start.nll()};
            double[] losses = new double[4];
            for (int epoch = 0; epoch < losses.length; epoch++) {
                losses[epoch] = (Double) trainer.trainEpoch().get("train_loss");
                assertTrue(Double.isFinite(losses[epoch]), "epoch " + epoch);
            }
            Evaluation.Metrics end = Evaluation.evaluate(model, test, 250);
            double[] after = {end.accuracy(), end.nll()};
            System.out.println("mlp-tiny on synthetic images: epoch losses " + Arrays.toString(losses)
                    + "; held-out accuracy " + before[0] + " → " + after[0]);
            assertTrue(losses[losses.length - 1] < 0.5 * losses[0], "loss did not fall: " + Arrays.toString(losses));
            // Once near zero, an epoch's mean loss moves with the shuffle order; what must hold is that no
            // later epoch falls back toward the first.
            for (int e = 1; e < losses.length; e++) {
                assertTrue(losses[e] < 0.5 * losses[0], "loss rose back at epoch " + e + ": " + Arrays.toString(losses));
            }
            assertTrue(after[0] > 0.6, "held-out accuracy " + after[0] + " (chance is 0.1)");
            assertTrue(after[1] < before[1], "held-out loss " + before[1] + " → " + after[1]);
        }
    }

    private static double accuracy(int[] predicted, int[] labels) {
        int correct = 0;
        for (int i = 0; i < predicted.length; i++) {
            if (predicted[i] == labels[i]) {
                correct++;
            }
        }
        return (double) correct / predicted.length;
    }
}
