// Temperature softmax and log-softmax over the last dimension, forward and backward, as the CPU backend
// computes them (FloatKernels.softmax, ReferenceKernels.softmaxBackward).
//
// Kernels (one block per row, grid = rows, blockDim a multiple of 32 chosen by the host from cols):
//   softmax_forward_f32(const float* x, float* y, int rows, int cols, float inv_t, int log)
//       y = softmax(x / T) or log_softmax(x / T), the row maximum subtracted first; inv_t = (float)(1/T)
//   softmax_backward_f32(const float* gy, const float* y, float* gx, int rows, int cols, double t, int log)
//       log:  gx = (gy - exp(y) * Σ gy) / T
//       else: gx = y * ((gy - gy[m]) - Σ_j y_j (gy_j - gy[m])) / T, m the first largest y: the m-th term
//             vanishes exactly, so a saturated row (y[m] rounding to 1) does not cancel to noise.
//
// The forward pass follows FloatKernels line by line: max in float, (x - max) * inv_t in float, the sum
// of exponentials in double, log of the sum rounded to float. The backward pass runs in double per
// element, as the CPU reference does; it is memory-bound, so the FP64 arithmetic is hidden.
#include "common.cuh"

extern "C" __global__ void softmax_forward_f32(const float* __restrict__ x, float* __restrict__ y, int rows,
                                               int cols, float inv_t, int log) {
    __shared__ float scratch_f[32];
    __shared__ double scratch_d[32];
    const long long base = (long long)blockIdx.x * cols;
    const float* xr = x + base;
    float* yr = y + base;

    float max = -INFINITY;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        max = fmaxf(max, xr[c]);
    }
    max = block_max(max, scratch_f);

    double sum = 0.0;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        sum += (double)expf(__fmul_rn(__fsub_rn(xr[c], max), inv_t));
    }
    sum = block_sum(sum, scratch_d);
    const float log_sum = (float)::log(sum);

    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const float shifted = __fsub_rn(__fmul_rn(__fsub_rn(xr[c], max), inv_t), log_sum);
        yr[c] = log ? shifted : expf(shifted);
    }
}

extern "C" __global__ void softmax_backward_f32(const float* __restrict__ gy, const float* __restrict__ y,
                                                float* __restrict__ gx, int rows, int cols, double t, int log) {
    __shared__ double scratch_d[32];
    __shared__ ArgMax scratch_a[32];
    const long long base = (long long)blockIdx.x * cols;
    const float* gyr = gy + base;
    const float* yr = y + base;
    float* gxr = gx + base;

    if (log) {
        double sum = 0.0;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            sum += (double)gyr[c];
        }
        sum = block_sum(sum, scratch_d);
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            gxr[c] = (float)(((double)gyr[c] - ::exp((double)yr[c]) * sum) / t);
        }
        return;
    }

    ArgMax best = {0.0f, 0x7fffffff};
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        ArgMax candidate = {yr[c], yr[c] != yr[c] ? 0x7fffffff : c};
        best = argmax_better(best, candidate);
    }
    best = block_argmax(best, scratch_a);
    // The CPU's scan keeps index 0 when y[0] is NaN or when no later value is larger.
    const int m = (yr[0] != yr[0] || best.index == 0x7fffffff) ? 0 : best.index;
    const double gm = (double)gyr[m];

    double dot = 0.0;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        dot += (double)yr[c] * ((double)gyr[c] - gm);
    }
    dot = block_sum(dot, scratch_d);
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        gxr[c] = (float)((double)yr[c] * (((double)gyr[c] - gm) - dot) / t);
    }
}
