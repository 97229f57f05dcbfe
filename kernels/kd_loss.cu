// The fused knowledge-distillation loss and its gradient for modes temperature and hinton
// (docs/kd-modes.md; the GPU twin of FloatDistillationKernels): per row, one read pass gathers both
// softmaxes' statistics by the online-softmax recurrence, a second pass writes ∂L/∂s, and the per-row
// terms are reduced to the batch terms on the device.
//
// Kernels (labels may be null; then every row has no label, as on the CPU):
//   kd_loss_warp_f32(const float* student, const float* teacher, const int* labels, int rows, int cols,
//                    float inv_ts, float inv_tt, float eps, int hard, float w_ce, float w_teacher,
//                    float* grad, float* row_terms)
//       one warp per row, blockDim 256 (8 rows), grid ceil(rows / 8); cols ≤ 1024 (KD_WARP_MAX_COLS):
//       each lane keeps its 32 logits of s and t in registers between the passes
//   kd_loss_block_f32(same arguments)
//       one block per row, grid rows, blockDim a multiple of 32 with 8·blockDim ≥ cols, so cols ≤ 8192
//       (KD_BLOCK_MAX_COLS): each thread keeps 8 logits of s and t in registers
//   kd_loss_stream_f32(same arguments)
//       one block per row, any cols: pass 2 reads the row again (from L2 while it is still there)
//   kd_loss_finish_f32(const float* row_terms, int rows, double ce_weight, double teacher_weight,
//                      float* terms)
//       one block of 1024: terms[1] = Σ_r row_terms[2r] / rows (label CE), terms[2] = Σ_r row_terms[2r+1]
//       / rows (teacher term: KL, or CE against the teacher's argmax), terms[0] = (ce_weight = 0 ? 0 :
//       ce_weight·terms[1]) + teacher_weight·terms[2] — DistillationSpec.total, summed in double
//
// Arguments as FloatDistillationKernels forms them: inv_ts = 1/T_s, inv_tt = 1/T_t, eps the label
// smoothing, hard = teacher-targets=hard, w_ce = α/B (crossEntropyWeight / rows), w_teacher =
// teacherWeight / (T_s·B) for the KL gradient or teacherWeight / B with hard targets; row_terms is a
// workspace of 2·rows floats. A label ≥ cols makes that row's CE NaN (the CPU would read out of the row);
// a negative label means "no label" for that row, as on the CPU.
//
// Why these choices:
// - Exponentials are exp2f of arguments pre-scaled by log2(e)/T, in float: a double exp would cost
//   ~20 FP64 instructions per element and the kernel would stop being memory-bound on most cards. The
//   accuracy target on the GPU is 1e-4 relative (docs/kd-modes.md), which float meets with room to spare.
// - The online recurrence works at two grains: the register kernels take each thread's chunk maximum
//   first (the chunk is already in registers, so no sum needs rescaling inside it) and merge chunks across
//   lanes and warps with the recurrence's rescaling; the streaming kernel applies it element by element.
// - The batch terms come from per-row partials (8 bytes a row, 0.07 % of the traffic at C = 1000) and a
//   one-block finish kernel rather than atomics: the summation order is fixed, so the loss is the same
//   bit pattern on every run, and 65536 double atomics on two addresses would serialise in L2.
// - Registers, not L2, carry a row from pass 1 to pass 2 when it fits: with every SM streaming rows, the
//   bytes touched between a row's two passes can exceed L2, and a re-read that misses costs 8 more bytes
//   per element than the 12-byte floor (read s and t, write the gradient).
// - KL per element is p_t·(e^λ - 1 - λ), λ = ln p_s - ln p_t, rather than p_t·(-λ): the same sum (it adds
//   Σ (p_s - p_t) = 0), but with no cancellation between terms, so float keeps 1e-4 even where the two
//   distributions nearly agree (T = 100: a KL of 1e-5 beside log-partition errors of 1e-7).
// - The gradient store is streaming (__stcs): it is not read again by this kernel and should not evict
//   logits that are.
#include "common.cuh"

