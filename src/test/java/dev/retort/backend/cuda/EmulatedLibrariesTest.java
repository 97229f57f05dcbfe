package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.ConvGeometry;
import dev.retort.backend.cuda.CudaHandles.AlgorithmSearch;
import dev.retort.backend.cuda.CudaHandles.Options;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The JNI bridge against the emulated cuBLAS and cuDNN where they model what NVIDIA's do on a first run: cuDNN's
 * engines need libnvrtc loaded beforehand, and an algorithm needing a workspace under 1 MiB must
 * be given one by the measuring search (item 6).
 */
@Tag("emulated")
class EmulatedLibrariesTest {
    private static GpuTestDevice gpu;

    @BeforeAll
    static void open() {
        String reason = GpuAssumptions.emulated() ? GpuTestDevice.unavailableReason() : "not the emulated device";
        GpuAssumptions.assumeDevice(reason, "no emulated CUDA device");
        gpu = new GpuTestDevice();
    }

    @AfterAll
    static void close() {
        if (gpu != null) {
            gpu.close();
        }
    }

    private static final ConvGeometry SHAPE = new ConvGeometry(2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1);

    private void convolve(CudaHandles handles) {
        long x = gpu.upload(new float[2 * 3 * 6 * 6]);
        long w = gpu.upload(new float[4 * 3 * 3 * 3]);
        long y = gpu.zeros(2 * 4 * 6 * 6);
        handles.convolutionForward(SHAPE, x, w, y);
        gpu.download(y, 1);
    }

    /** Item 3: the bridge loads libnvrtc before cuDNN, so the engines cuDNN opens at the first convolution load. */
    @Test
    void cuDnnsEnginesLoadBecauseTheBridgeLoadedNvrtcFirst() {
        NativeBridge.Binding binding = NativeBridge.binding();
        assertNotNull(binding.nvrtcPath(), binding.describe());
        assertTrue(binding.nvrtcPath().endsWith("libnvrtc.so.13"), binding.nvrtcPath());
        try (CudaHandles handles = CudaHandles.open(gpu.stream(), Options.DEFAULT)) {
            convolve(handles);
        }
    }

    /** The emulated cuDNN really has the dependency: without libcublasLt and libnvrtc loaded, convolutions fail. */
    @Test
    void withoutThePreloadsTheEmulatedEnginesFailToLoad() throws IOException, InterruptedException {
        Path venv = Path.of(System.getenv("VIRTUAL_ENV"));
        Path nvidia = venv.resolve("lib/python3.12/site-packages/nvidia");
        Process check = new ProcessBuilder(venv.resolveSibling("engines_check").toString(),
                nvidia.resolve("cudnn/lib").toString(), nvidia.resolve("cu13/lib").toString())
                .redirectErrorStream(true).start();
        String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, check.waitFor(), out);
        assertTrue(out.contains("status 1008; with them: status 0"), out);
    }

    /**
     * Item 6: the emulated cuDNN ranks algorithm 1 (96 KiB of workspace) fastest. The search must offer it scratch
     * space although the need is under 1 MiB; it used to search with none, pick algorithm 0 and cache that for good.
     */
    @Test
    void theMeasuringSearchOffersAWorkspaceToAlgorithmsNeedingLessThanAMebibyte() {
        try (CudaHandles handles = CudaHandles.open(gpu.stream(), new Options(AlgorithmSearch.MEASURE, false, false))) {
            convolve(handles);
            assertEquals(1 << 20, handles.statistics().workspaceBytes(), "the chosen algorithm's workspace, in MiB");
        }
        try (CudaHandles handles = CudaHandles.open(gpu.stream(), new Options(AlgorithmSearch.HEURISTIC, false, false))) {
            convolve(handles);
            assertEquals(0, handles.statistics().workspaceBytes(), "the heuristic's first choice needs none");
        }
    }
}
