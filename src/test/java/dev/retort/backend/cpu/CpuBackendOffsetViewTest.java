package dev.retort.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.retort.backend.BinaryOp;
import dev.retort.backend.ConvSpec;
import dev.retort.backend.DType;
import dev.retort.backend.NdArray;
import dev.retort.backend.PoolSpec;
import dev.retort.backend.Shapes;
import dev.retort.backend.UnaryOp;
import dev.retort.testing.TestData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Primitives on views that start inside their storage (a batch sliced with {@code rows}) compute
 * exactly what they compute on fresh arrays, and write nothing outside the view.
 */
class CpuBackendOffsetViewTest {
    private static final CpuBackend B = CpuBackend.get();
    private static final double SENTINEL = 12345.0;

    private final List<NdArray> allocated = new ArrayList<>();

    @AfterEach
    void release() {
        allocated.forEach(a -> a.storage().release());
        allocated.clear();
    }

    /** An array of the given values, either fresh or a view past one sentinel-filled leading row. */
    private NdArray array(DType dtype, boolean offset, double[] values, int... shape) {
        int[] padded = shape.clone();
        int rowSize = shape[0] == 0 ? 0 : Shapes.size(shape) / shape[0];
        if (offset) {
            padded[0] += 2;
        }
        double[] data = new double[Shapes.size(padded)];
        Arrays.fill(data, SENTINEL);
        System.arraycopy(values, 0, data, offset ? rowSize : 0, values.length);
        NdArray base = dtype == DType.FLOAT32 ? B.fromHost(TestData.toFloats(data), padded) : B.fromHost(data, padded);
        allocated.add(base);
        if (!offset) {
            return base;
        }
        NdArray view = base.rows(1, 1 + shape[0]);
        allocated.add(view);
        NdArray shaped = view.view(shape);
        allocated.add(shaped);
        return shaped;
    }

    private NdArray output(DType dtype, boolean offset, int... shape) {
        return array(dtype, offset, new double[Shapes.size(shape)], shape);
    }

    /** The sentinel rows around a view are untouched. */
    private static void assertGuardsIntact(NdArray view) {
        if (view.offset() == 0) {
            return;
        }
        double[] all = B.toDoubles(new NdArray(view.storage(), 0, view.storage().size()));
        for (int i = 0; i < view.offset(); i++) {
            if (all[i] != SENTINEL) {
                throw new AssertionError("element " + i + " before the view was overwritten: " + all[i]);
            }
        }
        for (int i = view.offset() + view.size(); i < all.length; i++) {
            if (all[i] != SENTINEL) {
                throw new AssertionError("element " + i + " after the view was overwritten: " + all[i]);
            }
        }
    }

