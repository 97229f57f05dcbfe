package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.Backend;
import dev.retort.backend.Backends;
import dev.retort.backend.Device;
import dev.retort.backend.DeviceLost;
import dev.retort.diagnostics.ParitySweep;
import dev.retort.backend.Storage;
import dev.retort.backend.cpu.CpuBackend;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import dev.retort.testing.StandInCudaBackend;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The doctor's distillation comparison, run through the trainer on the CPU and on the stand-in CUDA device. */
@SuppressWarnings("try")
class DoctorTest {

    @BeforeAll
    static void quiet() {
        System.setProperty("retort.progress", "off");
    }

    @Test
    void theDistillationComparisonRunsTheTrainerOnBothDevicesAndFindsNoDifferenceOnTheStandIn() {
        StringWriter text = new StringWriter();
        try (Backends.Installation ignored = StandInCudaBackend.install()) {
            Doctor doctor = new Doctor(new PrintWriter(text, true), false, 3, 8, 1);
            assertTrue(doctor.distillation(Backends.of(Device.CUDA)), text.toString());
        }
        String out = text.toString();
        assertTrue(out.contains("distillation: first step 0.0e+00 (tolerance 1e-04), largest 0.0e+00"), out);
        assertTrue(out.matches("(?s).*\\n3 +\\d+\\.\\d{6} +\\d+\\.\\d{6} +0\\.0e\\+00\\n.*"), out);
    }

    /** A device fault, as the CUDA backend reports a sticky error. */
    private static final class Lost extends IllegalStateException implements DeviceLost {
        Lost() {
            super("the GPU faulted: CUDA_ERROR_ILLEGAL_ADDRESS");
        }
    }

    /**
     * After a device fault the later parity cases are reported as not run, once, instead of
     * each failing on its own with the fault's message (which read like a failure of a staging copy).
     */
    @Test
    void aDeviceFaultStopsTheParitySweepAndSaysWhere() {
        int[] calls = {0};
        Backend faulting = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    if (method.getName().equals("matmul")) {
                        throw new Lost();
                    }
                    calls[0]++;
                    try {
                        return method.invoke(CpuBackend.get(), args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        StringWriter text = new StringWriter();
        long live = Storage.liveCount();
        int misses = new Doctor(new PrintWriter(text, true), false, 3, 8, 1).parity(faulting);
        assertEquals(live, Storage.liveCount(), "the sweep releases what it made, the cases that failed included");
        String out = text.toString();
        int firstMatmul = 0;
        for (ParitySweep.Case c : ParitySweep.cases()) {
            if (c.op().equals("matmul")) {
                break;
            }
            firstMatmul++;
        }
        assertEquals(ParitySweep.cases().size() - firstMatmul, misses, out);
        assertEquals(1, out.split("the later cases are not run", -1).length - 1, out);
        assertTrue(out.contains("parity: the GPU faulted in matmul"), out);
        assertTrue(out.contains("not run: the device was lost in matmul"), out);
    }
}
