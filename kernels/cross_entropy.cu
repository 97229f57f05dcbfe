// Negative log-likelihood with label smoothing over log-probabilities [rows, cols], forward and backward,
// as Backend.nllForward / nllBackward define it (computed in double like ReferenceKernels, so the float
// results match the CPU's bit for bit up to the order of the row sum).
//
// Kernels:
//   nll_forward_f32(const float* logp, const int* labels, float* loss, int rows, int cols, double smoothing)
//       one block per row: loss[r] = -((1-ε)·logp[r, y_r] + ε/C·Σ_c logp[r, c]).
//       A label outside [0, cols) gives NaN for that row instead of reading out of bounds.
//   nll_backward_f32(const float* grad_loss, const int* labels, float* grad_logp, int rows, int cols,
//                    double smoothing)
//       elementwise over rows·cols: grad[r, c] = -grad_loss[r]·((c == y_r ? 1-ε : 0) + ε/C)
#include "common.cuh"

extern "C" __global__ void nll_forward_f32(const float* __restrict__ logp, const int* __restrict__ labels,
                                           float* __restrict__ loss, int rows, int cols, double smoothing) {
    __shared__ double scratch[32];
    const int r = blockIdx.x;
    const float* row = logp + (long long)r * cols;
    // Summed even when ε = 0, as the CPU does: 0·Σ is NaN when a log-probability is -inf, and parity
    // includes that.
    double sum = 0.0;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        sum += (double)row[c];
    }
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) {
        const int y = labels[r];
        if (y < 0 || y >= cols) {
            loss[r] = __int_as_float(0x7fffffff);
        } else {
            loss[r] = (float)-((1.0 - smoothing) * (double)row[y] + smoothing / cols * sum);
        }
    }
}

extern "C" __global__ void nll_backward_f32(const float* __restrict__ grad_loss, const int* __restrict__ labels,
                                            float* __restrict__ grad_logp, int rows, int cols, double smoothing) {
    const long long n = (long long)rows * cols;
    const double smooth = smoothing / cols;
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        const int r = (int)(i / cols);
        const int c = (int)(i - (long long)r * cols);
        const double target = (c == labels[r] ? 1.0 - smoothing : 0.0) + smooth;
        grad_logp[i] = (float)(-(double)grad_loss[r] * target);
    }
}
