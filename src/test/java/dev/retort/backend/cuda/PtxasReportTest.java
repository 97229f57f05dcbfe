package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The ptxas resource reports kernels/build.sh keeps in target/kernels: the KD kernels use no stack and spill
 * nothing on any target (build.sh fails the build on a spill; this test also catches a report that lost its
 * lines), and every kernel of every module was compiled for every SASS target.
 */
class PtxasReportTest {
    private static final Path LOGS = Paths.get("target", "kernels");
    private static final Pattern ENTRY = Pattern.compile("Compiling entry function '([^']+)' for '([^']+)'");
    private static final Pattern FRAME = Pattern.compile(
            "(\\d+) bytes stack frame, (\\d+) bytes spill stores, (\\d+) bytes spill loads");
    private static final Pattern REGISTERS = Pattern.compile("Used (\\d+) registers");

    /** One function on one target: its stack frame, spills and registers. */
    record Resources(String function, String arch, int stack, int spillStores, int spillLoads, int registers) {}

    static List<Resources> parse(List<String> lines) {
        List<Resources> out = new ArrayList<>();
        String function = null;
        String arch = null;
        int[] frame = null;
        for (String line : lines) {
            Matcher m = ENTRY.matcher(line);
            if (m.find()) {
                function = m.group(1);
                arch = m.group(2);
                frame = null;
                continue;
            }
            m = FRAME.matcher(line);
            if (m.find() && function != null) {
                frame = new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                    Integer.parseInt(m.group(3))};
                continue;
            }
            m = REGISTERS.matcher(line);
            if (m.find() && function != null && frame != null) {
                out.add(new Resources(function, arch, frame[0], frame[1], frame[2], Integer.parseInt(m.group(1))));
                function = null;
            }
        }
        return out;
    }

    private static List<String> log(String module) throws IOException {
        Path p = LOGS.resolve("ptxas-" + module + ".log");
        assumeTrue(Files.isRegularFile(p), "no ptxas report at " + p + " (built without nvcc)");
        return Files.readAllLines(p);
    }

    @Test
    void kdKernelsNeitherSpillNorUseAStackOnAnyTarget() throws IOException {
        List<Resources> kd = parse(log("kd_loss"));
        assertFalse(kd.isEmpty(), "the KD report holds no resource lines");
        for (Resources r : kd) {
            assertEquals(0, r.spillStores() + r.spillLoads(), () -> "spills: " + r);
            assertEquals(0, r.stack(), () -> "stack frame: " + r);
            assertTrue(r.registers() <= 255, () -> "registers: " + r);
        }
    }

    @Test
    void everyKernelIsCompiledForEverySassTarget() throws IOException {
        List<String> targets = KernelImages.load().targets();
        assumeTrue(!targets.isEmpty(), "no kernels.properties (built without nvcc)");
        for (var e : KernelModules.MODULE_KERNELS.entrySet()) {
            List<Resources> report = parse(log(e.getKey()));
            for (String kernel : e.getValue()) {
                for (String target : targets) {
                    if (target.startsWith("sm_")) {
                        assertTrue(report.stream().anyMatch(r -> r.function().equals(kernel) && r.arch().equals(target)),
                                () -> kernel + " not compiled for " + target + " (ptxas-" + e.getKey() + ".log)");
                    }
                }
            }
        }
    }

    @Test
    void parserReadsPtxasLines() {
        List<Resources> r = parse(List.of(
                "ptxas info    : Compiling entry function 'kd_loss_warp_f32' for 'sm_90'",
                "ptxas info    : Function properties for kd_loss_warp_f32",
                "    0 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads",
                "ptxas info    : Used 102 registers, used 0 barriers"));
        assertEquals(List.of(new Resources("kd_loss_warp_f32", "sm_90", 0, 8, 12, 102)), r);
    }
}
