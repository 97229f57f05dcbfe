package dev.retort.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retort.backend.BinaryOp;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.UnaryOp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Java side and kernels/*.cu agree without a compiler: every kernel a plan class names is declared extern "C"
 * in its module's file and nowhere else, no kernel goes unnamed, and the parameters each plan passes have the
 * C types of the kernel's signature (the driver copies as many bytes as the kernel declares).
 */
class KernelSignatureTest {
    private static final Path SOURCES = Paths.get("kernels");
    private static final Pattern KERNEL = Pattern.compile(
            "extern \"C\" __global__ void\\s+(?:__launch_bounds__\\(\\d+\\)\\s*)?(\\w+)\\s*\\(([^)]*)\\)");
    private static final Map<String, Integer> STRUCT_INTS = Map.of("BroadcastIndex", 25, "SumToIndex", 33);

    /** Kernel name → parameter kinds (STRUCT sizes encoded as negative int counts), per module. */
    static Map<String, Map<String, List<String>>> declared() throws IOException {
        assumeTrue(Files.isDirectory(SOURCES), "kernels/ not found from " + Paths.get("").toAbsolutePath());
        Map<String, Map<String, List<String>>> out = new LinkedHashMap<>();
        try (var files = Files.list(SOURCES)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".cu")).sorted().toList()) {
                String module = p.getFileName().toString().replace(".cu", "");
                Map<String, List<String>> kernels = new LinkedHashMap<>();
                Matcher m = KERNEL.matcher(Files.readString(p));
                while (m.find()) {
                    List<String> kinds = new ArrayList<>();
                    for (String param : m.group(2).split(",")) {
                        kinds.add(kind(param.trim()));
                    }
                    kernels.put(m.group(1), kinds);
                }
                out.put(module, kernels);
            }
        }
        return out;
    }

    static String kind(String param) {
        if (param.contains("*")) {
            return "POINTER";
        }
        String type = param.replaceAll("\\s+\\w+$", "").replace("const ", "").replace("unsigned ", "").trim();
        return switch (type) {
            case "int" -> "INT";
            case "long long" -> "LONG_LONG";
            case "float" -> "FLOAT";
            case "double" -> "DOUBLE";
            default -> {
                Integer ints = STRUCT_INTS.get(type);
                if (ints == null) {
                    throw new AssertionError("unknown parameter type in '" + param + "'");
                }
                yield "STRUCT" + ints;
            }
        };
    }

    private static List<String> kinds(KernelArgs args) {
        return args.list().stream()
                .map(a -> a.kind() == KernelArgs.Kind.STRUCT ? "STRUCT" + a.ints().length : a.kind().name()).toList();
    }

    /** At least one plan per kernel. */
    static List<Launch> everyKernel() {
        long p = 0x7f00_0000_0000L;
        List<Launch> l = new ArrayList<>();
        l.addAll(ElementwisePlans.unary(UnaryOp.EXP, p, p, 10));
        l.addAll(ElementwisePlans.binary(BinaryOp.ADD, p, p, p, 10));
        l.addAll(ElementwisePlans.binaryScalar(BinaryOp.ADD, p, p, p, 10));
        l.addAll(ElementwisePlans.binaryBroadcast(BinaryOp.ADD, p, new int[] {2, 1}, p, new int[] {3}, p, new int[] {2, 3}));
        l.addAll(ElementwisePlans.broadcastTo(p, new int[] {3}, p, new int[] {2, 3}));
        l.addAll(ElementwisePlans.affine(p, p, 10, 2, 1));
        l.addAll(ElementwisePlans.accumulate(p, p, 10, 2));
        l.addAll(ElementwisePlans.fill(p, 10, 2));
        l.addAll(ElementwisePlans.fillInt(p, 10, 2));
        l.addAll(ElementwisePlans.convertFloatToInt(p, p, 10));
        l.addAll(ElementwisePlans.convertIntToFloat(p, p, 10));
        l.addAll(DropoutPlans.dropoutMask(p, 10, 3, 0.5));
        l.addAll(SoftmaxPlans.softmaxForward(p, p, 2, 5, 1, false));
        l.addAll(SoftmaxPlans.softmaxBackward(p, p, p, 2, 5, 1, true));
        l.addAll(CrossEntropyPlans.nllForward(p, p, p, 2, 5, 0.1));
        l.addAll(CrossEntropyPlans.nllBackward(p, p, p, 2, 5, 0.1));
        DistillationSpec spec = DistillationSpec.hinton(4, 0.1, 0, false);
        for (int cols : new int[] {10, 2000, 10000}) {
            l.addAll(KdLossPlans.distillationLoss(p, p, p, 2, cols, spec, p, p, p));
        }
        l.addAll(BiasPlans.biasAdd(p, p, p, 12, 3, 2));
        l.addAll(BiasPlans.biasGrad(p, p, 2, 3, 1));
        l.addAll(BiasPlans.biasGrad(p, p, 2, 3, 4));
        l.addAll(ReducePlans.sumTo(p, new int[] {2, 3, 4}, p, new int[] {2, 1, 4}, p));
        l.addAll(ReducePlans.sum(p, 10, p, p));
        l.addAll(ReducePlans.countNonFinite(p, 10, p, p));
        l.addAll(MsePlans.mseForward(p, p, 10, p, p));
        l.addAll(MsePlans.mseBackward(p, p, p, p, p, 10));
        l.addAll(OptimPlans.sgdStep(p, p, p, 10, 0.1, 0.9, 0, 0, false, false));
        l.addAll(OptimPlans.adamwStep(p, p, p, p, 10, 1e-3, 0.9, 0.999, 1e-8, 0, 1));
        l.addAll(MetricsPlans.argmaxLastDim(p, p, 2, 5));
        l.addAll(MetricsPlans.countEqual(p, p, 10, p, p));
        l.addAll(MetricsPlans.eceBins(p, p, 2, 5, 1, 15, p, p));
        return l;
    }

    @Test
    void everyNamedKernelIsDeclaredInItsModuleAndEveryDeclaredKernelIsNamed() throws IOException {
        Map<String, Map<String, List<String>>> declared = declared();
        assertEquals(new TreeSet<>(KernelModules.MODULE_KERNELS.keySet()), new TreeSet<>(declared.keySet()),
                "kernels/*.cu files vs KernelModules.MODULE_KERNELS");
        for (var e : KernelModules.MODULE_KERNELS.entrySet()) {
            assertEquals(new TreeSet<>(e.getValue()), new TreeSet<>(declared.get(e.getKey()).keySet()),
                    "kernels of " + e.getKey() + ".cu");
        }
    }

    @Test
    void everyPlanPassesTheKernelsParameterTypes() throws IOException {
        Map<String, List<String>> signatures = new LinkedHashMap<>();
        declared().values().forEach(signatures::putAll);
        TreeSet<String> covered = new TreeSet<>();
        for (Launch launch : everyKernel()) {
            List<String> expected = signatures.get(launch.kernel());
            assertTrue(expected != null, "no declaration of " + launch.kernel());
            assertEquals(expected, kinds(launch.args()), "parameters of " + launch.kernel());
            covered.add(launch.kernel());
        }
        assertEquals(new TreeSet<>(signatures.keySet()), covered, "kernels without a plan in this test");
    }
}
