// Evaluation metrics on the device: the argmax of each row, the number of correct predictions, and the
// per-bin sums of the expected calibration error (Calibration.expectedCalibrationError, 15 bins by
// default), so that evaluating a large test set copies back a few numbers instead of every logit.
//
// Kernels:
//   argmax_last_dim_f32(const float* x, int* out, int rows, int cols)
//       one block per row; the first index of the row maximum, as Backend.argmaxLastDim (index 0 when
//       x[r, 0] is NaN, NaN elsewhere never wins — the CPU's sequential `>` scan)
//   count_equal_partials_i32(const int* a, const int* b, long long n, double* partials)
//       partials[blockIdx.x] = #{i : a[i] == b[i]}; finish with reduce.cu's reduce_finish_i64
//   ece_rows_f32(const float* logits, const int* labels, int rows, int cols, double t, int bins,
//                int* row_bin, double* row_confidence, int* row_correct)
//       one block per row: confidence p = 1 / Σ_c exp((x_c - x_best) / T) with best the first argmax,
//       bin = min(bins-1, max(0, ceil(p·bins) - 1)), correct = (best == label)
//   ece_bins_f64(const int* row_bin, const double* row_confidence, const int* row_correct, int rows,
//                int bins, double* out)
//       one block: out[3b] = rows in bin b, out[3b+1] = correct ones, out[3b+2] = Σ confidence; the host
//       forms ECE = Σ_b |correct_b/n_b - conf_b/n_b| · n_b / rows as Calibration does
// The ECE row pass computes its exponentials in double, as the CPU does, so that a confidence near a bin
// edge lands in the same bin; evaluation is not a hot path, so FP64 costs nothing that matters here.
#include "common.cuh"

__device__ __forceinline__ int row_argmax(const float* row, int cols, ArgMax* scratch) {
    ArgMax best = {0.0f, 0x7fffffff};
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const float v = row[c];
        ArgMax candidate = {v, v != v ? 0x7fffffff : c};
        best = argmax_better(best, candidate);
    }
    best = block_argmax(best, scratch);
    return (row[0] != row[0] || best.index == 0x7fffffff) ? 0 : best.index;
}

extern "C" __global__ void argmax_last_dim_f32(const float* __restrict__ x, int* __restrict__ out, int rows,
                                               int cols) {
    __shared__ ArgMax scratch[32];
    const int best = row_argmax(x + (long long)blockIdx.x * cols, cols, scratch);
    if (threadIdx.x == 0) {
        out[blockIdx.x] = best;
    }
}

extern "C" __global__ void count_equal_partials_i32(const int* __restrict__ a, const int* __restrict__ b,
                                                    long long n, double* __restrict__ partials) {
    __shared__ double scratch[32];
    double count = 0.0;
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        count += a[i] == b[i] ? 1.0 : 0.0;
    }
    count = block_sum(count, scratch);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = count;
    }
}

extern "C" __global__ void ece_rows_f32(const float* __restrict__ logits, const int* __restrict__ labels, int rows,
                                        int cols, double t, int bins, int* __restrict__ row_bin,
                                        double* __restrict__ row_confidence, int* __restrict__ row_correct) {
    __shared__ ArgMax scratch_a[32];
    __shared__ double scratch_d[32];
    const float* row = logits + (long long)blockIdx.x * cols;
    const int best = row_argmax(row, cols, scratch_a);
    const float top = row[best];
    double sum = 0.0;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        // The difference in float, the division and exponential in double: Calibration's expression.
        sum += ::exp((double)__fsub_rn(row[c], top) / t);
    }
    sum = block_sum(sum, scratch_d);
    if (threadIdx.x == 0) {
        const double p = 1.0 / sum;
        // (int) of a double in Java truncates toward zero; ceil() has already made it integral.
        const int bin = min(bins - 1, max(0, (int)ceil(p * bins) - 1));
        row_bin[blockIdx.x] = bin;
        row_confidence[blockIdx.x] = p;
        row_correct[blockIdx.x] = best == labels[blockIdx.x] ? 1 : 0;
    }
}

extern "C" __global__ void ece_bins_f64(const int* __restrict__ row_bin, const double* __restrict__ row_confidence,
                                        const int* __restrict__ row_correct, int rows, int bins,
                                        double* __restrict__ out) {
    __shared__ double scratch[32];
    for (int b = 0; b < bins; b++) {
        double count = 0.0;
        double correct = 0.0;
        double confidence = 0.0;
        for (int r = threadIdx.x; r < rows; r += blockDim.x) {
            if (row_bin[r] == b) {
                count += 1.0;
                correct += (double)row_correct[r];
                confidence += row_confidence[r];
            }
        }
        count = block_sum(count, scratch);
        correct = block_sum(correct, scratch);
        confidence = block_sum(confidence, scratch);
        if (threadIdx.x == 0) {
            out[3 * b] = count;
            out[3 * b + 1] = correct;
            out[3 * b + 2] = confidence;
        }
    }
}
