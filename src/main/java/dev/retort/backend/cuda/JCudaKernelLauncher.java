package dev.retort.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxGetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxGetDevice;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

/**
 * Launches the kernels through JCuda's driver API: loads every module image once into the current context
 * ({@code cuModuleLoadData}), looks up every function once, and launches asynchronously on one stream. Works
 * whether or not JCuda's exceptions are enabled. The context current when it is created is the one its modules
 * live in; every launch makes it current on the launching thread first, since a thread whose first CUDA call is a
 * launch has no current context and the driver would refuse it (CUDA_ERROR_INVALID_CONTEXT).
 */
final class JCudaKernelLauncher implements KernelLauncher, AutoCloseable {
    private final CUstream stream;
    private final CUcontext context = new CUcontext();
    private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private final List<CUmodule> modules = new ArrayList<>();
    private final Map<String, CUfunction> functions = new HashMap<>();

    JCudaKernelLauncher(KernelImages images, CUstream stream) {
        if (!images.available()) {
            throw new IllegalStateException(images.unavailableReason());
        }
        this.stream = stream;
        String noContext = status(() -> cuCtxGetCurrent(context));
        if (noContext != null || context.equals(new CUcontext())) {
            throw new IllegalStateException("CUDA kernels: no CUDA context is current on this thread"
                    + (noContext == null ? "" : " (" + noContext + ")") + "; make one current before loading");
        }
        bound.set(Boolean.TRUE);
        try {
            for (Map.Entry<String, List<String>> e : KernelModules.MODULE_KERNELS.entrySet()) {
                CUmodule module = new CUmodule();
                String error = status(() -> cuModuleLoadData(module, images.image(e.getKey())));
                if (error != null) {
                    throw loadFailure(e.getKey(), error, images);
                }
                modules.add(module);
                for (String kernel : e.getValue()) {
                    CUfunction function = new CUfunction();
                    String missing = status(() -> cuModuleGetFunction(function, module, kernel));
                    if (missing != null) {
                        throw new IllegalStateException("CUDA kernels: " + e.getKey() + ".fatbin has no kernel " + kernel
                                + " (" + missing + "): the jar's kernels and classes come from different builds; "
                                + "rebuild Retort");
                    }
                    functions.put(kernel, function);
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void launch(Launch launch) {
        CUfunction function = functions.get(launch.kernel());
        if (function == null) {
            throw new IllegalStateException("CUDA kernels: no kernel named " + launch.kernel() + " was loaded");
        }
        if (!bound.get()) {
            String error = status(() -> cuCtxSetCurrent(context));
            if (error != null) {
                throw new IllegalStateException("cuda: making the kernels' context current failed: " + error);
            }
            bound.set(Boolean.TRUE);
        }
        Pointer parameters = parameters(launch.args());
        String error = status(() -> cuLaunchKernel(function, launch.gridX(), 1, 1, launch.blockX(), launch.blockY(), 1,
                0, stream, parameters, null));
        if (error != null) {
            throw new IllegalStateException("cuda: launching " + launch.kernel() + " (grid " + launch.gridX()
                    + ", block " + launch.blockX() + "×" + launch.blockY() + ") failed: " + error);
        }
    }

    /** kernelParams: one pointer per parameter, to host memory holding exactly the parameter's bytes. */
    static Pointer parameters(KernelArgs args) {
        Pointer[] p = new Pointer[args.size()];
        for (int i = 0; i < p.length; i++) {
            KernelArgs.Arg a = args.get(i);
            p[i] = switch (a.kind()) {
                case POINTER, LONG_LONG, DOUBLE -> Pointer.to(new long[] {a.bits()});
                case INT, FLOAT -> Pointer.to(new int[] {(int) a.bits()});
                case STRUCT -> Pointer.to(a.ints());
            };
        }
        return Pointer.to(p);
    }

    /** Null on success, else the CUresult name: from the return code, or from JCuda's exception when enabled. */
    private static String status(java.util.function.IntSupplier call) {
        try {
            int result = call.getAsInt();
            return result == CUresult.CUDA_SUCCESS ? null : CUresult.stringFor(result);
        } catch (CudaException e) {
            return e.getMessage();
        }
    }

    private static KernelLoadException loadFailure(String module, String error, KernelImages images) {
        String device = "the current GPU";
        int major = 0;
        int minor = 0;
        int[] driver = {0};
        try {
            CUdevice dev = new CUdevice();
            cuCtxGetDevice(dev);
            byte[] name = new byte[256];
            cuDeviceGetName(name, name.length, dev);
            int end = 0;
            while (end < name.length && name[end] != 0) {
                end++;
            }
            device = new String(name, 0, end, java.nio.charset.StandardCharsets.UTF_8);
            int[] v = {0};
            cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
            major = v[0];
            cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
            minor = v[0];
            cuDriverGetVersion(driver);
        } catch (CudaException ignored) {
            // the message says what is known
        }
        String message = KernelLoadException.message(module, error, device, major, minor, driver[0], images.targets(),
                images.nvccVersion());
        if (!KernelLoadException.isImageMismatch(error)) {
            message = "CUDA kernels: loading " + module + ".fatbin on " + device + " failed: " + error;
        }
        return new KernelLoadException(message);
    }

    @Override
    public void close() {
        for (CUmodule m : modules) {
            try {
                cuModuleUnload(m);
            } catch (CudaException ignored) {
                // the context may already be gone; nothing else holds the module
            }
        }
        modules.clear();
        functions.clear();
    }
}
