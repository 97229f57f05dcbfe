package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.DType;
import dev.retort.backend.Storage;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The runtime on a real device: round trips through the staging buffers, fills, the block cache, OOM, timing. */
@Tag("gpu")
class CudaRuntimeGpuTest {
    private static CudaRuntime runtime;

    @BeforeAll
    static void start() {
        String reason = CudaAvailability.driverUnavailableReason();
        GpuAssumptions.assumeDevice(reason, "no CUDA");
        runtime = CudaRuntime.get();
    }

    private static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void floatsRoundTripAtEverySizeIncludingSeveralChunks() {
        // 1 element, an odd size, and one that spans three 16 MiB staging chunks.
        for (int n : new int[] {1, 1001, 3 * PinnedStaging.MAX_CHUNK / 4 + 17}) {
            float[] data = randomFloats(n, n);
            DevicePointer p = runtime.allocate(4L * n);
            runtime.upload(data, 0, n, p);
            float[] back = new float[n];
            runtime.download(p, n, back, 0);
            assertArrayEquals(data, back, "n = " + n);
            runtime.free(p, 4L * n);
        }
    }

    @Test
    void doublesAndIntsRoundTripWithOffsets() {
        double[] d = {1.5, -2.25, Math.PI, 1e300, -0.0};
        DevicePointer pd = runtime.allocate(8 * 7);
        runtime.upload(d, 1, 4, pd.plus(8));
        double[] back = new double[6];
        runtime.download(pd.plus(8), 4, back, 2);
        assertArrayEquals(new double[] {0, 0, -2.25, Math.PI, 1e300, -0.0}, back);
        runtime.free(pd, 8 * 7);

        int[] ints = {7, -1, Integer.MAX_VALUE, Integer.MIN_VALUE};
        DevicePointer pi = runtime.allocate(16);
        runtime.upload(ints, 0, 4, pi);
        int[] ib = new int[4];
        runtime.download(pi, 4, ib, 0);
        assertArrayEquals(ints, ib);
        runtime.free(pi, 16);
    }

    @Test
    void fillsWrite32And64BitPatterns() {
        DevicePointer p = runtime.allocate(8 * 1000);
        runtime.fill64(p, Double.doubleToRawLongBits(1.5), 1000); // halves differ: the two strided memsets
        double[] d = new double[1000];
        runtime.download(p, 1000, d, 0);
        for (double v : d) {
            assertEquals(1.5, v);
        }
        runtime.fill64(p, 0, 1000);
        runtime.download(p, 1000, d, 0);
        assertEquals(0, java.util.Arrays.stream(d).filter(v -> v != 0).count());
        runtime.fill32(p, Float.floatToRawIntBits(-3f), 2000);
        float[] f = new float[2000];
        runtime.download(p, 2000, f, 0);
        for (float v : f) {
            assertEquals(-3f, v);
        }
        runtime.free(p, 8 * 1000);
    }

    @Test
    void deviceToDeviceCopyIsStreamOrdered() {
        float[] data = randomFloats(4097, 3);
        DevicePointer a = runtime.allocate(4 * 4097);
        DevicePointer b = runtime.allocate(4 * 4097);
        runtime.upload(data, 0, data.length, a);
        runtime.copy(a, b, 4L * data.length);
        float[] back = new float[data.length];
        runtime.download(b, data.length, back, 0);
        assertArrayEquals(data, back);
        runtime.free(a, 4 * 4097);
        runtime.free(b, 4 * 4097);
    }

    @Test
    void aFreedBlockIsReusedForTheSameSizeClassWithoutADriverCall() {
        long bytes = 3_000_000;
        DevicePointer first = runtime.allocate(bytes);
        long address = first.address();
        runtime.free(first, bytes);
        CudaMemoryStats before = runtime.memoryStats();
        DevicePointer again = runtime.allocate(bytes - 1000); // same class
        CudaMemoryStats after = runtime.memoryStats();
        assertEquals(address, again.address());
        assertEquals(before.reuses() + 1, after.reuses());
        assertEquals(before.driverAllocations(), after.driverAllocations());
        runtime.free(again, bytes - 1000);
        runtime.releaseCachedMemory();
        assertEquals(0, runtime.memoryStats().bytesCached());
    }

    @Test
    void outOfMemoryNamesTheRequestAndTheDevice() {
        long tooMuch = runtime.info().totalBytes() * 2;
        CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class, () -> runtime.allocate(tooMuch));
        assertEquals(tooMuch, e.requestedBytes());
        assertTrue(e.getMessage().contains("(" + tooMuch + " bytes)"), e.getMessage());
        assertTrue(e.getMessage().contains("free of"), e.getMessage());
        // The runtime still works afterwards.
        DevicePointer p = runtime.allocate(1024);
        runtime.free(p, 1024);
    }

    @Test
    void storagesCountAndReleaseThroughTheCache() {
        long live = Storage.liveCount();
        CudaStorage s = CudaStorage.allocate(runtime, DType.FLOAT32, 12345);
        assertEquals(live + 1, Storage.liveCount());
        assertEquals(12345L * 4, s.bytes());
        long cachedBefore = runtime.memoryStats().bytesCached();
        s.release();
        assertEquals(live, Storage.liveCount());
        assertTrue(runtime.memoryStats().bytesCached() > cachedBefore);
        assertThrows(IllegalStateException.class, s::pointer);
        CudaStorage empty = CudaStorage.allocate(runtime, DType.INT32, 0);
        empty.release();
    }

    @Test
    void anotherThreadCanUseTheRuntime() throws Exception {
        float[] data = randomFloats(100, 9);
        float[] back = CompletableFuture.supplyAsync(() -> {
            DevicePointer p = runtime.allocate(400);
            runtime.upload(data, 0, 100, p);
            float[] out = new float[100];
            runtime.download(p, 100, out, 0);
            runtime.free(p, 400);
            return out;
        }).get();
        assertArrayEquals(data, back);
    }

    @Test
    void theTimerMeasuresDeviceWork() {
        DevicePointer p = runtime.allocate(256L << 20);
        try (CudaTimer timer = runtime.timer()) {
            timer.start();
            runtime.fill32(p, 1, (256L << 20) / 4);
            float ms = timer.stop().elapsedMillis();
            assertTrue(ms > 0 && ms < 10_000, ms + " ms");
        }
        runtime.free(p, 256L << 20);
    }

    @Test
    void deviceInfoIsRead() {
        CudaDeviceInfo info = runtime.info();
        assertTrue(info.driverVersion() >= CudaRuntime.MINIMUM_DRIVER_VERSION);
        assertTrue(info.multiprocessors() > 0 && info.totalBytes() > 0 && !info.name().isBlank(), info.describe());
        long[] memory = runtime.deviceMemory();
        assertTrue(memory[0] > 0 && memory[0] <= memory[1]);
        assertTrue(runtime.streamAddress() != 0);
    }
}
