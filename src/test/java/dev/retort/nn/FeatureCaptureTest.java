package dev.retort.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class FeatureCaptureTest {
    @Test
    void capturesNamedLayersOfASequentialAndAResNet() {
        try (Module teacher = Models.create("cnn-teacher", 1); Module resnet = Models.create("resnet8", 1);
             Scope scope = Scope.open()) {
            try (FeatureCapture capture = FeatureCapture.of(teacher, List.of("12", "13"))) {
                Tensor logits = teacher.call(Tensor.zeros(2, 1, 28, 28));
                assertArrayEquals(new int[] {2, 10}, logits.shape());
                assertArrayEquals(new int[] {2, 64, 14, 14}, capture.get("12").shape());
                assertArrayEquals(new int[] {2, 64, 7, 7}, capture.get("13").shape());
            }
            try (FeatureCapture capture = FeatureCapture.of(resnet, List.of("layer3", "layer2.0.conv1"))) {
                resnet.forward(Tensor.zeros(2, 3, 32, 32));
                assertArrayEquals(new int[] {2, 64, 8, 8}, capture.get("layer3").shape());
                assertArrayEquals(new int[] {2, 32, 16, 16}, capture.get("layer2.0.conv1").shape());
            }
        }
    }

    @Test
    void capturedFeaturesCarryGradientsToTheLayersBelow() {
        try (Module student = Models.create("cnn-student", 2); Scope scope = Scope.open()) {
            try (FeatureCapture capture = FeatureCapture.of(student, List.of("5"))) {
                student.call(Tensor.ones(3, 1, 28, 28));
                capture.get("5").square().mean().backward();
            }
            assertNotNull(student.namedParameters().get("0.weight").grad());
            assertNotNull(student.namedParameters().get("3.weight").grad());
            assertTrue(student.namedParameters().get("7.weight").grad() == null, "the head is above the feature");
        }
    }

    @Test
    void unknownLayersAreNamedWithTheValidOnes() {
        try (Module student = Models.create("cnn-student", 1)) {
            String message = assertThrows(IllegalArgumentException.class,
                    () -> FeatureCapture.of(student, List.of("features.3"))).getMessage();
            assertTrue(message.contains("'features.3'") && message.contains("[0, 1, 2, 3"), message);
        }
    }

    @Test
    void aLayerThatDidNotRunIsReported() {
        try (Module student = Models.create("cnn-student", 1);
             FeatureCapture capture = FeatureCapture.of(student, List.of("7"))) {
            assertTrue(assertThrows(IllegalStateException.class, () -> capture.get("7")).getMessage()
                    .contains("'7' produced no output"));
        }
    }
}
