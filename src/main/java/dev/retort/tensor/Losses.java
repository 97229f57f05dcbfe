package dev.retort.tensor;

import dev.retort.backend.DType;
import dev.retort.backend.Device;
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
        checkLabels(op, scores, labels);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException(op + ": label smoothing must be in [0, 1], got " + labelSmoothing);
        }
    }

    private static void checkLabels(String op, Tensor scores, Tensor labels) {
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
                if (y[i] < 0 || y[i] >= classes) {
                    throw new IllegalArgumentException(op + ": label " + y[i] + " at row " + i + " is outside [0, "
                            + classes + ")");
                }
            }
        }
    }

    /**
     * Batch-mean Kullback–Leibler divergence {@code KL(softmax(t/T_t) ‖ softmax(s/T_s))} of student
     * and teacher logits [B, C], without any T² factor (kd-modes.md applies that).
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

    /** Mean squared error. */
    public static Tensor mse(Tensor input, Tensor target) {
        Tensor.checkOperands("mse", input, target);
        Shapes.requireSame("mse", input.shape(), target.shape());
        return input.sub(target).square().mean();
    }
}
