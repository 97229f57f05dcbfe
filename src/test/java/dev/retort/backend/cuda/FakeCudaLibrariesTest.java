package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retort.backend.ConvGeometry;
import dev.retort.backend.cuda.CudaHandles.AlgorithmSearch;
import dev.retort.backend.cuda.CudaHandles.Options;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drives the bridge against fake cuBLAS, cuBLASLt, cuDNN and driver libraries built with gcc
 * (fake_cuda_libraries.c): binding and its report, every error path, the row-major GEMM mapping (the fake GEMMs
 * really compute, column-major), and the cuDNN descriptor, algorithm and workspace logic (the fake cuDNN logs its
 * calls). None of it needs a GPU.
 */
class FakeCudaLibrariesTest {

    private static final long X = 0x100000L;
    private static final long W = 0x200000L;
    private static final long Y = 0x300000L;
    private static final long MIB = 1 << 20;
    private static final ConvGeometry CONV = new ConvGeometry(2, 3, 7, 7, 4, 3, 3, 2, 2, 1, 1);

    @TempDir
    static Path dir;
    static Path complete;
    static Path partial;
    static Path withoutLt;

    @BeforeAll
    static void buildFakes() throws Exception {
        assumeTrue(NativeBridge.unavailableReason() == null, () -> "bridge not loaded: " + NativeBridge.unavailableReason());
        assumeTrue(FakeCudaLibraries.gccAvailable(), "gcc not found: the fake libraries cannot be built");
        assumeTrue(NativeBridge.binding() == null, "real CUDA libraries are already bound in this JVM");
        complete = dir.resolve("complete");
        // Like the real one, this cuBLAS needs its libcublasLt (DT_NEEDED) and has no RUNPATH: it loads from a folder
        // off the loader path only because the bridge opens libcublasLt from the same folder first.
        FakeCudaLibraries.build(complete, "FAKE_CUBLASLT", "libcublasLt.so.13");
        FakeCudaLibraries.build(complete, "FAKE_CUBLAS", "libcublas.so.13", needsLt(complete));
        FakeCudaLibraries.build(complete, "FAKE_CUDNN", "libcudnn.so.9");
        FakeCudaLibraries.build(complete, "FAKE_DRIVER", "libcuda.so.1");
        partial = dir.resolve("partial");
        FakeCudaLibraries.build(partial, "FAKE_CUBLAS_PARTIAL", "libcublas.so.13");
        // A cuBLAS that needs its libcublasLt, copied where that dependency is not.
        Path ltOnly = dir.resolve("lt-only");
        FakeCudaLibraries.build(ltOnly, "FAKE_CUBLASLT", "libcublasLt.so.13");
        withoutLt = dir.resolve("without-lt");
        FakeCudaLibraries.build(withoutLt, "FAKE_CUBLAS", "libcublas.so.13", needsLt(ltOnly));
    }

    /** Linker arguments that record libcublasLt.so.13 as needed (--no-as-needed: no symbol of it is used). */
    private static List<String> needsLt(Path folder) {
        return List.of("-L" + folder, "-Wl,--no-as-needed", "-l:libcublasLt.so.13");
    }

    @BeforeEach
    void unbound() throws IOException {
        NativeBridge.resetForTests();
        for (String file : List.of("calls.log", "create-fails", "oom", "no-context")) {
            Files.deleteIfExists(complete.resolve(file));
        }
    }

    @AfterAll
    static void unbind() {
        if (complete != null) {
            NativeBridge.resetForTests(); // later test classes may bind the real libraries
        }
    }

    private static NativeBridge.Binding bindFakes() {
        NativeBridge.Binding binding = NativeBridge.init(complete.toString(), List.of());
        assumeTrue(binding.driverPath().startsWith(complete.toString()),
                "a real libcuda.so.1 is on the loader path, so the fake driver is not used");
        return binding;
    }

    private static void flag(String name) throws IOException {
        Files.writeString(complete.resolve(name), "");
    }

