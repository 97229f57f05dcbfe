package dev.retort.cli;

import dev.retort.backend.Device;
import dev.retort.train.DistillationConfig;
import dev.retort.train.Runs;
import dev.retort.train.TrainingConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
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
                "Without augmentation the teacher's outputs are computed once and cached."})
final class DistillCommand extends ReportingCommand {
    // Required, but checked in run(): a --config replay supplies it.
    @Option(names = "--mode", paramLabel = "temperature|hinton|hybrid", description = "The distillation mode.")
    String mode;

    @Option(names = "--teacher-model", defaultValue = "cnn-teacher", paramLabel = "NAME|FILE.json",
            description = "The teacher's network (default ${DEFAULT-VALUE}).")
    String teacherModel;

    @Option(names = "--teacher-weights", paramLabel = "FILE",
            description = "The trained teacher, safetensors with PyTorch state-dict names (e.g. a run's model.safetensors).")
    Path teacherWeights;

    @Option(names = "--model", defaultValue = "cnn-student", paramLabel = "NAME|FILE.json",
            description = "The student's network (default ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--temperature", defaultValue = "4", description = "T of every mode; T_s and T_t unless given (default ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--student-temperature", description = "T_s of mode temperature (default: --temperature).")
    Double studentTemperature;

    @Option(names = "--teacher-temperature", description = "T_t of mode temperature (default: --temperature).")
    Double teacherTemperature;

    @Option(names = "--kappa", description = "κ of mode temperature (default: T_s²).")
    Double kappa;

    @Option(names = "--alpha", defaultValue = "0.1", description = "Weight of the hard-label term, hinton and hybrid (default ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--beta", defaultValue = "0.9", description = "Weight of the soft-target term, hybrid (default ${DEFAULT-VALUE}).")
    double beta;

    @Option(names = "--gamma", defaultValue = "1", description = "Weight of the feature term, hybrid (default ${DEFAULT-VALUE}).")
    double gamma;

    @Option(names = "--teacher-targets", defaultValue = "soft", paramLabel = "soft|hard",
            description = "hinton: soft targets at T, or CE against the teacher's argmax (default ${DEFAULT-VALUE}).")
    String teacherTargets;

    @Option(names = "--pairs", split = ",", paramLabel = "STUDENT=TEACHER",
            description = "hybrid: feature pairs by layer name, e.g. 5=13 (default: each network's last feature map); "
                    + "retort inspect --model M lists a network's layer names and output shapes.")
    List<String> pairs;

    @Option(names = "--prune", defaultValue = "0",
            description = "hybrid: fraction of smallest weights to mask by the end, cubic schedule (default ${DEFAULT-VALUE}).")
    double prune;

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
            throw optionError("Missing required option: '--mode=temperature|hinton|hybrid' (or --config FILE)");
        }
        if (teacherWeights == null) {
            throw optionError("Missing required option: '--teacher-weights=FILE' (or --config FILE)");
        }
        PrintWriter log = out();
        Device chosen = device.resolve(log);
        DistillationConfig distillation = distillation();
        TrainingConfig config = training.config(model).withDevice(chosen);
        Path out = training.out("distill-" + distillation.mode(), model);
        Runs.Data d = Commands.loadData(data, config, log);
        Runs.Outcome outcome = Runs.distill("distill " + distillation.mode(), config, distillation, d, out,
                training.resume, log);
        log.printf(Locale.ROOT, "student test accuracy %.2f %%, NLL %.4f, ECE %.4f; weights in %s%n",
                100 * outcome.test().accuracy(), outcome.test().nll(), outcome.test().ece(), outcome.model());
        return 0;
    }

    DistillationConfig distillation() {
        String m = mode.toLowerCase(Locale.ROOT);
        if (!teacherTargets.equals("soft") && !teacherTargets.equals("hard")) {
            throw new IllegalArgumentException("--teacher-targets " + teacherTargets + ": expected soft or hard");
        }
        if (!m.equals("temperature") && (studentTemperature != null || teacherTemperature != null || kappa != null)) {
            throw new IllegalArgumentException("--student-temperature, --teacher-temperature and --kappa belong to "
                    + "--mode temperature; use --temperature");
        }
        double ts = studentTemperature != null ? studentTemperature : temperature;
        double tt = teacherTemperature != null ? teacherTemperature : temperature;
        double k = kappa != null ? kappa : ts * ts;
        return new DistillationConfig(m, teacherModel, teacherWeights.toString(), ts, tt, k, alpha, beta, gamma,
                teacherTargets.equals("hard"), pairs == null ? List.of() : new ArrayList<>(pairs), prune);
    }
}
