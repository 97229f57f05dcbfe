package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which kernels sumTo and the full reductions pick, and their launch shapes, without a GPU. */
class ReducePlansTest {
    private static final long P = 0x7f00_0000_0000L; // a plausible, aligned device address

    private static Launch only(List<Launch> launches) {
        assertEquals(1, launches.size(), launches::toString);
        return launches.get(0);
    }

    @Test
    void sumsOfNothingOnlyFinishAndLargeSumsUseEveryReduceBlock() {
        List<Launch> sum = ReducePlans.sum(P, 0, P, P);
        assertEquals("reduce_finish_f32", only(sum).kernel());
        assertEquals(0, sum.get(0).args().get(1).bits(), "no partials to add");
        List<Launch> big = ReducePlans.sum(P, 100_000_000, P, P);
        assertEquals(ReducePlans.REDUCE_BLOCKS, big.get(0).gridX());
        assertEquals(ReducePlans.REDUCE_BLOCKS, big.get(1).args().get(1).bits());
    }

    @Test
    void sumToUsesTheBiasKernelsForLayeredShapesAndTheGeneralOneOtherwise() {
        assertEquals("bias_grad_rows_f32", only(ReducePlans.sumTo(P, new int[] {64, 10}, P, new int[] {10}, P)).kernel());
        Launch planes = only(ReducePlans.sumTo(P, new int[] {8, 16, 7, 7}, P, new int[] {1, 16, 1, 1}, P));
        assertEquals("bias_grad_planes_f32", planes.kernel());
        assertEquals(List.of(8L, 16L, 49L), planes.args().list().subList(2, 5).stream().map(KernelArgs.Arg::bits).toList());
        assertEquals("bias_grad_planes_f32", only(ReducePlans.sumTo(P, new int[] {5, 6}, P, new int[] {5, 1}, P)).kernel());
        Launch general = only(ReducePlans.sumTo(P, new int[] {3, 4, 5, 6}, P, new int[] {3, 1, 5, 1}, P));
        assertEquals("sum_to_f32", general.kernel());
        assertEquals(15, general.gridX());
        int[] ix = general.args().get(3).ints();
        assertEquals(33, ix.length);
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 3, 5}, java.util.Arrays.copyOfRange(ix, 0, 8)); // kept shape
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 120, 6}, java.util.Arrays.copyOfRange(ix, 8, 16)); // strides
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 4, 6}, java.util.Arrays.copyOfRange(ix, 16, 24)); // reduced
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 30, 1}, java.util.Arrays.copyOfRange(ix, 24, 32));
        assertEquals(24, ix[32]);
        assertEquals("sum_partials_f32", ReducePlans.sumTo(P, new int[] {3, 4}, P, new int[] {}, P).get(0).kernel());
        assertEquals("broadcast_to_f32", only(ReducePlans.sumTo(P, new int[] {3, 4}, P, new int[] {3, 4}, P)).kernel());
        assertEquals("fill_f32", only(ReducePlans.sumTo(P, new int[] {0, 4}, P, new int[] {4}, P)).kernel());
    }
}
