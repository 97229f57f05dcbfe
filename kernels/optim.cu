// Fused optimizer steps on float32 parameters, in place, with PyTorch's semantics as Backend.sgdStep and
// Backend.adamwStep define them; every float operation is the CPU's (FloatKernels), in the same order and
// without fused multiply-adds, so a GPU step equals the CPU step bit for bit.
//
// Kernels:
//   sgd_step_f32(float* param, const float* grad, float* buffer, long long n, float lr, float momentum,
//                float dampening, float weight_decay, int nesterov, int first_step)
//       d = g + wd·p; with momentum ≠ 0: b = first ? d : momentum·b + (1 - dampening)·d, d = nesterov ?
//       d + momentum·b : b (buffer may be null when momentum = 0); p -= lr·d
//   adamw_step_f32(float* param, const float* grad, float* m, float* v, long long n, float decay, float beta1,
//                  float beta2, float one_minus_beta1, float one_minus_beta2, float step_size,
//                  float inverse_correction2, float eps)
//       m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g·g;  p = p·decay - step_size·m / (sqrt(v)·ic2 + eps)
//       with the host computing, in double then rounded to float as FloatKernels does: decay = 1 - lr·wd,
//       1 - β1 and 1 - β2, step_size = lr / (1 - β1^step), ic2 = 1 / sqrt(1 - β2^step)
#include "common.cuh"

#define FADD __fadd_rn
#define FSUB __fsub_rn
#define FMUL __fmul_rn

extern "C" __global__ void sgd_step_f32(float* __restrict__ param, const float* __restrict__ grad,
                                        float* __restrict__ buffer, long long n, float lr, float momentum,
                                        float dampening, float weight_decay, int nesterov, int first_step) {
    const float keep = FSUB(1.0f, dampening);
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        float d = FADD(grad[i], FMUL(weight_decay, param[i]));
        if (momentum != 0.0f) {
            const float b = first_step ? d : FADD(FMUL(momentum, buffer[i]), FMUL(keep, d));
            buffer[i] = b;
            d = nesterov ? FADD(d, FMUL(momentum, b)) : b;
        }
        param[i] = FSUB(param[i], FMUL(lr, d));
    }
}

extern "C" __global__ void adamw_step_f32(float* __restrict__ param, const float* __restrict__ grad,
                                          float* __restrict__ m, float* __restrict__ v, long long n, float decay,
                                          float beta1, float beta2, float one_minus_beta1, float one_minus_beta2,
                                          float step_size, float inverse_correction2, float eps) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        const float g = grad[i];
        const float mi = FADD(FMUL(beta1, m[i]), FMUL(one_minus_beta1, g));
        const float vi = FADD(FMUL(beta2, v[i]), FMUL(FMUL(one_minus_beta2, g), g));
        m[i] = mi;
        v[i] = vi;
        const float denominator = FADD(FMUL(__fsqrt_rn(vi), inverse_correction2), eps);
        param[i] = FSUB(FMUL(param[i], decay), __fdiv_rn(FMUL(step_size, mi), denominator));
    }
}
