package dev.retort.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class ConvGeometryTest {

    private static void rejects(String expected, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(expected), "expected '" + expected + "…', got: " + e.getMessage());
    }

    @Test
    void outputSizesRoundDownAsPyTorchDoes() {
        ConvGeometry g = ConvGeometry.conv(new int[] {2, 3, 7, 9}, new int[] {4, 3, 3, 3}, new ConvSpec(2, 2, 1, 1));
        assertEquals(new ConvGeometry(2, 3, 7, 9, 4, 3, 3, 2, 2, 1, 1), g);
        assertArrayEquals(new int[] {2, 4, 4, 5}, g.outputShape());
        assertEquals(2L * 3 * 7 * 9, g.inputSize());
        assertEquals(2L * 4 * 4 * 5, g.outputSize());
        ConvGeometry p = ConvGeometry.pool("pool2d", new int[] {2, 3, 7, 7}, new PoolSpec(3, 3, 2, 2, 1, 1));
        assertEquals(new ConvGeometry(2, 3, 7, 7, 3, 3, 3, 2, 2, 1, 1), p);
        assertArrayEquals(new int[] {2, 3, 4, 4}, p.outputShape());
    }

    @Test
    void emptyBatchesAndChannelsAreGeometries() {
        assertEquals(0L, new ConvGeometry(0, 0, 5, 5, 2, 3, 3, 1, 1, 0, 0).outputSize());
    }

    @Test
    void invalidGeometriesNameEveryNumber() {
        rejects("conv2d: input [2, 3, 2, 2], 4 filters, kernel 5×5, stride 1×1, padding 1×1: the kernel is larger than the"
                + " padded input 4×4", () -> new ConvGeometry(2, 3, 2, 2, 4, 5, 5, 1, 1, 1, 1));
        rejects("conv2d: input [2, 3, 8, 8], 4 filters, kernel 3×3, stride 1×1, padding -1×1: padding must not be negative",
                () -> new ConvGeometry(2, 3, 8, 8, 4, 3, 3, 1, 1, -1, 1));
        rejects("conv2d: input [2, 3, 8, 8], 4 filters, kernel 3×3, stride 0×1, padding 1×1: stride must be at least 1",
                () -> new ConvGeometry(2, 3, 8, 8, 4, 3, 3, 0, 1, 1, 1));
        rejects("conv2d: input [2, 3, 8, 8], 0 filters, kernel 3×3, stride 1×1, padding 1×1: output channels and kernel",
                () -> new ConvGeometry(2, 3, 8, 8, 0, 3, 3, 1, 1, 1, 1));
        rejects("conv2d: input [-1, 3, 8, 8], 4 filters, kernel 3×3, stride 1×1, padding 1×1: input sizes must not be negative",
                () -> new ConvGeometry(-1, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1));
        rejects("conv2d: input [2, 3, 8, 8] and weight [4, 5, 3, 3] must be [N, C, H, W] and [K, C, kH, kW]",
                () -> ConvGeometry.conv(new int[] {2, 3, 8, 8}, new int[] {4, 5, 3, 3}, new ConvSpec(1, 1, 1, 1)));
        rejects("pool2d: input [2, 3, 8] must be [N, C, H, W]",
                () -> ConvGeometry.pool("pool2d", new int[] {2, 3, 8}, new PoolSpec(2, 2, 2, 2, 0, 0)));
        rejects("pool2d: window 5×5 is larger than the padded input 4×6 of [1, 1, 2, 4]",
                () -> ConvGeometry.pool("pool2d", new int[] {1, 1, 2, 4}, new PoolSpec(5, 5, 1, 1, 1, 1)));
    }
}
