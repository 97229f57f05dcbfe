package dev.retort.cli;

import dev.retort.backend.Device;
import dev.retort.data.Dataset;
import dev.retort.nn.Module;
import dev.retort.train.Calibration;
import dev.retort.train.Evaluation;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code retort eval}: a trained classifier's accuracy, NLL and ECE on a split of the dataset. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate a trained classifier on a dataset split (Fashion-MNIST unless --data says): top-1 "
                + "accuracy, negative log-likelihood (NLL, nats per example) and expected calibration error (ECE, 15 equal-width confidence bins).",
                "Example: retort eval --model cnn-student --weights student.safetensors"})
final class EvalCommand extends ReportingCommand {
    @Mixin
    ModelOption model;

    @Mixin
    DataOption data;

    @Option(names = "--split", defaultValue = "test", paramLabel = "test|train",
            description = "Which split to evaluate on (default ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--batch-size", defaultValue = "512", paramLabel = "N",
            description = "Examples per forward pass (default ${DEFAULT-VALUE}); memory, not results, depends on it.")
    int batchSize;

    @Mixin
    DeviceOption device;

    @Override
    protected int run() throws IOException {
        model.replayConfig();
        requirePositive("--batch-size", batchSize);
        if (!split.equals("test") && !split.equals("train")) {
            throw optionError("--split " + split + ": expected test or train");
        }
        model.requireWeights();
        PrintWriter out = out();
        Device chosen = device.resolve(out);
        try (Module net = model.load(0)) {
            net.to(chosen);
            Dataset dataset = split.equals("train") ? data.train() : data.test();
            int[] inputShape = model.inputShapeFor(
                    new int[] {dataset.channels(), dataset.height(), dataset.width()},
                    dataset.name() + " in " + data.locate());
            out.println("model: " + model.describe());
            out.println("data: " + dataset.name() + " from " + data.locate() + " (" + dataset.size() + " examples)");
            Evaluation.Metrics m = Evaluation.evaluate(net, dataset, batchSize, inputShape);
            out.printf(Locale.ROOT, "accuracy  %.2f%% (%d of %d correct)%n", 100 * m.accuracy(), m.correct(),
                    m.count());
            out.printf(Locale.ROOT, "NLL       %.4f%n", m.nll());
            out.printf(Locale.ROOT, "ECE       %.4f (%d bins)%n", m.ece(), Calibration.DEFAULT_BINS);
        }
        out.flush();
        return 0;
    }
}
