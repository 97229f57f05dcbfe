package dev.retort.diagnostics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.backend.Backend;
import dev.retort.backend.BinaryOp;
import dev.retort.backend.UnaryOp;
import dev.retort.backend.cpu.CpuBackend;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The parity sweep covers the whole Backend interface and every elementwise op, passes the CPU's float32 kernels, and catches a wrong op. */
class ParitySweepTest {

    @Test
    void everyBackendMethodHasACase() {
        Set<String> covered = new HashSet<>();
        for (ParitySweep.Case c : ParitySweep.cases()) {
            covered.add(c.op().split(" ")[0]);
        }
        Set<String> memory = Set.of("device", "describe", "empty", "fromHost", "toDoubles", "toFloats", "toInts",
                "fill", "copy");
        for (var m : Backend.class.getMethods()) {
            if (!memory.contains(m.getName())) {
                assertTrue(covered.contains(m.getName()), "no parity case for Backend." + m.getName());
            }
        }
    }

    @Test
    void everyElementwiseOpHasACase() {
        Set<String> ops = new HashSet<>();
        for (ParitySweep.Case c : ParitySweep.cases()) {
            ops.add(c.op());
        }
        for (UnaryOp op : UnaryOp.values()) {
            assertTrue(ops.contains("unary " + op.name().toLowerCase(Locale.ROOT)), "no parity case for " + op);
        }
        for (BinaryOp op : BinaryOp.values()) {
            assertTrue(ops.contains("binary " + op.name().toLowerCase(Locale.ROOT)), "no parity case for " + op);
        }
    }

    @Test
    void cpuFloat32PassesAgainstTheFloat64Reference() {
        for (ParitySweep.Case c : ParitySweep.cases()) {
            ParitySweep.Outcome o = ParitySweep.run(c, CpuBackend.get(), 7);
            assertTrue(o.passed(c.tolerance()), c.op() + " " + c.detail() + ": " + o.format());
        }
    }

    @Test
    void aWrongOrMissingOpIsReportedNotThrown() {
        Backend broken = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("matmul")) {
                        throw new UnsupportedOperationException("Broken.matmul: not wired yet");
                    }
                    if (method.getName().equals("affine")) {
                        args[2] = (double) args[2] + 1e-3; // a wrong offset
                    }
                    try {
                        return method.invoke(CpuBackend.get(), args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        int failures = 0;
        for (ParitySweep.Case c : ParitySweep.cases()) {
            ParitySweep.Outcome o = ParitySweep.run(c, broken, 7);
            if (c.op().equals("matmul")) {
                assertEquals("Broken.matmul: not wired yet", o.failure());
                assertFalse(o.passed(c.tolerance()));
                failures++;
            } else if (c.op().equals("affine")) {
                assertTrue(o.error() > c.tolerance(), "affine error " + o.error());
                failures++;
            } else {
                assertTrue(o.passed(c.tolerance()), c.op() + ": " + o.format());
            }
        }
        assertEquals(6, failures);
    }

    @Test
    void relativeErrorTreatsNanAsAMiss() {
        assertEquals(0, ParitySweep.relativeError(new double[] {1, Double.NaN}, new double[] {1, Double.NaN}));
        assertEquals(Double.POSITIVE_INFINITY, ParitySweep.relativeError(new double[] {Double.NaN}, new double[] {1}));
        assertEquals(0.5, ParitySweep.relativeError(new double[] {1.5}, new double[] {1}), 1e-12);
    }
}
