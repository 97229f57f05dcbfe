// Bias over the channel dimension of [N, C, ...] arrays (linear layers: inner = 1; convolutions: inner =
// H·W) and its gradient, the sum over every other dimension.
//
// Kernels:
//   bias_add_f32(const float* x, const float* bias, float* out, long long n, int channels, int inner)
//       out[i] = x[i] + bias[(i / inner) % channels]
//   bias_grad_rows_f32(const float* gy, float* gbias, int rows, int channels)
//       inner = 1: gbias[c] = Σ_r gy[r, c]; block (32, 8), grid ceil(channels / 32): the 32 threads of a
//       warp read 32 adjacent columns of a row (coalesced), 8 warps split the rows
//   bias_grad_planes_f32(const float* gy, float* gbias, int outer, int channels, int inner)
//       gbias[c] = Σ_o Σ_i gy[(o·channels + c)·inner + i]; one block per channel
// The gradients accumulate in double (the CPU adds float partials of one plane into a double).
#include "common.cuh"

extern "C" __global__ void bias_add_f32(const float* __restrict__ x, const float* __restrict__ bias,
                                        float* __restrict__ out, long long n, int channels, int inner) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        const unsigned c = ((unsigned)i / (unsigned)inner) % (unsigned)channels;
        out[i] = __fadd_rn(x[i], bias[c]);
    }
}

extern "C" __global__ void bias_grad_rows_f32(const float* __restrict__ gy, float* __restrict__ gbias, int rows,
                                              int channels) {
    __shared__ double partial[8][33]; // padded: the column reads below would conflict on one bank
    const int c = blockIdx.x * 32 + threadIdx.x;
    double sum = 0.0;
    if (c < channels) {
        for (int r = threadIdx.y; r < rows; r += blockDim.y) {
            sum += (double)gy[(long long)r * channels + c];
        }
    }
    partial[threadIdx.y][threadIdx.x] = sum;
    __syncthreads();
    if (threadIdx.y == 0 && c < channels) {
        double total = 0.0;
        for (int k = 0; k < (int)blockDim.y; k++) {
            total += partial[k][threadIdx.x];
        }
        gbias[c] = (float)total;
    }
}

extern "C" __global__ void bias_grad_planes_f32(const float* __restrict__ gy, float* __restrict__ gbias, int outer,
                                                int channels, int inner) {
    __shared__ double scratch[32];
    const int c = blockIdx.x;
    const unsigned count = (unsigned)outer * (unsigned)inner;
    double sum = 0.0;
    for (unsigned e = threadIdx.x; e < count; e += blockDim.x) {
        const unsigned o = e / (unsigned)inner;
        const unsigned i = e - o * (unsigned)inner;
        sum += (double)gy[((long long)o * channels + c) * inner + i];
    }
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) {
        gbias[c] = (float)sum;
    }
}