#define KD_LOG2E 1.4426950408889634f
#define KD_LN2 0.6931471805599453f
#define KD_NONE 0x7fffffff

struct KdArgs {
    const float* __restrict__ s;
    const float* __restrict__ t;
    const int* __restrict__ labels;
    int rows;
    int cols;
    float ks;  // log2(e) / T_s
    float kt;  // log2(e) / T_t
    float eps;
    float smooth; // eps / cols
    float w_ce;
    float w_teacher;
    float* __restrict__ grad;
    float* __restrict__ row_terms;
};

// Softmax statistics of a part of a row: maxima and sums of exp2((x - max)·k). The student's two sums
// (at T_s and at 1) share one maximum. kt_index is the first index of the teacher's maximum.
struct KdStats {
    float ms, zs, z1, mt, zt;
    int kt_index;
};

// exp2((m_part - m)·k), the factor that rescales a partial sum to a larger maximum; exactly 1 when the
// maxima are equal, which also covers two empty parts (-inf - -inf would be NaN).
__device__ __forceinline__ float kd_rescale(float m_part, float m, float k) {
    return m_part == m ? 1.0f : exp2f((m_part - m) * k);
}

template <bool SOFT, bool PLAIN, bool HARD>
__device__ __forceinline__ KdStats kd_merge(const KdStats& a, const KdStats& b, float ks, float kt) {
    KdStats r;
    r.ms = fmaxf(a.ms, b.ms);
    r.zs = SOFT ? a.zs * kd_rescale(a.ms, r.ms, ks) + b.zs * kd_rescale(b.ms, r.ms, ks) : 0.0f;
    r.z1 = PLAIN ? a.z1 * kd_rescale(a.ms, r.ms, KD_LOG2E) + b.z1 * kd_rescale(b.ms, r.ms, KD_LOG2E) : 0.0f;
    r.mt = fmaxf(a.mt, b.mt);
    r.zt = SOFT ? a.zt * kd_rescale(a.mt, r.mt, kt) + b.zt * kd_rescale(b.mt, r.mt, kt) : 0.0f;
    r.kt_index = KD_NONE;
    if (HARD) {
        ArgMax x = {a.mt, a.kt_index};
        ArgMax y = {b.mt, b.kt_index};
        r.kt_index = argmax_better(x, y).index;
    }
    return r;
}

template <bool SOFT, bool PLAIN, bool HARD>
__device__ __forceinline__ KdStats kd_warp_merge(KdStats a, float ks, float kt) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        KdStats o;
        o.ms = __shfl_xor_sync(RETORT_FULL_MASK, a.ms, offset);
        o.zs = __shfl_xor_sync(RETORT_FULL_MASK, a.zs, offset);
        o.z1 = __shfl_xor_sync(RETORT_FULL_MASK, a.z1, offset);
        o.mt = __shfl_xor_sync(RETORT_FULL_MASK, a.mt, offset);
        o.zt = __shfl_xor_sync(RETORT_FULL_MASK, a.zt, offset);
        o.kt_index = __shfl_xor_sync(RETORT_FULL_MASK, a.kt_index, offset);
        a = kd_merge<SOFT, PLAIN, HARD>(a, o, ks, kt);
    }
    return a;
}

// A row's worth of threads: one warp, or the whole block.
struct KdWarp {
    int lane;
    static constexpr bool block = false;
    __device__ int size() const { return 32; }
};
struct KdBlock {
    int lane;
    static constexpr bool block = true;
    __device__ int size() const { return blockDim.x; }
};

struct KdShared {
    KdStats stats[32];
    float sums[32];
};

template <bool SOFT, bool PLAIN, bool HARD, class G>
__device__ __forceinline__ KdStats kd_group_merge(KdStats a, float ks, float kt, KdShared* shared) {
    a = kd_warp_merge<SOFT, PLAIN, HARD>(a, ks, kt);
    if (!G::block || blockDim.x == 32) {
        return a;
    }
    const int lane = threadIdx.x & 31;
    const int warps = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) {
        shared->stats[threadIdx.x >> 5] = a;
    }
    __syncthreads();
    KdStats empty = {-INFINITY, 0.0f, 0.0f, -INFINITY, 0.0f, KD_NONE};
    a = lane < warps ? shared->stats[lane] : empty;
    return kd_warp_merge<SOFT, PLAIN, HARD>(a, ks, kt);
}

