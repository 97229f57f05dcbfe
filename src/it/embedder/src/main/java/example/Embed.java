package example;

import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import dev.retort.io.Checkpoints;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.optim.Sgd;
import dev.retort.tensor.Losses;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** What README.md's "Using the engine" shows, run by an embedder that has the engine jar and Jackson only. */
public final class Embed {
    public static void main(String[] args) throws Exception {
        Dataset data = SyntheticImages.generate("embed", 512, 10, 28, 1);
        int batch = 64;
        double first = Double.NaN;
        double last = Double.NaN;
        try (Module net = Models.create("cnn-student", 42);
             Sgd sgd = new Sgd(net.parameters(), 0.02, 0.9)) {
            for (int epoch = 0; epoch < 3; epoch++) {
                double sum = 0;
                int steps = 0;
                for (int start = 0; start + batch <= data.size(); start += batch) {
                    try (Scope step = Scope.open()) {
                        int[] rows = new int[batch];
                        for (int i = 0; i < batch; i++) {
                            rows[i] = start + i;
                        }
                        Tensor[] xy = data.batch(rows, 0, batch);
                        Tensor loss = Losses.crossEntropy(net.forward(xy[0]), xy[1], 0.0);
                        sgd.zeroGrad();
                        loss.backward();
                        sgd.step();
                        sum += loss.toFloatArray()[0];
                        steps++;
                    }
                }
                last = sum / steps; // the epoch's mean loss
                if (epoch == 0) {
                    first = last;
                }
            }
            Path out = Files.createTempDirectory("embed").resolve("model.safetensors");
            Checkpoints.save(net, out, Map.of("by", "embedder"));
            System.out.printf("embedder: mean loss %.4f (epoch 1) -> %.4f (epoch 3), saved %s (%d bytes)%n", first, last, out, Files.size(out));
            if (!(last < first)) {
                throw new AssertionError("the loss did not fall");
            }
        }
    }
}
