// Elementwise float32 kernels: every UnaryOp and BinaryOp of dev.retort.backend (same-shape and
// broadcast), broadcastTo, affine, accumulate, fill, and the dtype conversions of Backend.copy.
//
// Kernels (n = element count; op is a code of op_codes.cuh, the Java enums' code()):
//   unary_f32(const float* x, float* out, long long n, int op)
//       op: a UnaryOpCode (UOP_NEG ... UOP_SQUARE)
//   binary_f32(const float* a, const float* b, float* out, long long n, int op)
//       same shapes; op: a BinaryOpCode (BOP_ADD ... BOP_RELU_BACKWARD, which is b > 0 ? a : 0)
//   binary_scalar_f32(const float* a, const float* b, float* out, long long n, int op)
//       b has one element (read from device memory, so no host round trip)
//   binary_broadcast_f32(const float* a, const float* b, float* out, long long n, int op, BroadcastIndex ix)
//       NumPy broadcasting; ix carries the output shape and both operands' strides (common.cuh)
//   broadcast_to_f32(const float* x, float* out, long long n, BroadcastIndex ix)   (uses ix.a_stride)
//   affine_f32(const float* x, float* out, long long n, float alpha, float beta)     out = alpha*x + beta
//   accumulate_f32(const float* x, float* out, long long n, float alpha)              out += alpha*x
//   fill_f32(float* out, long long n, float value)
//   fill_i32(int* out, long long n, int value)
//   convert_f32_i32(const float* x, int* out, long long n)      Java's (int) cast: toward zero, NaN → 0
//   convert_i32_f32(const int* x, float* out, long long n)
//
// Arithmetic that the CPU does in float uses the _rn intrinsics: Java never fuses a multiply and an add,
// and nvcc would, so without them affine and accumulate would differ from the CPU in the last bit. EXP,
// LOG and SQRT: the CPU rounds the double result (correctly rounded); expf/logf are within 2 ulp of it,
// sqrtf is correctly rounded (nvcc's default -prec-sqrt=true), so SQRT matches bit for bit.
#include "common.cuh"
#include "op_codes.cuh"

// A code without a case is a kernel older than its Java enum: NaN everywhere, never another op's result.
__device__ __forceinline__ float unary_apply(int op, float v) {
    switch (op) {
        case UOP_NEG: return -v;
        case UOP_EXP: return expf(v);
        case UOP_LOG: return logf(v);
        // Java's Math.max(v, 0f): NaN stays NaN (fmaxf would return 0), -0 becomes +0.
        case UOP_RELU: return v != v ? v : (v > 0.0f ? v : 0.0f);
        case UOP_SQRT: return __fsqrt_rn(v);
        case UOP_SQUARE: return __fmul_rn(v, v);
        default: return __int_as_float(0x7fffffff);
    }
}

__device__ __forceinline__ float binary_apply(int op, float a, float b) {
    switch (op) {
        case BOP_ADD: return __fadd_rn(a, b);
        case BOP_SUB: return __fsub_rn(a, b);
        case BOP_MUL: return __fmul_rn(a, b);
        case BOP_DIV: return __fdiv_rn(a, b);
        case BOP_RELU_BACKWARD: return b > 0.0f ? a : 0.0f;
        default: return __int_as_float(0x7fffffff);
    }
}

extern "C" __global__ void unary_f32(const float* __restrict__ x, float* __restrict__ out, long long n, int op) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        out[i] = unary_apply(op, x[i]);
    }
}

extern "C" __global__ void binary_f32(const float* __restrict__ a, const float* __restrict__ b,
                                      float* __restrict__ out, long long n, int op) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        out[i] = binary_apply(op, a[i], b[i]);
    }
}

extern "C" __global__ void binary_scalar_f32(const float* __restrict__ a, const float* __restrict__ b,
                                             float* __restrict__ out, long long n, int op) {
    const float bv = b[0];
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        out[i] = binary_apply(op, a[i], bv);
    }
}

extern "C" __global__ void binary_broadcast_f32(const float* __restrict__ a, const float* __restrict__ b,
                                                float* __restrict__ out, long long n, int op, BroadcastIndex ix) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        const unsigned ai = broadcast_offset((unsigned)i, ix, ix.a_stride);
        const unsigned bi = broadcast_offset((unsigned)i, ix, ix.b_stride);
        out[i] = binary_apply(op, a[ai], b[bi]);
    }
}

extern "C" __global__ void broadcast_to_f32(const float* __restrict__ x, float* __restrict__ out, long long n,
                                            BroadcastIndex ix) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        out[i] = x[broadcast_offset((unsigned)i, ix, ix.a_stride)];
    }
}

extern "C" __global__ void affine_f32(const float* __restrict__ x, float* __restrict__ out, long long n,
                                      float alpha, float beta) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        out[i] = __fadd_rn(__fmul_rn(alpha, x[i]), beta);
    }
}

// Not __restrict__: accumulating a tensor into itself (x == out) is legal.
extern "C" __global__ void accumulate_f32(const float* x, float* out, long long n, float alpha) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        out[i] = __fadd_rn(out[i], __fmul_rn(alpha, x[i]));
    }
}

extern "C" __global__ void fill_f32(float* __restrict__ out, long long n, float value) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        out[i] = value;
    }
}

extern "C" __global__ void fill_i32(int* __restrict__ out, long long n, int value) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        out[i] = value;
    }
}

extern "C" __global__ void convert_f32_i32(const float* __restrict__ x, int* __restrict__ out, long long n) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        // cvt.rzi.s32.f32 saturates and maps NaN to 0, exactly Java's narrowing conversion.
        out[i] = __float2int_rz(x[i]);
    }
}

extern "C" __global__ void convert_i32_f32(const int* __restrict__ x, float* __restrict__ out, long long n) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        out[i] = __int2float_rn(x[i]);
    }
}