template <class G>
__device__ __forceinline__ float kd_group_sum(float v, KdShared* shared) {
    if (!G::block) {
        return warp_sum(v);
    }
    return block_sum(v, shared->sums);
}

// Per-thread accumulators of pass 2, and pass 2's work on one element: returns ∂L/∂s_c.
struct KdPass2 {
    float kl;     // KL(p_t ‖ p_s) of the thread's elements (see kd_gradient)
    float sum_ds; // Σ (s_c - m_s), for the smoothed CE's Σ log p
};

// Row constants of pass 2.
struct KdRow {
    float ms, mt, l2zs, l2z1, l2zt;
    float dz; // log2 Z_s - log2 Z_t
    int label; // -1: none
    int kt_index;
};

template <bool SOFT, bool PLAIN, bool HARD>
__device__ __forceinline__ float kd_gradient(const KdArgs& a, const KdRow& r, int c, float sv, float tv, KdPass2& acc) {
    const float ds = sv - r.ms;
    float g = 0.0f;
    if (PLAIN) {
        const float p1 = exp2f(fmaf(ds, KD_LOG2E, -r.l2z1));
        acc.sum_ds += ds;
        if (r.label >= 0) {
            const float target = (c == r.label ? 1.0f - a.eps : 0.0f) + a.smooth;
            g += a.w_ce * (p1 - target);
        }
        if (HARD) {
            g += a.w_teacher * (p1 - (c == r.kt_index ? 1.0f : 0.0f));
        }
    }
    if (SOFT) {
        // KL's term is taken as p_t·φ(λ), φ(λ) = e^λ - 1 - λ, λ = ln p_s - ln p_t: this adds Σ (p_s - p_t),
        // which is 0, to Σ p_t (ln p_t - ln p_s). Every term is then ≥ 0 (no cancellation between terms when
        // the distributions nearly agree, as at T = 100), and a rounding error in ln Z_s or ln Z_t changes
        // the sum only to second order. For small |λ|, φ is its Taylor series (e^λ - 1 - λ would cancel);
        // otherwise p_s - p_t - p_t·λ, which also holds when p_t underflows to 0 (the term is then p_s).
        const float us = ds * a.ks;
        const float ut = (tv - r.mt) * a.kt;
        const float ps = exp2f(us - r.l2zs);
        const float pt = exp2f(ut - r.l2zt);
        const float lambda = ((us - ut) - r.dz) * KD_LN2;
        float term;
        if (fabsf(lambda) <= 0.25f) {
            const float series = fmaf(lambda, fmaf(lambda, fmaf(lambda, fmaf(lambda, 1.0f / 720, 1.0f / 120),
                                                                1.0f / 24), 1.0f / 6), 0.5f);
            term = pt * (lambda * lambda * series);
        } else {
            term = (ps - pt) - pt * lambda;
        }
        acc.kl += term;
        g += a.w_teacher * (ps - pt);
    }
    return g;
}

// After pass 1: the row constants; after pass 2: the row's two terms, written by the group's first thread.
template <bool SOFT, bool PLAIN, bool HARD>
__device__ __forceinline__ KdRow kd_row_constants(const KdArgs& a, const KdStats& st, int row, const float* t) {
    KdRow r;
    r.ms = st.ms;
    r.mt = st.mt;
    r.l2zs = SOFT ? log2f(st.zs) : 0.0f;
    r.l2z1 = PLAIN ? log2f(st.z1) : 0.0f;
    r.l2zt = SOFT ? log2f(st.zt) : 0.0f;
    r.dz = r.l2zs - r.l2zt;
    r.label = -1;
    if (a.labels != nullptr) {
        const int y = a.labels[row];
        r.label = y >= a.cols ? -2 : y; // -2: out of range, reported as NaN; no gradient term
    }
    // The CPU's sequential scan keeps index 0 when t[0] is NaN or nothing exceeds it.
    r.kt_index = HARD ? ((t[0] != t[0] || st.kt_index == KD_NONE) ? 0 : st.kt_index) : 0;
    return r;
}

