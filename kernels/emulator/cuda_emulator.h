// A CPU stand-in for the parts of CUDA that kernels/*.cu use, so the real kernel sources compile with g++
// and run on a machine without a GPU: each block's threads are fibers that take turns on one OS thread,
// __syncthreads is a barrier over the block, warp shuffles exchange through a per-warp slot array between
// two barriers, and __shared__ variables become statics (blocks run one after another).
//
// What this checks: the kernels' arithmetic, indexing, reductions, launch shapes and the C types of their
// parameters (kernel_runner.cpp compares them with what the Java side passes). What it cannot check:
// GPU timing and occupancy, register spills, float4 alignment faults, and the exact ulp of the GPU's
// exp2f/expf/logf (glibc's are used).
#pragma once

#include <ucontext.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __CUDA_EMULATOR__ 1

using std::isfinite;

struct uint3 {
    unsigned x, y, z;
};
struct alignas(16) float4 {
    float x, y, z, w;
};

namespace emu {

// Every CUDA thread of a block is a fiber (ucontext) on the one OS thread that runs the grid: a barrier or a
// shuffle yields to the scheduler, which resumes the block's other fibers in turn. This keeps the
// emulation deterministic and cheap on a small machine, where an OS thread per CUDA thread was not.
struct Fiber;
inline Fiber* current = nullptr;
inline ucontext_t scheduler;

inline void yield();

// A reusable barrier whose party count shrinks when a thread returns (a returned CUDA thread no longer
// takes part in __syncthreads or shuffles).
class Barrier {
public:
    explicit Barrier(int parties) : live_(parties) {}

    void wait() {
        const long generation = generation_;
        if (++arrived_ == live_) {
            arrived_ = 0;
            generation_++;
        } else {
            while (generation == generation_) yield();
        }
    }

    void leave() {
        live_--;
        if (arrived_ > 0 && arrived_ == live_) {
            arrived_ = 0;
            generation_++;
        }
    }

private:
    int live_;
    int arrived_ = 0;
    long generation_ = 0;
};

struct Warp {
    explicit Warp(int lanes) : barrier(lanes) {}
    Barrier barrier;
    unsigned char slot[32][8];
};

struct Context {
    uint3 thread_idx;
    uint3 block_idx;
    uint3 block_dim;
    uint3 grid_dim;
    int lane;
    Barrier* block;
    Warp* warp;
};

struct Fiber {
    ucontext_t uc;
    Context ctx;
    bool done;
};

// Direct mode (run_grid's barrier_free): threads run one after another as plain calls, with no fiber to yield
// from, so reaching a barrier or a shuffle there is an error rather than a wrong result.
inline bool direct = false;
inline long yields = 0;

inline void yield() {
    if (direct) {
        throw std::runtime_error("the kernel reached __syncthreads or a shuffle in a block run without fibers");
    }
    yields++;
    swapcontext(&current->uc, &scheduler);
}

}  // namespace emu

#define threadIdx (emu::current->ctx.thread_idx)
#define blockIdx (emu::current->ctx.block_idx)
#define blockDim (emu::current->ctx.block_dim)
#define gridDim (emu::current->ctx.grid_dim)

inline void __syncthreads() {
    emu::current->ctx.block->wait();
}

template <typename T>
inline T __shfl_xor_sync(unsigned, T v, int offset) {
    static_assert(sizeof(T) <= 8, "shuffle of more than 8 bytes");
    emu::Warp* w = emu::current->ctx.warp;
    const int lane = emu::current->ctx.lane;
    std::memcpy(w->slot[lane], &v, sizeof(T));
    w->barrier.wait();
    T r;
    std::memcpy(&r, w->slot[lane ^ offset], sizeof(T));
    w->barrier.wait();
    return r;
}

inline float __ldg(const float* p) { return *p; }
inline float4 __ldg(const float4* p) { return *p; }
inline float __ldcs(const float* p) { return *p; }
inline float4 __ldcs(const float4* p) { return *p; }
inline void __stcs(float* p, float v) { *p = v; }
inline void __stcs(float4* p, float4 v) { *p = v; }

// Round-to-nearest float arithmetic: the runner is compiled with -ffp-contract=off, so these are single
// IEEE operations, as on the GPU.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }

