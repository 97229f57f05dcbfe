package dev.retort.backend.cuda;

import dev.retort.backend.BinaryOp;
import dev.retort.backend.DistillationSpec;
import dev.retort.backend.UnaryOp;
import java.util.List;
import jcuda.driver.CUstream;

/**
 * One typed Java method per kernel operation of kernels/*.cu, for the CUDA backend. Each method checks its
 * arguments on the host (the plan class of the kernel's module, such as {@link ElementwisePlans} or {@link
 * KdLossPlans}: IllegalArgumentException naming the operation and the argument, before any CUDA call), picks the
 * launch shape, and launches asynchronously on the stream given at
 * construction — no method synchronises with the host.
 *
 * <p>Device pointers are raw addresses ({@code long}, as the native bridge takes them): the address of an
 * allocation plus the byte offset of a view. Element counts are {@code long}, row and column counts {@code int}.
 * Outputs are written on the stream; callers read them after their own synchronisation. Reductions write device
 * scalars (sum, loss, counts) instead of returning values, so that nothing waits.
 */
public final class CudaKernels implements AutoCloseable {
    private final KernelLauncher launcher;

    /** Kernels that run through the given launcher (tests pass recorders or an emulator). */
    public CudaKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    /**
     * Loads every kernel image into the current CUDA context and binds the launches to {@code stream}.
     *
     * @throws IllegalStateException when the images are unavailable (with their reason)
     * @throws KernelLoadException   when an image has no code this GPU and driver can run
     */
    public static CudaKernels load(KernelImages images, CUstream stream) {
        return new CudaKernels(new JCudaKernelLauncher(images, stream));
    }

    private void run(List<Launch> launches) {
        for (Launch l : launches) {
            launcher.launch(l);
        }
    }

