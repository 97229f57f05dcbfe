package dev.retort.backend.cuda;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Asks a CUDA component that is built separately (the kernel images, the JNI bridge) about itself through
 * a static no-argument method returning a String, found by name.
 *
 * <p>Why by name: the runtime, the kernels and the bridge are written in parallel and merged one at a
 * time; until a component's class is in the build, the probe says so instead of failing to compile.
 * This is the one reflective lookup of the package, in the manner of Lucene's provider lookup; once
 * everything is merged, direct calls may replace it.
 */
final class ComponentProbe {
    private ComponentProbe() {}

    /** Whether the class exists in this build. */
    static boolean present(String className) {
        try {
            Class.forName(className, false, ComponentProbe.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * The result of {@code className.method()}; {@code absent} when the class or the method is not in
     * the build.
     *
     * @throws IllegalStateException with the component's own message when the method throws
     */
    static String call(String className, String method, String absent) {
        MethodHandle handle;
        try {
            Class<?> type = Class.forName(className, true, ComponentProbe.class.getClassLoader());
            handle = MethodHandles.publicLookup().findStatic(type, method, MethodType.methodType(String.class));
        } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException e) {
            return absent;
        } catch (LinkageError e) {
            throw new IllegalStateException(className + " could not load: " + e.getMessage(), e);
        }
        try {
            return (String) handle.invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(className + "." + method + " failed: " + e, e);
        }
    }

    /** Whether a classpath folder (ending in '/') or file exists, e.g. the packed kernel images. */
    static boolean resourcePresent(String path) {
        return ComponentProbe.class.getClassLoader().getResource(path) != null;
    }
}
