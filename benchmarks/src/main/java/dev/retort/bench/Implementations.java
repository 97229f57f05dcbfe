package dev.retort.bench;

import dev.retort.backend.cpu.FloatMath;
import dev.retort.backend.cpu.FloatMathProvider;

/** Maps a benchmark's {@code impl} parameter to a {@link FloatMath}, and turns times into GFLOP/s. */
final class Implementations {

    private Implementations() {}

    static FloatMath byName(String name) {
        return switch (name) {
            case "scalar" -> FloatMathProvider.scalar();
            case "vector" -> FloatMathProvider.vector();
            default -> throw new IllegalArgumentException("impl must be scalar or vector, got '" + name + "'");
        };
    }

    /** GFLOP/s for {@code flops} floating-point operations done in {@code milliseconds}. */
    static double gigaflops(double flops, double milliseconds) {
        return flops / (milliseconds * 1e-3) / 1e9;
    }
}
