package dev.retort.backend;

/**
 * The counter-based random numbers behind dropout: element i of a mask drawn with a seed is a pure
 * function of (seed, i), so every backend and every thread split draws the same mask.
 */
public final class CounterRng {
    private CounterRng() {}

    /** SplitMix64's finaliser: a bijective mix with full avalanche. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A uniform number in [0, 1) with 24 random bits, exactly representable as a float. */
    public static float uniform(long seed, long index) {
        long bits = mix(mix(seed) + index * 0x9E3779B97F4A7C15L);
        return (bits >>> 40) * 0x1.0p-24f;
    }
}
