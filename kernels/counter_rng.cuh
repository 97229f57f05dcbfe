// The counter-based random numbers behind dropout, line for line dev.retort.backend.CounterRng, so the
// CPU and the GPU draw bit-identical masks. Host-compilable too: CounterRngFormulaTest builds it with
// g++ and compares it with the Java class.
//
// Java's long arithmetic wraps modulo 2^64 and `>>>` is a logical shift; uint64_t behaves the same.
//   mix(z)          = SplitMix64's finaliser
//   key(seed)       = mix(seed)
//   bits24(key, i)  = mix(key + i * 0x9E3779B97F4A7C15) >>> 40          (24 bits, in [0, 2^24))
//   uniform(seed,i) = bits24(key(seed), i) * 2^-24
//   mask[i]         = keep * (bits24(key, i) >= threshold), threshold = ceil(p * 2^24), keep = 1/(1-p)
#pragma once

#include <stdint.h>

#ifndef __CUDACC__
#define __host__
#define __device__
#define __forceinline__ inline
#endif

__host__ __device__ __forceinline__ uint64_t counter_rng_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

__host__ __device__ __forceinline__ uint64_t counter_rng_key(uint64_t seed) {
    return counter_rng_mix(seed);
}

__host__ __device__ __forceinline__ uint32_t counter_rng_bits24(uint64_t key, uint64_t index) {
    return (uint32_t)(counter_rng_mix(key + index * 0x9E3779B97F4A7C15ull) >> 40);
}