    private static List<String> calls() throws IOException {
        Path log = complete.resolve("calls.log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    private static String lastBefore(List<String> calls, int index, String prefix) {
        for (int i = index - 1; i >= 0; i--) {
            if (calls.get(i).startsWith(prefix)) {
                return calls.get(i);
            }
        }
        return null;
    }

    private static long count(List<String> calls, String prefix) {
        return calls.stream().filter(c -> c.startsWith(prefix)).count();
    }

    // ---- binding ----------------------------------------------------------------------------------

    @Test
    void aCublasWithoutTheNeededEntryPointsIsNamedWithWhatItLacks() {
        CudaLibraryException e = assertThrows(CudaLibraryException.class,
                () -> NativeBridge.init(partial.toString(), List.of()));
        assertTrue(e.getMessage().startsWith("libcublas.so.13 at " + partial.resolve("libcublas.so.13")), e.getMessage());
        assertTrue(e.getMessage().contains("lacks cublasDestroy_v2, cublasSetStream_v2, cublasGetProperty, cublasSgemm_v2"),
                e.getMessage());
        assertTrue(e.getMessage().contains("pip install nvidia-cublas"), e.getMessage());
        assertNull(NativeBridge.binding());
    }

    @Test
    void aCublasWhoseLtIsMissingIsReportedWithTheLoadersReason() {
        assumeTrue(!NativeBridgeLoadTest.cublasOnLoaderPath(), "a libcublas is on this machine's loader path");
        CudaLibraryException e = assertThrows(CudaLibraryException.class,
                () -> NativeBridge.init(withoutLt.toString(), List.of()));
        assertTrue(e.getMessage().contains("Found but not loadable:\n  " + withoutLt.resolve("libcublas.so.13")
                + ": libcublasLt.so.13: cannot open shared object file"), e.getMessage());
    }

    @Test
    void theBindingSaysWhichFileEachLibraryCameFromAndItsVersion() {
        NativeBridge.Binding b = bindFakes();
        assertEquals(complete.resolve("libcublas.so.13").toString(), b.cublasPath());
        assertEquals("13.0.2", b.cublasVersion());
        assertEquals(complete.resolve("libcublasLt.so.13").toString(), b.cublasLtPath());
        assertEquals(complete.resolve("libcudnn.so.9").toString(), b.cudnnPath());
        assertEquals("9.6.0", b.cudnnVersion());
        assertEquals("12.6", b.cudnnCudartVersion());
        assertEquals("13.0", b.driverVersion());
        assertEquals(List.of(complete.toString(), NativeBridge.Binding.LOADER_PATH), b.searched());
        assertTrue(b.describe().startsWith("cuBLAS 13.0.2 from " + complete.resolve("libcublas.so.13")), b.describe());
        assertSame(b, NativeBridge.init("/somewhere/else", List.of()), "init binds once per process");
    }

    @Test
    void aFailingCublasCreateNamesTheCallAndTheStatusString() throws IOException {
        bindFakes();
        flag("create-fails");
        CudaLibraryException e = assertThrows(CudaLibraryException.class, () -> CudaHandles.open(0, Options.DEFAULT));
        assertTrue(e.getMessage().startsWith("cublasCreate_v2 failed: CUBLAS_STATUS_ALLOC_FAILED"
                + " (fake: the resource allocation failed) [status 3]"), e.getMessage());
    }

    @Test
    void handlesNeedACurrentContext() throws IOException {
        bindFakes();
        flag("no-context");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CudaHandles.open(0, Options.DEFAULT));
        assertTrue(e.getMessage().startsWith("no CUDA context is current on this thread"), e.getMessage());
    }

    @Test
    void handlesAreBoundToTheGivenStreamAndReleasedOnClose() throws IOException {
        bindFakes();
        CudaHandles handles = CudaHandles.open(0x5000, Options.DEFAULT);
        handles.convolutionForward(CONV, X, W, Y);
        handles.close();
        handles.close();
        List<String> calls = calls();
        assertTrue(calls.contains("cublasSetStream_v2 0x5000"), calls.toString());
        assertTrue(calls.contains("cudnnSetStream 0x5000"), calls.toString());
        assertEquals(1, count(calls, "cudnnDestroy"));
        assertEquals(1, count(calls, "cublasDestroy_v2"));
        assertEquals(count(calls, "cuMemAllocAsync"), count(calls, "cuMemFreeAsync"), "every block is freed");
        assertThrows(IllegalStateException.class, () -> handles.convolutionForward(CONV, X, W, Y));
    }

