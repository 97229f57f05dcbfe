package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.ConvGeometry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Arguments are checked in Java before any JNI call. The handles here are closed (address 0): a call whose
 * arguments pass the checks reaches the closed-handles check and throws IllegalStateException, so each
 * IllegalArgumentException below proves the check ran first.
 */
class CudaHandlesValidationTest {

    private final CudaHandles closed = new CudaHandles(0, 0, CudaHandles.Options.DEFAULT);
    private static final long P = 0x1000;
    private static final ConvGeometry CONV = new ConvGeometry(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1);
    private static final ConvGeometry POOL = new ConvGeometry(2, 3, 8, 8, 3, 2, 2, 2, 2, 0, 0);

    private static void rejects(String expected, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(expected), "expected '" + expected + "…', got: " + e.getMessage());
    }

    private static void reachesTheHandles(Executable call) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call);
        assertTrue(e.getMessage().endsWith("these cuBLAS/cuDNN handles are closed"), e.getMessage());
    }

    @Test
    void gemmSizesMustBePositiveAndPointersSetAndAligned() {
        rejects("sgemm: m must be positive, got 0", () -> closed.sgemm(false, false, 0, 2, 2, 1f, P, P, 0f, P));
        rejects("gemmEx: k must be positive, got -1", () -> closed.gemmEx(false, false, 2, 2, -1, 1f, P, P, 0f, P, true));
        rejects("sgemm: b is a null device pointer", () -> closed.sgemm(false, false, 2, 2, 2, 1f, P, 0, 0f, P));
        rejects("sgemm: c = 0x1002 is not 4-byte aligned", () -> closed.sgemm(false, false, 2, 2, 2, 1f, P, P, 0f, P + 2));
        reachesTheHandles(() -> closed.sgemm(true, true, 2, 3, 4, 1f, P, P, 0f, P));
    }

    @Test
    void stridedBatchedOutputsMustNotOverlap() {
        rejects("sgemmStridedBatched: batch must be positive",
                () -> closed.sgemmStridedBatched(false, false, 2, 3, 4, 1f, P, 8, P, 12, 0f, P, 6, 0));
        rejects("sgemmStridedBatched: strides must not be negative",
                () -> closed.sgemmStridedBatched(false, false, 2, 3, 4, 1f, P, -8, P, 12, 0f, P, 6, 2));
        rejects("sgemmStridedBatched: strideC 5 is less than one output matrix (2 x 3 = 6 elements)",
                () -> closed.sgemmStridedBatched(false, false, 2, 3, 4, 1f, P, 8, P, 12, 0f, P, 5, 2));
        reachesTheHandles(() -> closed.sgemmStridedBatched(false, false, 2, 3, 4, 1f, P, 8, P, 0, 0f, P, 6, 2));
    }

    @Test
    void convolutionPointersAreChecked() {
        rejects("convolutionForward: weight is a null device pointer", () -> closed.convolutionForward(CONV, P, 0, P));
        rejects("convolutionBackwardData: dx is a null device pointer",
                () -> closed.convolutionBackwardData(CONV, P, P, 0));
        rejects("convolutionBackwardFilter: x = 0x1001", () -> closed.convolutionBackwardFilter(CONV, P + 1, P, P));
        rejects("convolutionForward: shape must not be null", () -> closed.convolutionForward(null, P, P, P));
        reachesTheHandles(() -> closed.convolutionForward(CONV, P, P, P));
    }

    @Test
    void cudnnNeedsNonEmptyTensorsUnderTwoToTheThirtyOneElements() {
        rejects("convolutionForward: input [0, 3, 8, 8], 4 filters, kernel 3×3, stride 1×1, padding 1×1: every size must be",
                () -> closed.convolutionForward(new ConvGeometry(0, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1), P, P, P));
        rejects("convolutionBackwardData: input [1000, 1000, 1000, 1000], 1 filters, kernel 1×1, stride 1×1, padding 0×0:"
                + " input has 1000000000000 elements",
                () -> closed.convolutionBackwardData(new ConvGeometry(1000, 1000, 1000, 1000, 1, 1, 1, 1, 1, 0, 0),
                        P, P, P));
    }

    @Test
    void maxPoolingBackwardNeedsTheForwardInputAndOutputAverageDoesNot() {
        rejects("poolingBackward: y is a null device pointer", () -> closed.poolingBackward(POOL, true, 0, P, P, P));
        rejects("poolingBackward: x is a null device pointer", () -> closed.poolingBackward(POOL, true, P, P, 0, P));
        reachesTheHandles(() -> closed.poolingBackward(POOL, false, 0, P, 0, P));
        rejects("poolingForward: y is a null device pointer", () -> closed.poolingForward(POOL, true, P, 0));
        rejects("poolingForward (max): input [1, 1, 4, 4], 1 filters, kernel 2×2, stride 1×1, padding 2×0: padding must be"
                + " at most half", () -> closed.poolingForward(new ConvGeometry(1, 1, 4, 4, 1, 2, 2, 1, 1, 2, 0),
                        true, P, P));
        rejects("poolingForward (average): input [2, 3, 8, 8], 4 filters, kernel 2×2, stride 2×2, padding 0×0: a pooling has",
                () -> closed.poolingForward(new ConvGeometry(2, 3, 8, 8, 4, 2, 2, 2, 2, 0, 0), false, P, P));
    }

    @Test
    void batchNormChecksStatisticsPairsEpsAndMomentum() {
        rejects("batchNormForwardTraining: training needs more than one value per channel (N·H·W = 1)",
                () -> closed.batchNormForwardTraining(1, 8, 1, 1, 1e-5, 0.1, P, P, P, P, 0, 0, 0, 0));
        rejects("batchNormForwardTraining: give both runningMean and runningVar or neither",
                () -> closed.batchNormForwardTraining(4, 8, 2, 2, 1e-5, 0.1, P, P, P, P, P, 0, 0, 0));
        rejects("batchNormForwardTraining: give both saveMean and saveInvStd or neither",
                () -> closed.batchNormForwardTraining(4, 8, 2, 2, 1e-5, 0.1, P, P, P, P, 0, 0, 0, P));
        rejects("batchNormForwardTraining: momentum must be in [0, 1], got 1.5",
                () -> closed.batchNormForwardTraining(4, 8, 2, 2, 1e-5, 1.5, P, P, P, P, 0, 0, 0, 0));
        rejects("batchNormForwardInference: eps must be finite and not negative, got NaN",
                () -> closed.batchNormForwardInference(4, 8, 2, 2, Double.NaN, P, P, P, P, P, P));
        rejects("batchNormBackward: dBeta is a null device pointer",
                () -> closed.batchNormBackward(4, 8, 2, 2, 1e-5, P, P, P, 0, 0, P, P, 0));
        rejects("batchNormBackward: c must be positive, got 0",
                () -> closed.batchNormBackward(4, 0, 2, 2, 1e-5, P, P, P, 0, 0, P, P, P));
        reachesTheHandles(() -> closed.batchNormForwardTraining(4, 8, 2, 2, 1e-5, 0.1, P, P, P, P, P, P, 0, 0));
        reachesTheHandles(() -> closed.batchNormBackward(4, 8, 2, 2, 1e-5, P, P, P, P, P, P, P, P));
    }

    @Test
    void biasAndOpenNeedValidArguments() {
        rejects("addBias: h must be positive, got 0", () -> closed.addBias(2, 4, 0, 5, P, P));
        rejects("CudaHandles.open: options must not be null", () -> CudaHandles.open(0, null));
    }
}
