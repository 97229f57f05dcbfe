package dev.retort.tensor;

import dev.retort.backend.DType;
import dev.retort.backend.BinaryOp;
import dev.retort.backend.Device;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.NdArray;
import dev.retort.backend.Shapes;

/** Loss functions, each reduced to a scalar as PyTorch reduces them by default. */
public final class Losses {
    private Losses() {}

    /**
     * Mean cross-entropy of logits [B, C] against class indices [B] (INT32), with label smoothing ε:
     * the target is {@code (1-ε)·onehot(y) + ε/C}.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor labels, double labelSmoothing) {
        // Validated here too, so that the message names the function the caller called.
        checkNll("crossEntropy", logits, labels, labelSmoothing);
        return nllLoss(logits.logSoftmax(1.0), labels, labelSmoothing);
    }

    /** Mean negative log-likelihood of log-probabilities [B, C] with label smoothing. */
    public static Tensor nllLoss(Tensor logProbs, Tensor labels, double labelSmoothing) {
        checkNll("nllLoss", logProbs, labels, labelSmoothing);
        NdArray perRow = logProbs.empty(logProbs.dim(0));
        logProbs.backend().nllForward(logProbs.data(), labels.data(), labelSmoothing, perRow);
        Tensor rows = Tensor.record("nllLoss", perRow, g -> {
            NdArray gx = logProbs.emptyLike();
            logProbs.backend().nllBackward(g.data(), labels.data(), labelSmoothing, gx);
            return new Tensor[] {Tensor.wrap(gx)};
        }, logProbs);
        return rows.mean();
    }

