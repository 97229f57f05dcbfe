package dev.retort.cli;

import dev.retort.backend.Device;
import dev.retort.data.Dataset;
import dev.retort.train.Runs;
import dev.retort.train.TrainingConfig;
import java.io.IOException;
import java.io.PrintWriter;

/** Wiring shared by the training commands. */
final class Commands {
    private Commands() {}

    /**
     * The device the training commands run on. The CUDA backend has every op, but the trainer does not move
     * models and batches to it yet: {@code --device cuda} says so and stops, {@code auto} says so and uses the CPU.
     */
    static Device trainingDevice(DeviceOption option, PrintWriter log) {
        Device device = option.resolve(log);
        if (device == Device.CUDA) {
            String why = "training on CUDA is not wired into the trainer yet (the backend's ops are: see retort doctor)";
            if (option.requested().equalsIgnoreCase("cuda")) {
                throw new IllegalArgumentException("--device cuda: " + why + "; use --device cpu");
            }
            log.println("device: cpu (" + why + ")");
        }
        return Device.CPU;
    }

    /** Fashion-MNIST from the lookup order, cut to the config's train size, with one line saying where it came from. */
    static Runs.Data loadData(DataOption option, TrainingConfig config, PrintWriter log) throws IOException {
        Dataset train = option.train().head(config.trainSize());
        Dataset test = option.test();
        String source = "Fashion-MNIST from " + option.locate();
        log.println("data: " + source + " (" + train.size() + " train, " + test.size() + " test)");
        return new Runs.Data(train, test, source);
    }
}
