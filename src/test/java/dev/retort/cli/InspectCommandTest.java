package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.io.Checkpoints;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code retort inspect} lists the layer names --pairs takes; a teacher file of another model says which. */
class InspectCommandTest {
    @TempDir
    Path dir;

    @Test
    void listsStateDictNamesOutputShapesAndParameters() {
        CliFixtures.Run r = run("inspect", "--model", "cnn-student");
        assertEquals(0, r.exitCode(), r.all());
        String flat = r.out().replaceAll(" +", " ");
        assertTrue(flat.contains("input [1, 28, 28]"), r.out());
        assertTrue(flat.contains("\n0 Conv2d [1, 8, 28, 28] 80\n"), r.out());
        // Layer 5 is the 16×7×7 map that hybrid pairs with cnn-teacher's layer 13 by default.
        assertTrue(flat.contains("\n5 MaxPool2d [1, 16, 7, 7] 0\n"), r.out());
        long total;
        try (Module net = Models.create("cnn-student", 0)) {
            total = net.parameterCount();
        }
        assertTrue(flat.contains(String.format(java.util.Locale.ROOT, "total parameters %,d", total)), r.out());
        CliFixtures.Run resnet = run("inspect", "--model", "resnet8");
        assertEquals(0, resnet.exitCode(), resnet.all());
        assertTrue(resnet.out().contains("layer1.0.conv1"), resnet.out());
    }

    @Test
    void aTeacherFileOfAnotherModelNamesTheModelItHolds() throws IOException {
        Path weights = dir.resolve("student.safetensors");
        Path data;
        try (Module net = Models.create("cnn-student", 1)) {
            Checkpoints.save(net, weights, Map.of(Checkpoints.MODEL_METADATA, "cnn-student"));
            data = CliFixtures.fashionMnist(dir, net, 64, 16, 0.1, 9);
        }
        CliFixtures.Run r = run("distill", "--mode", "hinton", "--teacher-model", "cnn-teacher", "--teacher-weights",
                weights.toString(), "--device", "cpu", "--data", data.toString(), "--out",
                dir.resolve("kd").toString());
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains("--teacher-weights " + weights + ": holds the weights of model 'cnn-student' (its "
                + "metadata says so), not of --teacher-model cnn-teacher; pass --teacher-model cnn-student"), r.err());
    }
}
