package dev.retort.backend.cuda;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every module of our kernels (file kernels/&lt;module&gt;.cu) with its kernels, in load order. Each plan class
 * names its own module and kernels beside the launches that use them; this map only gathers them, so a kernel is
 * listed in one place.
 */
public final class KernelModules {
    private KernelModules() {}

    /** Module name to its kernels, looked up once when the modules load; unmodifiable. */
    public static final Map<String, List<String>> MODULE_KERNELS = modules();

    private static Map<String, List<String>> modules() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put(ElementwisePlans.MODULE, ElementwisePlans.KERNELS);
        m.put(DropoutPlans.MODULE, DropoutPlans.KERNELS);
        m.put(SoftmaxPlans.MODULE, SoftmaxPlans.KERNELS);
        m.put(CrossEntropyPlans.MODULE, CrossEntropyPlans.KERNELS);
        m.put(KdLossPlans.MODULE, KdLossPlans.KERNELS);
        m.put(BiasPlans.MODULE, BiasPlans.KERNELS);
        m.put(ReducePlans.MODULE, ReducePlans.KERNELS);
        m.put(MsePlans.MODULE, MsePlans.KERNELS);
        m.put(OptimPlans.MODULE, OptimPlans.KERNELS);
        m.put(MetricsPlans.MODULE, MetricsPlans.KERNELS);
        return java.util.Collections.unmodifiableMap(m);
    }
}
