package dev.retort.train;

import dev.retort.backend.Device;
import dev.retort.data.Dataset;
import dev.retort.distill.DistillationMode;
import dev.retort.distill.FeaturePairs;
import dev.retort.distill.FeatureRegressor;
import dev.retort.distill.Pruning;
import dev.retort.distill.TeacherOutputs;
import dev.retort.nn.FeatureCapture;
import dev.retort.nn.Module;
import dev.retort.tensor.Autograd;
import dev.retort.tensor.Finite;
import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The objective of a distillation run: the student's loss against a frozen teacher in one of the three
 * modes of docs/kd-modes.md. The teacher runs in evaluation mode without recording, once over the transfer
 * set when it is not augmented (its outputs cached) or on every batch when it is. Teacher, student and
 * regressors live on one device, the student's.
 */
public final class DistillationObjective implements Objective {
    private final DistillationConfig config;
    private final Module teacher;
    private final TeacherOutputs cache;
    private final FeaturePairs pairs;
    private final List<FeatureRegressor> regressors;
    private final Pruning pruning;
    private final double labelSmoothing;

    private DistillationObjective(DistillationConfig config, Module teacher, TeacherOutputs cache, FeaturePairs pairs,
                                  List<FeatureRegressor> regressors, Pruning pruning, double labelSmoothing) {
        this.config = config;
        this.labelSmoothing = labelSmoothing;
        this.teacher = teacher;
        this.cache = cache;
        this.pairs = pairs;
        this.regressors = List.copyOf(regressors);
        this.pruning = pruning;
    }

    /**
     * Checks teacher against student on one example (same class count; feature pairs that exist and fit),
     * builds the regressors, and caches the teacher's outputs over {@code transferSet} unless
     * {@code augmented}. The teacher moves to the student's device, and the regressors are made there.
     *
     * @param training   the run's options: label smoothing (mode hinton), seed, augmentation
     * @param totalSteps the run's steps, over which pruning reaches its target
     * @param progress   shown while the cache is computed (may be null)
     */
    public static DistillationObjective create(DistillationConfig config, Module teacher, Module student,
                                               Dataset transferSet, TrainingConfig training, long totalSteps,
                                               Progress progress) {
        return create(config, teacher, student, transferSet, training, totalSteps, progress, null);
    }

    /**
     * As above, reusing {@code shared} — the same teacher's outputs over the same transfer set, computed once for
     * several runs (the demo, a sweep) — when it holds the layers this run pairs; null computes them here.
     */
    public static DistillationObjective create(DistillationConfig config, Module teacher, Module student,
                                               Dataset transferSet, TrainingConfig training, long totalSteps,
                                               Progress progress, TeacherOutputs shared) {
        Device device = student.device();
        teacher.to(device);
        DistillationMode mode = config.mode();
        FeaturePairs pairs = pairs(mode, teacher, student);
        List<FeatureRegressor> regressors = regressors(teacher, student, transferSet, pairs, training.seed());
        Pruning pruning = null;
        try {
            pruning = mode.prune() > 0 ? new Pruning(student, mode.prune(), totalSteps) : null;
            TeacherOutputs cache = null;
            if (!training.augmented()) {
                cache = shared != null && shared.size() == transferSet.size() && shared.holds(pairs.teacherLayers())
                        ? shared
                        : TeacherOutputs.compute(teacher, transferSet, pairs.teacherLayers(), training.evalBatchSize(),
                                n -> {
                                    if (progress != null) {
                                        progress.step(n);
                                    }
                                });
            }
            return new DistillationObjective(config, teacher, cache, pairs, regressors, pruning,
                    training.labelSmoothing());
        } catch (RuntimeException e) {
            regressors.forEach(FeatureRegressor::close);
            if (pruning != null) {
                pruning.close();
            }
            throw e;
        }
    }

    /**
     * Refuses, without training, what {@link #create} or the first training step would refuse: classes that differ
     * between teacher, student and data, feature pairs the networks lack or whose features cannot be compared. One
     * example of {@code data} goes through both networks (which may be untrained: only their shapes matter) and the
     * mode's loss, on the student's device; nothing is cached and nothing is kept.
     */
    public static void check(DistillationConfig config, Module teacher, Module student, Dataset data,
                             TrainingConfig training) {
        teacher.to(student.device());
        FeaturePairs pairs = pairs(config.mode(), teacher, student);
        List<FeatureRegressor> regressors = regressors(teacher, student, data, pairs, training.seed());
        boolean studentTraining = student.isTraining();
        boolean teacherTraining = teacher.isTraining();
        student.eval();
        try (DistillationObjective trial = new DistillationObjective(config, teacher, null, pairs, regressors, null,
                training.labelSmoothing());
             Autograd.NoGrad ignored = Autograd.noGrad(); Scope scope = Scope.open()) {
            Tensor[] batch = data.batch(new int[] {0}, 0, 1);
            trial.compute(student, batch[0].to(student.device()), batch[1].to(student.device()), new int[] {0});
        } finally {
            if (studentTraining) {
                student.train();
            }
            if (teacherTraining) {
                teacher.train();
            }
        }
    }

