package dev.retort.backend.cuda;

import static dev.retort.backend.cuda.LaunchShapes.FINISH_BLOCK;
import static dev.retort.backend.cuda.PlanChecks.bad;
import static dev.retort.backend.cuda.PlanChecks.floats;
import static dev.retort.backend.cuda.PlanChecks.nonNegative;
import static dev.retort.backend.cuda.PlanChecks.optionalFloats;

import dev.retort.backend.DistillationSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The launch plans of kernels/kd_loss.cu: the fused distillation loss and its gradient, one row kernel chosen by
 * the class count, then the finish kernel.
 *
 * <p>Like every plan class, pure functions from an operation's arguments to its kernel launches (checked arguments,
 * grid and block sizes, parameters in the kernels' C types), with no CUDA call, so that validation and launch
 * shapes are tested without a GPU; {@link CudaKernels} runs them. Device pointers are raw addresses ({@code long});
 * a check that fails throws {@link IllegalArgumentException} naming the operation and the argument.
 */
public final class KdLossPlans {
    private KdLossPlans() {}

    /** The module these plans launch: kernels/kd_loss.cu. */
    static final String MODULE = "kd_loss";

    /** Every kernel of {@link #MODULE}, looked up once when the module loads. */
    static final List<String> KERNELS = List.of("kd_loss_warp_f32", "kd_loss_block_f32", "kd_loss_stream_f32",
            "kd_loss_finish_f32");

    /** KD: rows of at most this many classes run one warp per row (KD_WARP_SLOTS × 32 in kd_loss.cu). */
    public static final int KD_WARP_MAX_COLS = 1024;
    static final int KD_WARP_ROWS_PER_BLOCK = 8;
    /** KD: rows of at most this many classes run one block per row from registers (8 per thread, ≤ 1024 threads). */
    public static final int KD_BLOCK_MAX_COLS = 8192;
    static final int KD_BLOCK_SLOTS = 8;
    static final int KD_STREAM_BLOCK = 1024;

    /** Bytes of the KD workspace: two floats (label CE, teacher term) per row. */
    public static long distillationWorkspaceBytes(int rows) {
        return 8L * rows;
    }

    /**
     * Backend.distillationLoss on [rows, cols] float32 logits: the row kernel chosen by cols (warp per row up to
     * {@link #KD_WARP_MAX_COLS}, block per row from registers up to {@link #KD_BLOCK_MAX_COLS}, streaming beyond),
     * then the finish kernel that writes {@code terms} (3 floats: total, label CE, teacher term). labels may be 0
     * (no labels: the CE term is 0, as on the CPU); workspace holds {@link #distillationWorkspaceBytes(int)}.
     */
    public static List<Launch> distillationLoss(long student, long teacher, long labels, int rows, int cols,
                                                DistillationSpec spec, long workspace, long terms, long gradStudent) {
        String k = "distillationLoss";
        if (spec == null) {
            throw bad(k, "spec must not be null");
        }
        k = "distillationLoss";
        nonNegative(k, "rows (B)", rows);
        if (cols < 1) {
            throw bad(k, "cols (C, the number of classes) must be ≥ 1, got " + cols);
        }
        long n = (long) rows * cols;
        floats(k, "student", student, n);
        floats(k, "teacher", teacher, n);
        optionalFloats(k, "labels", labels, rows);
        floats(k, "workspace", workspace, 2L * rows);
        floats(k, "terms", terms, 3);
        floats(k, "gradStudent", gradStudent, n);

        List<Launch> launches = new ArrayList<>(2);
        if (rows > 0) {
            boolean hard = spec.hardTeacherTargets();
            double teacherWeight = spec.teacherGradientWeight() / rows;
            KernelArgs args = new KernelArgs().pointer(student).pointer(teacher).pointer(labels).i32(rows).i32(cols)
                    .f32((float) spec.inverseStudentTemperature()).f32((float) spec.inverseTeacherTemperature())
                    .f32((float) spec.labelSmoothing()).i32(hard ? 1 : 0).f32((float) (spec.crossEntropyWeight() / rows))
                    .f32((float) teacherWeight).pointer(gradStudent).pointer(workspace);
            if (cols <= KD_WARP_MAX_COLS) {
                int grid = (rows + KD_WARP_ROWS_PER_BLOCK - 1) / KD_WARP_ROWS_PER_BLOCK;
                launches.add(new Launch("kd_loss_warp_f32", grid, 32 * KD_WARP_ROWS_PER_BLOCK, 1, args));
            } else if (cols <= KD_BLOCK_MAX_COLS) {
                int threads = ((cols + KD_BLOCK_SLOTS - 1) / KD_BLOCK_SLOTS + 31) / 32 * 32;
                launches.add(new Launch("kd_loss_block_f32", rows, threads, 1, args));
            } else {
                launches.add(new Launch("kd_loss_stream_f32", rows, KD_STREAM_BLOCK, 1, args));
            }
        }
        launches.add(new Launch("kd_loss_finish_f32", 1, FINISH_BLOCK, 1, new KernelArgs().pointer(workspace).i32(rows)
                .f64(spec.crossEntropyWeight()).f64(spec.teacherWeight()).pointer(terms)));
        return launches;
    }
}
