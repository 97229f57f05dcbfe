package dev.retort.cli;

import static dev.retort.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retort.backend.cuda.CudaAvailability;
import org.junit.jupiter.api.Test;

/** retort doctor without CUDA: exit 1 with the reason, exit 0 with --cpu-only; the CPU checks run either way. */
class DoctorCommandTest {

    @Test
    void withoutCudaDoctorFailsWithTheReasonUnlessCpuOnly() {
        String reason = CudaAvailability.unavailableReason();
        assumeTrue(reason != null, "CUDA is usable here");

        CliFixtures.Run plain = run("doctor", "--steps", "2", "--batch-size", "8");
        assertEquals(1, plain.exitCode(), plain.all());
        assertTrue(plain.out().contains("cuda       not usable"), plain.out());
        assertTrue(plain.out().contains("doctor: CUDA is not usable: " + reason), plain.out());
        assertTrue(plain.out().contains(" missed"), plain.out());
        assertFalse(plain.all().contains("Exception"), plain.all());

        CliFixtures.Run cpuOnly = run("doctor", "--cpu-only", "--steps", "2", "--batch-size", "8");
        assertEquals(0, cpuOnly.exitCode(), cpuOnly.all());
        assertTrue(cpuOnly.out().contains("parity: " + dev.retort.diagnostics.ParitySweep.cases().size()
                + " cases, 0 missed"), cpuOnly.out());
        assertTrue(cpuOnly.out().contains("distillation: cpu only"), cpuOnly.out());
        assertTrue(cpuOnly.out().contains("doctor: all checks passed (CPU only)"), cpuOnly.out());
    }

    @Test
    void badOptionsAreOptionErrors() {
        CliFixtures.Run bad = run("doctor", "--steps", "0");
        CliFixtures.assertRefused(bad);
        assertTrue(bad.err().contains("--steps 0: must be a positive integer"), bad.err());
    }
}
