package dev.retort.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retort.backend.Device;
import dev.retort.data.Dataset;
import dev.retort.io.AtomicFiles;
import dev.retort.nn.Module;
import dev.retort.train.Calibration;
import dev.retort.train.Evaluation;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code retort calibrate}: fits a classifier's softmax temperature T* on held-out data and reports its effect. */
@Command(name = "calibrate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fit the softmax temperature T* (Guo et al. 2017) of a trained classifier on held-out data.",
                "T* minimises the negative log-likelihood of softmax(z/T) on the LAST --holdout examples of the "
                + "training split (of Fashion-MNIST, or of --data), so train on the others for an honest fit. Prints T* and the NLL "
                + "and ECE (15 bins) before (T = 1) and after (T = T*) on the held-out set and on the test set.",
                "Example: retort calibrate --model cnn-teacher --weights teacher.safetensors --output t.json",
                "Use T* with: retort predict --probabilities --temperature T*"})
final class CalibrateCommand extends ReportingCommand {
    /** Why calibration refuses NaN or infinite weights or logits. */
    private static final String NO_FIT = "no temperature can be fitted to NaN or infinite logits (are the weights "
            + "those of a diverged run?)";

    @Mixin
    ModelOption model;

    @Mixin
    DataOption data;

    @Option(names = "--holdout", defaultValue = "5000", paramLabel = "N",
            description = "Fit on the last N examples of the training split (default ${DEFAULT-VALUE}).")
    int holdout;

    @Option(names = "--batch-size", defaultValue = "512", paramLabel = "N",
            description = "Examples per forward pass (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--output", paramLabel = "FILE.json",
            description = "Also write T* and the metrics as JSON ({\"temperature\": ..., ...}), atomically; never over "
                    + "an input or a file of a run folder.")
    Path output;

    @Mixin
    DeviceOption device;

    @Override
    protected int run() throws IOException {
        model.replayConfig();
        requirePositive("--holdout", holdout);
        requirePositive("--batch-size", batchSize);
        model.requireWeights();
        if (output != null) {
            OutputFiles files = new OutputFiles().reads("--data", data.locate());
            model.readBy(files);
            files.writes("--output", output);
        }
        PrintWriter out = out();
        Device chosen = device.resolve(out);
        try (Module net = model.refuseNonFiniteWeights(NO_FIT).load(0)) {
            net.to(chosen);
            Dataset train = data.train();
            if (holdout > train.size()) {
                throw optionError("--holdout " + holdout + ": the training split in " + data.locate()
                        + " has only " + train.size() + " examples");
            }
            Dataset held = train.tail(holdout);
            Dataset test = data.test();
            int[] inputShape = model.inputShapeFor(new int[] {train.channels(), train.height(), train.width()},
                    train.name() + " in " + data.locate());
            out.println("model: " + model.describe());
            out.println("held-out: the last " + held.size() + " of " + train.size() + " training examples; test: "
                    + test.size() + " examples (" + data.locate() + ")");
            float[] heldLogits = Evaluation.logits(net, held, batchSize, inputShape);
            float[] testLogits = Evaluation.logits(net, test, batchSize, inputShape);
            requireFinite(heldLogits, held.classes(), "held-out example", train.size() - held.size(), "training");
            requireFinite(testLogits, test.classes(), "test example", 0, "test");
            Calibration.Result fit = Calibration.fit(heldLogits, held.labels(), held.classes());
            double t = fit.temperature();
            Evaluation.Metrics[] rows = {
                Evaluation.metrics(heldLogits, held.labels(), held.classes(), 1.0),
                Evaluation.metrics(heldLogits, held.labels(), held.classes(), t),
                Evaluation.metrics(testLogits, test.labels(), test.classes(), 1.0),
                Evaluation.metrics(testLogits, test.labels(), test.classes(), t)};
            out.printf(Locale.ROOT, "T* = %.4f%n", t);
            if (fit.atBound()) {
                err().printf(Locale.ROOT, "retort calibrate: warning: T* = %.4g is an edge of the search range "
                        + "[0.01, 100]: the NLL still falls beyond it, so it is a bound, not a fit (are the logits "
                        + "informative? is --model the network the weights were trained as?)%n", t);
                err().flush();
            }
            out.printf(Locale.ROOT, "%-10s %10s %10s %10s %10s %9s%n", "", "NLL T=1", "NLL T*", "ECE T=1", "ECE T*",
                    "accuracy");
            out.printf(Locale.ROOT, "%-10s %10.4f %10.4f %10.4f %10.4f %8.2f%%%n", "held-out", rows[0].nll(),
                    rows[1].nll(), rows[0].ece(), rows[1].ece(), 100 * rows[0].accuracy());
            out.printf(Locale.ROOT, "%-10s %10.4f %10.4f %10.4f %10.4f %8.2f%%%n", "test", rows[2].nll(),
                    rows[3].nll(), rows[2].ece(), rows[3].ece(), 100 * rows[2].accuracy());
            if (output != null) {
                AtomicFiles.writeString(output, json(t, rows));
                out.println("wrote " + output);
            }
        }
        out.flush();
        return 0;
    }

    /**
     * Refuses NaN or infinite logits before the fit, naming the first such example: weights finite in themselves
     * can still overflow, and a fit on them would end at the bound of T's interval with NaN metrics.
     */
    private void requireFinite(float[] logits, int classes, String what, int first, String split)
            throws IOException {
        int row = Calibration.firstNonFiniteRow(logits, classes);
        if (row >= 0) {
            throw optionError("--weights " + model.weights() + ": the logits of " + what + " " + row + " ("
                    + split + " example " + (first + row) + " of " + data.locate() + ") are not finite; " + NO_FIT);
        }
    }

    private String json(double temperature, Evaluation.Metrics[] rows) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("temperature", temperature);
        root.put("model", model.model());
        root.put("weights", model.weights().toString());
        root.put("bins", Calibration.DEFAULT_BINS);
        split(root.putObject("holdout"), rows[0], rows[1]).put("source", "last " + holdout + " training examples");
        split(root.putObject("test"), rows[2], rows[3]);
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    }

    private static ObjectNode split(ObjectNode node, Evaluation.Metrics before, Evaluation.Metrics after) {
        node.put("examples", before.count());
        node.put("accuracy", before.accuracy());
        node.put("nll_before", before.nll());
        node.put("nll_after", after.nll());
        node.put("ece_before", before.ece());
        node.put("ece_after", after.ece());
        return node;
    }
}
