package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.ConvGeometry;
import dev.retort.backend.ConvSpec;
import dev.retort.backend.DType;
import dev.retort.backend.NdArray;
import dev.retort.backend.PoolSpec;
import dev.retort.backend.cpu.CpuBackend;
import dev.retort.backend.cuda.CudaHandles.AlgorithmSearch;
import dev.retort.backend.cuda.CudaHandles.Options;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bridge call on a real GPU against the CPU backend on random inputs: cuBLAS GEMMs (each transposition,
 * TF32, strided batches), cuDNN convolutions in both directions with each algorithm search, bias, max and average
 * pooling, and batch normalisation with PyTorch's running-statistics rule. Skipped without a GPU, the driver or the
 * libraries, with the reason.
 */
@Tag("gpu")
class NativeBridgeGpuTest {

    private static final CpuBackend CPU = CpuBackend.get();
    private static GpuTestDevice gpu;
    private static CudaHandles measured;
    private static CudaHandles heuristic;
    private static CudaHandles deterministic;

    private final Random random = new Random(20240611);
    private final List<NdArray> cpuArrays = new ArrayList<>();

    @BeforeAll
    static void open() {
        String reason = GpuTestDevice.unavailableReason();
        GpuAssumptions.assumeDevice(reason, "no usable GPU");
        gpu = new GpuTestDevice();
        measured = CudaHandles.open(gpu.stream(), Options.DEFAULT);
        heuristic = CudaHandles.open(gpu.stream(), new Options(AlgorithmSearch.HEURISTIC, false, false));
        deterministic = CudaHandles.open(gpu.stream(), new Options(AlgorithmSearch.MEASURE, true, false));
    }

    @AfterAll
    static void close() {
        for (CudaHandles h : new CudaHandles[] {measured, heuristic, deterministic}) {
            if (h != null) {
                h.close();
            }
        }
        if (gpu != null) {
            gpu.close();
        }
    }

    @AfterEach
    void releaseCpuArrays() {
        for (NdArray a : cpuArrays) {
            a.storage().release();
        }
        cpuArrays.clear();
    }

