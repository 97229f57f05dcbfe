package dev.retort.cli;

import dev.retort.train.Progress;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code retort} command line: parses and wires, nothing more. */
@Command(name = "retort", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "Train image classifiers and distill teachers into students.",
        subcommands = {DemoCommand.class, TrainCommand.class, DistillCommand.class, SweepCommand.class, EvalCommand.class,
                CalibrateCommand.class, PredictCommand.class, InspectCommand.class, DoctorCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    /**
     * Entry point of {@code bin/retort}: runs the subcommand named in {@code args} and exits the JVM with its
     * status (0 on success, picocli's 2 for a usage error, 1 for a failed run).
     */
    public static void main(String[] args) {
        // The engine is quiet unless asked; a command on a terminal shows its progress.
        Progress.showOn(System.out);
        System.exit(new CommandLine(new Main()).execute(args));
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"retort " + dev.retort.Version.VERSION};
        }
    }
}
