package dev.retort.distill;

import dev.retort.tensor.Tensor;

/**
 * One evaluation of a distillation loss: the total as a scalar tensor to call {@code backward()} on, and the
 * terms (batch means, unweighted) as numbers for logs and reports. A term the mode did not compute is NaN.
 *
 * @param loss                the total loss, differentiable with respect to the student's logits
 * @param total               the total loss as a number
 * @param crossEntropy        {@code CE(s, y, ε)} against the labels (NaN without labels)
 * @param klDivergence        {@code KL(softmax_{T_t}(t) ‖ softmax_{T_s}(s))}, without κ or T² (NaN with hard
 *                            teacher targets)
 * @param teacherCrossEntropy {@code CE(s, argmax t)} (NaN unless hard teacher targets)
 */
public record DistillationResult(Tensor loss, double total, double crossEntropy, double klDivergence,
                                 double teacherCrossEntropy) {}
