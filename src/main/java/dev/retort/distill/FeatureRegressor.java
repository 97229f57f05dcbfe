package dev.retort.distill;

import dev.retort.nn.Conv2d;
import dev.retort.nn.Linear;
import dev.retort.nn.Module;
import dev.retort.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The learned map r of hybrid distillation from a student feature to its teacher's width (FitNets;
 * RepDistiller's ConvReg): a 1×1 convolution between feature maps with different channel counts, a
 * linear layer between flat features of different sizes, the identity when they already match. It
 * trains with the student's optimizer and is not part of the exported student.
 */
public final class FeatureRegressor extends Module {
    private final Module map;

    /**
     * @param studentShape one student example's feature shape, [C, H, W] or [F]
     * @param teacherShape one teacher example's feature shape, of the same rank
     */
    public FeatureRegressor(int[] studentShape, int[] teacherShape, SplittableRandom rng) {
        if (studentShape.length != teacherShape.length || studentShape.length != 1 && studentShape.length != 3) {
            throw new IllegalArgumentException("feature pair: student feature " + Arrays.toString(studentShape)
                    + " and teacher feature " + Arrays.toString(teacherShape)
                    + " must both be feature maps [C, H, W] or both flat [F]");
        }
        int in = studentShape[0];
        int out = teacherShape[0];
        if (in == out) {
            map = null;
        } else if (studentShape.length == 3) {
            map = addModule("conv", new Conv2d(in, out, 1, 1, 0, true, rng));
        } else {
            map = addModule("linear", new Linear(in, out, rng));
        }
    }

    /** True when the regressor is the identity (no parameters). */
    public boolean isIdentity() {
        return map == null;
    }

    @Override
    public Tensor forward(Tensor studentFeature) {
        return map == null ? studentFeature : map.call(studentFeature);
    }
}
