package dev.retort.cli;

import dev.retort.train.Doctor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code retort doctor}: checks the machine, the CUDA backend against the CPU, and prints what it found. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Checks Java, the CPU backend and CUDA: driver, device, kernels, cuBLAS/cuDNN; then every "
                + "backend op against the CPU in float64 (a table of relative errors) and a short distillation run "
                + "on GPU and CPU from the same weights and batches.",
                "Exit status: 0 when every check passed; 1 when CUDA is not usable (unless --cpu-only) or any "
                        + "check missed its tolerance."})
final class DoctorCommand extends ReportingCommand {
    @Option(names = "--cpu-only", description = "Check the CPU alone: an unusable CUDA is reported but is not a "
            + "failure.")
    boolean cpuOnly;

    @Option(names = "--steps", defaultValue = "50", paramLabel = "N",
            description = "Distillation steps to compare (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch-size", defaultValue = "64", paramLabel = "N",
            description = "Batch size of the distillation run (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of inputs and weights (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    protected int run() {
        requirePositive("--steps", steps);
        requirePositive("--batch-size", batchSize);
        return new Doctor(out(), cpuOnly, steps, batchSize, seed).run();
    }
}
