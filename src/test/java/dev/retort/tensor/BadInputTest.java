package dev.retort.tensor;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.retort.backend.ConvSpec;
import dev.retort.backend.DType;
import dev.retort.backend.PoolSpec;
import dev.retort.backend.Shapes;
import dev.retort.testing.ScopePerTest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

/**
 * Every public operation rejects bad input with an IllegalArgumentException whose message names the
 * operation and the shapes or values at fault, and never fails with an index error instead.
 */
@ExtendWith(ScopePerTest.class)
class BadInputTest {

    /** Asserts an IllegalArgumentException whose message contains every fragment. */
    private static void rejects(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        String m = e.getMessage();
        for (String f : fragments) {
            if (m == null || !m.contains(f)) {
                fail("message should contain '" + f + "': " + m);
            }
        }
    }

    private static Tensor t(int... shape) {
        double[] v = new double[Shapes.size(shape)];
        Arrays.fill(v, 0.5);
        return Tensor.of(v, shape);
    }

    private static Tensor t32(int... shape) {
        return Tensor.of(new float[Shapes.size(shape)], shape);
    }

    // ---- creation and shape -------------------------------------------------------------------

    @Test
    void creationWithWrongDataLengthOrNegativeShape() {
        rejects(() -> Tensor.of(new double[5], 2, 3), "Tensor.of", "5 values", "[2, 3]", "6 elements");
        rejects(() -> Tensor.of(new float[7], 2, 3), "Tensor.of", "7 values", "[2, 3]");
        rejects(() -> Tensor.ofInts(new int[1], 2), "Tensor.ofInts", "1 values", "[2]");
        rejects(() -> Tensor.of(new double[0], -1, 0), "Tensor.of", "negative dimension", "[-1, 0]");
        rejects(() -> Tensor.of(new double[2], 2, -1), "Tensor.of", "negative dimension", "[2, -1]");
        rejects(() -> Tensor.zeros(3, -2), "negative dimension", "[3, -2]");
    }

    @Test
    void reshapeWithNegativeDimensionsOrAnotherSize() {
        Tensor x = t(2, 3);
        rejects(() -> x.reshape(-2, 3), "reshape", "invalid dimension -2", "[-2, 3]");
        rejects(() -> x.reshape(-1, -1), "reshape", "only one dimension can be -1");
        rejects(() -> x.reshape(4, 2), "reshape", "[2, 3]", "6 elements", "[4, 2]");
        rejects(() -> x.reshape(-1, 4), "reshape", "[2, 3]", "[-1, 4]");
        rejects(() -> x.reshape(0, -1), "reshape", "[0, -1]");
        rejects(() -> x.flatten(2), "flatten", "2", "[2, 3]");
        rejects(() -> x.flatten(-1), "flatten", "[2, 3]");
        rejects(() -> t(4).transpose(), "transpose", "[4]");
        rejects(() -> x.expand(3, 3), "expand", "[2, 3]", "[3, 3]");
        rejects(() -> x.expand(3), "expand", "[2, 3]", "[3]");
        rejects(() -> x.sumTo(4), "sumTo", "[2, 3]", "[4]");
        rejects(() -> x.sumTo(2, 3, 1), "sumTo", "[2, 3]", "[2, 3, 1]");
        rejects(() -> x.sum(false, 2), "sum", "dimension 2", "[2, 3]");
        rejects(() -> x.mean(true, -3), "sum", "dimension -3", "[2, 3]");
        rejects(() -> Tensor.of(new double[] {1}).argmax(), "argmax");
    }

    // ---- elementwise ----------------------------------------------------------------------------

    @Test
    void broadcastingMismatchNamesTheOpAndBothShapes() {
        rejects(() -> t(2, 3).add(t(4)), "add", "[2, 3]", "[4]", "cannot be broadcast");
        rejects(() -> t(2, 3).sub(t(3, 2)), "sub", "[2, 3]", "[3, 2]");
        rejects(() -> t(5, 1, 3).mul(t(2, 2)), "mul", "[5, 1, 3]", "[2, 2]");
        rejects(() -> t(4).div(t(2, 3)), "div", "[4]", "[2, 3]");
    }

    @Test
    void mixedDtypesAreRejected() {
        rejects(() -> t32(2).add(t(2)), "add", "different dtypes", "float32", "float64");
        rejects(() -> t(2, 2).matmul(t32(2, 2)), "matmul", "float64", "float32");
        rejects(() -> Functional.linear(t32(2, 3), t(4, 3), null), "linear", "float32", "float64");
        rejects(() -> Functional.linear(t32(2, 3), t32(4, 3), t(4)), "linear", "float32", "float64");
        rejects(() -> Functional.conv2d(t32(1, 1, 3, 3), t(1, 1, 2, 2), null, new ConvSpec(1, 1, 0, 0)),
                "conv2d", "float32", "float64");
        rejects(() -> Losses.klDiv(t32(2, 3), t(2, 3), 1, 1), "klDiv", "float32", "float64");
        rejects(() -> Losses.mse(t32(2, 3), t(2, 3)), "mse", "float32", "float64");
        rejects(() -> Functional.batchNorm(t32(2, 3), t(3), t32(3), t32(3), t32(3), true, 0.1, 1e-5),
                "batchNorm", "float32", "float64");
    }