inline float __int_as_float(int bits) {
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}
inline float __int2float_rn(int v) { return (float)v; }
// cvt.rzi.s32.f32: toward zero, saturating, NaN to 0 (a plain C cast is undefined out of range).
inline int __float2int_rz(float v) {
    if (v != v) return 0;
    if (v >= 2147483648.0f) return 2147483647;
    if (v <= -2147483648.0f) return (-2147483647 - 1);
    return (int)v;
}

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }

namespace emu {

inline const std::function<void()>* running_kernel = nullptr;

inline void fiber_entry() {
    (*running_kernel)();
    current->ctx.warp->barrier.leave();
    current->ctx.block->leave();
    current->done = true;
    // returning resumes uc_link, the scheduler
}

// Runs one block's threads as plain calls, one after another (see run_grid's barrier_free).
inline void run_block_direct(unsigned b, unsigned grid, unsigned block_x, unsigned block_y,
                             const std::function<void()>& kernel) {
    Fiber f{};
    Barrier block(1);
    Warp warp(1);
    f.ctx.block_idx = {b, 0, 0};
    f.ctx.block_dim = {block_x, block_y, 1};
    f.ctx.grid_dim = {grid, 1, 1};
    f.ctx.block = &block;
    f.ctx.warp = &warp;
    current = &f;
    direct = true;
    try {
        for (unsigned t = 0; t < block_x * block_y; t++) {
            f.ctx.thread_idx = {t % block_x, t / block_x, 0};
            f.ctx.lane = (int)(t % 32);
            kernel();
        }
    } catch (...) {
        direct = false;
        current = nullptr;
        throw;
    }
    direct = false;
    current = nullptr;
}

// Runs a grid: blocks one after another, each block's threads as fibers taking turns. With barrier_free (a
// per-kernel flag the caller keeps, initially false): when a whole block ran without any thread yielding, the
// kernel uses no barrier or shuffle, the flag is set, and its threads run from then on as plain calls, which
// costs a fraction of a fiber switch (what makes the emulated device usable for whole training steps).
inline void run_grid(unsigned grid, unsigned block_x, unsigned block_y, const std::function<void()>& kernel,
                     bool* barrier_free = nullptr) {
    const unsigned threads = block_x * block_y;
    if (threads == 0 || threads % 32 != 0 || threads > 1024) {
        throw std::runtime_error("block size must be a positive multiple of 32, at most 1024");
    }
    if (barrier_free != nullptr && *barrier_free) {
        for (unsigned b = 0; b < grid; b++) run_block_direct(b, grid, block_x, block_y, kernel);
        return;
    }
    const long yields_before = yields;
    constexpr size_t stack_bytes = 256 * 1024;
    static std::vector<std::vector<unsigned char>> stacks;
    while (stacks.size() < threads) stacks.emplace_back(stack_bytes);
    std::vector<Fiber> fibers(threads);
    running_kernel = &kernel;
    for (unsigned b = 0; b < grid; b++) {
        Barrier block(threads);
        std::vector<Warp> warps;
        warps.reserve(threads / 32);
        for (unsigned w = 0; w < threads / 32; w++) warps.emplace_back(32);
        for (unsigned t = 0; t < threads; t++) {
            Fiber& f = fibers[t];
            f.ctx.thread_idx = {t % block_x, t / block_x, 0};
            f.ctx.block_idx = {b, 0, 0};
            f.ctx.block_dim = {block_x, block_y, 1};
            f.ctx.grid_dim = {grid, 1, 1};
            f.ctx.lane = (int)(t % 32);
            f.ctx.block = &block;
            f.ctx.warp = &warps[t / 32];
            f.done = false;
            getcontext(&f.uc);
            f.uc.uc_stack.ss_sp = stacks[t].data();
            f.uc.uc_stack.ss_size = stack_bytes;
            f.uc.uc_link = &scheduler;
            makecontext(&f.uc, fiber_entry, 0);
        }
        for (unsigned remaining = threads; remaining > 0;) {
            remaining = 0;
            for (unsigned t = 0; t < threads; t++) {
                if (fibers[t].done) continue;
                current = &fibers[t];
                swapcontext(&scheduler, &fibers[t].uc);
                if (!fibers[t].done) remaining++;
            }
        }
        current = nullptr;
        if (barrier_free != nullptr && yields == yields_before) {
            *barrier_free = true;
            for (unsigned rest = b + 1; rest < grid; rest++) run_block_direct(rest, grid, block_x, block_y, kernel);
            return;
        }
    }
}

}  // namespace emu
