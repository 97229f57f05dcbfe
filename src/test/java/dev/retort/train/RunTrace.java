package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a training run did, in host memory, for comparing two runs exactly: every step's loss terms, the
 * epochs' metrics rows without their timings, and the final state (model, and objective state such as
 * regressors) by name.
 */
record RunTrace(List<Map<String, Double>> steps, List<Map<String, Object>> rows, Map<String, float[]> state) {

    /** Collects step terms; hand {@link #recorder()} to {@link Trainer#onStep}. */
    static final class Steps {
        final List<Map<String, Double>> terms = new ArrayList<>();

        Trainer.StepListener recorder() {
            return (step, values) -> {
                assertEquals(terms.size() + 1, step, "steps are told in order");
                terms.add(new LinkedHashMap<>(values));
            };
        }
    }

    /** Host copies of tensors by name, each prefixed (so model and objective state can share one map). */
    static Map<String, float[]> hostCopy(String prefix, Map<String, Tensor> tensors, Map<String, float[]> into) {
        tensors.forEach((k, v) -> into.put(prefix + k, v.toFloatArray()));
        return into;
    }

    /** The rows without the columns that measure time, which no two runs share. */
    static List<Map<String, Object>> timeless(List<Map<String, Object>> rows) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            Map<String, Object> kept = new LinkedHashMap<>(row);
            kept.remove("seconds");
            kept.remove("images_per_s");
            out.add(kept);
        }
        return out;
    }

    /** Fails unless {@code other} took the same steps to the same state, bit for bit. */
    void assertSameAs(RunTrace other, String what) {
        assertEquals(steps, other.steps, what + ": loss terms of every step");
        assertEquals(rows, other.rows, what + ": metrics rows");
        assertEquals(state.keySet(), other.state.keySet(), what + ": state names");
        for (var e : state.entrySet()) {
            assertArrayEquals(e.getValue(), other.state.get(e.getKey()), what + ": " + e.getKey());
        }
    }

    /** Copies a run folder, so that one checkpoint can be resumed twice. */
    static Path copyTree(Path from, Path to) throws IOException {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
        return to;
    }
}