    @Test
    void integerTensorsAreRejectedByFloatingPointOps() {
        Tensor labels = Tensor.ofInts(new int[] {1, 2}, 2);
        rejects(labels::exp, "exp", "floating-point", "int32");
        rejects(() -> labels.add(labels), "add", "floating-point", "int32");
        rejects(() -> labels.softmax(1), "softmax", "floating-point", "int32");
    }

    // ---- linear algebra -----------------------------------------------------------------------

    @Test
    void matmulInnerDimensionMismatchAndWrongRanks() {
        rejects(() -> t(2, 3).matmul(t(4, 5)), "matmul", "inner dimensions", "[2, 3]", "[4, 5]", "3 vs 4");
        rejects(() -> t(2, 2, 3).matmul(t(2, 4, 5)), "matmul", "[2, 2, 3]", "[2, 4, 5]", "3 vs 4");
        rejects(() -> t(3).matmul(t(3, 2)), "matmul", "[3]", "[3, 2]");
        rejects(() -> t(2, 3).matmul(t(2, 3, 4)), "matmul", "[2, 3]", "[2, 3, 4]");
        rejects(() -> t(2, 2, 3).matmul(t(3, 3, 4)), "matmul", "[2, 2, 3]", "[3, 3, 4]");
        rejects(() -> t(1, 2, 2, 3).matmul(t(1, 2, 3, 4)), "matmul", "[1, 2, 2, 3]");
    }

    @Test
    void linearRejectsMismatchedWeightAndBias() {
        rejects(() -> Functional.linear(t(2, 3), t(4, 5), null), "linear", "[2, 3]", "[4, 5]");
        rejects(() -> Functional.linear(t(2, 3), t(3), null), "linear", "[2, 3]", "[3]");
        rejects(() -> Functional.linear(t(2, 3), t(4, 3), t(3)), "linear", "bias", "[3]", "[4, 3]");
        rejects(() -> Functional.linear(t(2, 3), t(4, 3), t(1, 4)), "linear", "bias", "[1, 4]");
        rejects(() -> Functional.linear(Tensor.of(new double[] {1}), t(4, 3), null), "linear", "[]");
    }

    // ---- convolution and pooling --------------------------------------------------------------

    @Test
    void conv2dRejectsChannelMismatchLargeKernelsAndWrongRanks() {
        ConvSpec s = new ConvSpec(1, 1, 0, 0);
        rejects(() -> Functional.conv2d(t(1, 3, 5, 5), t(2, 2, 3, 3), null, s), "conv2d", "[1, 3, 5, 5]",
                "[2, 2, 3, 3]");
        rejects(() -> Functional.conv2d(t(1, 1, 2, 2), t(1, 1, 3, 3), null, s), "conv2d", "kernel 3×3",
                "larger", "[1, 1, 2, 2]");
        rejects(() -> Functional.conv2d(t(1, 1, 4, 9), t(1, 1, 5, 3), null, new ConvSpec(2, 2, 0, 0)), "conv2d",
                "kernel 5×3", "[1, 1, 4, 9]");
        rejects(() -> Functional.conv2d(t(1, 1, 2, 2), t(1, 1, 5, 5), null, new ConvSpec(1, 1, 1, 1)), "conv2d",
                "4×4");
        rejects(() -> Functional.conv2d(t(3, 5, 5), t(2, 3, 3, 3), null, s), "conv2d", "[3, 5, 5]");
        rejects(() -> Functional.conv2d(t(1, 3, 5, 5), t(3, 3, 3), null, s), "conv2d", "[3, 3, 3]");
        rejects(() -> Functional.conv2d(t(1, 3, 5, 5), t(2, 3, 3, 3), t(3), s), "conv2d", "bias", "[3]", "2");
        rejects(() -> new ConvSpec(0, 1, 0, 0), "conv2d", "stride", "(0, 1)");
        rejects(() -> new ConvSpec(1, 1, -1, 0), "conv2d", "padding", "(-1, 0)");
    }

