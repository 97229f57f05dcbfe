package dev.retort.cli;

import dev.retort.train.RunFolder;
import dev.retort.train.Runs;
import dev.retort.train.TrainingConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code retort train}: a teacher, or a baseline student, on the labels alone. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a network with cross-entropy (a teacher, or a baseline student) on Fashion-MNIST or the "
                + "dataset of --data / --dataset.")
final class TrainCommand extends ReportingCommand {
    @Option(names = "--model", defaultValue = "cnn-teacher", paramLabel = "NAME|FILE.json",
            description = "A reference network (cnn-teacher, cnn-student, mlp-teacher, mlp-student, mlp-tiny for "
                    + "1×28×28 images; resnet20, resnet8 for CIFAR-10's 3×32×32) or a JSON network file, whose name ends in "
                    + ".json (default ${DEFAULT-VALUE}).")
    String model;

    @Mixin
    TrainingOptions training;

    @Mixin
    DataOption data;

    @Mixin
    DeviceOption device;

    @Override
    protected int run() throws IOException {
        ConfigReplay.apply(spec, training.config);
        PrintWriter log = out();
        TrainingConfig config = training.config(model).withDevice(device.resolve(log));
        Path out = training.out("train", model);
        RunFolder.check(out, training.resume); // before the data is read; checked again when the run starts
        Runs.Data d = Commands.loadData(data, config, log);
        Runs.Outcome outcome = Runs.train("train " + model, config, d, out, training.resume, log);
        log.printf(Locale.ROOT, "test accuracy %.2f %%, NLL %.4f, ECE %.4f; weights in %s%n",
                100 * outcome.test().accuracy(), outcome.test().nll(), outcome.test().ece(), outcome.model());
        return 0;
    }
}
