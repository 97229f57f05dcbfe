package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.BinaryOp;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.UnaryOp;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The host-side checks every plan class makes, through CudaKernels and without a GPU: bad arguments throw
 * IllegalArgumentException naming the operation and the argument before anything is launched. The launch shapes
 * each plan class picks are tested beside it (ElementwisePlansTest, KdLossPlansTest, ReducePlansTest).
 */
class KernelPlanChecksTest {
    private static final long P = 0x7f00_0000_0000L; // a plausible, aligned device address
    private static final DistillationSpec HINTON = DistillationSpec.hinton(4, 0.1, 0.1, false);

    private final List<Launch> recorded = new ArrayList<>();
    private final CudaKernels kernels = new CudaKernels(recorded::add);

    /** The call throws before any launch, with a message naming the operation and containing every fragment. */
    private void rejects(Consumer<CudaKernels> call, String... fragments) {
        recorded.clear();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> call.accept(kernels));
        assertTrue(e.getMessage().startsWith("cuda "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + e.getMessage() + "' should mention '" + f + "'");
        }
        assertEquals(List.of(), recorded, "nothing may be launched");
    }

    @Test
    void badArgumentsAreRejectedBeforeAnyLaunchNamingOperationAndArgument() {
        rejects(k -> k.unary(UnaryOp.EXP, P, P, -1), "unary(EXP)", "n must be ≥ 0");
        rejects(k -> k.unary(UnaryOp.EXP, 0, P, 10), "unary(EXP)", "x is a null device pointer");
        rejects(k -> k.unary(UnaryOp.EXP, P + 2, P, 10), "x (0x", "not aligned to 4 bytes");
        rejects(k -> k.unary(null, P, P, 10), "op must not be null");
        rejects(k -> k.binary(BinaryOp.ADD, P, P, P, 1L << 31), "exceed the 2^31 - 1");
        rejects(k -> k.binaryBroadcast(BinaryOp.MUL, P, new int[] {3, 4}, P, new int[] {5}, P, new int[] {3, 4}),
                "binary(MUL, broadcast)", "does not broadcast", "dimension 1");
        rejects(k -> k.broadcastTo(P, new int[] {2, 2, 2, 2, 2, 2, 2, 2, 2}, P, new int[] {2, 2, 2, 2, 2, 2, 2, 2, 2}),
                "broadcastTo", "exceeds 8");
        rejects(k -> k.dropoutMask(P, 10, 1, 1.5), "dropoutMask", "p (the drop probability)");
        rejects(k -> k.dropoutMask(P, 10, 1, Double.NaN), "dropoutMask", "NaN");
        rejects(k -> k.softmax(P, P, 4, 10, 0, false), "softmax", "temperature T", "got 0.0");
        rejects(k -> k.softmax(P, P, 4, 10, Double.POSITIVE_INFINITY, true), "logSoftmax", "temperature T");
        rejects(k -> k.softmax(P, P, 4, 0, 1, false), "cols (the last dimension) must be ≥ 1");
        rejects(k -> k.softmaxBackward(P, P, P, -2, 10, 1, false), "softmax backward", "rows must be ≥ 0");
        rejects(k -> k.nllForward(P, 0, P, 4, 10, 0.1), "nllForward", "labels is a null device pointer");
        rejects(k -> k.nllBackward(P, P, P, 4, 10, 1.5), "nllBackward", "label smoothing ε");
        rejects(k -> k.distillationLoss(P, P, P, 8, 0, HINTON, P, P, P), "distillationLoss",
                "cols (C, the number of classes) must be ≥ 1");
        rejects(k -> k.distillationLoss(P, P, P, -1, 10, HINTON, P, P, P), "distillationLoss", "rows (B)");
        rejects(k -> k.distillationLoss(P, P, P, 8, 10, null, P, P, P), "distillationLoss", "spec");
        rejects(k -> k.distillationLoss(0, P, P, 8, 10, HINTON, P, P, P), "student is a null device pointer");
        rejects(k -> k.distillationLoss(P, P, P, 8, 10, HINTON, 0, P, P), "workspace is a null device pointer");
        rejects(k -> k.distillationLoss(P, P, P, 8, 10, HINTON, P, P + 1, P), "terms", "not aligned");
        rejects(k -> k.biasAdd(P, P, P, 100, 7, 3), "biasAdd", "not a multiple of channels·inner");
        rejects(k -> k.biasGrad(P, P, 4, -1, 9), "biasGrad", "channels must be ≥ 0");
        rejects(k -> k.sumTo(P, new int[] {3, 4}, P, new int[] {3, 2}, P), "sumTo", "cannot sum shape [3, 4] to [3, 2]");
        rejects(k -> k.sumTo(P, new int[] {4}, P, new int[] {1, 4}, P), "sumTo");
        rejects(k -> k.sum(P, 100, P + 4, P), "sum", "workspace", "not aligned to 8 bytes");
        rejects(k -> k.countNonFinite(P, 100, P, 0), "countNonFinite", "out is a null device pointer");
        rejects(k -> k.mseBackward(P, P, 0, P, 0, 10), "mse backward", "gradLoss is a null device pointer");
        rejects(k -> k.sgdStep(P, P, 0, 10, 0.1, 0.9, 0, 0, false, true), "sgdStep", "momentum buffer is a null");
        rejects(k -> k.sgdStep(P, P, P, 10, 0.1, -0.5, 0, 0, false, true), "sgdStep", "momentum must be");
        rejects(k -> k.sgdStep(P, P, 0, 10, Double.NaN, 0, 0, 0, false, true), "sgdStep", "lr must be finite");
        rejects(k -> k.adamwStep(P, P, P, P, 10, 1e-3, 1.0, 0.999, 1e-8, 0, 1), "adamwStep", "beta1 and beta2");
        rejects(k -> k.adamwStep(P, P, P, P, 10, 1e-3, 0.9, 0.999, 1e-8, 0, 0), "adamwStep", "step counts from 1");
        rejects(k -> k.argmaxLastDim(P, P, 3, 0), "argmaxLastDim", "cols");
        rejects(k -> k.eceBins(P, P, 10, 10, 1, 0, P, P), "eceBins", "bins must be ≥ 1");
        rejects(k -> k.eceBins(P, P, 10, 10, -1, 15, P, P), "eceBins", "temperature T");
    }

    @Test
    void optionalPointersMayBeNull() {
        kernels.distillationLoss(P, P, 0, 8, 10, DistillationSpec.temperature(4, 4, 16), P, P, P);
        kernels.sgdStep(P, P, 0, 10, 0.1, 0, 0, 0, false, true);
        kernels.mseBackward(P, P, P, P, 0, 10);
        kernels.unary(UnaryOp.NEG, 0, 0, 0); // nothing to touch
        assertEquals(List.of("kd_loss_warp_f32", "kd_loss_finish_f32", "sgd_step_f32", "mse_backward_f32"),
                recorded.stream().map(Launch::kernel).toList());
    }

    @Test
    void launchShapesAreCheckedToo() {
        Executable badBlock = () -> new Launch("k", 1, 100, 1, new KernelArgs());
        assertThrows(IllegalStateException.class, badBlock);
        assertThrows(IllegalStateException.class, () -> new Launch("k", 0, 256, 1, new KernelArgs()));
        assertThrows(IllegalStateException.class, () -> new Launch("k", 1, 64, 32, new KernelArgs()));
    }
}
