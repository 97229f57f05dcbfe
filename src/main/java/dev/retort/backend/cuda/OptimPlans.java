package dev.retort.backend.cuda;

import static dev.retort.backend.cuda.LaunchShapes.elementwise;
import static dev.retort.backend.cuda.PlanChecks.bad;
import static dev.retort.backend.cuda.PlanChecks.count;
import static dev.retort.backend.cuda.PlanChecks.finite;
import static dev.retort.backend.cuda.PlanChecks.floats;
import static dev.retort.backend.cuda.PlanChecks.optionalFloats;

import java.util.List;

/**
 * The launch plans of kernels/optim.cu: the fused SGD and AdamW steps.
 *
 * <p>Like every plan class, pure functions from an operation's arguments to its kernel launches (checked arguments,
 * grid and block sizes, parameters in the kernels' C types), with no CUDA call, so that validation and launch
 * shapes are tested without a GPU; {@link CudaKernels} runs them. Device pointers are raw addresses ({@code long});
 * a check that fails throws {@link IllegalArgumentException} naming the operation and the argument.
 */
public final class OptimPlans {
    private OptimPlans() {}

    /** The module these plans launch: kernels/optim.cu. */
    static final String MODULE = "optim";

    /** Every kernel of {@link #MODULE}, looked up once when the module loads. */
    static final List<String> KERNELS = List.of("sgd_step_f32", "adamw_step_f32");

    /** Backend.sgdStep; buffer may be 0 when momentum is 0. */
    public static List<Launch> sgdStep(long param, long grad, long buffer, long n, double lr, double momentum,
                                       double dampening, double weightDecay, boolean nesterov, boolean firstStep) {
        String k = "sgdStep";
        count(k, "n", n);
        floats(k, "param", param, n);
        floats(k, "grad", grad, n);
        finite(k, "lr", lr);
        finite(k, "dampening", dampening);
        finite(k, "weight decay", weightDecay);
        if (!(momentum >= 0) || Double.isInfinite(momentum)) {
            throw bad(k, "momentum must be a finite number ≥ 0, got " + momentum);
        }
        if (momentum != 0) {
            floats(k, "momentum buffer", buffer, n);
        } else {
            optionalFloats(k, "momentum buffer", buffer, n);
        }
        return elementwise("sgd_step_f32", n, new KernelArgs().pointer(param).pointer(grad).pointer(buffer).i64(n)
                .f32((float) lr).f32((float) momentum).f32((float) dampening).f32((float) weightDecay)
                .i32(nesterov ? 1 : 0).i32(firstStep ? 1 : 0));
    }

    /** Backend.adamwStep; the scalars are formed in double and rounded to float as FloatKernels does. */
    public static List<Launch> adamwStep(long param, long grad, long firstMoment, long secondMoment, long n, double lr,
                                         double beta1, double beta2, double eps, double weightDecay, long step) {
        String k = "adamwStep";
        count(k, "n", n);
        floats(k, "param", param, n);
        floats(k, "grad", grad, n);
        floats(k, "firstMoment", firstMoment, n);
        floats(k, "secondMoment", secondMoment, n);
        finite(k, "lr", lr);
        finite(k, "weight decay", weightDecay);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw bad(k, "beta1 and beta2 must be in [0, 1), got " + beta1 + " and " + beta2);
        }
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw bad(k, "eps must be a finite number ≥ 0, got " + eps);
        }
        if (step < 1) {
            throw bad(k, "step counts from 1, got " + step);
        }
        return elementwise("adamw_step_f32", n, new KernelArgs().pointer(param).pointer(grad).pointer(firstMoment)
                .pointer(secondMoment).i64(n).f32((float) (1 - lr * weightDecay)).f32((float) beta1)
                .f32((float) beta2).f32((float) (1 - beta1)).f32((float) (1 - beta2))
                .f32((float) (lr / (1 - Math.pow(beta1, step))))
                .f32((float) (1 / Math.sqrt(1 - Math.pow(beta2, step)))).f32((float) eps));
    }
}
