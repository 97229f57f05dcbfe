package dev.retort.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VectorFloatMath}'s element-wise primitives and per-plane sums on the Vector API, one run of elements on the
 * calling thread each.
 *
 * <p>Like {@link VectorFloatMath}, this class may only be loaded when {@code jdk.incubator.vector} is in the boot
 * layer: only VectorFloatMath refers to it. The sums keep two vector accumulators, so that each add waits for the
 * one two vectors back rather than for the previous one.
 */
final class VectorElementWise {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private VectorElementWise() {}

    static void reluBackward(float[] grad, int gradOffset, float[] output, int outputOffset, float[] result,
                             int resultOffset, int n) {
        FloatVector zero = FloatVector.zero(SPECIES);
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
            FloatVector g = FloatVector.fromArray(SPECIES, grad, gradOffset + i);
            FloatVector y = FloatVector.fromArray(SPECIES, output, outputOffset + i);
            zero.blend(g, y.compare(VectorOperators.GT, 0f)).intoArray(result, resultOffset + i);
        }
        for (; i < n; i++) {
            result[resultOffset + i] = output[outputOffset + i] > 0 ? grad[gradOffset + i] : 0f;
        }
    }

    static void relu(float[] x, int xOffset, float[] out, int outOffset, int n) {
        // The Vector API's MAX follows Math.max, NaN and signed zeros included.
        FloatVector zero = FloatVector.zero(SPECIES);
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
            FloatVector.fromArray(SPECIES, x, xOffset + i).max(zero).intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            out[outOffset + i] = Math.max(x[xOffset + i], 0f);
        }
    }

    static void scaleShift(float[] x, int xOffset, float scale, float shift, float[] out, int outOffset, int n) {
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
            FloatVector.fromArray(SPECIES, x, xOffset + i).mul(scale).add(shift).intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            out[outOffset + i] = x[xOffset + i] * scale + shift;
        }
    }

    static void batchNormGradient(float[] g, int gOffset, float[] x, int xOffset, int n, float scale, float meanG,
                                  float mean, float k, float[] out, int outOffset) {
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
            FloatVector centered = FloatVector.fromArray(SPECIES, x, xOffset + i).sub(mean);
            FloatVector.fromArray(SPECIES, g, gOffset + i).sub(meanG).sub(centered.mul(k)).mul(scale)
                    .intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            float centered = x[xOffset + i] - mean;
            out[outOffset + i] = scale * (g[gOffset + i] - meanG - centered * k);
        }
    }

    static float sum(float[] x, int from, int n) {
        FloatVector s0 = FloatVector.zero(SPECIES);
        FloatVector s1 = FloatVector.zero(SPECIES);
        int i = 0;
        for (int bound = n - 2 * LANES; i <= bound; i += 2 * LANES) {
            s0 = s0.add(FloatVector.fromArray(SPECIES, x, from + i));
            s1 = s1.add(FloatVector.fromArray(SPECIES, x, from + i + LANES));
        }
        float sum = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += x[from + i];
        }
        return sum;
    }

    static float squaredDeviations(float[] x, int from, int n, float mean) {
        FloatVector s0 = FloatVector.zero(SPECIES);
        FloatVector s1 = FloatVector.zero(SPECIES);
        int i = 0;
        for (int bound = n - 2 * LANES; i <= bound; i += 2 * LANES) {
            FloatVector d0 = FloatVector.fromArray(SPECIES, x, from + i).sub(mean);
            FloatVector d1 = FloatVector.fromArray(SPECIES, x, from + i + LANES).sub(mean);
            s0 = d0.fma(d0, s0);
            s1 = d1.fma(d1, s1);
        }
        float sum = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float d = x[from + i] - mean;
            sum += d * d;
        }
        return sum;
    }

    static float centeredProducts(float[] g, int gOffset, float[] x, int xOffset, int n, float mean) {
        FloatVector s0 = FloatVector.zero(SPECIES);
        FloatVector s1 = FloatVector.zero(SPECIES);
        int i = 0;
        for (int bound = n - 2 * LANES; i <= bound; i += 2 * LANES) {
            FloatVector d0 = FloatVector.fromArray(SPECIES, x, xOffset + i).sub(mean);
            FloatVector d1 = FloatVector.fromArray(SPECIES, x, xOffset + i + LANES).sub(mean);
            s0 = FloatVector.fromArray(SPECIES, g, gOffset + i).fma(d0, s0);
            s1 = FloatVector.fromArray(SPECIES, g, gOffset + i + LANES).fma(d1, s1);
        }
        float sum = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += g[gOffset + i] * (x[xOffset + i] - mean);
        }
        return sum;
    }
}
