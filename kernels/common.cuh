// Helpers shared by every kernel file: grid-stride loops, warp and block reductions, and the broadcast
// index descriptor that the Java side passes by value.
//
// Conventions of all kernels/*.cu (dev.retort.backend.cuda.CudaKernels mirrors them):
// - float32 data, INT32 labels and indices, contiguous row-major arrays;
// - element counts are `long long` (Java long), row and column counts `int`;
// - entry points are extern "C" so the Java side finds them by plain name (cuModuleGetFunction);
// - blockDim.x is always a multiple of 32 (the launcher guarantees it), so warp shuffles see full warps;
// - sums that span many elements accumulate in double: a double add costs little even on cards with a
//   1/64-rate FP64 unit, since these kernels are memory-bound, and it keeps results within float rounding
//   of the CPU backend (which does the same). Exponentials stay in float: that is where FP64 would hurt.
#pragma once

#include <stdint.h>

#define RETORT_FULL_MASK 0xffffffffu

// The broadcast of an array into an output shape, rank ≤ 8: out_shape and, per operand, its element
// strides over the output's dimensions (0 where the operand is broadcast), right-aligned in the arrays.
// Passed by value as 25 ints (Java: an int[25] holding rank, out_shape[8], a_stride[8], b_stride[8]).
#define RETORT_MAX_RANK 8
struct BroadcastIndex {
    int rank;
    int out_shape[RETORT_MAX_RANK];
    int a_stride[RETORT_MAX_RANK];
    int b_stride[RETORT_MAX_RANK];
};

// The first element index this thread handles and the stride of a grid-stride loop, in 64 bits so that
// index + stride never overflows for arrays near 2^31 elements.
__device__ __forceinline__ long long grid_start() {
    return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ long long grid_stride() {
    return (long long)gridDim.x * blockDim.x;
}

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(RETORT_FULL_MASK, v, offset);
    }
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(RETORT_FULL_MASK, v, offset));
    }
    return v;
}

// Sum over the whole block, returned to every thread. `scratch` holds 32 values. The leading barrier
// protects scratch from a previous call whose readers may still be running; every warp then reduces the
// per-warp partials itself, so no second barrier is needed to broadcast the result.
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
    v = warp_sum(v);
    const int warps = blockDim.x >> 5;
    if (warps == 1) {
        return v;
    }
    const int lane = threadIdx.x & 31;
    __syncthreads();
    if (lane == 0) {
        scratch[threadIdx.x >> 5] = v;
    }
    __syncthreads();
    v = lane < warps ? scratch[lane] : (T)0;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    v = warp_max(v);
    const int warps = blockDim.x >> 5;
    if (warps == 1) {
        return v;
    }
    const int lane = threadIdx.x & 31;
    __syncthreads();
    if (lane == 0) {
        scratch[threadIdx.x >> 5] = v;
    }
    __syncthreads();
    v = lane < warps ? scratch[lane] : -INFINITY;
    return warp_max(v);
}

// The first index of the largest non-NaN value, as the CPU's sequential `x[c] > x[best]` scan finds it
// whenever x[0] is not NaN (the caller handles a NaN x[0]). Invalid candidates carry index INT_MAX.
struct ArgMax {
    float value;
    int index;
};

__device__ __forceinline__ ArgMax argmax_better(ArgMax a, ArgMax b) {
    if (b.index == 0x7fffffff) return a;
    if (a.index == 0x7fffffff) return b;
    if (b.value > a.value || (b.value == a.value && b.index < a.index)) return b;
    return a;
}

__device__ __forceinline__ ArgMax warp_argmax(ArgMax a) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        ArgMax o;
        o.value = __shfl_xor_sync(RETORT_FULL_MASK, a.value, offset);
        o.index = __shfl_xor_sync(RETORT_FULL_MASK, a.index, offset);
        a = argmax_better(a, o);
    }
    return a;
}

// `scratch` holds 32 ArgMax values.
__device__ __forceinline__ ArgMax block_argmax(ArgMax a, ArgMax* scratch) {
    a = warp_argmax(a);
    const int warps = blockDim.x >> 5;
    if (warps == 1) {
        return a;
    }
    const int lane = threadIdx.x & 31;
    __syncthreads();
    if (lane == 0) {
        scratch[threadIdx.x >> 5] = a;
    }
    __syncthreads();
    ArgMax none = {0.0f, 0x7fffffff};
    a = lane < warps ? scratch[lane] : none;
    return warp_argmax(a);
}

// Offset of output element i in an operand with the given broadcast strides. Shapes are right-aligned
// (dimension d of a rank-r shape sits at index 8 - r + d) so that the fully unrolled loop indexes the
// parameter arrays with constants: a dynamic index would copy the struct to local memory. Arrays have
// fewer than 2^31 elements (the Java side's limit), so 32-bit division suffices.
__device__ __forceinline__ unsigned broadcast_offset(unsigned i, const BroadcastIndex& ix, const int (&stride)[RETORT_MAX_RANK]) {
    unsigned offset = 0;
#pragma unroll
    for (int d = RETORT_MAX_RANK - 1; d >= 0; d--) {
        if (d < RETORT_MAX_RANK - ix.rank) break;
        const unsigned dim = (unsigned)ix.out_shape[d];
        const unsigned q = i / dim;
        offset += (i - q * dim) * (unsigned)stride[d];
        i = q;
    }
    return offset;
}
