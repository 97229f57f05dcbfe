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

    /** The per-draw key of a seed; hoisted out of loops that draw many elements. */
    public static long key(long seed) {
        return mix(seed);
    }

    /** The 24 random bits of element {@code index} under a key: an integer in [0, 2^24). */
    public static int bits24(long key, long index) {
        return (int) (mix(key + index * 0x9E3779B97F4A7C15L) >>> 40);
    }

    /** A uniform number in [0, 1) with 24 random bits, exactly representable as a float. */
    public static float uniform(long seed, long index) {
        return bits24(key(seed), index) * 0x1.0p-24f;
    }
}
