package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.Backends;
import dev.retort.backend.Device;
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
}