template <bool SOFT, bool PLAIN, bool HARD>
__device__ __forceinline__ void kd_write_terms(const KdArgs& a, const KdRow& r, const KdPass2& acc, int row,
                                               const float* s) {
    float ce = 0.0f;
    const float ln_z1 = r.l2z1 * KD_LN2;
    if (r.label == -2) {
        ce = __int_as_float(0x7fffffff);
    } else if (r.label >= 0) {
        // -((1-ε)·log p_y + ε/C·Σ_c log p_c), log p_c = (s_c - m) - ln Z
        ce = -((1.0f - a.eps) * ((s[r.label] - r.ms) - ln_z1) + a.smooth * (acc.sum_ds - a.cols * ln_z1));
    }
    float teacher_term;
    if (HARD) {
        teacher_term = -((s[r.kt_index] - r.ms) - ln_z1);
    } else {
        teacher_term = acc.kl;
    }
    a.row_terms[2 * (long long)row] = ce;
    a.row_terms[2 * (long long)row + 1] = teacher_term;
}

// Rows that fit: each thread loads its N logits of s and t into registers (all loads issued before any
// arithmetic, for memory-level parallelism), takes its local maxima and sums — the online recurrence at
// the granularity of a thread's chunk, merged across the group with rescaling — then forms the gradient
// from the same registers. Slot k of thread `lane` holds column 4·(lane + (k/4)·size) + k%4 with float4
// loads (VEC), or lane + k·size otherwise; columns grow with k, so the first invalid slot ends a loop.
template <int N, bool SOFT, bool PLAIN, bool HARD, bool VEC, class G>
__device__ __forceinline__ void kd_row_registers(const KdArgs& a, const G g, int row, KdShared* shared) {
    const long long base = (long long)row * a.cols;
    const float* s = a.s + base;
    const float* t = a.t + base;
    const int size = g.size();
    float sv[N];
    float tv[N];

#define KD_COL(k) (VEC ? 4 * (g.lane + ((k) / 4) * size) + ((k) % 4) : g.lane + (k) * size)
// With float4 slots the four of a vector are valid together: one bounds check per vector (k is a
// compile-time constant in the unrolled loops, so the other three checks vanish).
#define KD_FIRST_OF_VECTOR(k) (!VEC || (k) % 4 == 0)

    if (VEC) {
#pragma unroll
        for (int q = 0; q < N / 4; q++) {
            const int i = g.lane + q * size;
            if (4 * i >= a.cols) break;
            const float4 x = __ldg(reinterpret_cast<const float4*>(s) + i);
            const float4 y = __ldg(reinterpret_cast<const float4*>(t) + i);
            sv[4 * q] = x.x; sv[4 * q + 1] = x.y; sv[4 * q + 2] = x.z; sv[4 * q + 3] = x.w;
            tv[4 * q] = y.x; tv[4 * q + 1] = y.y; tv[4 * q + 2] = y.z; tv[4 * q + 3] = y.w;
        }
    } else {
#pragma unroll
        for (int k = 0; k < N; k++) {
            const int c = KD_COL(k);
            if (c >= a.cols) break;
            sv[k] = __ldg(s + c);
            tv[k] = __ldg(t + c);
        }
    }

    KdStats st = {-INFINITY, 0.0f, 0.0f, -INFINITY, 0.0f, KD_NONE};
#pragma unroll
    for (int k = 0; k < N; k++) {
        const int c = KD_COL(k);
        if (KD_FIRST_OF_VECTOR(k) && c >= a.cols) break;
        st.ms = fmaxf(st.ms, sv[k]);
        if (tv[k] > st.mt) { // strict: the first index of the maximum, as the CPU's scan
            st.mt = tv[k];
            st.kt_index = c;
        }
    }
#pragma unroll
    for (int k = 0; k < N; k++) {
        const int c = KD_COL(k);
        if (KD_FIRST_OF_VECTOR(k) && c >= a.cols) break;
        const float ds = sv[k] - st.ms;
        if (SOFT) {
            st.zs += exp2f(ds * a.ks);
            st.zt += exp2f((tv[k] - st.mt) * a.kt);
        }
        if (PLAIN) {
            st.z1 += exp2f(ds * KD_LOG2E);
        }
    }
    st = kd_group_merge<SOFT, PLAIN, HARD, G>(st, a.ks, a.kt, shared);

    const KdRow r = kd_row_constants<SOFT, PLAIN, HARD>(a, st, row, t);
    KdPass2 acc = {0.0f, 0.0f};
    float* grad = a.grad + base;
    if (VEC) {
#pragma unroll
        for (int q = 0; q < N / 4; q++) {
            const int i = g.lane + q * size;
            if (4 * i >= a.cols) break;
            float4 out;
            out.x = kd_gradient<SOFT, PLAIN, HARD>(a, r, 4 * i, sv[4 * q], tv[4 * q], acc);
            out.y = kd_gradient<SOFT, PLAIN, HARD>(a, r, 4 * i + 1, sv[4 * q + 1], tv[4 * q + 1], acc);
            out.z = kd_gradient<SOFT, PLAIN, HARD>(a, r, 4 * i + 2, sv[4 * q + 2], tv[4 * q + 2], acc);
            out.w = kd_gradient<SOFT, PLAIN, HARD>(a, r, 4 * i + 3, sv[4 * q + 3], tv[4 * q + 3], acc);
            __stcs(reinterpret_cast<float4*>(grad) + i, out);
        }
    } else {
#pragma unroll
        for (int k = 0; k < N; k++) {
            const int c = KD_COL(k);
            if (c >= a.cols) break;
            __stcs(grad + c, kd_gradient<SOFT, PLAIN, HARD>(a, r, c, sv[k], tv[k], acc));
        }
    }
#undef KD_COL
#undef KD_FIRST_OF_VECTOR

    acc.kl = SOFT ? kd_group_sum<G>(acc.kl, shared) : 0.0f;
    acc.sum_ds = PLAIN ? kd_group_sum<G>(acc.sum_ds, shared) : 0.0f;
    if (g.lane == 0) {
        kd_write_terms<SOFT, PLAIN, HARD>(a, r, acc, row, s);
    }
}

