// Mean squared error between two arrays of one shape (the hybrid mode's feature term, Losses.mse):
// the forward sum of squared differences and the gradient, fused so the difference is never stored.
//
// Kernels:
//   mse_partials_f32(const float* a, const float* b, long long n, double* partials)
//       partials[blockIdx.x] = Σ (a - b)² over the block's share, in double; finish with reduce.cu's
//       reduce_finish_f32(partials, blocks, 1/n, loss) for the mean (at most 1024 blocks)
//   mse_backward_f32(const float* a, const float* b, const float* grad_loss, float* grad_a, float* grad_b,
//                    long long n, double scale)
//       grad_a = grad_loss[0] · scale · (a - b) with scale = 2/n, and grad_b = -grad_a where grad_b is not
//       null; grad_loss is a device scalar (the upstream gradient), read on the device
// Differences and squares are rounded to float as the CPU's composite (sub, square, mean) rounds them.
#include "common.cuh"

extern "C" __global__ void mse_partials_f32(const float* __restrict__ a, const float* __restrict__ b, long long n,
                                            double* __restrict__ partials) {
    __shared__ double scratch[32];
    double sum = 0.0;
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        const float d = __fsub_rn(a[i], b[i]);
        sum += (double)__fmul_rn(d, d);
    }
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = sum;
    }
}

extern "C" __global__ void mse_backward_f32(const float* __restrict__ a, const float* __restrict__ b,
                                            const float* __restrict__ grad_loss, float* __restrict__ grad_a,
                                            float* __restrict__ grad_b, long long n, double scale) {
    const double g = (double)grad_loss[0] * scale;
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        const float d = __fsub_rn(a[i], b[i]);
        const float v = (float)(g * (double)d);
        grad_a[i] = v;
        if (grad_b != nullptr) {
            grad_b[i] = -v;
        }
    }
}
