package dev.retort.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retort.backend.Backend;
import dev.retort.backend.Backends;
import dev.retort.backend.BinaryOp;
import dev.retort.backend.DType;
import dev.retort.backend.Device;
import dev.retort.backend.NdArray;
import dev.retort.backend.Storage;
import dev.retort.backend.cpu.CpuBackend;
import dev.retort.backend.cuda.CudaAvailability;
import dev.retort.nn.Models;
import dev.retort.nn.Module;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The stand-in CUDA device and the seam that installs it: it computes as the CPU does, refuses arrays that are
 * not its own, crosses to the host only where the real backend does, and goes away when closed.
 */
@SuppressWarnings("try") // installations and scopes are held for their extent, not referenced
class StandInCudaBackendTest {

    @Test
    void anInstalledBackendServesCudaUntilClosedThenThePreviousOneDoes() {
        StandInCudaBackend outer = new StandInCudaBackend();
        StandInCudaBackend inner = new StandInCudaBackend();
        try (Backends.Installation a = Backends.useForCuda(outer)) {
            assertSame(outer, Backends.of(Device.CUDA));
            assertNull(Backends.cudaUnavailableReason());
            try (Backends.Installation b = Backends.useForCuda(inner)) {
                assertSame(inner, Backends.of(Device.CUDA));
            }
            assertSame(outer, Backends.of(Device.CUDA));
        }
        String reason = CudaAvailability.unavailableReason();
        assumeTrue(reason != null, "CUDA is usable here");
        assertEquals(reason, Backends.cudaUnavailableReason());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.of(Device.CUDA));
        assertEquals(reason + "; use --device cpu", e.getMessage());
    }

    @Test
    void onlyABackendThatServesCudaCanBeInstalledForIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Backends.useForCuda(CpuBackend.get()));
        assertTrue(e.getMessage().contains("serves cpu; it must serve cuda"), e.getMessage());
    }

    @Test
    void everyOpRefusesAnArrayThatIsNotItsOwnNamingTheOpAndTheArgument() {
        StandInCudaBackend device = new StandInCudaBackend();
        StandInCudaBackend other = new StandInCudaBackend();
        NdArray a = device.fromHost(new float[] {1, 2, 3}, 3);
        NdArray out = device.empty(DType.FLOAT32, 3);
        NdArray host = CpuBackend.get().fromHost(new float[] {4, 5, 6}, 3);
        NdArray foreign = other.fromHost(new float[] {4, 5, 6}, 3);
        try {
            IllegalStateException leaked = assertThrows(IllegalStateException.class,
                    () -> device.binary(BinaryOp.ADD, a, host, out));
            assertTrue(leaked.getMessage().startsWith("StandInCudaBackend.binary: b float32[3]@cpu is not an array of "
                    + "this device"), leaked.getMessage());
            IllegalStateException wrongDevice = assertThrows(IllegalStateException.class,
                    () -> device.sgdStep(a, foreign, null, 0.1, 0, 0, 0, false, true));
            assertTrue(wrongDevice.getMessage().startsWith("StandInCudaBackend.sgdStep: grad"), wrongDevice.getMessage());
            assertThrows(IllegalStateException.class, () -> device.toFloats(host));

            device.binary(BinaryOp.ADD, a, a, out);
            assertArrayEquals(new float[] {2, 4, 6}, device.toFloats(out));
            assertEquals(Device.CUDA, out.device());
        } finally {
            host.storage().release();
            foreign.storage().release();
            out.storage().release();
        }
        a.storage().release();
        IllegalStateException released = assertThrows(IllegalStateException.class, () -> device.toFloats(a));
        assertTrue(released.getMessage().contains("already released"), released.getMessage());
    }

    @Test
    void copyCrossesBetweenTheDeviceAndTheHostButNotBetweenTwoHostArrays() {
        StandInCudaBackend device = new StandInCudaBackend();
        CpuBackend cpu = CpuBackend.get();
        NdArray host = cpu.fromHost(new float[] {1, 2}, 2);
        NdArray back = cpu.empty(DType.FLOAT32, 2);
        NdArray onDevice = device.empty(DType.FLOAT64, 2);
        try {
            device.copy(host, onDevice);
            device.copy(onDevice, back);
            assertArrayEquals(new float[] {1, 2}, cpu.toFloats(back));
            assertThrows(IllegalStateException.class, () -> device.copy(host, back));
        } finally {
            host.storage().release();
            back.storage().release();
            onDevice.storage().release();
        }
    }

    @Test
    void aModuleMovesToTheDeviceAndBackAndLoadsStateAcrossDevices() {
        long live = Storage.liveCount();
        try (Backends.Installation ignored = StandInCudaBackend.install();
             Module m = Models.create("cnn-student", 5);
             Module copy = Models.create("cnn-student", 6)) {
            Map<String, Tensor> before = new LinkedHashMap<>(m.stateDict());
            Map<String, float[]> values = new LinkedHashMap<>();
            before.forEach((k, v) -> values.put(k, v.toFloatArray()));
            assertSame(m, m.to(Device.CUDA));
            assertEquals(Device.CUDA, m.device());
            for (var e : m.stateDict().entrySet()) {
                assertSame(before.get(e.getKey()), e.getValue(), e.getKey());
                assertEquals(Device.CUDA, e.getValue().device(), e.getKey());
                assertArrayEquals(values.get(e.getKey()), e.getValue().toFloatArray(), e.getKey());
            }
            copy.loadStateDict(m.stateDict()); // device values into a CPU module
            m.to(Device.CPU);
            assertEquals(Device.CPU, m.device());
            for (var e : m.stateDict().entrySet()) {
                assertArrayEquals(values.get(e.getKey()), e.getValue().toFloatArray(), e.getKey());
                assertArrayEquals(values.get(e.getKey()), copy.stateDict().get(e.getKey()).toFloatArray(), e.getKey());
            }
        }
        assertEquals(live, Storage.liveCount(), "moving releases what it leaves behind");
    }

    @Test
    void tensorsOnTheStandInComputeAsOnTheCpuAndRefuseToMixWithCpuTensors() {
        try (Backends.Installation ignored = StandInCudaBackend.install(); Scope scope = Scope.open()) {
            Backend device = Backends.of(Device.CUDA);
            float[] a = {1.5f, -2, 0.25f, 3, 7, -1};
            float[] b = {0.5f, 4, -3, 2, 1, 0.125f};
            Tensor x = Tensor.of(Device.CUDA, a, 2, 3);
            Tensor y = Tensor.of(Device.CUDA, b, 3, 2);
            assertSame(device, x.backend());
            assertArrayEquals(Tensor.of(a, 2, 3).matmul(Tensor.of(b, 3, 2)).relu().toFloatArray(),
                    x.matmul(y).relu().toFloatArray());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> x.matmul(Tensor.of(b, 3, 2)));
            assertEquals("matmul: tensors are on different devices: float32[2, 3]@cuda and float32[3, 2]@cpu",
                    e.getMessage());
        }
    }
}
