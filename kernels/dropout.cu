// Dropout masks from the counter-based RNG shared with the CPU backend (counter_rng.cuh), so a mask
// drawn on the GPU is bit-identical to FloatKernels.dropoutMask's for the same seed.
//
// Kernels:
//   dropout_mask_f32(float* mask, long long n, unsigned long long key, unsigned int threshold, float keep)
//     mask[i] = keep * (bits24(key, i) >= threshold ? 1 : 0), with key = CounterRng.key(seed),
//     threshold = ceil(p * 2^24) and keep = (float)(1 / (1 - p)) computed on the host exactly as the CPU
//     does (so p = 1 gives keep = inf and a NaN mask there too, as FloatKernels does).
#include "common.cuh"
#include "counter_rng.cuh"

extern "C" __global__ void dropout_mask_f32(float* __restrict__ mask, long long n, unsigned long long key,
                                            unsigned int threshold, float keep) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        const uint32_t bits = counter_rng_bits24(key, (uint64_t)i);
        // Multiply rather than select, as the CPU does: keep * 0 is NaN when keep is infinite.
        mask[i] = keep * (bits >= threshold ? 1.0f : 0.0f);
    }
}
