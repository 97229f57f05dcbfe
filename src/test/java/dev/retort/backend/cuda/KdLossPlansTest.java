package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.DistillationSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Launch shapes and arguments of the fused distillation loss, without a GPU. */
class KdLossPlansTest {
    private static final long P = 0x7f00_0000_0000L; // a plausible, aligned device address
    private static final DistillationSpec HINTON = DistillationSpec.hinton(4, 0.1, 0.1, false);

    private static Launch only(List<Launch> launches) {
        assertEquals(1, launches.size(), launches::toString);
        return launches.get(0);
    }

    @Test
    void distillationPicksTheRowKernelByClassCount() {
        record Case(int cols, String kernel, int grid, int block) {}
        for (Case c : List.of(new Case(1, "kd_loss_warp_f32", 125, 256), new Case(1000, "kd_loss_warp_f32", 125, 256),
                new Case(1024, "kd_loss_warp_f32", 125, 256), new Case(1025, "kd_loss_block_f32", 1000, 160),
                new Case(8192, "kd_loss_block_f32", 1000, 1024), new Case(8193, "kd_loss_stream_f32", 1000, 1024),
                new Case(32768, "kd_loss_stream_f32", 1000, 1024))) {
            List<Launch> l = KdLossPlans.distillationLoss(P, P, P, 1000, c.cols(), HINTON, P, P, P);
            assertEquals(2, l.size());
            Launch rows = l.get(0);
            assertEquals(c.kernel(), rows.kernel(), "C=" + c.cols());
            assertEquals(c.grid(), rows.gridX(), "C=" + c.cols());
            assertEquals(c.block(), rows.blockX(), "C=" + c.cols());
            assertTrue(8 * rows.blockX() >= c.cols() || !rows.kernel().equals("kd_loss_block_f32"));
            assertEquals("kd_loss_finish_f32", l.get(1).kernel());
            assertEquals(1, l.get(1).gridX());
        }
        // No rows: only the finish kernel, which writes the CPU's NaN terms.
        assertEquals("kd_loss_finish_f32", only(KdLossPlans.distillationLoss(P, P, P, 0, 10, HINTON, P, P, P)).kernel());
    }

    @Test
    void distillationArgumentsAreTheCpuKernelsWeights() {
        DistillationSpec spec = DistillationSpec.hinton(2, 0.25, 0.1, false);
        KernelArgs a = KdLossPlans.distillationLoss(P, P, P, 10, 7, spec, P, P, P).get(0).args();
        assertEquals(13, a.size());
        assertEquals(0.5f, a.get(5).floatValue()); // 1/T_s
        assertEquals(0.5f, a.get(6).floatValue()); // 1/T_t
        assertEquals(0.1f, a.get(7).floatValue()); // ε
        assertEquals(0, a.get(8).bits()); // soft targets
        assertEquals((float) (0.25 / 10), a.get(9).floatValue()); // α/B
        assertEquals((float) (0.75 * 4 / (2 * 10)), a.get(10).floatValue()); // (1-α)T²/(T·B)
        KernelArgs hard = KdLossPlans.distillationLoss(P, P, P, 10, 7, DistillationSpec.hinton(2, 0.25, 0, true), P, P,
                P).get(0).args();
        assertEquals(1, hard.get(8).bits());
        assertEquals((float) (0.75 / 10), hard.get(10).floatValue()); // (1-α)/B
        KernelArgs finish = KdLossPlans.distillationLoss(P, P, P, 10, 7, spec, P, P, P).get(1).args();
        assertEquals(0.25, finish.get(2).doubleValue());
        assertEquals(0.75 * 4, finish.get(3).doubleValue());
    }
}
