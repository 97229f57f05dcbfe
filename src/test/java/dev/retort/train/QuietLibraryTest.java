package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.data.Dataset;
import dev.retort.data.SyntheticImages;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An embedder's training loop writes nothing to standard output unless the embedder asks for it. */
class QuietLibraryTest {
    @Test
    void aTrainerWithoutALogOrAProgressStreamPrintsNothing() throws Exception {
        Dataset train = SyntheticImages.generate("quiet/train", 256, 10, 28, 3);
        Dataset test = SyntheticImages.generate("quiet/test", 64, 10, 28, 4);
        TrainingConfig config = new TrainingConfig("mlp-tiny", 1, 64, "sgd", 0.05, 0.9, false, 0, "constant", 0, 0, 0,
                false, train.size(), 1, 64);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        String property = System.getProperty("retort.progress");
        List<Map<String, Object>> metrics;
        try (Module model = Models.create("mlp-tiny", 1);
             Objective objective = Objective.crossEntropy(0)) {
            System.clearProperty("retort.progress");
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            try (Trainer trainer = new Trainer(model, objective, config, train)) {
                metrics = trainer.fit(test);
            }
        } finally {
            System.setOut(stdout);
            if (property != null) {
                System.setProperty("retort.progress", property);
            }
        }
        assertEquals(1, metrics.size());
        assertTrue(metrics.get(0).containsKey("test_accuracy"));
        assertEquals("", captured.toString(StandardCharsets.UTF_8), "the library wrote to standard output");
    }
}