// Rows of any length: pass 1 runs the online recurrence element by element (a larger value rescales the
// running sums), pass 2 reads the row again with evict-first loads, since it is their last use.
template <bool SOFT, bool PLAIN, bool HARD>
__device__ __forceinline__ void kd_stream_update(KdStats& st, const KdArgs& a, int c, float sv, float tv) {
    if (sv > st.ms) {
        const float d = st.ms - sv;
        if (SOFT) st.zs *= exp2f(d * a.ks);
        if (PLAIN) st.z1 *= exp2f(d * KD_LOG2E);
        st.ms = sv;
    }
    const float ds = sv - st.ms;
    if (SOFT) st.zs += exp2f(ds * a.ks);
    if (PLAIN) st.z1 += exp2f(ds * KD_LOG2E);
    if (tv > st.mt) {
        if (SOFT) st.zt *= exp2f((st.mt - tv) * a.kt);
        st.mt = tv;
        st.kt_index = c;
    }
    if (SOFT) st.zt += exp2f((tv - st.mt) * a.kt);
}

template <bool SOFT, bool PLAIN, bool HARD, bool VEC>
__device__ __forceinline__ void kd_row_stream(const KdArgs& a, int row, KdShared* shared) {
    const long long base = (long long)row * a.cols;
    const float* s = a.s + base;
    const float* t = a.t + base;
    float* grad = a.grad + base;
    const KdBlock g = {(int)threadIdx.x};
    const int size = blockDim.x;

    KdStats st = {-INFINITY, 0.0f, 0.0f, -INFINITY, 0.0f, KD_NONE};
    if (VEC) {
        const int n4 = a.cols >> 2;
#pragma unroll 2
        for (int i = g.lane; i < n4; i += size) {
            const float4 x = __ldg(reinterpret_cast<const float4*>(s) + i);
            const float4 y = __ldg(reinterpret_cast<const float4*>(t) + i);
            kd_stream_update<SOFT, PLAIN, HARD>(st, a, 4 * i, x.x, y.x);
            kd_stream_update<SOFT, PLAIN, HARD>(st, a, 4 * i + 1, x.y, y.y);
            kd_stream_update<SOFT, PLAIN, HARD>(st, a, 4 * i + 2, x.z, y.z);
            kd_stream_update<SOFT, PLAIN, HARD>(st, a, 4 * i + 3, x.w, y.w);
        }
    } else {
        for (int c = g.lane; c < a.cols; c += size) {
            kd_stream_update<SOFT, PLAIN, HARD>(st, a, c, __ldg(s + c), __ldg(t + c));
        }
    }
    st = kd_group_merge<SOFT, PLAIN, HARD, KdBlock>(st, a.ks, a.kt, shared);

    const KdRow r = kd_row_constants<SOFT, PLAIN, HARD>(a, st, row, t);
    KdPass2 acc = {0.0f, 0.0f};
    if (VEC) {
        const int n4 = a.cols >> 2;
#pragma unroll 2
        for (int i = g.lane; i < n4; i += size) {
            const float4 x = __ldcs(reinterpret_cast<const float4*>(s) + i);
            const float4 y = __ldcs(reinterpret_cast<const float4*>(t) + i);
            float4 out;
            out.x = kd_gradient<SOFT, PLAIN, HARD>(a, r, 4 * i, x.x, y.x, acc);
            out.y = kd_gradient<SOFT, PLAIN, HARD>(a, r, 4 * i + 1, x.y, y.y, acc);
            out.z = kd_gradient<SOFT, PLAIN, HARD>(a, r, 4 * i + 2, x.z, y.z, acc);
            out.w = kd_gradient<SOFT, PLAIN, HARD>(a, r, 4 * i + 3, x.w, y.w, acc);
            __stcs(reinterpret_cast<float4*>(grad) + i, out);
        }
    } else {
        for (int c = g.lane; c < a.cols; c += size) {
            __stcs(grad + c, kd_gradient<SOFT, PLAIN, HARD>(a, r, c, __ldcs(s + c), __ldcs(t + c), acc));
        }
    }
    acc.kl = SOFT ? kd_group_sum<KdBlock>(acc.kl, shared) : 0.0f;
    acc.sum_ds = PLAIN ? kd_group_sum<KdBlock>(acc.sum_ds, shared) : 0.0f;
    if (g.lane == 0) {
        kd_write_terms<SOFT, PLAIN, HARD>(a, r, acc, row, s);
    }
}

