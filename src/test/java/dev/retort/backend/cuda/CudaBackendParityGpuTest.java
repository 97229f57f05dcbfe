package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.Backend;
import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.NdArray;
import dev.retort.diagnostics.ParitySweep;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every compute op of CudaBackend against the float64 reference, through the same parity sweep as {@code retort
 * doctor} (one dynamic test per case, so a failure names the op and shape), plus placement of modules on the GPU.
 */
@Tag("gpu")
class CudaBackendParityGpuTest {
    private static Backend cuda;

    @BeforeAll
    static void start() {
        String reason = CudaAvailability.unavailableReason();
        GpuAssumptions.assumeDevice(reason, "no CUDA backend");
        cuda = CudaBackend.get();
    }

    @TestFactory
    Stream<DynamicTest> everyOpMatchesTheReference() {
        List<DynamicTest> tests = new ArrayList<>();
        String[] lostIn = {null};
        for (ParitySweep.Case c : ParitySweep.cases()) {
            tests.add(DynamicTest.dynamicTest(c.op() + " " + c.detail(), () -> {
                // After a device fault every later case would fail with it: the first one fails, the rest abort.
                Assumptions.assumeTrue(lostIn[0] == null, () -> "not run: the device was lost in " + lostIn[0]);
                ParitySweep.Outcome o = ParitySweep.run(c, cuda, 7);
                if (o.deviceLost()) {
                    lostIn[0] = c.op() + " " + c.detail();
                }
                assertTrue(o.passed(c.tolerance()), c.op() + " " + c.detail() + ": " + o.format());
            }));
        }
        return tests.stream();
    }

    @Test
    void float64IsRejectedWithTheOpAndDtype() {
        NdArray x = cuda.fromHost(new double[] {1, 2, 3}, 3);
        NdArray y = cuda.empty(DType.FLOAT64, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cuda.affine(x, 2, 0, y));
        assertTrue(e.getMessage().contains("affine") && e.getMessage().contains("FLOAT64"), e.getMessage());
        x.storage().release();
        y.storage().release();
    }

    @Test
    void moduleMovesToTheGpuAndBackKeepingItsTensors() {
        Module m = Models.create("cnn-student", 5);
        Map<String, Tensor> before = new LinkedHashMap<>(m.stateDict());
        Map<String, float[]> values = new LinkedHashMap<>();
        before.forEach((k, v) -> values.put(k, v.toFloatArray()));
        m.to(Device.CUDA);
        for (var e : m.stateDict().entrySet()) {
            assertSame(before.get(e.getKey()), e.getValue(), e.getKey());
            assertEquals(Device.CUDA, e.getValue().device(), e.getKey());
            assertArrayEquals(values.get(e.getKey()), e.getValue().toFloatArray(), e.getKey());
        }
        m.to(Device.CPU);
        for (var e : m.stateDict().entrySet()) {
            assertEquals(Device.CPU, e.getValue().device(), e.getKey());
        }
        m.close();
    }
}