    /** The layers hybrid pairs, checked against both networks; none in the other modes. */
    private static FeaturePairs pairs(DistillationMode mode, Module teacher, Module student) {
        return mode instanceof DistillationMode.Hybrid ? FeaturePairs.resolve(mode.pairs(), student, teacher)
                : new FeaturePairs(List.of(), List.of());
    }

    /**
     * One regressor per pair, on the student's device, shaped by one example through both networks (which also
     * checks that they predict the data's classes).
     */
    private static List<FeatureRegressor> regressors(Module teacher, Module student, Dataset data, FeaturePairs pairs,
                                                     long seed) {
        List<int[]> studentShapes = new ArrayList<>();
        List<int[]> teacherShapes = new ArrayList<>();
        probe(teacher, student, data, pairs, studentShapes, teacherShapes);
        List<FeatureRegressor> regressors = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5EED_F00DL);
        for (int i = 0; i < pairs.size(); i++) {
            try {
                FeatureRegressor regressor = new FeatureRegressor(studentShapes.get(i), teacherShapes.get(i), rng);
                regressor.to(student.device());
                regressors.add(regressor);
            } catch (IllegalArgumentException e) {
                regressors.forEach(FeatureRegressor::close);
                throw new IllegalArgumentException("--pairs " + pairs.studentLayers().get(i) + "="
                        + pairs.teacherLayers().get(i) + ": " + e.getMessage(), e);
            }
        }
        return regressors;
    }

    /** One example through both networks: class counts must agree, paired layers must produce features. */
    private static void probe(Module teacher, Module student, Dataset data, FeaturePairs pairs,
                              List<int[]> studentShapes, List<int[]> teacherShapes) {
        boolean teacherTraining = teacher.isTraining();
        boolean studentTraining = student.isTraining();
        teacher.eval();
        student.eval();
        try (Autograd.NoGrad ignored = Autograd.noGrad(); Scope scope = Scope.open()) {
            Tensor x = data.batch(new int[] {0}, 0, 1)[0].to(student.device());
            int teacherClasses;
            int studentClasses;
            try (FeatureCapture capture = FeatureCapture.of(teacher, pairs.teacherLayers())) {
                teacherClasses = teacher.call(x).dim(1);
                for (String layer : pairs.teacherLayers()) {
                    int[] s = capture.get(layer).shape();
                    teacherShapes.add(Arrays.copyOfRange(s, 1, s.length));
                }
            }
            try (FeatureCapture capture = FeatureCapture.of(student, pairs.studentLayers())) {
                studentClasses = student.call(x).dim(1);
                for (String layer : pairs.studentLayers()) {
                    int[] s = capture.get(layer).shape();
                    studentShapes.add(Arrays.copyOfRange(s, 1, s.length));
                }
            }
            if (teacherClasses != studentClasses) {
                throw new IllegalArgumentException("the teacher predicts " + teacherClasses + " classes and the student "
                        + studentClasses + "; distillation needs both over the same classes");
            }
            if (studentClasses != data.classes()) {
                throw new IllegalArgumentException(data.name() + " has " + data.classes() + " classes, the networks predict "
                        + studentClasses);
            }
        } finally {
            if (teacherTraining) {
                teacher.train();
            }
            if (studentTraining) {
                student.train();
            }
        }
    }

    /** Whether the teacher's outputs were computed once up front. */
    public boolean cached() {
        return cache != null;
    }

    /**
     * The (student layer, teacher layer) pairs the hybrid mode's feature term compares; empty for the other
     * modes.
     */
    public FeaturePairs pairs() {
        return pairs;
    }

    @Override
    public StepLoss compute(Module student, Tensor images, Tensor labels, int[] examples) {
        Tensor teacherLogits;
        List<Tensor> teacherFeatures = new ArrayList<>();
        if (cache != null) {
            // The cache lives in host memory (TeacherOutputs says why); this batch's rows go to its device.
            teacherLogits = cache.logits(examples, images.device());
            for (String layer : pairs.teacherLayers()) {
                teacherFeatures.add(cache.feature(layer, examples, images.device()));
            }
        } else {
            teacher.eval();
            try (Autograd.NoGrad ignored = Autograd.noGrad();
                 FeatureCapture capture = FeatureCapture.of(teacher, pairs.teacherLayers())) {
                teacherLogits = teacher.call(images);
                for (String layer : pairs.teacherLayers()) {
                    teacherFeatures.add(capture.get(layer));
                }
            }
            // The KD kernels skip a NaN probability (their pt > 0 test), so a broken teacher would surface as
            // the student's loss term; reading the batch's logits (a few floats) names the teacher instead.
            if (!Finite.all(teacherLogits.toFloatArray())) {
                throw new IllegalStateException("the teacher's outputs are not finite (NaN or infinite logits in "
                        + "this batch); the teacher is broken, not the student: check --teacher-weights "
                        + config.teacherWeights());
            }
        }
        Tensor studentLogits;
        List<Tensor> studentFeatures = new ArrayList<>();
        try (FeatureCapture capture = FeatureCapture.of(student, pairs.studentLayers())) {
            studentLogits = student.call(images);
            for (String layer : pairs.studentLayers()) {
                studentFeatures.add(capture.get(layer));
            }
        }
        DistillationMode.Loss loss = config.mode().loss(new DistillationMode.Batch(studentLogits, teacherLogits, labels,
                labelSmoothing, studentFeatures, teacherFeatures, regressors));
        return new StepLoss(loss.loss(), loss.terms());
    }

    @Override
    public String describe() {
        String pairsNote = pairs.size() == 0 || !config.mode().pairs().isEmpty() ? "" : ", default pairs " + pairLabels();
        return "distillation, " + config.mode().describe() + pairsNote
                + (labelSmoothing > 0 && config.mode().usesLabels() ? ", label smoothing " + labelSmoothing : "");
    }

    private List<String> pairLabels() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            out.add(pairs.studentLayers().get(i) + "=" + pairs.teacherLayers().get(i));
        }
        return out;
    }

    /** Moves the teacher, the regressors and any pruning masks. */
    @Override
    public void to(Device device) {
        teacher.to(device);
        for (FeatureRegressor r : regressors) {
            r.to(device);
        }
        if (pruning != null) {
            pruning.to(device);
        }
    }

    /** The teacher, for callers that check where it is. */
    public Module teacher() {
        return teacher;
    }

    @Override
    public List<Tensor> extraParameters() {
        List<Tensor> out = new ArrayList<>();
        for (FeatureRegressor r : regressors) {
            out.addAll(r.parameters());
        }
        return out;
    }

    @Override
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < regressors.size(); i++) {
            for (var e : regressors.get(i).stateDict().entrySet()) {
                out.put("regressor." + i + "." + e.getKey(), e.getValue());
            }
        }
        return out;
    }

    @Override
    public void loadStateDict(Map<String, Tensor> values, String source) {
        List<Map<String, Tensor>> perRegressor = new ArrayList<>();
        for (int i = 0; i < regressors.size(); i++) {
            perRegressor.add(new LinkedHashMap<>());
        }
        for (var e : values.entrySet()) {
            String[] parts = e.getKey().split("\\.", 3);
            int index = -1;
            if (parts.length == 3 && parts[0].equals("regressor")) {
                try {
                    index = Integer.parseInt(parts[1]);
                } catch (NumberFormatException ignored) {
                    // reported below
                }
            }
            if (index < 0 || index >= regressors.size()) {
                throw new IllegalArgumentException(source + ": '" + e.getKey() + "' is not state of " + describe());
            }
            perRegressor.get(index).put(parts[2], e.getValue());
        }
        for (int i = 0; i < regressors.size(); i++) {
            try {
                regressors.get(i).loadStateDict(perRegressor.get(i));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ": regressor " + i + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public void afterStep(Module model, long step) {
        if (pruning != null) {
            pruning.afterStep(step);
        }
    }

    @Override
    public void resumeAt(Module model, long step) {
        if (pruning != null) {
            pruning.resumeAt(step);
        }
    }

    @Override
    public Map<String, Double> epochValues() {
        return pruning == null ? Map.of() : Map.of("sparsity", pruning.sparsity());
    }

    @Override
    public void close() {
        for (FeatureRegressor r : regressors) {
            r.close();
        }
        if (pruning != null) {
            pruning.close();
        }
    }
}
