package dev.retort.cli;

import dev.retort.train.Progress;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code retort} command line: parses and wires, nothing more. */
@Command(name = "retort", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "Train image classifiers and distill teachers into students.",
        exitCodeListHeading = "%nExit codes (every command):%n",
        exitCodeList = {"0:the command did its work",
                "1:the command refused a value, file or folder, or failed: one line on stderr naming it and why",
                "2:the command line cannot be parsed (unknown option, missing option or value): with the usage"},
        subcommands = {DemoCommand.class, TrainCommand.class, DistillCommand.class, SweepCommand.class, EvalCommand.class,
                CalibrateCommand.class, PredictCommand.class, InspectCommand.class, DoctorCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    /**
     * Entry point of {@code bin/retort}: runs the subcommand named in {@code args} and exits the JVM with its
     * status: 0 on success, 2 for a command line picocli cannot parse (with the usage), 1 for anything a command
     * refuses or fails at (one line, ReportingCommand).
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