    @Test
    void poolingRejectsThreeDimensionalInputAndLargeWindows() {
        PoolSpec k2 = new PoolSpec(2, 2, 2, 2, 0, 0);
        rejects(() -> Functional.maxPool2d(t(1, 4, 4), k2), "maxPool2d", "4 dimensions", "[1, 4, 4]");
        rejects(() -> Functional.avgPool2d(t(1, 4, 4), k2), "avgPool2d", "4 dimensions", "[1, 4, 4]");
        rejects(() -> Functional.globalAvgPool2d(t(2, 3, 4)), "globalAvgPool2d", "[2, 3, 4]");
        PoolSpec k5 = new PoolSpec(5, 5, 1, 1, 0, 0);
        rejects(() -> Functional.maxPool2d(t(1, 1, 4, 6), k5), "maxPool2d", "5×5", "[1, 1, 4, 6]");
        rejects(() -> Functional.avgPool2d(t(1, 1, 6, 4), k5), "avgPool2d", "5×5", "[1, 1, 6, 4]");
        rejects(() -> new PoolSpec(0, 2, 1, 1, 0, 0), "pool2d", "kernel (0, 2)");
        rejects(() -> new PoolSpec(2, 2, 2, 2, 2, 0), "pool2d", "padding (2, 0)", "half");
    }

    // ---- normalisation and dropout ------------------------------------------------------------

    @Test
    void batchNormRejectsMismatchedParametersAndInputs() {
        Tensor x = t(2, 4, 3, 3);
        rejects(() -> Functional.batchNorm(x, t(3), t(4), t(4), t(4), true, 0.1, 1e-5), "batchNorm", "[3]",
                "4 channels", "[2, 4, 3, 3]");
        rejects(() -> Functional.batchNorm(x, t(4), t(4), t(4, 1), t(4), true, 0.1, 1e-5), "batchNorm", "[4, 1]");
        rejects(() -> Functional.batchNorm(x, t(4), t(4), t(4), t(5), false, 0.1, 1e-5), "batchNorm", "[5]");
        rejects(() -> Functional.batchNorm(t(2, 4, 3), t(4), t(4), t(4), t(4), true, 0.1, 1e-5), "batchNorm",
                "[2, 4, 3]");
        rejects(() -> Functional.batchNorm(t(1, 4), t(4), t(4), t(4), t(4), true, 0.1, 1e-5), "batchNorm",
                "more than one value per channel", "[1, 4]");
        rejects(() -> Functional.batchNorm(x, t(4), t(4), t(4), t(4), true, 0.1, 0), "batchNorm", "eps", "0.0");
    }

    @Test
    void dropoutProbabilityOutsideTheUnitInterval() {
        Tensor x = t(3);
        rejects(() -> Functional.dropout(x, 1.5, true, 1), "dropout", "[0, 1]", "1.5");
        rejects(() -> Functional.dropout(x, -0.1, true, 1), "dropout", "-0.1");
        rejects(() -> Functional.dropout(x, Double.NaN, true, 1), "dropout", "NaN");
        rejects(() -> Functional.dropout(x, 2, false, 1), "dropout", "2.0");
    }

    // ---- softmax and losses ---------------------------------------------------------------------

