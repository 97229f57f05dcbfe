package dev.retort.distill;

import dev.retort.nn.Layers;
import dev.retort.nn.Module;
import dev.retort.nn.Sequential;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The (student layer, teacher layer) pairs of hybrid distillation, by state-dict module names: parsed
 * from {@code student=teacher} strings, checked against both networks, or chosen by default as the last
 * feature map before each network's classifier head (docs/kd-modes.md).
 */
public record FeaturePairs(List<String> studentLayers, List<String> teacherLayers) {
    /** Checks that both lists have one entry per pair. */
    public FeaturePairs {
        if (studentLayers.size() != teacherLayers.size()) {
            throw new IllegalArgumentException("--pairs: " + studentLayers.size() + " student layers and "
                    + teacherLayers.size() + " teacher layers");
        }
        studentLayers = List.copyOf(studentLayers);
        teacherLayers = List.copyOf(teacherLayers);
    }

    /** The number of pairs. */
    public int size() {
        return studentLayers.size();
    }

    /**
     * Pairs from {@code student=teacher} strings, each name checked against its network; with none given,
     * the default pair of {@link #lastFeatureMap}.
     */
    public static FeaturePairs resolve(List<String> specs, Module student, Module teacher) {
        if (specs == null || specs.isEmpty()) {
            return new FeaturePairs(List.of(lastFeatureMap(student, "student")),
                    List.of(lastFeatureMap(teacher, "teacher")));
        }
        List<String> s = new ArrayList<>();
        List<String> t = new ArrayList<>();
        for (String[] pair : parse(specs)) {
            s.add(check(student, "student", pair[0]));
            t.add(check(teacher, "teacher", pair[1]));
        }
        return new FeaturePairs(s, t);
    }

    /**
     * The {@code student=teacher} strings as [student, teacher] layer names, without the networks: each must be
     * two names around one '=', and no pair may be given twice (it would only count its term twice).
     */
    public static List<String[]> parse(List<String> specs) {
        List<String[]> pairs = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String spec : specs) {
            String[] parts = spec.split("=", -1);
            if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
                throw new IllegalArgumentException("--pairs " + spec + ": expected STUDENT_LAYER=TEACHER_LAYER, "
                        + "e.g. 5=13");
            }
            String[] pair = {parts[0].trim(), parts[1].trim()};
            if (!seen.add(pair[0] + "=" + pair[1])) {
                throw new IllegalArgumentException("--pairs " + String.join(",", specs) + ": the pair " + pair[0] + "="
                        + pair[1] + " is given twice; give each pair once");
            }
            pairs.add(pair);
        }
        return pairs;
    }

    private static String check(Module network, String role, String name) {
        Map<String, Module> modules = network.namedModules();
        if (!modules.containsKey(name) || name.isEmpty()) {
            throw new IllegalArgumentException("--pairs: the " + role + " has no layer '" + name + "'; its layers are "
                    + modules.keySet());
        }
        return name;
    }

    /**
     * The layer just before a Sequential network's first Flatten or global average pool: the last
     * feature map the classifier head reads.
     */
    public static String lastFeatureMap(Module network, String role) {
        if (network instanceof Sequential) {
            String previous = null;
            for (var e : network.children().entrySet()) {
                Module m = e.getValue();
                if (m instanceof Layers.Flatten || m instanceof Layers.GlobalAvgPool2d) {
                    if (previous == null) {
                        break;
                    }
                    return previous;
                }
                previous = e.getKey();
            }
        }
        throw new IllegalArgumentException("hybrid: cannot find the " + role + "'s last feature map by itself (it is not "
                + "a Sequential with a Flatten before its head); name the layers with --pairs STUDENT=TEACHER");
    }
}
