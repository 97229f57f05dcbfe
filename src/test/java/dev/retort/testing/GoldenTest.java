package dev.retort.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class GoldenTest {

    /** Every fixture that make_golden.py writes. */
    static Stream<String> fixtures() {
        return Stream.of("conv2d.json", "linear.json", "batchnorm2d.json", "pooling.json", "softmax.json",
                "losses.json", "optim.json", "kd_hybrid.json", "models.json");
    }

    @Test
    void everyFixtureFileIsChecked() throws Exception {
        URL dir = GoldenTest.class.getResource("/golden");
        assertNotNull(dir, "no /golden on the test classpath");
        assumeTrue("file".equals(dir.getProtocol()), "fixtures are not in a directory: " + dir);
        Set<String> onDisk = new TreeSet<>();
        try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).forEach(onDisk::add);
        }
        assertEquals(new TreeSet<>(fixtures().toList()), onDisk, "update fixtures() when make_golden.py changes");
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void fixtureIsWellFormed(String file) {
        Golden g = Golden.load(file);
        assertEquals("src/test/python/make_golden.py", g.generator(), file);
        assertFalse(g.torchVersion().isEmpty(), file);
        assertFalse(g.cases().isEmpty(), file + " has no cases");
        Set<String> names = new HashSet<>();
        for (Golden.Case c : g.cases()) {
            assertFalse(c.name().isEmpty(), file + ": a case without a name");
            assertTrue(names.add(c.name()), file + ": duplicate case " + c.name());
            // The network-structure cases of models.json hold only state-dict names and shapes.
            assertTrue(!c.tensors().isEmpty() || c.hasParam("state_keys"), c.name() + " has no tensors");
            for (Map.Entry<String, Golden.Array> e : c.tensors().entrySet()) {
                long n = 1;
                for (int d : e.getValue().shape()) {
                    n *= d;
                }
                assertEquals(n, e.getValue().data().length, c.name() + "/" + e.getKey());
                for (double v : e.getValue().data()) {
                    assertTrue(Double.isFinite(v), c.name() + "/" + e.getKey() + " has a non-finite value");
                }
            }
        }
    }

    @Test
    void tensorNamesFollowTheConvention() {
        for (Golden.Case c : Golden.load("conv2d.json").cases()) {
            for (String t : List.of("input", "weight", "output", "grad_output", "grad_input", "grad_weight")) {
                assertTrue(c.hasTensor(t), c.name() + " lacks " + t);
            }
            assertEquals(c.boolParam("bias"), c.hasTensor("bias"), c.name());
            assertEquals(c.boolParam("bias"), c.hasTensor("grad_bias"), c.name());
            int[] stride = c.pairParam("stride");
            assertEquals(2, stride.length);
        }
        Golden.Case k = Golden.load("conv2d.json").get("conv3x3_stride2x1_pad1x0");
        assertArrayEquals(new int[] {2, 1}, k.pairParam("stride"));
        assertArrayEquals(new int[] {1, 0}, k.pairParam("padding"));

        for (Golden.Case c : Golden.load("losses.json").cases()) {
            assertEquals(0, c.tensor("loss").shape().length, c.name() + ": a loss is a scalar");
        }
        Golden.Case h = Golden.load("losses.json").get("kd_hinton_default_T4_a0.1");
        assertEquals(4.0, h.doubleParam("temperature"));
        assertEquals(0.1, h.doubleParam("alpha"));
        int[] y = h.tensor("target").toInts();
        assertEquals(5, y.length);
        for (int label : y) {
            assertTrue(label >= 0 && label < 10, "label " + label);
        }
        Golden.Case bn = Golden.load("batchnorm2d.json").get("bn_train_2x3x4x5");
        assertEquals(1e-5, bn.doubleParam("eps"));
    }

    @Test
    void storedInputsAreExactFloat32() {
        for (String file : fixtures().toList()) {
            for (Golden.Case c : Golden.load(file).cases()) {
                for (String t : List.of("input", "weight", "student", "teacher", "logits", "grad_output")) {
                    if (c.hasTensor(t)) {
                        for (double v : c.tensor(t).data()) {
                            assertEquals(v, (double) (float) v, c.name() + "/" + t);
                        }
                    }
                }
            }
        }
    }

    @Test
    void missingNamesAreReportedWithTheCase() {
        Golden.Case c = Golden.load("linear.json").cases().get(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.tensor("nope"));
        assertTrue(e.getMessage().contains(c.name()) && e.getMessage().contains("nope"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> c.param("nope"));
        assertTrue(e.getMessage().contains(c.name()) && e.getMessage().contains("nope"), e.getMessage());
        assertFalse(c.has("nope"));
        assertTrue(c.has("input"));
        assertTrue(c.has("bias"));
        e = assertThrows(IllegalArgumentException.class, () -> Golden.load("no-such-file.json"));
        assertTrue(e.getMessage().contains("no-such-file.json"), e.getMessage());
    }

    @Test
    void malformedFixturesNameTheFault() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Golden.parse("x.json",
                "{\"generator\": \"g\", \"torch\": \"1\", \"cases\": [{\"name\": \"c1\", \"params\": {},"
                        + " \"tensors\": {\"input\": {\"shape\": [2, 3], \"data\": [1, 2, 3]}}}]}"));
        assertTrue(e.getMessage().contains("x.json") && e.getMessage().contains("c1")
                && e.getMessage().contains("input") && e.getMessage().contains("[2, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Golden.parse("y.json",
                "{\"generator\": \"g\", \"torch\": \"1\", \"cases\": [{\"params\": {}, \"tensors\": {}}]}"));
        assertTrue(e.getMessage().contains("y.json") && e.getMessage().contains("cases[0].name"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Golden.parse("z.json", "{\"generator\": \"g\"}"));
        assertTrue(e.getMessage().contains("z.json"), e.getMessage());
    }
}