__device__ __forceinline__ KdArgs kd_args(const float* student, const float* teacher, const int* labels, int rows,
                                          int cols, float inv_ts, float inv_tt, float eps, float w_ce,
                                          float w_teacher, float* grad, float* row_terms) {
    KdArgs a;
    a.s = student;
    a.t = teacher;
    a.labels = labels;
    a.rows = rows;
    a.cols = cols;
    a.ks = KD_LOG2E * inv_ts;
    a.kt = KD_LOG2E * inv_tt;
    a.eps = eps;
    a.smooth = eps / (float)cols;
    a.w_ce = w_ce;
    a.w_teacher = w_teacher;
    a.grad = grad;
    a.row_terms = row_terms;
    return a;
}

// float4 access needs every row to start on 16 bytes: aligned bases and cols a multiple of 4.
__device__ __forceinline__ bool kd_vectorizable(const KdArgs& a) {
    return (a.cols & 3) == 0
        && ((reinterpret_cast<uintptr_t>(a.s) | reinterpret_cast<uintptr_t>(a.t) | reinterpret_cast<uintptr_t>(a.grad)) & 15) == 0;
}

// The mode dispatch is uniform over the grid, so each launch runs one instantiation without divergence.
#define KD_DISPATCH(CALL)                                                                  \
    do {                                                                                   \
        const bool vec = kd_vectorizable(a);                                               \
        if (hard) {                                                                        \
            if (vec) CALL(false, true, true, true); else CALL(false, true, true, false);   \
        } else if (labels != nullptr) {                                                    \
            if (vec) CALL(true, true, false, true); else CALL(true, true, false, false);   \
        } else {                                                                           \
            if (vec) CALL(true, false, false, true); else CALL(true, false, false, false); \
        }                                                                                  \
    } while (0)

