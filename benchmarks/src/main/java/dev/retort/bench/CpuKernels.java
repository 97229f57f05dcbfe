package dev.retort.bench;

import dev.retort.backend.cpu.CpuBackend;

/**
 * Prints which CPU kernels this JVM runs, e.g. {@code cpu: vector (512-bit, 16 floats) float32 kernels on 2 threads}:
 * the vector width the Vector API gives under this JVM's flags ({@code -XX:MaxVectorSize=32} gives 256 bits).
 * benchmarks/compare-cpu.sh puts it in its report's header; run it with the flags the benchmarks get:
 * {@code java --add-modules=jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.retort.bench.CpuKernels}.
 */
public final class CpuKernels {
    private CpuKernels() {}

    /** Prints the CPU backend's description on one line. */
    public static void main(String[] args) {
        System.out.println(CpuBackend.get().describe());
    }
}
