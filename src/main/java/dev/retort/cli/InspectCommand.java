package dev.retort.cli;

import dev.retort.nn.Module;
import dev.retort.nn.Summary;
import java.io.IOException;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code retort inspect}: a network's layers, as torchinfo lists them; the names are what --pairs takes. */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"List a network's layers: their state-dict names (what distill --pairs takes), types, output "
                + "shapes for one example, and parameter counts.",
                "Example: retort inspect --model cnn-teacher"})
final class InspectCommand extends ReportingCommand {
    @Mixin
    ModelOption model;

    @Override
    protected int run() throws IOException {
        model.replayConfig();
        PrintWriter out = out();
        try (Module net = model.load(0)) {
            out.println("model: " + model.describe());
            out.print(Summary.of(net, model.inputShape()).format());
        }
        out.flush();
        return 0;
    }
}
