package dev.retort.backend.cpu;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Optional;

/**
 * Chooses between {@link ScalarFloatMath} and {@link VectorFloatMath} once per JVM, as Apache Lucene's
 * VectorizationProvider does: the Vector API class is loaded by name only when its incubator module is in
 * the boot layer, so nothing links {@code jdk.incubator.vector} on a JVM started without it.
 */
public final class FloatMathProvider {

    /** Set to "false" to force the plain-Java implementation, e.g. to compare results or rule out a JIT issue. */
    public static final String VECTOR_PROPERTY = "retort.vector";

    static final String VECTOR_MODULE = "jdk.incubator.vector";
    static final String FIX = "pass '--add-modules " + VECTOR_MODULE + "' to the JVM";

    private static final String VECTOR_CLASS = "dev.retort.backend.cpu.VectorFloatMath";
    // 128-bit vectors (SSE, ARM NEON, or -XX:MaxVectorSize=16) still beat plain loops by far: on Zen 4 at
    // -XX:MaxVectorSize=16 the Vector API GEMM ran 1024³ at 38 GFLOP/s on one core against the scalar kernel's 7,
    // and a cnn-teacher training step took 518 ms against 2 715. Narrower species (64-bit) get the scalar kernels.
    private static final int MINIMUM_VECTOR_BITS = 128;
    private static final System.Logger LOG = System.getLogger(FloatMathProvider.class.getName());

    private FloatMathProvider() {}

    /** The implementation for this JVM, chosen and logged on first use. */
    static FloatMath get() {
        return Holder.INSTANCE;
    }

    /** The plain-Java implementation, always available. */
    public static FloatMath scalar() {
        return ScalarHolder.INSTANCE;
    }

    /**
     * The Vector API implementation.
     *
     * @throws IllegalStateException when this JVM cannot run it; the message says why and what to do
     */
    public static FloatMath vector() {
        if (VectorHolder.INSTANCE == null) {
            throw new IllegalStateException("The Vector API float math is unavailable: " + VectorHolder.PROBLEM);
        }
        return VectorHolder.INSTANCE;
    }

    private static FloatMath lookup() {
        if ("false".equalsIgnoreCase(System.getProperty(VECTOR_PROPERTY, "").trim())) {
            // DEBUG: which path runs is normal news, and a library does not announce itself on every start.
            LOG.log(System.Logger.Level.DEBUG, "CPU float math: scalar (" + VECTOR_PROPERTY + "=false)");
            return scalar();
        }
        if (VectorHolder.INSTANCE == null) {
            LOG.log(System.Logger.Level.WARNING, "CPU float math falls back to the slow scalar implementation: "
                    + VectorHolder.PROBLEM);
            return scalar();
        }
        LOG.log(System.Logger.Level.DEBUG, "CPU float math: " + VectorHolder.INSTANCE.name());
        return VectorHolder.INSTANCE;
    }

    /** Loads the Vector API implementation, or says in {@code PROBLEM} why it cannot. */
    private static final class VectorHolder {
        static final FloatMath INSTANCE;
        static final String PROBLEM;

        static {
            FloatMath loaded = null;
            String problem = null;
            Optional<Module> module = ModuleLayer.boot().findModule(VECTOR_MODULE);
            if (module.isEmpty()) {
                problem = "the module " + VECTOR_MODULE + " is not enabled; " + FIX;
            } else {
                try {
                    MethodHandles.Lookup lookup = MethodHandles.lookup();
                    Class<?> type = lookup.findClass(VECTOR_CLASS);
                    MethodHandle bits = lookup.findStatic(type, "preferredVectorBits", MethodType.methodType(int.class));
                    int preferredBits = (int) bits.invoke();
                    if (preferredBits < MINIMUM_VECTOR_BITS) {
                        problem = "this CPU's preferred vectors are " + preferredBits + "-bit, narrower than the "
                                + MINIMUM_VECTOR_BITS + " bits the Vector API kernels need to beat plain loops";
                    } else {
                        MethodHandle constructor = lookup.findConstructor(type, MethodType.methodType(void.class));
                        loaded = (FloatMath) constructor.invoke();
                    }
                } catch (Throwable failure) {
                    problem = "loading " + VECTOR_CLASS + " failed (" + failure + "); " + FIX;
                }
            }
            INSTANCE = loaded;
            PROBLEM = problem;
        }
    }

    private static final class ScalarHolder {
        static final FloatMath INSTANCE = new ScalarFloatMath();
    }

    private static final class Holder {
        static final FloatMath INSTANCE = lookup();
    }
}