    private float[] randoms(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian());
        }
        return v;
    }

    private NdArray cpu(float[] values, int... shape) {
        NdArray a = CPU.fromHost(values, shape);
        cpuArrays.add(a);
        return a;
    }

    private NdArray cpuEmpty(int... shape) {
        NdArray a = CPU.empty(DType.FLOAT32, shape);
        cpuArrays.add(a);
        return a;
    }

    /** Largest |gpu − cpu| over the largest |cpu|: one number that sizes the error of the whole result. */
    private static void close(String what, float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 1e-30;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
            assertTrue(Float.isFinite(actual[i]), what + ": element " + i + " is " + actual[i]);
        }
        assertTrue(worst / scale <= tolerance, what + ": relative error " + worst / scale + " > " + tolerance);
    }

    @Test
    void bindingReportsSupportedVersions() {
        NativeBridge.Binding b = NativeBridge.binding();
        assertTrue(b.cublasVersion().startsWith("12.") || b.cublasVersion().startsWith("13."), b.describe());
        assertTrue(b.cudnnVersion().startsWith("9."), b.describe());
    }

    // ---- cuBLAS --------------------------------------------------------------------------------------

    @Test
    void sgemmMatchesTheCpuForEveryTransposition() {
        int m = 37, n = 53, k = 29;
        for (boolean transA : new boolean[] {false, true}) {
            for (boolean transB : new boolean[] {false, true}) {
                float[] a = randoms(m * k), b = randoms(k * n);
                NdArray ca = transA ? cpu(a, k, m) : cpu(a, m, k);
                NdArray cb = transB ? cpu(b, n, k) : cpu(b, k, n);
                NdArray out = cpuEmpty(m, n);
                CPU.matmul(ca, transA, cb, transB, out);
                long c = gpu.zeros(m * n);
                measured.sgemm(transA, transB, m, n, k, 1f, gpu.upload(a), gpu.upload(b), 0f, c);
                close("sgemm transA " + transA + " transB " + transB, CPU.toFloats(out), gpu.download(c, m * n), 1e-5);
                long e = gpu.zeros(m * n);
                measured.gemmEx(transA, transB, m, n, k, 1f, gpu.upload(a), gpu.upload(b), 0f, e, false);
                close("gemmEx transA " + transA + " transB " + transB, CPU.toFloats(out), gpu.download(e, m * n), 1e-5);
            }
        }
    }

    @Test
    void sgemmScalesAndAccumulates() {
        int m = 8, n = 6, k = 5;
        float[] a = randoms(m * k), b = randoms(k * n), c0 = randoms(m * n);
        NdArray out = cpuEmpty(m, n);
        CPU.matmul(cpu(a, m, k), false, cpu(b, k, n), false, out);
        float[] product = CPU.toFloats(out);
        float[] expected = new float[m * n];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = 0.5f * product[i] + 2f * c0[i];
        }
        long c = gpu.upload(c0);
        measured.sgemm(false, false, m, n, k, 0.5f, gpu.upload(a), gpu.upload(b), 2f, c);
        close("alpha 0.5, beta 2", expected, gpu.download(c, m * n), 1e-5);
    }

    @Test
    void gemmExWithTf32StaysWithinTf32Precision() {
        int m = 64, n = 96, k = 256;
        float[] a = randoms(m * k), b = randoms(k * n);
        NdArray out = cpuEmpty(m, n);
        CPU.matmul(cpu(a, m, k), false, cpu(b, k, n), false, out);
        long c = gpu.zeros(m * n);
        measured.gemmEx(false, false, m, n, k, 1f, gpu.upload(a), gpu.upload(b), 0f, c, true);
        close("gemmEx TF32", CPU.toFloats(out), gpu.download(c, m * n), 1e-2); // TF32 keeps 10 mantissa bits
    }

    @Test
    void stridedBatchedGemmMatchesTheCpusBatchedMatmul() {
        int batch = 5, m = 7, n = 9, k = 11;
        float[] a = randoms(batch * k * m), b = randoms(batch * k * n);
        NdArray out = cpuEmpty(batch, m, n);
        CPU.matmul(cpu(a, batch, k, m), true, cpu(b, batch, k, n), false, out);
        long c = gpu.zeros(batch * m * n);
        measured.sgemmStridedBatched(true, false, m, n, k, 1f, gpu.upload(a), (long) k * m, gpu.upload(b),
                (long) k * n, 0f, c, (long) m * n, batch);
        close("strided batched", CPU.toFloats(out), gpu.download(c, batch * m * n), 1e-5);
    }

    // ---- cuDNN convolution -------------------------------------------------------------------------------

    static Stream<Arguments> convolutions() {
        return Stream.of(
                // batch, in, h, w, out, kh, kw, padH, padW, strideH, strideW
                Arguments.of(new ConvGeometry(2, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1)),
                Arguments.of(new ConvGeometry(3, 4, 12, 10, 6, 3, 3, 2, 2, 1, 1)),
                Arguments.of(new ConvGeometry(2, 2, 7, 7, 3, 5, 5, 1, 1, 2, 2)),
                Arguments.of(new ConvGeometry(4, 1, 28, 28, 8, 3, 3, 1, 1, 1, 1)),
                Arguments.of(new ConvGeometry(2, 3, 8, 7, 4, 1, 3, 1, 2, 0, 1)));
    }

    @ParameterizedTest
    @MethodSource("convolutions")
    void convolutionsMatchTheCpuWithEveryAlgorithmSearch(ConvGeometry s) {
        int[] in = {s.batch(), s.inChannels(), s.height(), s.width()};
        int[] wt = {s.outChannels(), s.inChannels(), s.kernelH(), s.kernelW()};
        int[] out = {s.batch(), s.outChannels(), s.outHeight(), s.outWidth()};
        int inSize = in[0] * in[1] * in[2] * in[3], wSize = wt[0] * wt[1] * wt[2] * wt[3];
        int outSize = out[0] * out[1] * out[2] * out[3];
        float[] x = randoms(inSize), w = randoms(wSize), dy = randoms(outSize);
        ConvSpec spec = new ConvSpec(s.strideH(), s.strideW(), s.padH(), s.padW());
        NdArray y = cpuEmpty(out), dx = cpuEmpty(in), dw = cpuEmpty(wt);
        CPU.conv2dForward(cpu(x, in), cpu(w, wt), null, spec, y);
        CPU.conv2dBackwardInput(cpu(dy, out), cpu(w, wt), spec, dx);
        CPU.conv2dBackwardWeight(cpu(dy, out), cpu(x, in), spec, dw, null);

        long gx = gpu.upload(x), gw = gpu.upload(w), gdy = gpu.upload(dy);
        for (CudaHandles handles : new CudaHandles[] {measured, heuristic, deterministic}) {
            String how = s + " with " + handles.options();
            for (int pass = 0; pass < 2; pass++) { // the second pass runs on cached descriptors and algorithms
                long gy = gpu.zeros(outSize), gdx = gpu.zeros(inSize), gdw = gpu.zeros(wSize);
                handles.convolutionForward(s, gx, gw, gy);
                handles.convolutionBackwardData(s, gw, gdy, gdx);
                handles.convolutionBackwardFilter(s, gx, gdy, gdw);
                close("forward " + how, CPU.toFloats(y), gpu.download(gy, outSize), 1e-4);
                close("backward data " + how, CPU.toFloats(dx), gpu.download(gdx, inSize), 1e-4);
                close("backward filter " + how, CPU.toFloats(dw), gpu.download(gdw, wSize), 1e-4);
            }
        }
    }

    @Test
    void theConvolutionCacheKeepsOneEntryAndThreeSearchesPerShape() {
        try (CudaHandles handles = CudaHandles.open(gpu.stream(), Options.DEFAULT)) {
            ConvGeometry s = new ConvGeometry(2, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1);
            long x = gpu.upload(randoms(2 * 3 * 81)), w = gpu.upload(randoms(4 * 3 * 9)), y = gpu.zeros(2 * 4 * 81);
            for (int i = 0; i < 3; i++) {
                handles.convolutionForward(s, x, w, y);
                handles.convolutionBackwardData(s, w, y, x);
                handles.convolutionBackwardFilter(s, x, y, w);
            }
            CudaHandles.Statistics stats = handles.statistics();
            assertEquals(1, stats.cachedShapes());
            assertEquals(3, stats.algorithmSearches());
        }
    }

    @Test
    void biasIsAddedPerChannel() {
        int n = 2, c = 5, h = 3, w = 4;
        float[] y0 = randoms(n * c * h * w), bias = randoms(c);
        float[] expected = y0.clone();
        for (int i = 0; i < expected.length; i++) {
            expected[i] += bias[(i / (h * w)) % c];
        }
        long y = gpu.upload(y0);
        measured.addBias(n, c, h, w, gpu.upload(bias), y);
        close("addBias", expected, gpu.download(y, y0.length), 1e-6);
    }

    // ---- cuDNN pooling -----------------------------------------------------------------------------------

    static Stream<Arguments> poolings() {
        return Stream.of(Arguments.of(2, 3, 8, 8, new PoolSpec(2, 2, 2, 2, 0, 0)),
                Arguments.of(2, 3, 9, 7, new PoolSpec(3, 3, 2, 2, 1, 1)),
                Arguments.of(1, 4, 6, 10, new PoolSpec(3, 2, 1, 2, 1, 0)));
    }

    @ParameterizedTest
    @MethodSource("poolings")
    void maxAndAveragePoolingMatchTheCpu(int n, int c, int h, int w, PoolSpec spec) {
        int[] in = {n, c, h, w};
        for (boolean max : new boolean[] {true, false}) {
            ConvGeometry s = ConvGeometry.pool("pool2d", in, spec);
            int[] out = {n, c, s.outHeight(), s.outWidth()};
            int inSize = n * c * h * w, outSize = n * c * out[2] * out[3];
            float[] x = randoms(inSize), dy = randoms(outSize);
            NdArray y = cpuEmpty(out), dx = cpuEmpty(in);
            if (max) {
                CPU.maxPool2dForward(cpu(x, in), spec, y);
                CPU.maxPool2dBackward(cpu(dy, out), cpu(x, in), spec, dx);
            } else {
                CPU.avgPool2dForward(cpu(x, in), spec, y);
                CPU.avgPool2dBackward(cpu(dy, out), spec, dx);
            }
            for (CudaHandles handles : new CudaHandles[] {measured, deterministic}) {
                long gx = gpu.upload(x), gy = gpu.zeros(outSize), gdx = gpu.zeros(inSize);
                handles.poolingForward(s, max, gx, gy);
                handles.poolingBackward(s, max, max ? gy : 0, gpu.upload(dy), max ? gx : 0, gdx);
                close("pooling forward " + s, CPU.toFloats(y), gpu.download(gy, outSize), 1e-6);
                close("pooling backward " + s, CPU.toFloats(dx), gpu.download(gdx, inSize), 1e-5);
            }
        }
    }

    // ---- cuDNN batch normalisation ----------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("batchNormShapes")
    void batchNormTrainingMatchesTheCpuAndPytorchsRunningStatistics(int n, int c, int h, int w) {
        double eps = 1e-5, momentum = 0.1;
        int size = n * c * h * w, m = n * h * w;
        int[] shape = h == 1 && w == 1 ? new int[] {n, c} : new int[] {n, c, h, w};
        float[] x = randoms(size), gamma = randoms(c), beta = randoms(c), dy = randoms(size);
        for (int i = 0; i < size; i++) {
            x[i] = 3f + 2f * x[i]; // a mean and variance far from 0 and 1
        }
        float[] runMean0 = randoms(c), runVar0 = new float[c];
        for (int i = 0; i < c; i++) {
            runVar0[i] = 0.5f + random.nextFloat();
        }
        NdArray y = cpuEmpty(shape), mean = cpuEmpty(c), var = cpuEmpty(c);
        NdArray cx = cpu(x, shape), cgamma = cpu(gamma, c);
        CPU.batchNormTrainForward(cx, cgamma, cpu(beta, c), eps, y, mean, var);
        NdArray dx = cpuEmpty(shape), dgamma = cpuEmpty(c), dbeta = cpuEmpty(c);
        CPU.batchNormBackward(cpu(dy, shape), cx, cgamma, mean, var, eps, true, dx, dgamma, dbeta);
        float[] mu = CPU.toFloats(mean), sigma2 = CPU.toFloats(var);
        float[] invStd = new float[c], runMean = new float[c], runVar = new float[c];
        for (int i = 0; i < c; i++) {
            invStd[i] = (float) (1 / Math.sqrt(sigma2[i] + eps));
            runMean[i] = (float) ((1 - momentum) * runMean0[i] + momentum * mu[i]);
            runVar[i] = (float) ((1 - momentum) * runVar0[i] + momentum * sigma2[i] * m / (m - 1.0)); // unbiased
        }

        long gx = gpu.upload(x), ggamma = gpu.upload(gamma), gbeta = gpu.upload(beta), gy = gpu.zeros(size);
        long grm = gpu.upload(runMean0), grv = gpu.upload(runVar0), gsm = gpu.zeros(c), gsi = gpu.zeros(c);
        measured.batchNormForwardTraining(n, c, h, w, eps, momentum, gx, ggamma, gbeta, gy, grm, grv, gsm, gsi);
        close("batch norm y", CPU.toFloats(y), gpu.download(gy, size), 1e-4);
        close("saved mean", mu, gpu.download(gsm, c), 1e-4);
        close("saved inverse std", invStd, gpu.download(gsi, c), 1e-4);
        close("running mean", runMean, gpu.download(grm, c), 1e-4);
        close("running variance (unbiased, PyTorch's momentum)", runVar, gpu.download(grv, c), 1e-4);

        for (boolean saved : new boolean[] {true, false}) {
            long gdx = gpu.zeros(size), gdg = gpu.zeros(c), gdb = gpu.zeros(c);
            measured.batchNormBackward(n, c, h, w, eps, gx, gpu.upload(dy), ggamma, saved ? gsm : 0, saved ? gsi : 0,
                    gdx, gdg, gdb);
            close("batch norm dx, saved " + saved, CPU.toFloats(dx), gpu.download(gdx, size), 1e-4);
            close("batch norm dGamma, saved " + saved, CPU.toFloats(dgamma), gpu.download(gdg, c), 1e-4);
            close("batch norm dBeta, saved " + saved, CPU.toFloats(dbeta), gpu.download(gdb, c), 1e-4);
        }

        NdArray yEval = cpuEmpty(shape);
        float[] evalMean = randoms(c), evalVar = runVar0;
        CPU.batchNormEvalForward(cx, cgamma, cpu(beta, c), cpu(evalMean, c), cpu(evalVar, c), eps, yEval);
        long ge = gpu.zeros(size);
        measured.batchNormForwardInference(n, c, h, w, eps, gx, ggamma, gbeta, gpu.upload(evalMean),
                gpu.upload(evalVar), ge);
        close("batch norm inference", CPU.toFloats(yEval), gpu.download(ge, size), 1e-5);
    }

    static Stream<Arguments> batchNormShapes() {
        return Stream.of(Arguments.of(4, 3, 5, 5), Arguments.of(2, 8, 7, 3), Arguments.of(16, 10, 1, 1));
    }

    @Test
    void handlesOnTheLegacyDefaultStreamWork() {
        try (CudaHandles handles = CudaHandles.open(0, Options.DEFAULT)) {
            float[] a = randoms(6), b = randoms(6);
            NdArray out = cpuEmpty(2, 2);
            CPU.matmul(cpu(a, 2, 3), false, cpu(b, 3, 2), false, out);
            long c = gpu.zeros(4);
            handles.sgemm(false, false, 2, 2, 3, 1f, gpu.upload(a), gpu.upload(b), 0f, c);
            JCudaDriver.cuCtxSynchronize(); // download waits for the test's own stream only
            close("sgemm on stream 0", CPU.toFloats(out), gpu.download(c, 4), 1e-5);
        }
    }
}