    @Override
    public void close() {
        if (launcher instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("CUDA kernels: unloading the modules failed: " + e.getMessage(), e);
            }
        }
    }

    // ---- elementwise (elementwise.cu, dropout.cu) ---------------------------------------------

    /** {@code out = op(x)}; kernel unary_f32. */
    public void unary(UnaryOp op, long x, long out, long n) {
        run(ElementwisePlans.unary(op, x, out, n));
    }

    /** {@code out = op(a, b)} on same-size arrays; kernel binary_f32. */
    public void binary(BinaryOp op, long a, long b, long out, long n) {
        run(ElementwisePlans.binary(op, a, b, out, n));
    }

    /** {@code out = op(a, b[0])} with b a one-element device array; kernel binary_scalar_f32. */
    public void binaryScalar(BinaryOp op, long a, long b, long out, long n) {
        run(ElementwisePlans.binaryScalar(op, a, b, out, n));
    }

    /** {@code out = op(a, b)} with NumPy broadcasting (rank ≤ 8); kernel binary_broadcast_f32. */
    public void binaryBroadcast(BinaryOp op, long a, int[] aShape, long b, int[] bShape, long out, int[] outShape) {
        run(ElementwisePlans.binaryBroadcast(op, a, aShape, b, bShape, out, outShape));
    }

    /** Backend.broadcastTo; kernel broadcast_to_f32. */
    public void broadcastTo(long x, int[] xShape, long out, int[] outShape) {
        run(ElementwisePlans.broadcastTo(x, xShape, out, outShape));
    }

    /** Backend.transposeLastTwo: x [batch, rows, cols] into out [batch, cols, rows]; kernel broadcast_to_f32. */
    public void transposeLastTwo(long x, long batch, int rows, int cols, long out) {
        run(ElementwisePlans.transposeLastTwo(x, batch, rows, cols, out));
    }

    /** {@code out = alpha·x + beta}; kernel affine_f32. */
    public void affine(long x, long out, long n, double alpha, double beta) {
        run(ElementwisePlans.affine(x, out, n, alpha, beta));
    }

    /** {@code out += alpha·x}; kernel accumulate_f32. */
    public void accumulate(long x, long out, long n, double alpha) {
        run(ElementwisePlans.accumulate(x, out, n, alpha));
    }

    /** FLOAT32 fill; kernel fill_f32. */
    public void fill(long out, long n, double value) {
        run(ElementwisePlans.fill(out, n, value));
    }

    /** INT32 fill; kernel fill_i32. */
    public void fillInt(long out, long n, double value) {
        run(ElementwisePlans.fillInt(out, n, value));
    }

    /** Backend.copy from FLOAT32 to INT32 (Java's (int) conversion); kernel convert_f32_i32. */
    public void convertFloatToInt(long x, long out, long n) {
        run(ElementwisePlans.convertFloatToInt(x, out, n));
    }

    /** Backend.copy from INT32 to FLOAT32; kernel convert_i32_f32. */
    public void convertIntToFloat(long x, long out, long n) {
        run(ElementwisePlans.convertIntToFloat(x, out, n));
    }

    /** Backend.dropoutMask, bit-identical to the CPU's; kernel dropout_mask_f32. */
    public void dropoutMask(long mask, long n, long seed, double p) {
        run(DropoutPlans.dropoutMask(mask, n, seed, p));
    }

    // ---- rows (softmax.cu, cross_entropy.cu, kd_loss.cu) --------------------------------------

    /** Backend.softmax over [rows, cols]; kernel softmax_forward_f32. */
    public void softmax(long x, long out, int rows, int cols, double temperature, boolean log) {
        run(SoftmaxPlans.softmaxForward(x, out, rows, cols, temperature, log));
    }

    /** Backend.softmaxBackward over [rows, cols]; kernel softmax_backward_f32. */
    public void softmaxBackward(long gradOutput, long output, long gradInput, int rows, int cols, double temperature,
                                boolean log) {
        run(SoftmaxPlans.softmaxBackward(gradOutput, output, gradInput, rows, cols, temperature, log));
    }

    /** Backend.nllForward; labels INT32; kernel nll_forward_f32. */
    public void nllForward(long logProbs, long labels, long lossPerRow, int rows, int cols, double smoothing) {
        run(CrossEntropyPlans.nllForward(logProbs, labels, lossPerRow, rows, cols, smoothing));
    }

    /** Backend.nllBackward; kernel nll_backward_f32. */
    public void nllBackward(long gradLossPerRow, long labels, long gradLogProbs, int rows, int cols, double smoothing) {
        run(CrossEntropyPlans.nllBackward(gradLossPerRow, labels, gradLogProbs, rows, cols, smoothing));
    }

    /**
     * Backend.distillationLoss: terms (3 floats: total, label CE, teacher term) and gradStudent [rows, cols];
     * labels is 0 when there are none. workspace: {@link KdLossPlans#distillationWorkspaceBytes(int)} bytes.
     * Kernels kd_loss_warp_f32 / kd_loss_block_f32 / kd_loss_stream_f32 (by cols), then kd_loss_finish_f32.
     */
    public void distillationLoss(long student, long teacher, long labels, int rows, int cols, DistillationSpec spec,
                                 long workspace, long terms, long gradStudent) {
        run(KdLossPlans.distillationLoss(student, teacher, labels, rows, cols, spec, workspace, terms, gradStudent));
    }

    // ---- bias and reductions (bias.cu, reduce.cu) ---------------------------------------------

    /** {@code out = x + bias[channel]} over [n / (channels·inner), channels, inner]; kernel bias_add_f32. */
    public void biasAdd(long x, long bias, long out, long n, int channels, int inner) {
        run(BiasPlans.biasAdd(x, bias, out, n, channels, inner));
    }

    /** The bias gradient over [outer, channels, inner]; kernels bias_grad_rows_f32 / bias_grad_planes_f32. */
    public void biasGrad(long gradOutput, long gradBias, int outer, int channels, int inner) {
        run(BiasPlans.biasGrad(gradOutput, gradBias, outer, channels, inner));
    }

    /**
     * Backend.sumTo; workspace ({@link ReducePlans#reduceWorkspaceBytes()}) is used when everything is summed.
     * Kernels bias_grad_*, sum_to_f32, or sum_partials_f32 + reduce_finish_f32, by the shapes.
     */
    public void sumTo(long x, int[] xShape, long out, int[] outShape, long workspace) {
        run(ReducePlans.sumTo(x, xShape, out, outShape, workspace));
    }

    /** out[0] = Σ x as a float; kernels sum_partials_f32 + reduce_finish_f32. */
    public void sum(long x, long n, long workspace, long out) {
        run(ReducePlans.sum(x, n, workspace, out));
    }

    /** out[0] = the number of NaN/infinite elements, a 64-bit integer; kernels count_nonfinite_partials_f32 + reduce_finish_i64. */
    public void countNonFinite(long x, long n, long workspace, long out) {
        run(ReducePlans.countNonFinite(x, n, workspace, out));
    }

    // ---- MSE (mse.cu) -----------------------------------------------------------------------------

    /** loss[0] = mean((a - b)²); kernels mse_partials_f32 + reduce_finish_f32. */
    public void mseForward(long a, long b, long n, long workspace, long loss) {
        run(MsePlans.mseForward(a, b, n, workspace, loss));
    }

    /** gradA = gradLoss[0]·2(a - b)/n, gradB = -gradA (gradB may be 0); kernel mse_backward_f32. */
    public void mseBackward(long a, long b, long gradLoss, long gradA, long gradB, long n) {
        run(MsePlans.mseBackward(a, b, gradLoss, gradA, gradB, n));
    }

    // ---- optimizers (optim.cu) ----------------------------------------------------------------

    /** Backend.sgdStep, bit-identical to the CPU; kernel sgd_step_f32. */
    public void sgdStep(long param, long grad, long momentumBuffer, long n, double lr, double momentum,
                        double dampening, double weightDecay, boolean nesterov, boolean firstStep) {
        run(OptimPlans.sgdStep(param, grad, momentumBuffer, n, lr, momentum, dampening, weightDecay, nesterov,
                firstStep));
    }

    /** Backend.adamwStep, bit-identical to the CPU; kernel adamw_step_f32. */
    public void adamwStep(long param, long grad, long firstMoment, long secondMoment, long n, double lr, double beta1,
                          double beta2, double eps, double weightDecay, long step) {
        run(OptimPlans.adamwStep(param, grad, firstMoment, secondMoment, n, lr, beta1, beta2, eps, weightDecay, step));
    }

    // ---- metrics (metrics.cu) -----------------------------------------------------------------

    /** Backend.argmaxLastDim into INT32; kernel argmax_last_dim_f32. */
    public void argmaxLastDim(long x, long out, int rows, int cols) {
        run(MetricsPlans.argmaxLastDim(x, out, rows, cols));
    }

    /** out[0] (64-bit) = #{i : a[i] == b[i]} of INT32 arrays; kernels count_equal_partials_i32 + reduce_finish_i64. */
    public void countEqual(long a, long b, long n, long workspace, long out) {
        run(MetricsPlans.countEqual(a, b, n, workspace, out));
    }

    /** ECE bin sums (doubles [3·bins]: count, correct, Σ confidence); kernels ece_rows_f32 + ece_bins_f64. */
    public void eceBins(long logits, long labels, int rows, int cols, double temperature, int bins, long workspace,
                        long out) {
        run(MetricsPlans.eceBins(logits, labels, rows, cols, temperature, bins, workspace, out));
    }

    /** ECE from {@link #eceBins}'s output, as Calibration.expectedCalibrationError forms it. */
    public static double expectedCalibrationError(double[] binSums, int rows) {
        double ece = 0;
        for (int b = 0; b + 2 < binSums.length; b += 3) {
            double count = binSums[b];
            if (count > 0) {
                ece += Math.abs(binSums[b + 1] / count - binSums[b + 2] / count) * count / rows;
            }
        }
        return ece;
    }
}
