package dev.retort.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/**
 * The test runs that ask for a vector width ({@code -Dretort.test.vectorBits}, the pom's {@code vector-256}
 * execution) get it, so that their kernel tests check that width's GEMM tile and not the machine's widest.
 */
class VectorWidthTest {

    @Test
    void theRequestedVectorWidthIsTheOneInUse() {
        String requested = System.getProperty("retort.test.vectorBits");
        assumeTrue(requested != null, "this run asks for no particular vector width");
        // NEON's vectors are 128 bits: a 256-bit run there tests the 128-bit kernels, which vector-128 covers.
        assumeTrue(!System.getProperty("os.arch").equals("aarch64") || Integer.parseInt(requested) <= 128,
                "this CPU has no vectors of " + requested + " bits");
        String name = FloatMath.get().name();
        assertTrue(name.startsWith("vector ("), "the Vector API path should be in use, got " + name);
        assertEquals(Integer.parseInt(requested), VectorFloatMath.preferredVectorBits(), name);
        assertEquals(Integer.parseInt(requested) >= 512 ? 8 : 4, VectorFloatMath.PANEL_ROWS, name);
    }
}