#define KD_WARP_SLOTS 32  // cols ≤ 32 lanes × 32 = 1024
#define KD_BLOCK_SLOTS 8  // cols ≤ 8 × blockDim ≤ 8192

extern "C" __global__ void __launch_bounds__(256)
kd_loss_warp_f32(const float* __restrict__ student, const float* __restrict__ teacher, const int* __restrict__ labels,
                 int rows, int cols, float inv_ts, float inv_tt, float eps, int hard, float w_ce, float w_teacher,
                 float* __restrict__ grad, float* __restrict__ row_terms) {
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return; // the whole warp leaves together: no barrier in this kernel
    const KdArgs a = kd_args(student, teacher, labels, rows, cols, inv_ts, inv_tt, eps, w_ce, w_teacher, grad, row_terms);
    const KdWarp g = {(int)(threadIdx.x & 31)};
#define KD_CALL(S, P, H, V) kd_row_registers<KD_WARP_SLOTS, S, P, H, V, KdWarp>(a, g, row, nullptr)
    KD_DISPATCH(KD_CALL);
#undef KD_CALL
}

extern "C" __global__ void __launch_bounds__(1024)
kd_loss_block_f32(const float* __restrict__ student, const float* __restrict__ teacher, const int* __restrict__ labels,
                  int rows, int cols, float inv_ts, float inv_tt, float eps, int hard, float w_ce, float w_teacher,
                  float* __restrict__ grad, float* __restrict__ row_terms) {
    __shared__ KdShared shared;
    const int row = blockIdx.x;
    const KdArgs a = kd_args(student, teacher, labels, rows, cols, inv_ts, inv_tt, eps, w_ce, w_teacher, grad, row_terms);
    const KdBlock g = {(int)threadIdx.x};
#define KD_CALL(S, P, H, V) kd_row_registers<KD_BLOCK_SLOTS, S, P, H, V, KdBlock>(a, g, row, &shared)
    KD_DISPATCH(KD_CALL);
#undef KD_CALL
}

extern "C" __global__ void __launch_bounds__(1024)
kd_loss_stream_f32(const float* __restrict__ student, const float* __restrict__ teacher, const int* __restrict__ labels,
                   int rows, int cols, float inv_ts, float inv_tt, float eps, int hard, float w_ce, float w_teacher,
                   float* __restrict__ grad, float* __restrict__ row_terms) {
    __shared__ KdShared shared;
    const int row = blockIdx.x;
    const KdArgs a = kd_args(student, teacher, labels, rows, cols, inv_ts, inv_tt, eps, w_ce, w_teacher, grad, row_terms);
#define KD_CALL(S, P, H, V) kd_row_stream<S, P, H, V>(a, row, &shared)
    KD_DISPATCH(KD_CALL);
#undef KD_CALL
}

extern "C" __global__ void __launch_bounds__(1024)
kd_loss_finish_f32(const float* __restrict__ row_terms, int rows, double ce_weight, double teacher_weight,
                   float* __restrict__ terms) {
    __shared__ double scratch[32];
    double ce = 0.0;
    double teacher = 0.0;
    for (int r = threadIdx.x; r < rows; r += blockDim.x) {
        ce += (double)row_terms[2 * (long long)r];
        teacher += (double)row_terms[2 * (long long)r + 1];
    }
    ce = block_sum(ce, scratch);
    teacher = block_sum(teacher, scratch);
    if (threadIdx.x == 0) {
        ce /= rows; // rows = 0 gives NaN, as on the CPU
        teacher /= rows;
        terms[0] = (float)((ce_weight == 0.0 ? 0.0 : ce_weight * ce) + teacher_weight * teacher);
        terms[1] = (float)ce;
        terms[2] = (float)teacher;
    }
}
