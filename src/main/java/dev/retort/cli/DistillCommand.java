package dev.retort.cli;

import dev.retort.backend.Device;
import dev.retort.distill.DistillationMode;
import dev.retort.train.DistillationConfig;
import dev.retort.train.RunFolder;
import dev.retort.train.Runs;
import dev.retort.train.TrainingConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code retort distill}: a student from a trained teacher, in one of the three modes of docs/kd-modes.md. */
@Command(name = "distill", mixinStandardHelpOptions = true,
        description = {"Distill a student from a trained teacher, on Fashion-MNIST or the dataset of --data / --dataset.",
                "Modes (docs/kd-modes.md): temperature — soft targets only, T_s, T_t, κ, no labels needed; "
                        + "hinton — α·CE + (1−α)·T²·KL; hybrid — α·CE + β·T²·KL + γ·feature MSE through learned "
                        + "regressors, optional pruning.",
                "Without augmentation the teacher's outputs are computed once and cached.",
                "--labelled N keeps the labels of N training images (an even share per class, chosen with --seed): "
                        + "every image stays in the transfer set for the soft targets, and the label term of hinton "
                        + "and hybrid applies only where a label was kept."})
final class DistillCommand extends ReportingCommand {
    // Required, but checked in run(): a --config replay supplies it.
    @Option(names = "--mode", paramLabel = "temperature|hinton|hybrid", description = "The distillation mode.")
    String mode;

    @Option(names = "--teacher-model", defaultValue = "cnn-teacher", paramLabel = "NAME|FILE.json",
            description = "The teacher's network: a reference network or a JSON network file, FILE.json "
                    + "(default ${DEFAULT-VALUE}).")
    String teacherModel;

    @Option(names = "--teacher-weights", paramLabel = "FILE",
            description = "The trained teacher, safetensors with PyTorch state-dict names (e.g. a run's model.safetensors).")
    Path teacherWeights;

    @Option(names = "--model", defaultValue = "cnn-student", paramLabel = "NAME|FILE.json",
            description = "The student's network: a reference network or a JSON network file, FILE.json "
                    + "(default ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--temperature", paramLabel = "T",
            description = "T of every mode; T_s and T_t of mode temperature unless given (default 2, docs/kd-modes.md).")
    Double temperature;

    @Option(names = "--student-temperature", paramLabel = "T_S",
            description = "T_s of mode temperature (default: --temperature).")
    Double studentTemperature;

    @Option(names = "--teacher-temperature", paramLabel = "T_T",
            description = "T_t of mode temperature (default: --temperature).")
    Double teacherTemperature;

    @Option(names = "--kappa", description = "κ of mode temperature (default: T_s²).")
    Double kappa;

    @Option(names = "--alpha", description = "Weight of the hard-label term, hinton and hybrid (default 0.1).")
    Double alpha;

    @Option(names = "--beta", description = "Weight of the soft-target term, hybrid (default 0.9).")
    Double beta;

    @Option(names = "--gamma", description = "Weight of the feature term, hybrid (default 1).")
    Double gamma;

    @Option(names = "--teacher-targets", paramLabel = "soft|hard",
            description = "hinton: soft targets at T, or CE against the teacher's argmax (default soft).")
    String teacherTargets;

    @Option(names = "--pairs", split = ",", paramLabel = "STUDENT=TEACHER",
            description = "hybrid: feature pairs by layer name, e.g. 5=13 (default: each network's last feature map); "
                    + "retort inspect --model M lists a network's layer names and output shapes.")
    List<String> pairs;

    @Option(names = "--prune", description = "hybrid: fraction of smallest weights to mask by the end, cubic schedule "
            + "(default 0).")
    Double prune;

    @Mixin
    TrainingOptions training;

    @Mixin
    DataOption data;

    @Mixin
    DeviceOption device;

    @Override
    protected int run() throws IOException {
        ConfigReplay.apply(spec, training.config);
        if (mode == null) {
            throw missingOption("Missing required option: '--mode=temperature|hinton|hybrid' (or --config FILE)");
        }
        if (teacherWeights == null) {
            throw missingOption("Missing required option: '--teacher-weights=FILE' (or --config FILE)");
        }
        PrintWriter log = out();
        Device chosen = device.resolve(log);
        DistillationConfig distillation = distillation();
        TrainingConfig config = training.config(model).withDevice(chosen);
        Path out = training.out("distill-" + distillation.mode().name(), model);
        RunFolder.check(out, training.resume); // before the data is read; checked again when the run starts
        Runs.Data d = Commands.loadData(data, config, log);
        Runs.Outcome outcome = Runs.distill("distill " + distillation.mode().name(), config, distillation, d, out,
                training.resume, log);
        log.printf(Locale.ROOT, "student test accuracy %.2f %%, NLL %.4f, ECE %.4f; weights in %s%n",
                100 * outcome.test().accuracy(), outcome.test().nll(), outcome.test().ece(), outcome.model());
        return 0;
    }

    DistillationConfig distillation() {
        DistillationMode parsed = DistillationMode.parse(mode, new DistillationMode.Options(temperature,
                studentTemperature, teacherTemperature, kappa, alpha, beta, gamma, teacherTargets, pairs, prune));
        return new DistillationConfig(parsed, teacherModel, teacherWeights.toString());
    }
}