    private static void checkNll(String op, Tensor scores, Tensor labels, double labelSmoothing) {
        Tensor.checkOperands(op, scores);
        checkLabels(op, scores, labels, false);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException(op + ": label smoothing must be in [0, 1], got " + labelSmoothing);
        }
    }

    /** @param unlabelledAllowed whether a row may have no label ({@code Dataset.UNLABELLED}, −1) */
    private static void checkLabels(String op, Tensor scores, Tensor labels, boolean unlabelledAllowed) {
        if (scores.rank() != 2) {
            throw new IllegalArgumentException(op + ": expected scores of shape [B, C], got "
                    + Shapes.format(scores.shape()));
        }
        if (labels.dtype() != DType.INT32 || labels.rank() != 1 || labels.dim(0) != scores.dim(0)) {
            throw new IllegalArgumentException(op + ": labels must be INT32 of shape [" + scores.dim(0) + "], got "
                    + labels.data() + " for scores " + Shapes.format(scores.shape()));
        }
        if (labels.device() != scores.device()) {
            throw new IllegalArgumentException(op + ": labels on " + labels.device() + " but scores on "
                    + scores.device());
        }
        if (labels.device() == Device.CPU) {
            int classes = scores.dim(1);
            int[] y = labels.toIntArray();
            for (int i = 0; i < y.length; i++) {
                if ((y[i] < 0 || y[i] >= classes) && !(unlabelledAllowed && y[i] == -1)) {
                    throw new IllegalArgumentException(op + ": label " + y[i] + " at row " + i + " is outside [0, "
                            + classes + ")");
                }
            }
        }
    }

    /**
     * Batch-mean Kullback–Leibler divergence {@code KL(softmax(t/T_t) ‖ softmax(s/T_s))} of student
     * and teacher logits [B, C], without any T² factor (docs/kd-modes.md applies that).
     */
    public static Tensor klDiv(Tensor student, Tensor teacher, double studentTemperature, double teacherTemperature) {
        Tensor.checkOperands("klDiv", student, teacher);
        if (student.rank() != 2 || !java.util.Arrays.equals(student.shape(), teacher.shape())) {
            throw new IllegalArgumentException("klDiv: student " + Shapes.format(student.shape()) + " and teacher "
                    + Shapes.format(teacher.shape()) + " must be logits of one shape [B, C]");
        }
        Functional.checkTemperature("klDiv (student)", studentTemperature);
        Functional.checkTemperature("klDiv (teacher)", teacherTemperature);
        Tensor logStudent = student.logSoftmax(studentTemperature);
        Tensor logTeacher = teacher.logSoftmax(teacherTemperature);
        // p_t · (log p_t − log p_s): both logs are finite, so rows where p_t underflows give 0·finite = 0.
        return logTeacher.exp().mul(logTeacher.sub(logStudent)).sum().mul(1.0 / student.dim(0));
    }

    /**
     * The fused knowledge-distillation loss (docs/kd-modes.md): the total as a scalar differentiable with
     * respect to the student, and the unweighted batch-mean terms.
     *
     * @param total        the total loss as computed (in double on the CPU), before rounding to the loss's dtype
     * @param crossEntropy {@code CE(s, y, ε)}, or NaN when no labels were given
     * @param teacherTerm  {@code KL(softmax_{T_t}(t) ‖ softmax_{T_s}(s))} without κ, or {@code CE(s, argmax t)}
     *                     with hard teacher targets
     */
    public record Distillation(Tensor loss, double total, double crossEntropy, double teacherTerm) {}

    /**
     * Knowledge-distillation loss of student and teacher logits [B, C] in one fused pass per row
     * ({@link dev.retort.backend.Backend#distillationLoss}). labels: INT32 [B], required by mode hinton and
     * optional in mode temperature (then only reported); a label of −1 marks a row without one, whose label term is
     * 0 (the CE is still divided by all B rows, so a few labelled rows do not outweigh the soft targets, as
     * docs/kd-modes.md says). The teacher is never differentiated; the loss's
     * backward rule scales the gradient computed in the forward pass by the upstream gradient.
     */
    public static Distillation distillation(Tensor student, Tensor teacher, Tensor labels, DistillationSpec spec) {
        if (spec == null) {
            throw new IllegalArgumentException("distillation: spec is null");
        }
        String op = "distillation";
        checkDistillationShapes(op, student, teacher);
        if (labels != null) {
            checkLabels(op, student, labels, true);
        } else if (spec.needsLabels()) {
            throw new IllegalArgumentException(op + ": labels are required (INT32 of shape [" + student.dim(0)
                    + "]) for a label term of weight " + spec.crossEntropyWeight() + "; mode temperature works without "
                    + "them");
        }
        NdArray terms = student.empty(3);
        NdArray grad = student.emptyLike();
        student.backend().distillationLoss(student.data(), teacher.data(), labels == null ? null : labels.data(),
                spec, terms, grad);
        double[] values = student.backend().toDoubles(terms);
        terms.storage().release();
        NdArray total = student.empty();
        student.backend().fill(total, values[0]);
        Tensor gradient = Tensor.wrap(grad);
        Tensor loss = Tensor.record("distillation", total, g -> {
            NdArray gx = student.emptyLike();
            student.backend().binary(BinaryOp.MUL, gradient.data(), g.data(), gx);
            return new Tensor[] {Tensor.wrap(gx)};
        }, student);
        if (loss.gradFn() == null) {
            gradient.close(); // nothing will ask for it
        }
        return new Distillation(loss, values[0], labels == null ? Double.NaN : values[1], values[2]);
    }

    private static void checkDistillationShapes(String op, Tensor student, Tensor teacher) {
        if (student == null || teacher == null) {
            throw new IllegalArgumentException(op + ": student and teacher logits are required, got "
                    + (student == null ? "no student" : "no teacher"));
        }
        Tensor.checkOperands(op, student, teacher);
        if (student.rank() != 2 || teacher.rank() != 2) {
            throw new IllegalArgumentException(op + ": student and teacher must be logits of shape [B, C], got student "
                    + Shapes.format(student.shape()) + " and teacher " + Shapes.format(teacher.shape()));
        }
        if (student.dim(1) != teacher.dim(1)) {
            throw new IllegalArgumentException(op + ": student has " + student.dim(1) + " classes but teacher has "
                    + teacher.dim(1) + " (student " + Shapes.format(student.shape()) + ", teacher "
                    + Shapes.format(teacher.shape()) + "); both must score the same classes");
        }
        if (student.dim(0) != teacher.dim(0)) {
            throw new IllegalArgumentException(op + ": student has " + student.dim(0) + " rows but teacher has "
                    + teacher.dim(0) + " (student " + Shapes.format(student.shape()) + ", teacher "
                    + Shapes.format(teacher.shape()) + "); both must score the same batch");
        }
        if (student.dim(0) == 0 || student.dim(1) == 0) {
            throw new IllegalArgumentException(op + ": needs at least one row and one class, got "
                    + Shapes.format(student.shape()));
        }
    }

    /** Mean squared error. */
    public static Tensor mse(Tensor input, Tensor target) {
        Tensor.checkOperands("mse", input, target);
        Shapes.requireSame("mse", input.shape(), target.shape());
        return input.sub(target).square().mean();
    }
}
