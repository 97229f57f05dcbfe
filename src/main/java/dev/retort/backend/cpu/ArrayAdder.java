package dev.retort.backend.cpu;

/**
 * An optional extra of a {@link FloatMath}: {@code target += source} over a range. Folding convolution columns
 * back onto an image is a long run of these, and C2 on Java 17 does not vectorize the plain loop (two arrays that
 * might be one), so the Vector API implementation offers a vectorized one without the caller naming it.
 */
interface ArrayAdder {

    void addInto(float[] target, int targetOffset, float[] source, int sourceOffset, int length);

    /** Uses {@code math}'s adder when it has one, else a plain loop. */
    static void addInto(FloatMath math, float[] target, int targetOffset, float[] source, int sourceOffset,
                        int length) {
        if (math instanceof ArrayAdder adder) {
            adder.addInto(target, targetOffset, source, sourceOffset, length);
            return;
        }
        for (int index = 0; index < length; index++) {
            target[targetOffset + index] += source[sourceOffset + index];
        }
    }
}
