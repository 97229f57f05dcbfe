package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.retort.backend.UnaryOp;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Launch shapes and broadcast descriptors of the elementwise kernels, without a GPU. */
class ElementwisePlansTest {
    private static final long P = 0x7f00_0000_0000L; // a plausible, aligned device address

    private static Launch only(List<Launch> launches) {
        assertEquals(1, launches.size(), launches::toString);
        return launches.get(0);
    }

    @Test
    void elementwiseGridsAreCappedAndEmptyArraysLaunchNothing() {
        assertEquals(List.of(), ElementwisePlans.unary(UnaryOp.EXP, P, P, 0));
        assertEquals(4, only(ElementwisePlans.unary(UnaryOp.EXP, P, P, 1000)).gridX());
        assertEquals(LaunchShapes.MAX_ELEMENT_GRID, only(ElementwisePlans.unary(UnaryOp.EXP, P, P, 100_000_000)).gridX());
    }

    @Test
    void broadcastIndexIsRightAlignedWithZeroStridesWhereBroadcast() {
        int[] ix = ElementwisePlans.broadcastIndex("t", new int[] {3, 1}, new int[] {4}, new int[] {2, 3, 4});
        assertEquals(3, ix[0]);
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 2, 3, 4}, java.util.Arrays.copyOfRange(ix, 1, 9));
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 1, 0}, java.util.Arrays.copyOfRange(ix, 9, 17));
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 0, 1}, java.util.Arrays.copyOfRange(ix, 17, 25));
    }
}
