package dev.retort.nn;

import dev.retort.backend.Shapes;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A network's layers as torchinfo lists them: each module's state-dict name (what {@code --pairs} and
 * {@link FeatureCapture} take), its type, its output shape for one example, and its own parameter count.
 * The shapes come from one forward pass of a zero example in evaluation mode, without recording.
 */
public final class Summary {
    /** One module: {@code outputShape} is null for a module the forward pass does not call by itself. */
    public record Row(String name, String type, int[] outputShape, long parameters) {}

    private final int[] inputShape;
    private final List<Row> rows;
    private final long total;

    private Summary(int[] inputShape, List<Row> rows, long total) {
        this.inputShape = inputShape;
        this.rows = rows;
        this.total = total;
    }

    /** Runs {@code network} once on a zero batch of one example of {@code inputShape} and lists its modules. */
    public static Summary of(Module network, int[] inputShape) {
        Map<String, Module> modules = network.namedModules();
        int[] batch = new int[inputShape.length + 1];
        batch[0] = 1;
        System.arraycopy(inputShape, 0, batch, 1, inputShape.length);
        boolean training = network.isTraining();
        network.eval();
        List<Row> rows = new ArrayList<>();
        try (Autograd.NoGrad ignored = Autograd.noGrad(); Scope scope = Scope.open();
             FeatureCapture capture = FeatureCapture.of(network, List.copyOf(modules.keySet()))) {
            network.call(Tensor.zeros(batch).to(network.device()));
            Map<String, Tensor> outputs = capture.features();
            for (var e : modules.entrySet()) {
                Tensor out = outputs.get(e.getKey());
                rows.add(new Row(e.getKey(), e.getValue().getClass().getSimpleName(), out == null ? null : out.shape(),
                        ownParameters(e.getValue())));
            }
        } finally {
            if (training) {
                network.train();
            }
        }
        return new Summary(inputShape.clone(), List.copyOf(rows), network.parameterCount());
    }

    /** Parameters registered on the module itself, not on its children. */
    private static long ownParameters(Module module) {
        long n = 0;
        for (var e : module.namedParameters().entrySet()) {
            if (!e.getKey().contains(".")) {
                n += e.getValue().size();
            }
        }
        return n;
    }

    /** The modules, in registration order. */
    public List<Row> rows() {
        return rows;
    }

    /** Every parameter of the network. */
    public long totalParameters() {
        return total;
    }

    /** The table, one module a line, then the total. */
    public String format() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "input %s (one example)%n", Shapes.format(inputShape)));
        int width = "layer".length();
        for (Row r : rows) {
            width = Math.max(width, r.name().length());
        }
        String line = "%-" + width + "s  %-16s  %-18s  %,12d%n";
        out.append(String.format(Locale.ROOT, "%-" + width + "s  %-16s  %-18s  %12s%n", "layer", "type", "output shape",
                "parameters"));
        for (Row r : rows) {
            out.append(String.format(Locale.ROOT, line, r.name(), r.type(),
                    r.outputShape() == null ? "-" : Shapes.format(r.outputShape()), r.parameters()));
        }
        out.append(String.format(Locale.ROOT, "total parameters %,d%n", total));
        return out.toString();
    }
}