    @Test
    void resetRefusesWhileHandlesAreOpen() {
        bindFakes();
        try (CudaHandles handles = CudaHandles.open(0, Options.DEFAULT)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, NativeBridge::resetForTests);
            assertTrue(e.getMessage().contains("1 context(s) still open"), e.getMessage());
            assertEquals(0, handles.statistics().cachedShapes());
        }
    }

    // ---- cuBLAS: the fakes compute column-major on host memory --------------------------------------

    private static FloatBuffer direct(float[] values) {
        FloatBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(values).flip();
        return b;
    }

    private static float[] read(FloatBuffer b) {
        float[] out = new float[b.capacity()];
        b.duplicate().get(out);
        return out;
    }

    private static float[] sequence(int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = ((i * 7 + 3) % 11 - 5) * scale;
        }
        return v;
    }

    /** Row-major reference: a stored [m, k] (or [k, m] when transA), b [k, n] (or [n, k]). */
    private static float[] reference(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a,
                                     float[] b, float beta, float[] c) {
        float[] out = c.clone();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += (double) (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                }
                out[i * n + j] = (float) (alpha * s + beta * c[i * n + j]);
            }
        }
        return out;
    }

    @Test
    void sgemmComputesRowMajorProductsForEveryTransposition() {
        bindFakes();
        int m = 3, n = 5, k = 4;
        try (CudaHandles handles = CudaHandles.open(0, Options.DEFAULT)) {
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    float[] a = sequence(m * k, 0.5f);
                    float[] b = sequence(k * n, 0.25f);
                    float[] c = sequence(m * n, 1f);
                    FloatBuffer da = direct(a), db = direct(b), dc = direct(c);
                    handles.sgemm(transA, transB, m, n, k, 2f, NativeBridge.addressOf(da), NativeBridge.addressOf(db),
                            0.5f, NativeBridge.addressOf(dc));
                    assertArrayEquals(reference(transA, transB, m, n, k, 2f, a, b, 0.5f, c), read(dc), 1e-5f,
                            "transA " + transA + ", transB " + transB);
                }
            }
        }
    }

    @Test
    void gemmExRoundsToTf32OnlyWhenAsked() throws IOException {
        bindFakes();
        int m = 2, n = 2, k = 3;
        float fine = 1f + 0x1p-15f; // differs from 1 below TF32's 10 mantissa bits
        float[] a = {fine, fine, fine, 1, 2, 3};
        float[] b = {fine, 1, fine, 1, fine, 1};
        try (CudaHandles handles = CudaHandles.open(0, Options.DEFAULT)) {
            FloatBuffer da = direct(a), db = direct(b), exact = direct(new float[4]), tf32 = direct(new float[4]);
            handles.gemmEx(false, false, m, n, k, 1f, NativeBridge.addressOf(da), NativeBridge.addressOf(db), 0f,
                    NativeBridge.addressOf(exact), false);
            handles.gemmEx(false, false, m, n, k, 1f, NativeBridge.addressOf(da), NativeBridge.addressOf(db), 0f,
                    NativeBridge.addressOf(tf32), true);
            assertArrayEquals(reference(false, false, m, n, k, 1f, a, b, 0f, new float[4]), read(exact), 1e-7f);
            assertEquals(3f, read(tf32)[0], 0f, "every input rounded to 1 under TF32");
            assertNotEquals(3f, read(exact)[0]);
        }
        List<String> calls = calls();
        assertTrue(calls.contains("cublasGemmEx compute 68 algo -1 types 0 0 0"), calls.toString());
        assertTrue(calls.contains("cublasGemmEx compute 77 algo -1 types 0 0 0"), calls.toString());
    }

    @Test
    void stridedBatchedGemmStepsEachOperandByItsStride() {
        bindFakes();
        int m = 2, n = 3, k = 4, batch = 3;
        float[] a = sequence(batch * m * k, 0.5f);
        float[] b = sequence(k * n, 0.25f); // stride 0: one b for every batch
        try (CudaHandles handles = CudaHandles.open(0, Options.DEFAULT)) {
            FloatBuffer da = direct(a), db = direct(b), dc = direct(new float[batch * m * n]);
            handles.sgemmStridedBatched(true, false, m, n, k, 1f, NativeBridge.addressOf(da), (long) m * k,
                    NativeBridge.addressOf(db), 0, 0f, NativeBridge.addressOf(dc), (long) m * n, batch);
            float[] out = read(dc);
            for (int i = 0; i < batch; i++) {
                float[] ai = Arrays.copyOfRange(a, i * m * k, (i + 1) * m * k);
                float[] expected = reference(true, false, m, n, k, 1f, ai, b, 0f, new float[m * n]);
                assertArrayEquals(expected, Arrays.copyOfRange(out, i * m * n, (i + 1) * m * n), 1e-5f,
                        "batch " + i);
            }
        }
    }

    // ---- cuDNN: the fake logs; the descriptors, algorithm choice and workspace are checked ------------

    @Test
    void convolutionSearchesOncePerShapeAndReusesDescriptorsAndWorkspace() throws IOException {
        bindFakes();
        try (CudaHandles handles = CudaHandles.open(0, Options.DEFAULT)) {
            handles.convolutionForward(CONV, X, W, Y);
            handles.convolutionForward(CONV, X, W, Y);
            List<String> calls = calls();
            assertEquals(1, count(calls, "cudnnFindConvolutionForwardAlgorithmEx"));
            // The search gets scratch for the greediest algorithm (5 MiB, freed after), the run its own 1 MiB.
            assertTrue(calls.contains("cudnnFindConvolutionForwardAlgorithmEx requested 16 workspace set 5242880"),
                    calls.toString());
            assertTrue(calls.contains("cudnnSetTensor4dDescriptor format 0 type 0 2x3x7x7"), calls.toString());
            assertTrue(calls.contains("cudnnSetTensor4dDescriptor format 0 type 0 2x4x4x4"), calls.toString());
            assertTrue(calls.contains("cudnnSetFilter4dDescriptor type 0 format 0 4x3x3x3"), calls.toString());
            assertTrue(calls.contains("cudnnSetConvolution2dDescriptor pad 1x1 stride 2x2 dilation 1x1 mode 1 type 0"),
                    calls.toString());
            // TF32 off: the fastest (tensor-op) result is skipped for the fastest FMA one, algorithm 2.
            String run = "cudnnConvolutionForward algo 2 workspace 1048576 alpha 1 beta 0 x 2x3x7x7 w 4x3x3x3 y 2x4x4x4";
            assertEquals(2, calls.stream().filter(run::equals).count(), calls.toString());
            assertEquals("cudnnSetConvolutionMathType 3", calls.get(calls.indexOf(run) - 1));
            assertEquals(new CudaHandles.Statistics(MIB, 1, 1), handles.statistics());

            handles.convolutionBackwardData(CONV, W, Y, X);
            handles.convolutionBackwardFilter(CONV, X, Y, W);
            calls = calls();
            assertTrue(calls.contains("cudnnConvolutionBackwardData algo 2 workspace 1048576 w 4x3x3x3 dy 2x4x4x4"
                    + " dx 2x3x7x7"), calls.toString());
            assertTrue(calls.contains("cudnnConvolutionBackwardFilter algo 2 workspace 1048576 x 2x3x7x7 dy 2x4x4x4"
                    + " dw 4x3x3x3"), calls.toString());
            assertEquals(new CudaHandles.Statistics(MIB, 1, 3), handles.statistics(), "one shape, three searches");

            handles.convolutionForward(CONV, X + 4, W, Y); // a view 4 bytes in: another alignment, another entry
            assertEquals(2, handles.statistics().cachedShapes());
        }
    }

    @Test
    void withTf32TheTensorOpAlgorithmAndItsMathTypeAreUsed() throws IOException {
        bindFakes();
        try (CudaHandles handles = CudaHandles.open(0, new Options(AlgorithmSearch.MEASURE, false, true))) {
            handles.convolutionForward(CONV, X, W, Y);
            assertEquals(3 * MIB, handles.statistics().workspaceBytes());
        }
        List<String> calls = calls();
        String run = calls.stream().filter(c -> c.startsWith("cudnnConvolutionForward ")).findFirst().orElseThrow();
        assertTrue(run.startsWith("cudnnConvolutionForward algo 1 workspace 3145728"), run);
        assertEquals("cudnnSetConvolutionMathType 1", calls.get(calls.indexOf(run) - 1));
        int search = calls.indexOf("cudnnFindConvolutionForwardAlgorithmEx requested 16 workspace set 5242880");
        assertEquals("cudnnSetConvolutionMathType 0", lastBefore(calls, search, "cudnnSetConvolutionMathType"),
                "the search may use TF32 (CUDNN_DEFAULT_MATH)");
    }

    @Test
    void deterministicHandlesTakeADeterministicAlgorithm() throws IOException {
        bindFakes();
        try (CudaHandles handles = CudaHandles.open(0, new Options(AlgorithmSearch.MEASURE, true, false))) {
            handles.convolutionForward(CONV, X, W, Y);
            assertEquals(0, handles.statistics().workspaceBytes());
        }
        assertTrue(calls().stream().anyMatch(c -> c.startsWith("cudnnConvolutionForward algo 0 workspace 0")),
                calls().toString());
    }

    @Test
    void heuristicSearchAsksCudnnInsteadOfTiming() throws IOException {
        bindFakes();
        try (CudaHandles handles = CudaHandles.open(0, new Options(AlgorithmSearch.HEURISTIC, false, false))) {
            handles.convolutionForward(CONV, X, W, Y);
        }
        List<String> calls = calls();
        assertTrue(calls.contains("cudnnGetConvolutionForwardAlgorithm_v7 requested 16"), calls.toString());
        assertEquals(0, count(calls, "cudnnFind"));
        assertEquals(List.of("cuMemAllocAsync 1048576"),
                calls.stream().filter(c -> c.startsWith("cuMemAllocAsync")).toList(), "only the run's workspace");
    }

    @Test
    void outOfDeviceMemoryFallsBackToAnAlgorithmThatNeedsLess() throws IOException {
        bindFakes();
        flag("oom");
        try (CudaHandles handles = CudaHandles.open(0, Options.DEFAULT)) {
            handles.convolutionForward(CONV, X, W, Y);
        }
        List<String> calls = calls();
        assertTrue(calls.contains("cudnnFindConvolutionForwardAlgorithmEx requested 16 workspace null 0"),
                calls.toString());
        assertTrue(calls.stream().anyMatch(c -> c.startsWith("cudnnConvolutionForward algo 0 workspace 0")),
                calls.toString());
        // 5 MiB, 2.5 MiB, 1.25 MiB for the search, then 1 MiB for algorithm 2: all refused.
        assertEquals(4, count(calls, "cuMemAllocAsync"), calls.toString());
    }

    @Test
    void aCudnnFailureNamesTheCallTheStatusAndCudnnsOwnMessage() {
        bindFakes();
        ConvGeometry unlucky = new ConvGeometry(13, 3, 7, 7, 4, 3, 3, 2, 2, 1, 1);
        try (CudaHandles handles = CudaHandles.open(0, Options.DEFAULT)) {
            CudaLibraryException e = assertThrows(CudaLibraryException.class,
                    () -> handles.convolutionForward(unlucky, X, W, Y));
            assertTrue(e.getMessage().startsWith("cudnnConvolutionForward failed: CUDNN_STATUS_BAD_PARAM [status 2000]:"
                    + " fake: the batch of 13 is unlucky (algorithm 2, workspace 1048576 bytes, input 13x3x7x7)"),
                    e.getMessage());
        }
    }

    @Test
    void poolingDescriptorsFollowTheShapeAndMode() throws IOException {
        bindFakes();
        try (CudaHandles handles = CudaHandles.open(0, Options.DEFAULT)) {
            handles.poolingForward(new ConvGeometry(2, 3, 7, 7, 3, 2, 2, 2, 2, 0, 0), true, X, Y);
            ConvGeometry average = new ConvGeometry(2, 3, 7, 7, 3, 3, 3, 2, 2, 1, 1);
            handles.poolingForward(average, false, X, Y);
            handles.poolingBackward(average, false, 0, Y, 0, X);
            assertEquals(2, handles.statistics().cachedShapes());
        }
        List<String> calls = calls();
        assertTrue(calls.contains("cudnnSetPooling2dDescriptor mode 0 nan 1 window 2x2 pad 0x0 stride 2x2"), calls.toString());
        assertTrue(calls.contains("cudnnPoolingForward x 2x3x7x7 y 2x3x3x3"), calls.toString());
        assertTrue(calls.contains("cudnnSetPooling2dDescriptor mode 1 nan 1 window 3x3 pad 1x1 stride 2x2"), calls.toString());
        assertTrue(calls.contains("cudnnPoolingForward x 2x3x7x7 y 2x3x4x4"), calls.toString());
        assertTrue(calls.contains("cudnnPoolingBackward y == dy x == dx"), calls.toString());
    }

    @Test
    void deterministicMaxPoolingUsesCudnnsDeterministicMode() throws IOException {
        bindFakes();
        try (CudaHandles handles = CudaHandles.open(0, new Options(AlgorithmSearch.MEASURE, true, false))) {
            handles.poolingForward(new ConvGeometry(1, 1, 4, 4, 1, 2, 2, 2, 2, 0, 0), true, X, Y);
        }
        assertTrue(calls().contains("cudnnSetPooling2dDescriptor mode 3 nan 1 window 2x2 pad 0x0 stride 2x2"),
                calls().toString());
    }

    @Test
    void batchNormPassesPytorchMomentumAsCudnnsAverageFactor() throws IOException {
        bindFakes();
        try (CudaHandles handles = CudaHandles.open(0, Options.DEFAULT)) {
            handles.batchNormForwardTraining(4, 3, 5, 5, 1e-5, 0.1, X, W, W + 64, Y, X + 128, X + 256, 0, 0);
            handles.batchNormForwardInference(4, 3, 5, 5, 1e-5, X, W, W + 64, X + 128, X + 256, Y);
            handles.batchNormBackward(4, 3, 5, 5, 1e-5, X, Y, W, 0, 0, X + 512, W + 128, W + 256);
            assertEquals(1, handles.statistics().cachedShapes(), "one descriptor pair for the three calls");
        }
        List<String> calls = calls();
        assertTrue(calls.contains("cudnnDeriveBNTensorDescriptor mode 1 channels 3"), calls.toString());
        assertTrue(calls.contains("cudnnBatchNormalizationForwardTraining mode 1 factor 0.1 eps 1e-05 running set set"
                + " saved null null"), calls.toString());
        assertTrue(calls.contains("cudnnBatchNormalizationForwardInference mode 1 eps 1e-05"), calls.toString());
        assertTrue(calls.contains("cudnnBatchNormalizationBackward mode 1 blend 1 0 1 0 eps 1e-05 saved null null"),
                calls.toString());
    }

    @Test
    void biasIsAddedAsAPerChannelTensor() throws IOException {
        bindFakes();
        try (CudaHandles handles = CudaHandles.open(0, Options.DEFAULT)) {
            handles.addBias(2, 4, 5, 5, W, Y);
        }
        assertTrue(calls().contains("cudnnAddTensor alpha 1 beta 1 bias 1x4x1x1 y 2x4x5x5"), calls().toString());
    }
}
