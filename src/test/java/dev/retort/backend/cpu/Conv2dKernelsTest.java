package dev.retort.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.retort.backend.ConvGeometry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Pins the three convolution kernels, on both {@link FloatMath} implementations, to a direct double convolution. */
class Conv2dKernelsTest {

    private static final double TOLERANCE = 1e-5;

    static Stream<Arguments> cases() {
        List<ConvGeometry> geometries = List.of(
                // batch, in, h, w, out, kh, kw, sh, sw, ph, pw
                new ConvGeometry(1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0),
                new ConvGeometry(3, 2, 7, 9, 5, 3, 3, 1, 1, 1, 1),
                new ConvGeometry(3, 3, 11, 8, 4, 3, 3, 2, 2, 1, 1),
                new ConvGeometry(2, 4, 9, 9, 3, 5, 5, 2, 2, 2, 2),
                new ConvGeometry(3, 5, 6, 7, 6, 1, 1, 1, 1, 0, 0),
                new ConvGeometry(1, 8, 4, 4, 16, 1, 1, 1, 1, 0, 0),
                new ConvGeometry(3, 4, 8, 7, 3, 1, 1, 2, 2, 0, 0),
                new ConvGeometry(2, 3, 9, 6, 4, 3, 1, 1, 1, 1, 0),
                new ConvGeometry(3, 2, 7, 10, 3, 1, 3, 1, 2, 0, 1),
                new ConvGeometry(1, 3, 13, 13, 7, 4, 2, 3, 2, 2, 1),
                new ConvGeometry(3, 1, 28, 28, 8, 3, 3, 1, 1, 1, 1),
                // Stride 1: the input gradient as a convolution padded by kernel - 1 - pad (2, 0, mixed), and the
                // padding at least the kernel (1×1 and 1×3 with pad 1), which keeps the fold.
                new ConvGeometry(2, 3, 6, 5, 4, 3, 3, 1, 1, 0, 0),
                new ConvGeometry(2, 2, 5, 6, 3, 3, 3, 1, 1, 2, 2),
                new ConvGeometry(2, 3, 7, 4, 2, 2, 5, 1, 1, 0, 3),
                new ConvGeometry(2, 2, 1, 1, 3, 3, 3, 1, 1, 1, 1),
                new ConvGeometry(2, 3, 4, 5, 2, 1, 1, 1, 1, 1, 1),
                new ConvGeometry(2, 3, 4, 5, 2, 1, 3, 1, 1, 1, 1),
                new ConvGeometry(2, 16, 14, 14, 33, 3, 3, 1, 1, 1, 1),
                // Large enough per image for the GEMMs to take their multi-threaded path when batch is 1.
                new ConvGeometry(1, 32, 28, 28, 32, 3, 3, 1, 1, 1, 1),
                new ConvGeometry(9, 32, 14, 14, 64, 3, 3, 1, 1, 1, 1));
        List<Arguments> cases = new ArrayList<>();
        for (FloatMath math : List.of(FloatMathProvider.scalar(), FloatMathProvider.vector())) {
            for (ConvGeometry geometry : geometries) {
                cases.add(Arguments.of(math, geometry));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void forwardMatchesDirectConvolution(FloatMath math, ConvGeometry g) {
        Random random = new Random(g.hashCode());
        float[] input = randomArray(random, g.batch() * g.inChannels() * g.height() * g.width());
        float[] weight = randomArray(random, weightSize(g));
        float[] bias = randomArray(random, g.outChannels());
        float[] output = nanArray(outputSize(g));
        Conv2dKernels.forward(math, g, input, weight, bias, output);
        assertClose(directForward(g, input, weight, bias), output, "forward " + g);

        float[] withoutBias = nanArray(outputSize(g));
        Conv2dKernels.forward(math, g, input, weight, null, withoutBias);
        assertClose(directForward(g, input, weight, null), withoutBias, "forward without bias " + g);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void backwardInputMatchesDirectConvolution(FloatMath math, ConvGeometry g) {
        Random random = new Random(g.hashCode() + 1);
        float[] gradOutput = randomArray(random, outputSize(g));
        float[] weight = randomArray(random, weightSize(g));
        float[] gradInput = nanArray(g.batch() * g.inChannels() * g.height() * g.width());
        Conv2dKernels.backwardInput(math, g, gradOutput, weight, gradInput);
        assertClose(directBackwardInput(g, gradOutput, weight), gradInput, "backwardInput " + g);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void backwardWeightMatchesDirectConvolution(FloatMath math, ConvGeometry g) {
        Random random = new Random(g.hashCode() + 2);
        float[] gradOutput = randomArray(random, outputSize(g));
        float[] input = randomArray(random, g.batch() * g.inChannels() * g.height() * g.width());
        float[] gradWeight = nanArray(weightSize(g));
        float[] gradBias = nanArray(g.outChannels());
        Conv2dKernels.backwardWeight(math, g, gradOutput, input, gradWeight, gradBias);
        double[][] expected = directBackwardWeight(g, gradOutput, input);
        assertClose(expected[0], gradWeight, "backwardWeight " + g);
        assertClose(expected[1], gradBias, "backwardWeight bias " + g);

        float[] weightOnly = nanArray(weightSize(g));
        Conv2dKernels.backwardWeight(math, g, gradOutput, input, weightOnly, null);
        assertClose(expected[0], weightOnly, "backwardWeight without bias " + g);
    }

    /**
     * Stride-1 weight gradients sum stacks of images in one product: one image per stack, uneven stacks (the last
     * one partly empty) and one stack per group must all give the direct convolution's gradient.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.retort.backend.cpu.FloatMathTest#implementations")
    void stackedWeightGradientsMatchDirectConvolution(FloatMath math) {
        ConvGeometry[] geometries = {
                new ConvGeometry(37, 3, 11, 9, 5, 3, 3, 1, 1, 1, 1),
                new ConvGeometry(29, 2, 5, 6, 3, 3, 3, 1, 1, 2, 2),
                new ConvGeometry(21, 3, 7, 4, 2, 2, 5, 1, 1, 0, 3),
                new ConvGeometry(19, 4, 6, 5, 6, 3, 3, 1, 1, 0, 0),
                new ConvGeometry(13, 2, 5, 4, 3, 1, 1, 1, 1, 1, 1),
                new ConvGeometry(11, 2, 6, 5, 3, 1, 3, 1, 1, 1, 0)};
        for (ConvGeometry g : geometries) {
            Random random = new Random(g.hashCode());
            float[] gradOutput = randomArray(random, outputSize(g));
            float[] input = randomArray(random, g.batch() * g.inChannels() * g.height() * g.width());
            double[][] expected = directBackwardWeight(g, gradOutput, input);
            int imageBytes = (g.inChannels() + g.outChannels()) * (g.height() + 2 * g.padH())
                    * (g.width() + 2 * g.padW()) * Float.BYTES;
            for (int stackBytes : new int[] {1, 2 * imageBytes + 1, 1 << 20}) {
                float[] gradWeight = nanArray(weightSize(g));
                float[] gradBias = nanArray(g.outChannels());
                Conv2dKernels.backwardWeight(math, g, gradOutput, input, gradWeight, gradBias, stackBytes);
                assertClose(expected[0], gradWeight, "backwardWeight " + g + " stacks of " + stackBytes + " bytes");
                assertClose(expected[1], gradBias, "backwardWeight bias " + g + " stacks of " + stackBytes + " bytes");
            }
        }
    }

    @Test
    void weightGradientIsTheSameEveryRun() {
        ConvGeometry g = new ConvGeometry(37, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1);
        Random random = new Random(3);
        float[] gradOutput = randomArray(random, outputSize(g));
        float[] input = randomArray(random, g.batch() * g.inChannels() * g.height() * g.width());
        float[] first = new float[weightSize(g)];
        float[] firstBias = new float[g.outChannels()];
        Conv2dKernels.backwardWeight(FloatMath.get(), g, gradOutput, input, first, firstBias);
        for (int run = 0; run < 5; run++) {
            float[] again = new float[weightSize(g)];
            float[] againBias = new float[g.outChannels()];
            Conv2dKernels.backwardWeight(FloatMath.get(), g, gradOutput, input, again, againBias);
            assertTrue(Arrays.equals(first, again), "run " + run);
            assertTrue(Arrays.equals(firstBias, againBias), "run " + run);
        }
    }

    @Test
    void outputSizeFollowsPyTorch() {
        ConvGeometry g = new ConvGeometry(1, 1, 28, 27, 1, 3, 2, 2, 3, 1, 0);
        assertEquals(14, g.outHeight()); // floor((28 + 2 - 3) / 2) + 1
        assertEquals(9, g.outWidth()); // floor((27 - 2) / 3) + 1
    }

    static double[] directForward(ConvGeometry g, float[] input, float[] weight, float[] bias) {
        int outHeight = g.outHeight();
        int outWidth = g.outWidth();
        double[] output = new double[outputSize(g)];
        for (int n = 0; n < g.batch(); n++) {
            for (int k = 0; k < g.outChannels(); k++) {
                for (int oh = 0; oh < outHeight; oh++) {
                    for (int ow = 0; ow < outWidth; ow++) {
                        double sum = bias == null ? 0 : bias[k];
                        for (int c = 0; c < g.inChannels(); c++) {
                            for (int i = 0; i < g.kernelH(); i++) {
                                for (int j = 0; j < g.kernelW(); j++) {
                                    int ih = oh * g.strideH() - g.padH() + i;
                                    int iw = ow * g.strideW() - g.padW() + j;
                                    if (ih >= 0 && ih < g.height() && iw >= 0 && iw < g.width()) {
                                        sum += (double) input[inputIndex(g, n, c, ih, iw)]
                                                * weight[weightIndex(g, k, c, i, j)];
                                    }
                                }
                            }
                        }
                        output[((n * g.outChannels() + k) * outHeight + oh) * outWidth + ow] = sum;
                    }
                }
            }
        }
        return output;
    }

    static double[] directBackwardInput(ConvGeometry g, float[] gradOutput, float[] weight) {
        double[] gradInput = new double[g.batch() * g.inChannels() * g.height() * g.width()];
        forEachTap(g, (n, k, oh, ow, c, i, j, ih, iw) -> gradInput[inputIndex(g, n, c, ih, iw)] +=
                (double) gradOutput[outputIndex(g, n, k, oh, ow)] * weight[weightIndex(g, k, c, i, j)]);
        return gradInput;
    }

    static double[][] directBackwardWeight(ConvGeometry g, float[] gradOutput, float[] input) {
        double[] gradWeight = new double[weightSize(g)];
        double[] gradBias = new double[g.outChannels()];
        forEachTap(g, (n, k, oh, ow, c, i, j, ih, iw) -> gradWeight[weightIndex(g, k, c, i, j)] +=
                (double) gradOutput[outputIndex(g, n, k, oh, ow)] * input[inputIndex(g, n, c, ih, iw)]);
        for (int n = 0; n < g.batch(); n++) {
            for (int k = 0; k < g.outChannels(); k++) {
                for (int pixel = 0; pixel < g.outHeight() * g.outWidth(); pixel++) {
                    gradBias[k] += gradOutput[outputIndex(g, n, k, 0, 0) + pixel];
                }
            }
        }
        return new double[][] {gradWeight, gradBias};
    }

    /** One multiply of the direct convolution: output (n, k, oh, ow) meets input (n, c, ih, iw) via tap (i, j). */
    private interface Tap {
        void accept(int n, int k, int oh, int ow, int c, int i, int j, int ih, int iw);
    }

    private static void forEachTap(ConvGeometry g, Tap tap) {
        for (int n = 0; n < g.batch(); n++) {
            for (int k = 0; k < g.outChannels(); k++) {
                for (int oh = 0; oh < g.outHeight(); oh++) {
                    for (int ow = 0; ow < g.outWidth(); ow++) {
                        for (int c = 0; c < g.inChannels(); c++) {
                            for (int i = 0; i < g.kernelH(); i++) {
                                for (int j = 0; j < g.kernelW(); j++) {
                                    int ih = oh * g.strideH() - g.padH() + i;
                                    int iw = ow * g.strideW() - g.padW() + j;
                                    if (ih >= 0 && ih < g.height() && iw >= 0 && iw < g.width()) {
                                        tap.accept(n, k, oh, ow, c, i, j, ih, iw);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static int inputIndex(ConvGeometry g, int n, int c, int h, int w) {
        return ((n * g.inChannels() + c) * g.height() + h) * g.width() + w;
    }

    private static int weightIndex(ConvGeometry g, int k, int c, int i, int j) {
        return ((k * g.inChannels() + c) * g.kernelH() + i) * g.kernelW() + j;
    }

    private static int outputIndex(ConvGeometry g, int n, int k, int oh, int ow) {
        return ((n * g.outChannels() + k) * g.outHeight() + oh) * g.outWidth() + ow;
    }

    private static int weightSize(ConvGeometry g) {
        return g.outChannels() * g.inChannels() * g.kernelH() * g.kernelW();
    }

    private static int outputSize(ConvGeometry g) {
        return g.batch() * g.outChannels() * g.outHeight() * g.outWidth();
    }

    private static void assertClose(double[] expected, float[] actual, String where) {
        assertEquals(expected.length, actual.length, where + ": length");
        double magnitude = 1;
        for (double value : expected) {
            magnitude = Math.max(magnitude, Math.abs(value));
        }
        for (int index = 0; index < expected.length; index++) {
            if (!(Math.abs(actual[index] - expected[index]) <= TOLERANCE * magnitude)) {
                fail(where + ": at " + index + " expected " + expected[index] + " but got " + actual[index]);
            }
        }
    }

    private static float[] randomArray(Random random, int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = random.nextFloat() * 2f - 1f;
        }
        return values;
    }

    private static float[] nanArray(int length) {
        float[] values = new float[length];
        Arrays.fill(values, Float.NaN);
        return values;
    }
}
