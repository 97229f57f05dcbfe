package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.NdArray;
import dev.retort.backend.Storage;
import dev.retort.backend.cpu.CpuBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** CudaBackend's memory operations against the CPU backend's, on a real device. */
@Tag("gpu")
class CudaBackendMemoryGpuTest {
    private static CudaBackend cuda;
    private static final CpuBackend CPU = CpuBackend.get();

    @BeforeAll
    static void start() {
        String reason = CudaAvailability.driverUnavailableReason();
        GpuAssumptions.assumeDevice(reason, "no CUDA");
        cuda = CudaBackend.get();
    }

    @Test
    void fromHostAndBackInEveryDtypeAndConversion() {
        float[] f = {1.5f, -2.7f, 3.9f, -0.4f, 1e7f, 8f};
        NdArray a = cuda.fromHost(f, 2, 3);
        assertEquals(Device.CUDA, a.device());
        NdArray c = CPU.fromHost(f, 2, 3);
        assertArrayEquals(CPU.toFloats(c), cuda.toFloats(a));
        assertArrayEquals(CPU.toDoubles(c), cuda.toDoubles(a));
        assertArrayEquals(CPU.toInts(c), cuda.toInts(a));
        NdArray d = cuda.fromHost(new double[] {0.1, 2.9, -7.5}, 3);
        assertArrayEquals(new float[] {0.1f, 2.9f, -7.5f}, cuda.toFloats(d));
        assertArrayEquals(new int[] {0, 2, -7}, cuda.toInts(d));
        NdArray i = cuda.fromHost(new int[] {4, -5}, 2);
        assertArrayEquals(new double[] {4, -5}, cuda.toDoubles(i));
        for (NdArray x : new NdArray[] {a, c, d, i}) {
            x.storage().release();
        }
    }

    @Test
    void viewsReadFromTheirOffset() {
        NdArray a = cuda.fromHost(new float[] {0, 1, 2, 3, 4, 5}, 3, 2);
        NdArray rows = a.rows(1, 3);
        assertArrayEquals(new float[] {2, 3, 4, 5}, cuda.toFloats(rows));
        cuda.fill(rows.rows(1, 2), 9);
        assertArrayEquals(new float[] {0, 1, 2, 3, 9, 9}, cuda.toFloats(a));
        rows.storage().release();
        a.storage().release();
    }

    @Test
    void fillMatchesTheCpu() {
        for (DType t : DType.values()) {
            NdArray g = cuda.empty(t, 3, 5);
            NdArray c = CPU.empty(t, 3, 5);
            cuda.fill(g, -2.5);
            CPU.fill(c, -2.5);
            assertArrayEquals(CPU.toDoubles(c), cuda.toDoubles(g), t.toString());
            g.storage().release();
            c.storage().release();
        }
    }

    @Test
    void copyWithinAndAcrossDevicesAndDtypes() {
        double[] v = {1.25, -3.75, 2.5, 100.5};
        NdArray src = cuda.fromHost(v, 4);
        for (DType t : DType.values()) {
            NdArray dstGpu = cuda.empty(t, 4);
            NdArray dstCpu = CPU.empty(t, 4);
            cuda.copy(src, dstGpu);
            CPU.copy(CPU.fromHost(v, 4), dstCpu);
            assertArrayEquals(CPU.toDoubles(dstCpu), cuda.toDoubles(dstGpu), "cuda → cuda " + t);
            NdArray back = CPU.empty(t, 4);
            cuda.copy(dstGpu, back); // device to host
            assertArrayEquals(CPU.toDoubles(dstCpu), CPU.toDoubles(back), "cuda → cpu " + t);
            NdArray up = cuda.empty(DType.FLOAT32, 4);
            cuda.copy(dstCpu, up); // host to device
            assertArrayEquals(CPU.toFloats(dstCpu), cuda.toFloats(up), "cpu → cuda " + t);
            for (NdArray x : new NdArray[] {dstGpu, dstCpu, back, up}) {
                x.storage().release();
            }
        }
        src.storage().release();
    }

    @Test
    void anUnwiredComputeOpSaysSoAndAWiredOneMatches() {
        NdArray x = cuda.fromHost(new float[] {1, 2, 3, 4}, 4);
        NdArray out = cuda.empty(DType.FLOAT32, 4);
        try {
            cuda.affine(x, 2, 1, out);
            assertArrayEquals(new float[] {3, 5, 7, 9}, cuda.toFloats(out));
        } catch (UnsupportedOperationException e) {
            assertEquals("CudaBackend.affine: not wired yet", e.getMessage());
        }
        x.storage().release();
        out.storage().release();
    }

    @Test
    void nothingLeaks() {
        long live = Storage.liveCount();
        for (int i = 0; i < 100; i++) {
            cuda.empty(DType.FLOAT32, 1000 + i).storage().release();
        }
        assertEquals(live, Storage.liveCount());
        assertTrue(cuda.describe().startsWith("cuda: cuda:"), cuda.describe());
    }
}