    /** Runs a chain of primitives and returns every output, checking guards. */
    private List<double[]> run(DType dtype, boolean offset) {
        Random r = new Random(5);
        List<double[]> results = new ArrayList<>();
        List<NdArray> outs = new ArrayList<>();
        int n = 3;
        int c = 2;
        int h = 5;
        int w = 6;
        NdArray x = array(dtype, offset, TestData.uniform(r, n * c * h * w, -2, 2), n, c, h, w);
        NdArray weight = array(dtype, offset, TestData.uniform(r, 4 * c * 9, -1, 1), 4, c, 3, 3);
        NdArray bias = array(dtype, offset, TestData.uniform(r, 4, -1, 1), 4);
        ConvSpec spec = new ConvSpec(1, 1, 1, 1);
        NdArray y = output(dtype, offset, n, 4, h, w);
        B.conv2dForward(x, weight, bias, spec, y);
        outs.add(y);
        NdArray gy = array(dtype, offset, TestData.uniform(r, n * 4 * h * w, -1, 1), n, 4, h, w);
        NdArray gx = output(dtype, offset, n, c, h, w);
        B.conv2dBackwardInput(gy, weight, spec, gx);
        outs.add(gx);
        NdArray gw = output(dtype, offset, 4, c, 3, 3);
        NdArray gb = output(dtype, offset, 4);
        B.conv2dBackwardWeight(gy, x, spec, gw, gb);
        outs.add(gw);
        outs.add(gb);

        NdArray relu = output(dtype, offset, n, 4, h, w);
        B.unary(UnaryOp.RELU, y, relu);
        outs.add(relu);
        NdArray channel = array(dtype, offset, TestData.uniform(r, 4, 0.5, 1), 1, 4, 1, 1);
        NdArray scaled = output(dtype, offset, n, 4, h, w);
        B.binary(BinaryOp.MUL, relu, channel, scaled);
        outs.add(scaled);
        NdArray summed = output(dtype, offset, 1, 4, 1, 1);
        B.sumTo(scaled, summed);
        outs.add(summed);

        PoolSpec pool = new PoolSpec(3, 3, 2, 2, 1, 1);
        NdArray pooled = output(dtype, offset, n, 4, 3, 3);
        B.maxPool2dForward(y, pool, pooled);
        outs.add(pooled);
        NdArray gPool = array(dtype, offset, TestData.uniform(r, n * 4 * 9, -1, 1), n, 4, 3, 3);
        NdArray gPoolIn = output(dtype, offset, n, 4, h, w);
        B.maxPool2dBackward(gPool, y, pool, gPoolIn);
        outs.add(gPoolIn);
        NdArray avg = output(dtype, offset, n, 4, 3, 3);
        B.avgPool2dForward(y, pool, avg);
        outs.add(avg);

        NdArray gamma = array(dtype, offset, TestData.uniform(r, 4, 0.5, 1.5), 4);
        NdArray beta = array(dtype, offset, TestData.uniform(r, 4, -1, 1), 4);
        NdArray bn = output(dtype, offset, n, 4, h, w);
        NdArray mean = output(dtype, offset, 4);
        NdArray var = output(dtype, offset, 4);
        B.batchNormTrainForward(y, gamma, beta, 1e-5, bn, mean, var);
        outs.add(bn);
        outs.add(mean);
        outs.add(var);
        NdArray gBn = output(dtype, offset, n, 4, h, w);
        NdArray gGamma = output(dtype, offset, 4);
        NdArray gBeta = output(dtype, offset, 4);
        B.batchNormBackward(gy, y, gamma, mean, var, 1e-5, true, gBn, gGamma, gBeta);
        outs.add(gBn);
        outs.add(gGamma);
        outs.add(gBeta);

        NdArray flat = y.view(n, 4 * h * w);
        allocated.add(flat);
        NdArray lin = array(dtype, offset, TestData.uniform(r, 7 * 4 * h * w, -1, 1), 7, 4 * h * w);
        NdArray logits = output(dtype, offset, n, 7);
        B.matmul(flat, false, lin, true, logits);
        outs.add(logits);
        NdArray logp = output(dtype, offset, n, 7);
        B.softmax(logits, 2.0, true, logp);
        outs.add(logp);
        NdArray gl = array(dtype, offset, TestData.uniform(r, n * 7, -1, 1), n, 7);
        NdArray gLogits = output(dtype, offset, n, 7);
        B.softmaxBackward(gl, logp, 2.0, true, gLogits);
        outs.add(gLogits);
        NdArray labelBase = B.fromHost(new int[] {-1, 2, 6, 0, -1}, 5);
        allocated.add(labelBase);
        NdArray labels = labelBase.rows(1, 4);
        allocated.add(labels);
        NdArray loss = output(dtype, offset, n);
        B.nllForward(logp, labels, 0.1, loss);
        outs.add(loss);
        NdArray argmax = B.empty(DType.INT32, n);
        allocated.add(argmax);
        B.argmaxLastDim(logits, argmax);
        results.add(B.toDoubles(argmax));

        for (NdArray o : outs) {
            assertGuardsIntact(o);
            results.add(B.toDoubles(o));
        }
        return results;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void primitivesOnOffsetViewsMatchFreshArraysExactly(DType dtype) {
        List<double[]> fresh = run(dtype, false);
        List<double[]> views = run(dtype, true);
        for (int i = 0; i < fresh.size(); i++) {
            assertArrayEquals(fresh.get(i), views.get(i), "output " + i);
        }
    }
}
