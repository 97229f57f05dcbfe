// Reductions: sumTo for any broadcast pattern (the reverse of broadcasting), the sum of a whole array,
// and the count of NaN/infinite elements. Whole-array results come in two deterministic stages — fixed
// per-block partials in double, then one block that adds them in a fixed order — so a loss or a count is
// the same bit pattern on every run, with no atomics and no host round trip between the stages.
//
// Kernels:
//   sum_to_f32(const float* x, float* out, int out_size, SumToIndex ix)
//       one block per output element; ix describes x's kept dimensions (those out keeps) and reduced
//       dimensions (out has 1 where x has more), right-aligned in 8 slots with shape 1 / stride 0 padding.
//       The [1.., kept.., 1..] patterns (bias gradients) have faster kernels in bias.cu.
//   sum_partials_f32(const float* x, long long n, double* partials)            partials[blockIdx.x]
//   count_nonfinite_partials_f32(const float* x, long long n, double* partials) partials[blockIdx.x]
//   reduce_finish_f32(const double* partials, int count, double scale, float* out)
//       one block: out[0] = (float)(scale · Σ partials)   (scale 1 for a sum, 1/n for a mean)
//   reduce_finish_i64(const double* partials, int count, long long* out)
//       one block: out[0] = Σ partials (counts are exact in double below 2^53)
// The partial kernels run with at most 1024 blocks (the host's REDUCE_BLOCKS); partials holds one
// double per block.
#include "common.cuh"

struct SumToIndex {
    int kept_shape[RETORT_MAX_RANK];
    int kept_stride[RETORT_MAX_RANK];
    int red_shape[RETORT_MAX_RANK];
    int red_stride[RETORT_MAX_RANK];
    int red_size;
};

// Offset in x of a linear index over the given (right-aligned, padded) shape and strides.
__device__ __forceinline__ unsigned strided_offset(unsigned i, const int (&shape)[RETORT_MAX_RANK],
                                                   const int (&stride)[RETORT_MAX_RANK]) {
    unsigned offset = 0;
#pragma unroll
    for (int d = RETORT_MAX_RANK - 1; d >= 0; d--) {
        const unsigned dim = (unsigned)shape[d];
        if (dim == 1u) continue; // padding and unit dimensions: skip the division
        const unsigned q = i / dim;
        offset += (i - q * dim) * (unsigned)stride[d];
        i = q;
    }
    return offset;
}

extern "C" __global__ void sum_to_f32(const float* __restrict__ x, float* __restrict__ out, int out_size,
                                      SumToIndex ix) {
    __shared__ double scratch[32];
    const unsigned base = strided_offset(blockIdx.x, ix.kept_shape, ix.kept_stride);
    double sum = 0.0;
    for (unsigned e = threadIdx.x; e < (unsigned)ix.red_size; e += blockDim.x) {
        sum += (double)x[base + strided_offset(e, ix.red_shape, ix.red_stride)];
    }
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) {
        out[blockIdx.x] = (float)sum;
    }
}

extern "C" __global__ void sum_partials_f32(const float* __restrict__ x, long long n, double* __restrict__ partials) {
    __shared__ double scratch[32];
    double sum = 0.0;
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        sum += (double)x[i];
    }
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = sum;
    }
}

extern "C" __global__ void count_nonfinite_partials_f32(const float* __restrict__ x, long long n,
                                                        double* __restrict__ partials) {
    __shared__ double scratch[32];
    double count = 0.0;
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        count += isfinite(x[i]) ? 0.0 : 1.0;
    }
    count = block_sum(count, scratch);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = count;
    }
}

extern "C" __global__ void reduce_finish_f32(const double* __restrict__ partials, int count, double scale,
                                             float* __restrict__ out) {
    __shared__ double scratch[32];
    double sum = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) {
        sum += partials[i];
    }
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) {
        out[0] = (float)(scale * sum);
    }
}

extern "C" __global__ void reduce_finish_i64(const double* __restrict__ partials, int count,
                                             long long* __restrict__ out) {
    __shared__ double scratch[32];
    double sum = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) {
        sum += partials[i];
    }
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) {
        out[0] = (long long)sum;
    }
}
