package dev.retort.io;

import static dev.retort.io.SafeTensorsTest.assertMessage;
import static dev.retort.io.SafeTensorsTest.craft;
import static dev.retort.io.SafeTensorsTest.littleEndian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.retort.nn.BatchNorm2d;
import dev.retort.nn.Linear;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.nn.Sequential;
import dev.retort.tensor.Tensor;
import dev.retort.testing.ScopePerTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints save a module's state dict as safetensors and load it back, reporting mismatches with the file name. */
@ExtendWith(ScopePerTest.class)
class CheckpointsTest {
    @TempDir
    Path dir;

    static void assertSameState(Module expected, Module actual) {
        Map<String, Tensor> a = expected.stateDict();
        Map<String, Tensor> b = actual.stateDict();
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k).shape(), b.get(k).shape(), k);
            assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), k);
        }
    }

    @Test
    void saveThenLoadRestoresEveryTensorAndTheMetadata() throws IOException {
        Path p = dir.resolve("student.safetensors");
        try (Module saved = Models.create("resnet8", 1); Module loaded = Models.create("resnet8", 2)) {
            Checkpoints.save(saved, p, Map.of("epoch", "12", "model", "resnet8"));
            Map<String, String> metadata = Checkpoints.load(loaded, p);
            assertEquals(Map.of("epoch", "12", "model", "resnet8"), metadata);
            assertSameState(saved, loaded);
        }
    }

    @Test
    void loadIntoADifferentModelNamesTheFileAndTheKeysAndChangesNothing() throws IOException {
        Path p = dir.resolve("mlp.safetensors");
        try (Module mlp = Models.create("mlp-tiny", 1); Module cnn = Models.create("cnn-student", 1);
             Module untouched = Models.create("cnn-student", 1)) {
            Checkpoints.save(mlp, p, null);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(cnn, p));
            assertMessage(e, "mlp.safetensors", "missing keys [0.weight", "unexpected keys [1.weight");
            assertSameState(untouched, cnn);
        }
    }

    @Test
    void shapeMismatchNamesTheFileKeyAndShapes() throws IOException {
        Path p = dir.resolve("wide.safetensors");
        try (Module wide = new Sequential(new Linear(4, 3, new SplittableRandom(1)));
             Module narrow = new Sequential(new Linear(4, 2, new SplittableRandom(1)))) {
            Checkpoints.save(wide, p, Map.of());
            assertMessage(assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(narrow, p)),
                    "wide.safetensors", "'0.weight' has shape [3, 4]", "[2, 4]");
        }
    }

    /** Builds a checkpoint of a BatchNorm2d(2) by hand, with PyTorch's num_batches_tracked as given. */
    private Path batchNormFile(String name, long numBatchesTracked, String extraKey) throws IOException {
        StringBuilder header = new StringBuilder("{");
        String[] keys = {"0.weight", "0.bias", "0.running_mean", "0.running_var"};
        for (int i = 0; i < keys.length; i++) {
            header.append('"').append(keys[i]).append("\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[")
                    .append(8 * i).append(',').append(8 * i + 8).append("]},");
        }
        header.append('"').append(extraKey).append("\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[32,40]}}");
        ByteBuffer data = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : new float[] {1.5f, 0.5f, 0.1f, -0.2f, 3f, 4f, 2f, 0.25f}) {
            data.putFloat(v);
        }
        data.put(littleEndian(8, numBatchesTracked));
        Path p = dir.resolve(name);
        Files.write(p, craft(header.toString(), data.array()));
        return p;
    }

    @Test
    void pytorchNumBatchesTrackedIsIgnoredEvenWhenItDoesNotFitInt32() throws IOException {
        for (long count : new long[] {3, 1L << 40}) {
            Path p = batchNormFile("bn.safetensors", count, "0.num_batches_tracked");
            try (Module bn = new Sequential(new BatchNorm2d(2))) {
                Checkpoints.load(bn, p);
                Map<String, Tensor> state = bn.stateDict();
                assertArrayEquals(new float[] {1.5f, 0.5f}, state.get("0.weight").toFloatArray());
                assertArrayEquals(new float[] {2f, 0.25f}, state.get("0.running_var").toFloatArray());
            }
        }
    }

    @Test
    void otherUnexpectedInt64EntriesAreStillReported() throws IOException {
        Path p = batchNormFile("bn-extra.safetensors", 3, "0.step_count");
        try (Module bn = new Sequential(new BatchNorm2d(2))) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(bn, p)),
                    "bn-extra.safetensors", "unexpected keys [0.step_count]");
        }
    }

    @Test
    void integerValuesForAFloatParameterAreRejected() throws IOException {
        Path p = dir.resolve("ints.safetensors");
        Map<String, Tensor> state = new LinkedHashMap<>();
        state.put("0.weight", Tensor.ofInts(new int[] {1, 2, 3, 4}, 1, 4));
        state.put("0.bias", Tensor.of(new float[] {0}, 1));
        SafeTensors.write(p, state, Map.of());
        try (Module m = new Sequential(new Linear(4, 1, new SplittableRandom(1)))) {
            assertMessage(assertThrows(FileFormatException.class, () -> Checkpoints.load(m, p)),
                    "ints.safetensors", "'0.weight'", "int32", "float32");
        }
    }

    @Test
    void float64ValuesAreConvertedToTheModulesFloat32() throws IOException {
        Path p = dir.resolve("f64.safetensors");
        Map<String, Tensor> state = new LinkedHashMap<>();
        state.put("0.weight", Tensor.of(new double[] {0.1, 0.2, 0.3, 0.4}, 1, 4));
        state.put("0.bias", Tensor.of(new double[] {-1.5}, 1));
        SafeTensors.write(p, state, Map.of());
        try (Module m = new Sequential(new Linear(4, 1, new SplittableRandom(1)))) {
            Checkpoints.load(m, p);
            assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, m.stateDict().get("0.weight").toFloatArray());
        }
    }

    @Test
    void failedSaveLeavesThePreviousCheckpointByteIdentical() throws IOException {
        Path p = dir.resolve("ckpt.safetensors");
        try (Module good = Models.create("cnn-student", 1); Module broken = Models.create("cnn-student", 2)) {
            Checkpoints.save(good, p, Map.of("epoch", "1"));
            byte[] before = Files.readAllBytes(p);
            broken.stateDict().get("3.weight").close();
            assertMessage(assertThrows(IllegalStateException.class, () -> Checkpoints.save(broken, p, Map.of())),
                    "ckpt.safetensors", "'3.weight'", "closed");
            assertArrayEquals(before, Files.readAllBytes(p));
            assertThrows(IOException.class, () -> SafeTensors.write(p, good.stateDict(), Map.of("epoch", "2"),
                    channel -> new SafeTensorsTest.FailAfter(channel, 5000)));
            assertArrayEquals(before, Files.readAllBytes(p));
            try (var files = Files.list(dir)) {
                assertEquals(1, files.count(), "temporary file left behind");
            }
        }
    }
}