    @Test
    void temperaturesMustBePositiveAndFinite() {
        Tensor x = t(2, 3);
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            rejects(() -> x.softmax(bad), "softmax", "temperature", String.valueOf(bad));
            rejects(() -> x.logSoftmax(bad), "logSoftmax", "temperature", String.valueOf(bad));
            rejects(() -> Losses.klDiv(x, t(2, 3), bad, 1), "klDiv", "temperature", String.valueOf(bad));
            rejects(() -> Losses.klDiv(x, t(2, 3), 1, bad), "klDiv", "temperature", String.valueOf(bad));
        }
        rejects(() -> Tensor.of(new double[] {1}).softmax(1), "softmax", "dimension");
    }

    @Test
    void crossEntropyRejectsBadLabels() {
        Tensor logits = t(2, 3);
        rejects(() -> Losses.crossEntropy(logits, Tensor.ofInts(new int[] {0, 3}, 2), 0), "crossEntropy",
                "label 3", "row 1", "[0, 3)");
        rejects(() -> Losses.crossEntropy(logits, Tensor.ofInts(new int[] {-1, 0}, 2), 0), "crossEntropy",
                "label -1", "row 0");
        rejects(() -> Losses.crossEntropy(logits, t(2), 0), "crossEntropy", "INT32", "float64", "[2, 3]");
        rejects(() -> Losses.crossEntropy(logits, Tensor.ofInts(new int[] {0, 1, 2}, 3), 0), "crossEntropy",
                "[2]", "[3]");
        rejects(() -> Losses.crossEntropy(logits, Tensor.ofInts(new int[] {0, 1}, 1, 2), 0), "crossEntropy",
                "[1, 2]");
        rejects(() -> Losses.crossEntropy(t(2, 3, 4), Tensor.ofInts(new int[] {0, 1}, 2), 0), "crossEntropy",
                "[2, 3, 4]");
        rejects(() -> Losses.crossEntropy(logits, Tensor.ofInts(new int[] {0, 1}, 2), 1.5), "crossEntropy",
                "smoothing", "1.5");
        rejects(() -> Losses.nllLoss(logits, Tensor.ofInts(new int[] {0, 5}, 2), 0), "nllLoss", "label 5");
        rejects(() -> Losses.nllLoss(logits, Tensor.ofInts(new int[] {0, 1}, 2), -0.5), "nllLoss", "-0.5");
    }

    @Test
    void klDivAndMseRejectMismatchedShapes() {
        rejects(() -> Losses.klDiv(t(2, 3), t(2, 4), 1, 1), "klDiv", "[2, 3]", "[2, 4]");
        rejects(() -> Losses.klDiv(t(6), t(6), 1, 1), "klDiv", "[6]");
        rejects(() -> Losses.mse(t(2, 3), t(3, 2)), "mse", "[2, 3]", "[3, 2]");
    }

    // ---- no index errors, whatever the shapes --------------------------------------------------

    @Test
    void randomShapesFailOnlyWithIllegalArgumentException() {
        Random r = new Random(97);
        List<String> problems = new ArrayList<>();
        for (int trial = 0; trial < 400; trial++) {
            int[] a = randomShape(r);
            int[] b = randomShape(r);
            int[] c = randomShape(r);
            Tensor x = t(a);
            Tensor y = t(b);
            Tensor z = t(c);
            int pad = r.nextInt(3);
            int stride = 1 + r.nextInt(2);
            int kernel = 1 + r.nextInt(3);
            String shapes = Arrays.toString(a) + " " + Arrays.toString(b) + " " + Arrays.toString(c);
            List<Supplier<Object>> calls = List.of(
                    () -> x.add(y), () -> x.div(y), () -> x.matmul(y), () -> x.reshape(b), () -> x.expand(b),
                    () -> x.sumTo(b), () -> x.transpose(), () -> x.softmax(2), () -> x.flatten(1),
                    () -> Functional.linear(x, y, z), () -> Functional.linear(x, y, null),
                    () -> Functional.conv2d(x, y, z, new ConvSpec(stride, stride, pad, pad)),
                    () -> Functional.conv2d(x, y, null, new ConvSpec(stride, 1, 0, pad)),
                    () -> Functional.maxPool2d(x, new PoolSpec(kernel, kernel, stride, stride, pad / 2, pad / 2)),
                    () -> Functional.avgPool2d(x, new PoolSpec(kernel, kernel, stride, stride, pad / 2, pad / 2)),
                    () -> Functional.globalAvgPool2d(x),
                    () -> Functional.batchNorm(x, y, y, z, z, r.nextBoolean(), 0.1, 1e-5),
                    () -> Losses.crossEntropy(x, Tensor.ofInts(new int[Shapes.size(b)], b), 0.1),
                    () -> Losses.klDiv(x, y, 2, 1), () -> Losses.mse(x, y));
            for (int k = 0; k < calls.size(); k++) {
                try {
                    calls.get(k).get();
                } catch (IllegalArgumentException expected) {
                    // the documented failure
                } catch (RuntimeException | Error e) {
                    if (problems.size() < 10) {
                        problems.add("call " + k + " on " + shapes + ": " + e);
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            fail("unexpected exceptions:\n  " + String.join("\n  ", problems));
        }
    }

    private static int[] randomShape(Random r) {
        int rank = r.nextInt(5);
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) {
            s[i] = r.nextInt(5) == 0 ? 0 : 1 + r.nextInt(4);
        }
        return s;
    }

    @Test
    void float32AndFloat64AreBothAccepted() {
        Tensor a = t32(2, 2).add(t32(2));
        Tensor b = t(2, 2).add(t(2));
        org.junit.jupiter.api.Assertions.assertEquals(DType.FLOAT32, a.dtype());
        org.junit.jupiter.api.Assertions.assertEquals(DType.FLOAT64, b.dtype());
    }

    @Test
    void convolutionWithAnEmptyKernelIsRejected() {
        rejects(() -> Functional.conv2d(t(1, 2, 5, 5), t(3, 2, 0, 3), null, new ConvSpec(1, 1, 0, 0)), "conv2d",
                "[3, 2, 0, 3]");
    }

    @Test
    void argmaxOverAnEmptyDimensionIsRejected() {
        rejects(() -> t(4, 0).argmax(), "argmax", "[4, 0]");
    }

    @Test
    void dropoutOfIntegersIsRejectedByName() {
        rejects(() -> Functional.dropout(Tensor.ofInts(new int[] {1, 2}, 2), 0.5, true, 1), "dropout", "int32");
    }
}
