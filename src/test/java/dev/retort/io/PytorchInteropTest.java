package dev.retort.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.DType;
import dev.retort.nn.BatchNorm2d;
import dev.retort.nn.Conv2d;
import dev.retort.nn.Layers.Flatten;
import dev.retort.nn.Layers.MaxPool2d;
import dev.retort.nn.Layers.ReLU;
import dev.retort.nn.Linear;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.nn.Sequential;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Tensor;
import dev.retort.testing.MiniJson;
import dev.retort.testing.ScopePerTest;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files written by PyTorch and NumPy (src/test/resources/interop/, from make_golden.py) load into
 * Retort and give PyTorch's logits; checkpoints Retort writes hold PyTorch's bytes.
 */
@ExtendWith(ScopePerTest.class)
class PytorchInteropTest {
    @TempDir
    Path dir;

    static Path fixture(String name) {
        try {
            var url = PytorchInteropTest.class.getResource("/interop/" + name);
            assertTrue(url != null, "missing fixture interop/" + name + "; run src/test/python/make_golden.py");
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The bn-tiny network of make_golden.py: Conv2d(1, 4, 3, padding 1), BatchNorm2d, ReLU, MaxPool2d(2), Linear(64, 3). */
    static Module bnTiny() {
        SplittableRandom rng = new SplittableRandom(5);
        return new Sequential(new Conv2d(1, 4, 3, 1, 1, true, rng), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
                new Flatten(), new Linear(64, 3, rng));
    }

    /** Eval-mode logits against PyTorch's float64 ones, to 1e-5 of the largest |logit|. */
    static void assertPredictsPytorchLogits(Module model, String prefix) throws IOException {
        model.eval();
        try (Autograd.NoGrad noGrad = Autograd.noGrad()) {
            Tensor input = Npy.read(fixture(prefix + "_input.npy"));
            Tensor expected = Npy.read(fixture(prefix + "_logits.npy"));
            assertEquals(DType.FLOAT32, input.dtype());
            assertEquals(DType.FLOAT64, expected.dtype());
            Tensor logits = model.forward(input);
            assertArrayEquals(expected.shape(), logits.shape());
            double[] e = expected.toDoubleArray();
            float[] a = logits.toFloatArray();
            double scale = Arrays.stream(e).map(Math::abs).max().orElse(1);
            assertTrue(scale > 0.05, "degenerate fixture: logits all near zero");
            for (int i = 0; i < e.length; i++) {
                assertEquals(e[i], a[i], 1e-5 * scale, prefix + " logit " + i + " (largest |logit| " + scale + ")");
            }
        }
    }

    @Test
    void cnnStudentTrainedInPytorchPredictsPytorchsLogits() throws IOException {
        try (Module model = Models.create("cnn-student", 0)) {
            Map<String, String> metadata = Checkpoints.load(model, fixture("cnn-student.safetensors"));
            assertEquals("cnn-student", metadata.get("model"));
            assertPredictsPytorchLogits(model, "cnn-student");
        }
    }

    @Test
    void batchNormNetworkWithNumBatchesTrackedPredictsPytorchsLogits() throws IOException {
        try (SafeTensors.Contents raw = SafeTensors.read(fixture("bn-tiny.safetensors"))) {
            Tensor count = raw.tensors().get("1.num_batches_tracked");
            assertEquals(DType.INT32, count.dtype(), "I64 read as int32");
            assertArrayEquals(new int[] {3}, count.toIntArray());
            assertEquals(DType.FLOAT64, raw.tensors().get("5.weight").dtype(), "fixture stores the Linear as F64");
        }
        try (Module model = bnTiny()) {
            Checkpoints.load(model, fixture("bn-tiny.safetensors"));
            float[] runningVar = model.stateDict().get("1.running_var").toFloatArray();
            assertTrue(runningVar[0] != 1f, "running statistics were not loaded");
            assertPredictsPytorchLogits(model, "bn-tiny");
        }
    }

    /** Reads a safetensors file without SafeTensors: header through MiniJson, data by offsets. */
    @SuppressWarnings("unchecked")
    static Map<String, float[]> readIndependently(Path file, List<String> order) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) b.getLong(0);
        Map<String, Object> header = (Map<String, Object>) MiniJson.parse(
                new String(b.array(), 8, n, StandardCharsets.UTF_8).strip());
        Map<String, float[]> out = new LinkedHashMap<>();
        for (var e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            Map<String, Object> info = (Map<String, Object>) e.getValue();
            assertEquals("F32", info.get("dtype"), e.getKey());
            List<Object> offsets = (List<Object>) info.get("data_offsets");
            int begin = ((Double) offsets.get(0)).intValue();
            int end = ((Double) offsets.get(1)).intValue();
            float[] v = new float[(end - begin) / 4];
            for (int i = 0; i < v.length; i++) {
                v[i] = b.getFloat(8 + n + begin + 4 * i);
            }
            out.put(e.getKey(), v);
            order.add(e.getKey());
        }
        return out;
    }

    @Test
    void checkpointRetortWritesHoldsPytorchsNamesOrderAndBytes() throws IOException {
        Path pytorch = fixture("cnn-student.safetensors");
        Path retort = dir.resolve("resaved.safetensors");
        try (Module model = Models.create("cnn-student", 0)) {
            Checkpoints.load(model, pytorch);
            Checkpoints.save(model, retort, Map.of("model", "cnn-student"));
        }
        List<String> pytorchOrder = new java.util.ArrayList<>();
        List<String> retortOrder = new java.util.ArrayList<>();
        Map<String, float[]> expected = readIndependently(pytorch, pytorchOrder);
        Map<String, float[]> actual = readIndependently(retort, retortOrder);
        assertEquals(pytorchOrder, retortOrder);
        for (String k : expected.keySet()) {
            assertArrayEquals(expected.get(k), actual.get(k), k);
        }
        byte[] a = Files.readAllBytes(pytorch);
        byte[] r = Files.readAllBytes(retort);
        long headerA = ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        long headerR = ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertArrayEquals(Arrays.copyOfRange(a, (int) (8 + headerA), a.length),
                Arrays.copyOfRange(r, (int) (8 + headerR), r.length), "data section differs from PyTorch's");
    }

    @Test
    void failedSaveOverAPytorchCheckpointLeavesItByteIdentical() throws IOException {
        Path p = dir.resolve("cnn-student.safetensors");
        Files.copy(fixture("cnn-student.safetensors"), p);
        byte[] before = Files.readAllBytes(p);
        try (Module model = Models.create("cnn-student", 0)) {
            model.stateDict().get("7.bias").close();
            assertThrows(IllegalStateException.class, () -> Checkpoints.save(model, p, Map.of()));
        }
        assertArrayEquals(before, Files.readAllBytes(p));
        try (Module model = Models.create("cnn-student", 0)) {
            Checkpoints.load(model, p);
            assertThrows(IOException.class, () -> SafeTensors.write(p, model.stateDict(), Map.of(),
                    channel -> new SafeTensorsTest.FailAfter(channel, 20_000)));
        }
        assertArrayEquals(before, Files.readAllBytes(p));
    }
}
