package dev.retort.tensor;

import static dev.retort.testing.TestData.leaf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.DType;
import dev.retort.testing.ScopePerTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The graph bookkeeping of reverse-mode differentiation: recording, release, accumulation. */
@ExtendWith(ScopePerTest.class)
class AutogradTest {

    @Test
    void backwardFromANonScalarThrowsAndSaysToReduce() {
        Tensor x = leaf(new double[] {1, 2, 3}, 3);
        Tensor y = x.mul(2.0);
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("single element") && e.getMessage().contains("[3]")
                && e.getMessage().contains("sum"), e.getMessage());
    }

    @Test
    void backwardFromATensorThatNeedsNoGradientThrows() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> x.sum().backward());
        assertTrue(e.getMessage().contains("does not require a gradient"), e.getMessage());
    }

    @Test
    void noGradRecordsNothing() {
        Tensor x = leaf(new double[] {1, -2, 3}, 3);
        Tensor y;
        try (Autograd.NoGrad off = Autograd.noGrad()) {
            assertFalse(Autograd.isEnabled());
            y = x.mul(x).relu().sum();
            assertNull(y.gradFn());
            assertFalse(y.requiresGrad());
            try (Autograd.NoGrad on = Autograd.enableGrad()) {
                assertTrue(Autograd.isEnabled());
                assertEquals("mul", x.mul(x).gradFn());
            }
            assertFalse(Autograd.isEnabled());
        }
        assertTrue(Autograd.isEnabled());
        assertEquals(14.0, y.item());
        assertThrows(IllegalStateException.class, y::backward);
        assertNull(x.grad());
    }

    @Test
    void recordingNamesTheOperation() {
        Tensor x = leaf(new double[] {1, 2, 3, 4}, 2, 2);
        assertEquals("matmul", x.matmul(x).gradFn());
        assertEquals("reshape", x.reshape(4).gradFn());
        assertEquals("softmax", x.softmax(1).gradFn());
        assertNull(x.gradFn());
        assertTrue(x.add(Tensor.of(new double[] {1, 1}, 2)).requiresGrad());
        assertFalse(Tensor.of(new double[] {1, 1}, 2).exp().requiresGrad());
    }

    @Test
    void detachCutsTheGraph() {
        Tensor x = leaf(new double[] {1, 2, 3}, 3);
        Tensor d = x.mul(3.0).detach();
        assertNull(d.gradFn());
        assertFalse(d.requiresGrad());
        assertArrayEquals(new double[] {3, 6, 9}, d.toDoubleArray());
        // Only the attached path contributes: d(Σ x·d + x)/dx = d + 1.
        x.mul(d).add(x).sum().backward();
        assertArrayEquals(new double[] {4, 7, 10}, x.grad().toDoubleArray());
    }

    @Test
    void theGraphIsReleasedAfterBackward() {
        Tensor x = leaf(new double[] {1, 2}, 2);
        Tensor hidden = x.square();
        Tensor y = hidden.sum();
        y.backward();
        assertNull(y.gradFn(), "the output's node is freed");
        assertNull(hidden.gradFn(), "intermediate nodes are freed");
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("already released"), e.getMessage());
        // A new output built on a released intermediate cannot reach the leaves either.
        Tensor z = hidden.mul(2.0).sum();
        e = assertThrows(IllegalStateException.class, z::backward);
        assertTrue(e.getMessage().contains("already released") && e.getMessage().contains("recompute"),
                e.getMessage());
        assertArrayEquals(new double[] {2, 4}, x.grad().toDoubleArray(), "the first backward's gradient stays");
    }

    @Test
    void gradientsAccumulateAcrossBackwardCalls() {
        Tensor x = leaf(new double[] {1, 2, 3}, 3);
        x.square().sum().backward();
        assertArrayEquals(new double[] {2, 4, 6}, x.grad().toDoubleArray());
        x.mul(5.0).sum().backward();
        assertArrayEquals(new double[] {7, 9, 11}, x.grad().toDoubleArray());
    }

    @Test
    void zeroGradDropsTheGradient() {
        Tensor x = leaf(new double[] {1, 2}, 2);
        x.sum().backward();
        assertNotNull(x.grad());
        Tensor g = x.grad();
        x.zeroGrad();
        assertNull(x.grad());
        assertTrue(g.isClosed(), "the old gradient's memory is released");
        x.mul(3.0).sum().backward();
        assertArrayEquals(new double[] {3, 3}, x.grad().toDoubleArray(), "starts again from zero");
        x.zeroGrad();
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void gradientOfAFloat32LeafIsFloat32() {
        Tensor x = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        x.square().sum().backward();
        assertEquals(DType.FLOAT32, x.grad().dtype());
        assertArrayEquals(new float[] {2, 4}, x.grad().toFloatArray());
    }

    @Test
    void aDtypeConversionSendsTheGradientBackInTheSourceDtype() {
        Tensor x = Tensor.of(new float[] {1.5f, -2f}, 2).requiresGrad(true);
        Tensor wide = x.to(DType.FLOAT64);
        assertEquals(DType.FLOAT64, wide.dtype());
        assertEquals("to", wide.gradFn());
        assertTrue(x.to(DType.FLOAT32) == x, "a conversion to the same dtype is the tensor itself");
        wide.square().sum().backward();
        assertEquals(DType.FLOAT32, x.grad().dtype());
        assertArrayEquals(new float[] {3f, -4f}, x.grad().toFloatArray());
    }

    @Test
    void aLeafUsedTwiceInOneOpGetsBothContributions() {
        Tensor x = leaf(new double[] {1, 2}, 2);
        x.add(x).sum().backward();
        assertArrayEquals(new double[] {2, 2}, x.grad().toDoubleArray());
    }

    @Test
    void requiresGradOnANonLeafThrows() {
        Tensor x = leaf(new double[] {1, 2}, 2);
        Tensor y = x.exp();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> y.requiresGrad(true));
        assertTrue(e.getMessage().contains("leaf") && e.getMessage().contains("exp")
                && e.getMessage().contains("detach"), e.getMessage());
    }

    @Test
    void integerTensorsCannotRequireGrad() {
        Tensor labels = Tensor.ofInts(new int[] {0, 1}, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> labels.requiresGrad(true));
        assertTrue(e.getMessage().contains("int32") && e.getMessage().contains("floating-point"), e.getMessage());
        assertFalse(labels.requiresGrad());
        labels.requiresGrad(false);
    }

    @Test
    void aDeepChainDoesNotOverflowTheStack() {
        Tensor x = leaf(new double[] {1}, 1);
        Tensor y = x;
        for (int i = 0; i < 20_000; i++) {
            y = y.add(1.0);
        }
        y.sum().backward();
        assertArrayEquals(new double[] {1}, x.grad().toDoubleArray());
    }
}
