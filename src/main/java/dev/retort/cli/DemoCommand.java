package dev.retort.cli;

import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import dev.retort.train.DataFingerprint;
import dev.retort.train.Demo;
import dev.retort.train.RetortFolder;
import dev.retort.train.Runs;
import dev.retort.train.TrainingConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code retort demo}, the main job: teacher, baseline student and one student per distillation mode. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"The main job on Fashion-MNIST: train cnn-teacher, then train cnn-student on the labels of "
                + "1,000 images alone and distill it in each mode (temperature, hinton, hybrid) with every training "
                + "image as transfer set. Prints the table and writes report.md with plots.",
                "The default schedule takes about ten minutes on a 2-core CPU, one seed; --full trains the teacher "
                        + "8 epochs, runs three seeds and adds the every-label setting (mlp-student, 20 epochs, about "
                        + "40 minutes). Run it again with the same --out to reuse finished runs and resume an "
                        + "interrupted one.",
                "A demo takes no --config: it is several runs, each with its own config.json, and has no single "
                        + "configuration to replay; its options rerun it, and 'retort train|distill --config "
                        + "DIR/<run>/config.json' replays one of its runs."})
final class DemoCommand extends ReportingCommand {
    @Option(names = "--full", description = "The long schedule.")
    boolean full;

    @Option(names = "--out", paramLabel = "DIR", description = "Demo folder (default runs/demo-<time>): a new or empty folder, or a demo "
            + "folder to rerun; a folder holding other files is refused.")
    Path out;

    @Option(names = "--seeds", description = "Student seeds (default 1, or 3 with --full).")
    Integer seeds;

    @Option(names = "--teacher-epochs", description = "Override the schedule's teacher epochs.")
    Integer teacherEpochs;

    @Option(names = "--student-epochs", description = "Override the schedule's student epochs.")
    Integer studentEpochs;

    @Option(names = "--temperature", description = "T of every mode in both settings (default: each setting's, "
            + "docs/kd-modes.md).")
    Double temperature;

    @Option(names = "--labelled", paramLabel = "N",
            description = "Labels the limited-label setting keeps (default " + Demo.LABELLED + ").")
    Integer labelled;

    @Option(names = "--train-size", defaultValue = "60000", description = "Use at most this many training images.")
    int trainSize;

    @Option(names = "--config", paramLabel = "FILE", description = "Refused, with the reason (see above).")
    Path config;

    @Mixin
    DataOption data;

    @Mixin
    DeviceOption device;

    @Override
    protected int run() throws IOException {
        if (config != null) {
            throw optionError("--config " + config + ": a demo has no single configuration to replay (its teacher "
                    + "and students each have their own config.json); rerun it with its options and --out to reuse "
                    + "its runs, or replay one run with retort train|distill --config DIR/<run>/config.json");
        }
        PrintWriter log = out();
        Device chosen = device.resolve(log);
        String machine = Backends.of(chosen).describe();
        log.println("retort demo: " + machine);
        Demo.Schedule base = full ? Demo.full(trainSize) : Demo.quick(trainSize);
        if (labelled != null && labelled <= 0) {
            throw new IllegalArgumentException("--labelled must be positive, got " + labelled);
        }
        List<Demo.Setting> settings = new ArrayList<>();
        for (Demo.Setting setting : base.settings()) {
            TrainingConfig student = setting.student().withDevice(chosen);
            student = studentEpochs == null ? student : student.withEpochs(studentEpochs);
            student = labelled == null || student.labelled() == 0 ? student : student.withLabelled(labelled);
            Demo.Setting s = setting.withStudent(student);
            settings.add(temperature == null ? s : s.withTemperature(temperature));
        }
        Demo.Schedule schedule = new Demo.Schedule(base.name(),
                (teacherEpochs == null ? base.teacher() : base.teacher().withEpochs(teacherEpochs)).withDevice(chosen),
                settings, seeds == null ? base.seeds() : seeds);
        Path folder = out != null ? out : Path.of("runs", "demo-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        RetortFolder.check(folder, RetortFolder.Kind.DEMO, "--out"); // before the data is read
        Runs.Data d = data(log);
        Demo.Result result = Demo.run(schedule, d, folder, log);
        Path report = Demo.writeReport(result, schedule, d, machine, folder);
        log.println();
        log.print(Demo.tables(result, schedule));
        log.printf(Locale.ROOT, "%nreport: %s (%.1f minutes)%n", report, result.seconds() / 60);
        return 0;
    }

    /** Fashion-MNIST; without it and without --data, generated images, so the quick start works anywhere. */
    private Runs.Data data(PrintWriter log) throws IOException {
        try {
            Dataset train = data.train().head(trainSize);
            Dataset test = data.test();
            String source = "Fashion-MNIST from " + data.locate();
            log.println("data: " + source + " (" + train.size() + " train, " + test.size() + " test)");
            return new Runs.Data(train, test, source, Map.of(DataFingerprint.FIELD, data.dataset().fingerprint()),
                    data.dataset().normalization());
        } catch (IOException e) {
            if (data.explicit() != null) {
                throw e;
            }
            log.println("data: " + e.getMessage());
            log.println("data: using generated 28×28 images instead (10 classes); install dataset-fashion-mnist "
                    + "for the real demo");
            Dataset train = SyntheticImages.generate("synthetic/train", Math.min(trainSize, 12000), 10, 28, 7);
            Dataset test = SyntheticImages.generate("synthetic/test", 2000, 10, 28, 8);
            return new Runs.Data(train, test, "generated images (dataset-fashion-mnist not installed)");
        }
    }
}
