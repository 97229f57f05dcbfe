package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retort.backend.CounterRng;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The dropout RNG is one formula on both sides: kernels/counter_rng.cuh (host-compilable) must compute what
 * {@link CounterRng} computes, so that CPU and GPU masks are bit-identical. The formula, pinned:
 * {@code mix(z) = SplitMix64's finaliser; key = mix(seed); bits24(key, i) = mix(key + i·0x9E3779B97F4A7C15) >>> 40;
 * u = bits24·2^-24; keep element i when bits24 ≥ ⌈p·2^24⌉}.
 */
class CounterRngFormulaTest {
    private static final long[] SEEDS = {0, 1, 42, -7, Long.MIN_VALUE, Long.MAX_VALUE, 0x1234_5678_9abc_def0L};
    private static final long[] INDICES = {0, 1, 2, 1023, 65_537, 1L << 31, (1L << 40) + 3};

    @Test
    void theJavaFormulaIsPinned() {
        // Golden values: a change here is a change of every dropout mask on every device, and needs
        // kernels/counter_rng.cuh changed with it.
        assertEquals(0xE220A8397B1DCDAFL, CounterRng.mix(0x9E3779B97F4A7C15L));
        long key = CounterRng.key(42);
        assertEquals(CounterRng.mix(42), key);
        assertEquals((int) (CounterRng.mix(key + 5 * 0x9E3779B97F4A7C15L) >>> 40), CounterRng.bits24(key, 5));
        assertEquals(CounterRng.bits24(key, 5) * 0x1.0p-24f, CounterRng.uniform(42, 5));
    }

    @Test
    void theCudaHeaderComputesTheSameBitsAsCounterRng() throws IOException, InterruptedException {
        Path header = Paths.get("kernels", "counter_rng.cuh").toAbsolutePath();
        assumeTrue(Files.isRegularFile(header), "kernels/counter_rng.cuh not found");
        Path dir = Paths.get("target", "counter-rng-check");
        Files.createDirectories(dir);
        Path source = dir.resolve("check.cpp");
        StringBuilder main = new StringBuilder("#include \"" + header + "\"\n#include <cstdio>\nint main() {\n");
        for (long seed : SEEDS) {
            main.append("  { uint64_t k = counter_rng_key((uint64_t)").append(seed).append("ull);\n");
            for (long index : INDICES) {
                main.append("    std::printf(\"%u\\n\", counter_rng_bits24(k, ").append(index).append("ull));\n");
            }
            main.append("  }\n");
        }
        main.append("  return 0;\n}\n");
        Files.writeString(source, main.toString().replace("(uint64_t)" + Long.MIN_VALUE + "ull",
                "(uint64_t)0x8000000000000000ull"));
        Path binary = dir.resolve("check");
        Process compile;
        try {
            compile = new ProcessBuilder("g++", "-std=c++17", "-O2", source.toString(), "-o", binary.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "no g++: " + e.getMessage());
            return;
        }
        String log = new String(compile.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, compile.waitFor(), () -> "compiling the header failed:\n" + log);
        Process run = new ProcessBuilder(binary.toAbsolutePath().toString()).start();
        List<String> lines = List.of(new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n"));
        assertEquals(0, run.waitFor());
        List<String> expected = new ArrayList<>();
        for (long seed : SEEDS) {
            long key = CounterRng.key(seed);
            for (long index : INDICES) {
                expected.add(Integer.toString(CounterRng.bits24(key, index)));
            }
        }
        assertEquals(expected, lines);
    }
}
