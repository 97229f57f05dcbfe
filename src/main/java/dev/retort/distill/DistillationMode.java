package dev.retort.distill;

import dev.retort.backend.DistillationSpec;
import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A distillation mode of docs/kd-modes.md with its options, from the command line to the loss: each mode parses
 * and checks its options once, here, describes itself, and builds its loss; below it the backend sees only the
 * kernel's numbers ({@link dev.retort.backend.DistillationSpec}). A new mode is one more record here.
 *
 * <p>Labels: a row whose label is {@code Dataset.UNLABELLED} (−1) contributes no label term; the label
 * cross-entropy is still a mean over all B rows of the batch (docs/kd-modes.md, "Limited labels").
 */
public sealed interface DistillationMode permits DistillationMode.Temperature, DistillationMode.Hinton,
        DistillationMode.Hybrid {
    /** The names {@code --mode} takes, in the order of the docs. */
    List<String> NAMES = List.of("temperature", "hinton", "hybrid");

    /** The options each mode takes (CLI names without dashes); any other mode option given is an error. */
    Map<String, List<String>> OPTIONS = Map.of(
            "temperature", List.of("temperature", "student-temperature", "teacher-temperature", "kappa"),
            "hinton", List.of("temperature", "alpha", "teacher-targets"),
            "hybrid", List.of("temperature", "alpha", "beta", "gamma", "pairs", "prune"));

    /** What a mode needs from one batch: logits of both networks, labels (−1 for none), paired features. */
    record Batch(Tensor student, Tensor teacher, Tensor labels, double labelSmoothing, List<Tensor> studentFeatures,
                 List<Tensor> teacherFeatures, List<FeatureRegressor> regressors) {
        /** A batch of the output-only modes (no feature pairs). */
        public Batch(Tensor student, Tensor teacher, Tensor labels, double labelSmoothing) {
            this(student, teacher, labels, labelSmoothing, List.of(), List.of(), List.of());
        }
    }

    /** The loss to differentiate and its unweighted batch-mean terms by name, {@code loss} (the total) first. */
    record Loss(Tensor loss, Map<String, Double> terms) {}

    /** {@code temperature}, {@code hinton} or {@code hybrid}. */
    String name();

    /** The resolved options by their CLI names (without dashes), as config.json and the sweep tables show them. */
    Map<String, Object> options();

    /** Whether the loss has a label term. */
    boolean usesLabels();

    /** T of the mode: the student's temperature (mode temperature's T_s, the one T of the others). */
    double temperature();

    /**
     * The same mode with every temperature {@code t}, as {@code --temperature t} would give it (in mode temperature
     * T_s = T_t = t and κ = t²); its other options stay.
     */
    DistillationMode withTemperature(double t);

    /** The loss of one batch. */
    Loss loss(Batch batch);

    /** Hybrid's feature pairs {@code STUDENT=TEACHER}; empty for the default pair and in the other modes. */
    default List<String> pairs() {
        return List.of();
    }

    /** Hybrid's final fraction of pruned weights; 0 for none. */
    default double prune() {
        return 0;
    }

    /** One line for logs and reports, e.g. {@code mode hinton (temperature 2.0, alpha 0.5, teacher-targets soft)}. */
    default String describe() {
        StringBuilder sb = new StringBuilder("mode ").append(name()).append(" (");
        String sep = "";
        for (var e : options().entrySet()) {
            if (!e.getKey().equals("mode") && !"default".equals(e.getValue())) {
                sb.append(sep).append(e.getKey()).append(' ').append(e.getValue());
                sep = ", ";
            }
        }
        return sb.append(')').toString();
    }

    /**
     * The options as given on the command line; null where not given (the mode's default then applies). A given
     * option that the mode does not have is an error naming it.
     */
    record Options(Double temperature, Double studentTemperature, Double teacherTemperature, Double kappa,
                   Double alpha, Double beta, Double gamma, String teacherTargets, List<String> pairs, Double prune) {
        /** No option given: every default. */
        public static final Options NONE = new Options(null, null, null, null, null, null, null, null, null, null);

        /** The options given, by CLI name without dashes. */
        public Map<String, Object> given() {
            Map<String, Object> out = ordered("temperature", temperature, "student-temperature", studentTemperature,
                    "teacher-temperature", teacherTemperature, "kappa", kappa, "alpha", alpha, "beta", beta, "gamma",
                    gamma, "teacher-targets", teacherTargets, "pairs", pairs, "prune", prune);
            out.values().removeIf(java.util.Objects::isNull);
            return out;
        }

        /** These options with another {@code --temperature}. */
        public Options withTemperature(double value) {
            return new Options(value, studentTemperature, teacherTemperature, kappa, alpha, beta, gamma,
                    teacherTargets, pairs, prune);
        }
    }

    /** Parses {@code --mode} with its options; defaults where an option is null (docs/kd-modes.md, Defaults). */
    static DistillationMode parse(String mode, Options o) {
        String m = mode == null ? "" : mode.toLowerCase(Locale.ROOT);
        if (!NAMES.contains(m)) {
            throw new IllegalArgumentException("--mode " + mode + ": expected temperature, hinton or hybrid");
        }
        for (String option : o.given().keySet()) {
            if (!OPTIONS.get(m).contains(option)) {
                List<String> owners = new ArrayList<>();
                for (String other : NAMES) {
                    if (OPTIONS.get(other).contains(option)) {
                        owners.add(other);
                    }
                }
                throw new IllegalArgumentException("--" + option + " belongs to --mode " + String.join(" and ", owners)
                        + ", not " + m);
            }
        }
        double t = o.temperature() != null ? o.temperature() : Defaults.TEMPERATURE.get(m);
        return switch (m) {
            case "temperature" -> {
                double ts = o.studentTemperature() != null ? o.studentTemperature() : t;
                double tt = o.teacherTemperature() != null ? o.teacherTemperature() : t;
                yield new Temperature(ts, tt, o.kappa() != null ? o.kappa() : ts * ts);
            }
            case "hinton" -> {
                String targets = o.teacherTargets() == null ? "soft" : o.teacherTargets().toLowerCase(Locale.ROOT);
                if (!targets.equals("soft") && !targets.equals("hard")) {
                    throw new IllegalArgumentException("--teacher-targets " + o.teacherTargets()
                            + ": expected soft or hard");
                }
                yield new Hinton(t, o.alpha() != null ? o.alpha() : Defaults.HINTON_ALPHA, targets.equals("hard"));
            }
            default -> new Hybrid(t, o.alpha() != null ? o.alpha() : Defaults.HYBRID_ALPHA,
                    o.beta() != null ? o.beta() : Defaults.HYBRID_BETA,
                    o.gamma() != null ? o.gamma() : Defaults.HYBRID_GAMMA, o.pairs() == null ? List.of() : o.pairs(),
                    o.prune() != null ? o.prune() : 0);
        };
    }

    /** The defaults of docs/kd-modes.md ("Defaults"), chosen by the sweeps recorded there. */
    final class Defaults {
        /** T of each mode unless given: 2, for students as small as cnn-student (4 suits mlp-student better). */
        public static final Map<String, Double> TEMPERATURE = Map.of("temperature", 2.0, "hinton", 2.0, "hybrid", 2.0);
        /** α of {@code hinton}: the weight of the label term, the KL term getting 1 − α. */
        public static final double HINTON_ALPHA = 0.1;
        /** α of {@code hybrid}: the weight of the label term. */
        public static final double HYBRID_ALPHA = 0.1;
        /** β of {@code hybrid}: the weight of the T²-scaled KL term. */
        public static final double HYBRID_BETA = 0.9;
        /** γ of {@code hybrid}: the weight of the feature-regression term. */
        public static final double HYBRID_GAMMA = 1.0;

        private Defaults() {}
    }

    /**
     * Mode {@code temperature}, soft targets only: {@code L = κ·(1/B)·Σ_b KL(softmax_{T_t}(t_b) ‖ softmax_{T_s}(s_b))}.
     * No labels are used; where given they are only reported ({@code ce}).
     */
    record Temperature(double studentTemperature, double teacherTemperature, double kappa) implements DistillationMode {
        /**
         * @throws IllegalArgumentException naming the CLI option if a temperature is not a positive finite
         * number or κ is negative or infinite
         */
        public Temperature {
            positive("--student-temperature (T_s)", studentTemperature);
            positive("--teacher-temperature (T_t)", teacherTemperature);
            atLeastZero("--kappa (κ)", kappa);
        }

        /** The fused kernel's numbers. */
        public DistillationSpec kernel() {
            return DistillationSpec.temperature(studentTemperature, teacherTemperature, kappa);
        }

        @Override
        public double temperature() {
            return studentTemperature;
        }

        @Override
        public Temperature withTemperature(double t) {
            return new Temperature(t, t, t * t);
        }

        @Override
        public String name() {
            return "temperature";
        }

        @Override
        public Map<String, Object> options() {
            return ordered("mode", name(), "student-temperature", studentTemperature, "teacher-temperature",
                    teacherTemperature, "kappa", kappa);
        }

        @Override
        public boolean usesLabels() {
            return false;
        }

        @Override
        public Loss loss(Batch b) {
            DistillationResult r = DistillationLoss.temperature(b.student(), b.teacher(), b.labels(),
                    studentTemperature, teacherTemperature, kappa);
            return new Loss(r.loss(), terms("loss", r.total(), "kl", r.klDivergence(), "ce", r.crossEntropy()));
        }
    }

    /**
     * Mode {@code hinton}: {@code L = α·CE(s, y, ε) + (1 − α)·T²·KL_T(t ‖ s)}, or with hard teacher targets
     * {@code α·CE(s, y, ε) + (1 − α)·CE(s, argmax t)}.
     */
    record Hinton(double temperature, double alpha, boolean hardTeacherTargets) implements DistillationMode {
        /**
         * @throws IllegalArgumentException naming the CLI option if T is not a positive finite number or α is
         * outside [0, 1]
         */
        public Hinton {
            positive("--temperature (T)", temperature);
            unit("--alpha (α)", alpha);
        }

        @Override
        public Hinton withTemperature(double t) {
            return new Hinton(t, alpha, hardTeacherTargets);
        }

        /** The fused kernel's numbers, with label smoothing ε on the label term. */
        public DistillationSpec kernel(double labelSmoothing) {
            unit("--label-smoothing (ε)", labelSmoothing);
            return DistillationSpec.hinton(temperature, alpha, labelSmoothing, hardTeacherTargets);
        }

        @Override
        public String name() {
            return "hinton";
        }

        @Override
        public Map<String, Object> options() {
            return ordered("mode", name(), "temperature", temperature, "alpha", alpha, "teacher-targets",
                    hardTeacherTargets ? "hard" : "soft");
        }

        @Override
        public boolean usesLabels() {
            return alpha > 0;
        }

        @Override
        public Loss loss(Batch b) {
            DistillationResult r = DistillationLoss.hinton(b.student(), b.teacher(), b.labels(), temperature, alpha,
                    b.labelSmoothing(), hardTeacherTargets);
            return new Loss(r.loss(), hardTeacherTargets
                    ? terms("loss", r.total(), "ce", r.crossEntropy(), "ce_teacher", r.teacherCrossEntropy())
                    : terms("loss", r.total(), "ce", r.crossEntropy(), "kl", r.klDivergence()));
        }
    }

    /**
     * Mode {@code hybrid}: {@code L = α·CE(s, y) + β·T²·KL_T(t ‖ s) + γ·Σ_pairs mean((r(h_s) − h_t)²)}, with
     * optional pruning of the student ({@link Pruning}).
     */
    record Hybrid(double temperature, double alpha, double beta, double gamma, List<String> pairs, double prune)
            implements DistillationMode {
        /**
         * Copies {@code pairs} (null means none).
         *
         * @throws IllegalArgumentException naming the CLI option if T is not a positive finite number, α or β
         * is outside [0, 1], γ is negative or infinite, every weight is 0, the pruning fraction is outside
         * [0, 1), or a pair is malformed or given twice
         */
        public Hybrid {
            positive("--temperature (T)", temperature);
            unit("--alpha (α)", alpha);
            unit("--beta (β)", beta);
            atLeastZero("--gamma (γ)", gamma);
            if (!(prune >= 0 && prune < 1)) {
                throw new IllegalArgumentException("--prune must be in [0, 1), got " + prune);
            }
            if (alpha + beta == 0 && gamma == 0) {
                throw new IllegalArgumentException("hybrid: every term has weight 0 (--alpha, --beta and --gamma are "
                        + "0); give one of them a positive weight");
            }
            pairs = pairs == null ? List.of() : List.copyOf(pairs);
            FeaturePairs.parse(pairs); // refused here, before any network is built: a malformed or repeated pair
        }

        @Override
        public Hybrid withTemperature(double t) {
            return new Hybrid(t, alpha, beta, gamma, pairs, prune);
        }

        @Override
        public String name() {
            return "hybrid";
        }

        @Override
        public Map<String, Object> options() {
            return ordered("mode", name(), "temperature", temperature, "alpha", alpha, "beta", beta, "gamma", gamma,
                    "pairs", pairs.isEmpty() ? "default" : String.join(",", pairs), "prune", prune);
        }

        @Override
        public boolean usesLabels() {
            return alpha > 0;
        }

        @Override
        public Loss loss(Batch b) {
            HybridLoss.Result r = HybridLoss.compute(b.student(), b.teacher(), b.labels(), b.studentFeatures(),
                    b.teacherFeatures(), b.regressors(), this);
            return new Loss(r.loss(), terms("loss", r.total(), "ce", r.crossEntropy(), "kl", r.klDivergence(),
                    "feature", r.feature()));
        }
    }

    /** A map of the name–value pairs in their order (options and terms are shown in the order given). */
    private static Map<String, Object> ordered(Object... namesAndValues) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            out.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return out;
    }

    /** The loss terms by name, in order. */
    private static Map<String, Double> terms(Object... namesAndValues) {
        Map<String, Double> out = new LinkedHashMap<>();
        ordered(namesAndValues).forEach((name, value) -> out.put(name, (Double) value));
        return out;
    }

    private static void positive(String option, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(option + " must be a positive finite number, got " + value);
        }
    }

    private static void atLeastZero(String option, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(option + " must be a finite number ≥ 0, got " + value);
        }
    }

    private static void unit(String option, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new IllegalArgumentException(option + " must be in [0, 1], got " + value);
        }
    }
}
