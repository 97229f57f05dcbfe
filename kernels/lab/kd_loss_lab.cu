// The KD loss lab, llm.c style: a CPU reference in double, numbered kernel variants, validation of every
// variant against the reference, and a benchmark that sweeps block sizes and compares the achieved
// bandwidth with a device-to-device cudaMemcpy measured in the same run. Variants 2-4 are the mainline
// kernels of kernels/kd_loss.cu (included below), so the lab measures exactly what Retort runs.
//
// Build: kernels/build.sh --lab OUTDIR LOGDIR (fat binary, same targets as the fatbins; needs only the
// driver at run time), or by hand: nvcc -O3 -std=c++17 -arch=sm_90 kernels/lab/kd_loss_lab.cu -o kd_loss_lab
// Without a GPU, on the CPU emulator (kernels/emulator/cuda_runtime.h; validation is meaningful there, timings
// are the emulator's): g++ -std=c++17 -O2 -ffp-contract=off -I kernels/emulator -x c++ kernels/lab/kd_loss_lab.cu
//
// Usage: kd_loss_lab [--rows B] [--cols C] [--mode hinton|temperature|hard] [--T 4] [--alpha 0.1]
//                    [--eps 0.1] [--reps 20] [--variant N] [--validate-rows R] [--no-validate] [--no-bench]
//   defaults: B = 65536, C = 1000, hinton, T = 4, α = 0.1, ε = 0.1, every variant.
//   --validate-rows R validates every case with at most R rows (each case's columns, mode, T and scale kept): the
//   emulator, which runs every CUDA thread in turn on one CPU thread, takes minutes over the full cases.
//
// Variants:
//   1 naive        block per row, three reads of the row: maxima, then sums, then terms and gradient
//   2 stream       mainline kd_loss_stream_f32: block per row, online softmax in one read, re-read in pass 2
//   3 warp         mainline kd_loss_warp_f32: warp per row, the row held in registers (C ≤ 1024)
//   4 block        mainline kd_loss_block_f32: block per row, the row held in registers (C ≤ 8·block)
//
// Output: '#' lines are comments; every other line is one record of space-separated key=value pairs:
//   DEVICE name=... cc=9.0 sms=132 l2_mb=50 clock_mhz=...
//   MEMCPY bytes=N time_us=T gbps=G                       (D2D copy; G counts read + write, as bandwidthTest)
//   VALIDATE variant=V name=... rows=B cols=C mode=M T=T scale=S rel_terms=E rel_grad=E ok=0|1
//   RESULT variant=V name=... block=K rows=B cols=C mode=M time_us=T min_us=T gbps=G pct_memcpy=P
//   BEST variant=V name=... block=K gbps=G pct_memcpy=P
// gbps counts the physical floor of the op, 12 bytes per element (read s and t, write ∂L/∂s). The exit
// status is 1 when a validation fails.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../kd_loss.cu"

// LAUNCH(kernel, grid, block)(args...) is kernel<<<grid, block>>>(args...) under nvcc; compiled with g++ against
// kernels/emulator (whose cuda_runtime.h defines __CUDA_EMULATOR__), it runs the grid on the CPU emulator.
#ifdef __CUDA_EMULATOR__
#define LAUNCH(kernel, grid, block) emu::launch((grid), (block), kernel)
#else
#define LAUNCH(kernel, grid, block) kernel<<<(grid), (block)>>>
#endif

#define CHECK(call)                                                                                   \
    do {                                                                                              \
        cudaError_t e_ = (call);                                                                      \
        if (e_ != cudaSuccess) {                                                                      \
            std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
            std::exit(2);                                                                             \
        }                                                                                             \
    } while (0)

// ---- the problem ------------------------------------------------------------------------------

enum Mode { TEMPERATURE, HINTON, HARD };

struct Spec {
    Mode mode;
    double T;     // T_s = T_t
    double alpha; // hinton only
    double eps;   // hinton only
    bool labels;

    double kappa() const { return T * T; }
    double ce_weight() const { return mode == TEMPERATURE ? 0.0 : alpha; }
    double teacher_weight() const {
        if (mode == TEMPERATURE) return kappa();
        return mode == HARD ? 1 - alpha : (1 - alpha) * kappa();
    }
    const char* name() const { return mode == TEMPERATURE ? "temperature" : mode == HINTON ? "hinton" : "hard"; }
};

// ---- CPU reference in double (ReferenceKernels.distillation) --------------------------------------

static void log_softmax_row(const float* x, int cols, double T, std::vector<double>& out) {
    double max = -INFINITY;
    for (int c = 0; c < cols; c++) max = std::max(max, (double)x[c]);
    double sum = 0;
    for (int c = 0; c < cols; c++) sum += std::exp((x[c] - max) / T);
    const double log_sum = std::log(sum);
    for (int c = 0; c < cols; c++) out[c] = (x[c] - max) / T - log_sum;
}

static void reference(const float* s, const float* t, const int* y, int rows, int cols, const Spec& spec,
                      double terms[3], std::vector<double>& grad) {
    std::vector<double> lps(cols), lpt(cols), lp1(cols);
    double ce_sum = 0, teacher_sum = 0;
    const bool hard = spec.mode == HARD;
    const double eps = spec.mode == TEMPERATURE ? 0 : spec.eps;
    for (int r = 0; r < rows; r++) {
        const float* sr = s + (size_t)r * cols;
        const float* tr = t + (size_t)r * cols;
        log_softmax_row(sr, cols, spec.T, lps);
        log_softmax_row(tr, cols, spec.T, lpt);
        log_softmax_row(sr, cols, 1.0, lp1);
        const int label = y ? y[r] : -1;
        if (label >= 0) {
            double sum_log = 0;
            for (int c = 0; c < cols; c++) sum_log += lp1[c];
            ce_sum += -((1 - eps) * lp1[label] + eps / cols * sum_log);
        }
        int k = 0;
        for (int c = 1; c < cols; c++) if (tr[c] > tr[k]) k = c;
        if (hard) {
            teacher_sum += -lp1[k];
        } else {
            for (int c = 0; c < cols; c++) {
                const double pt = std::exp(lpt[c]);
                if (pt > 0) teacher_sum += pt * (lpt[c] - lps[c]);
            }
        }
        for (int c = 0; c < cols; c++) {
            double g = 0;
            if (spec.ce_weight() != 0 && label >= 0) {
                const double target = (c == label ? 1 - eps : 0) + eps / cols;
                g += spec.ce_weight() / rows * (std::exp(lp1[c]) - target);
            }
            if (hard) {
                g += spec.teacher_weight() / rows * (std::exp(lp1[c]) - (c == k ? 1 : 0));
            } else {
                g += spec.teacher_weight() / (spec.T * rows) * (std::exp(lps[c]) - std::exp(lpt[c]));
            }
            grad[(size_t)r * cols + c] = g;
        }
    }
    const double ce = ce_sum / rows, teacher = teacher_sum / rows;
    terms[0] = (spec.ce_weight() == 0 ? 0 : spec.ce_weight() * ce) + spec.teacher_weight() * teacher;
    terms[1] = ce;
    terms[2] = teacher;
}

// ---- variant 1: naive, three reads of the row ---------------------------------------------------

__global__ void kd_naive_f32(const float* __restrict__ s, const float* __restrict__ t, const int* __restrict__ labels,
                             int rows, int cols, float inv_t, float eps, int hard, float w_ce, float w_teacher,
                             float* __restrict__ grad, float* __restrict__ row_terms) {
    __shared__ float scratch_f[32];
    __shared__ ArgMax scratch_a[32];
    const int r = blockIdx.x;
    const float* sr = s + (size_t)r * cols;
    const float* tr = t + (size_t)r * cols;
    float* gr = grad + (size_t)r * cols;
    // Read 1: maxima (and the teacher's first argmax).
    float ms = -INFINITY;
    ArgMax kt = {0.0f, 0x7fffffff};
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        ms = fmaxf(ms, sr[c]);
        ArgMax cand = {tr[c], c};
        kt = argmax_better(kt, cand);
    }
    ms = block_max(ms, scratch_f);
    kt = block_argmax(kt, scratch_a);
    const float mt = kt.value;
    // Read 2: the three sums.
    float zs = 0, z1 = 0, zt = 0;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        zs += expf((sr[c] - ms) * inv_t);
        z1 += expf(sr[c] - ms);
        zt += expf((tr[c] - mt) * inv_t);
    }
    zs = block_sum(zs, scratch_f);
    z1 = block_sum(z1, scratch_f);
    zt = block_sum(zt, scratch_f);
    const float lzs = logf(zs), lz1 = logf(z1), lzt = logf(zt);
    const int label = labels ? labels[r] : -1;
    const float smooth = eps / cols;
    // Read 3: terms and gradient.
    float kl = 0, sum_lp1 = 0;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const float lp1 = (sr[c] - ms) - lz1;
        const float p1 = expf(lp1);
        sum_lp1 += lp1;
        float g = 0;
        if (label >= 0) g += w_ce * (p1 - ((c == label ? 1 - eps : 0) + smooth));
        if (hard) {
            g += w_teacher * (p1 - (c == kt.index ? 1.0f : 0.0f));
        } else {
            const float lps = (sr[c] - ms) * inv_t - lzs;
            const float lpt = (tr[c] - mt) * inv_t - lzt;
            const float pt = expf(lpt);
            if (pt > 0) kl += pt * (lpt - lps);
            g += w_teacher * (expf(lps) - pt);
        }
        gr[c] = g;
    }
    kl = block_sum(kl, scratch_f);
    sum_lp1 = block_sum(sum_lp1, scratch_f);
    if (threadIdx.x == 0) {
        row_terms[2 * r] = label >= 0 ? -((1 - eps) * ((sr[label] - ms) - lz1) + smooth * sum_lp1) : 0.0f;
        row_terms[2 * r + 1] = hard ? -((sr[kt.index] - ms) - lz1) : kl;
    }
}

// ---- launching --------------------------------------------------------------------------------

struct Problem {
    int rows, cols;
    Spec spec;
    float *s, *t, *grad, *row_terms, *terms;
    int* labels; // null without labels
};

static const char* variant_name(int v) {
    switch (v) {
        case 1: return "naive";
        case 2: return "stream";
        case 3: return "warp";
        default: return "block";
    }
}

static bool variant_fits(int v, int block, int cols) {
    if (block % 32 != 0 || block < 32 || block > 1024) return false;
    if (v == 3) return cols <= KD_WARP_SLOTS * 32 && block <= 256;
    if (v == 4) return cols <= KD_BLOCK_SLOTS * block;
    return true;
}

static void launch(int v, int block, const Problem& p) {
    const Spec& sp = p.spec;
    const bool hard = sp.mode == HARD;
    const float inv_t = (float)(1.0 / sp.T);
    const float eps = sp.mode == TEMPERATURE ? 0.0f : (float)sp.eps;
    const float w_ce = (float)(sp.ce_weight() / p.rows);
    const float w_teacher = (float)(hard ? sp.teacher_weight() / p.rows : sp.teacher_weight() / (sp.T * p.rows));
    switch (v) {
        case 1:
            LAUNCH(kd_naive_f32, p.rows, block)(p.s, p.t, p.labels, p.rows, p.cols, inv_t, eps, hard, w_ce, w_teacher,
                                                p.grad, p.row_terms);
            break;
        case 2:
            LAUNCH(kd_loss_stream_f32, p.rows, block)(p.s, p.t, p.labels, p.rows, p.cols, inv_t, inv_t, eps, hard,
                                                      w_ce, w_teacher, p.grad, p.row_terms);
            break;
        case 3: {
            const int rows_per_block = block / 32;
            LAUNCH(kd_loss_warp_f32, (p.rows + rows_per_block - 1) / rows_per_block, block)(
                p.s, p.t, p.labels, p.rows, p.cols, inv_t, inv_t, eps, hard, w_ce, w_teacher, p.grad, p.row_terms);
            break;
        }
        default:
            LAUNCH(kd_loss_block_f32, p.rows, block)(p.s, p.t, p.labels, p.rows, p.cols, inv_t, inv_t, eps, hard,
                                                     w_ce, w_teacher, p.grad, p.row_terms);
    }
    LAUNCH(kd_loss_finish_f32, 1, 1024)(p.row_terms, p.rows, sp.ce_weight(), sp.teacher_weight(), p.terms);
    CHECK(cudaGetLastError());
}

// ---- data -------------------------------------------------------------------------------------

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static double next_uniform() { // xorshift64*: reproducible across runs and machines
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) * 0x1.0p-53;
}

struct HostData {
    std::vector<float> s, t;
    std::vector<int> y;
};

static HostData make_data(int rows, int cols, double scale, bool labels) {
    HostData d;
    d.s.resize((size_t)rows * cols);
    d.t.resize((size_t)rows * cols);
    for (auto& v : d.s) v = (float)((2 * next_uniform() - 1) * scale);
    for (auto& v : d.t) v = (float)((2 * next_uniform() - 1) * scale);
    if (labels) {
        d.y.resize(rows);
        for (auto& v : d.y) v = (int)(next_uniform() * cols);
    }
    return d;
}

static Problem upload(const HostData& d, int rows, int cols, const Spec& spec) {
    Problem p{rows, cols, spec, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
    const size_t n = (size_t)rows * cols;
    CHECK(cudaMalloc(&p.s, n * 4));
    CHECK(cudaMalloc(&p.t, n * 4));
    CHECK(cudaMalloc(&p.grad, n * 4));
    CHECK(cudaMalloc(&p.row_terms, (size_t)rows * 8));
    CHECK(cudaMalloc(&p.terms, 12));
    CHECK(cudaMemcpy(p.s, d.s.data(), n * 4, cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(p.t, d.t.data(), n * 4, cudaMemcpyHostToDevice));
    if (!d.y.empty()) {
        CHECK(cudaMalloc(&p.labels, (size_t)rows * 4));
        CHECK(cudaMemcpy(p.labels, d.y.data(), (size_t)rows * 4, cudaMemcpyHostToDevice));
    }
    return p;
}

static void release(Problem& p) {
    cudaFree(p.s);
    cudaFree(p.t);
    cudaFree(p.grad);
    cudaFree(p.row_terms);
    cudaFree(p.terms);
    cudaFree(p.labels);
}

// max |a - b| / max(max |a|, tiny): the test suite's relative error.
static double relative_error(const std::vector<double>& ref, const std::vector<float>& got) {
    double diff = 0, scale = 1e-30;
    for (size_t i = 0; i < ref.size(); i++) {
        const double d = std::fabs(ref[i] - got[i]);
        diff = std::isnan(d) ? INFINITY : std::max(diff, d);
        scale = std::max(scale, std::fabs(ref[i]));
    }
    return diff / scale;
}

// ---- validation -------------------------------------------------------------------------------

static bool validate(int v, int rows, int cols, const Spec& spec, double scale) {
    const int block = v == 3 ? 256 : v == 4 ? std::max(32, ((cols + 7) / 8 + 31) / 32 * 32) : 256;
    if (!variant_fits(v, block, cols)) return true;
    HostData d = make_data(rows, cols, scale, spec.labels);
    Problem p = upload(d, rows, cols, spec);
    CHECK(cudaMemset(p.grad, 0xff, (size_t)rows * cols * 4)); // NaN: every element must be written
    launch(v, block, p);
    std::vector<float> grad((size_t)rows * cols);
    float terms[3];
    CHECK(cudaMemcpy(grad.data(), p.grad, grad.size() * 4, cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(terms, p.terms, 12, cudaMemcpyDeviceToHost));
    release(p);
    std::vector<double> ref_grad(grad.size());
    double ref_terms[3];
    reference(d.s.data(), d.t.data(), spec.labels ? d.y.data() : nullptr, rows, cols, spec, ref_terms, ref_grad);
    double rel_terms = 0;
    for (int i = 0; i < 3; i++) {
        const double e = std::fabs(ref_terms[i] - terms[i]) / std::max(1e-30, std::fabs(ref_terms[i]));
        rel_terms = std::max(rel_terms, std::isnan(e) ? INFINITY : e);
    }
    const double rel_grad = relative_error(ref_grad, grad);
    // Variant 1 makes no accuracy promise at the extremes; the mainline kernels do (docs/kd-modes.md).
    const bool ok = v == 1 || (rel_terms <= 1e-4 && rel_grad <= 1e-4);
    std::printf("VALIDATE variant=%d name=%s rows=%d cols=%d mode=%s T=%g scale=%g rel_terms=%.3e rel_grad=%.3e ok=%d\n",
                v, variant_name(v), rows, cols, spec.name(), spec.T, scale, rel_terms, rel_grad, ok ? 1 : 0);
    return ok;
}

// ---- benchmark --------------------------------------------------------------------------------

struct Timer {
    cudaEvent_t start, stop;
    Timer() {
        CHECK(cudaEventCreate(&start));
        CHECK(cudaEventCreate(&stop));
    }
    float elapsed_us() {
        float ms;
        CHECK(cudaEventElapsedTime(&ms, start, stop));
        return ms * 1000.0f;
    }
};

int main(int argc, char** argv) {
    int rows = 65536, cols = 1000, reps = 20, only = 0;
    Spec spec{HINTON, 4.0, 0.1, 0.1, true};
    int validate_rows = 0; // 0: each case's own row count
    bool do_validate = true, do_bench = true;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
            return argv[++i];
        };
        if (a == "--rows") rows = std::atoi(next());
        else if (a == "--cols") cols = std::atoi(next());
        else if (a == "--reps") reps = std::atoi(next());
        else if (a == "--variant") only = std::atoi(next());
        else if (a == "--T") spec.T = std::atof(next());
        else if (a == "--alpha") spec.alpha = std::atof(next());
        else if (a == "--eps") spec.eps = std::atof(next());
        else if (a == "--no-validate") do_validate = false;
        else if (a == "--validate-rows") validate_rows = std::atoi(next());
        else if (a == "--no-bench") do_bench = false;
        else if (a == "--mode") {
            std::string m = next();
            spec.mode = m == "temperature" ? TEMPERATURE : m == "hard" ? HARD : HINTON;
            if (m != "temperature" && m != "hard" && m != "hinton") { std::fprintf(stderr, "unknown mode %s\n", m.c_str()); return 2; }
        } else {
            std::fprintf(stderr, "usage: %s [--rows B] [--cols C] [--mode hinton|temperature|hard] [--T 4] "
                                 "[--alpha 0.1] [--eps 0.1] [--reps 20] [--variant N] [--validate-rows R] [--no-validate] "
                                 "[--no-bench]\n", argv[0]);
            return 2;
        }
    }
    if (rows < 1 || cols < 1 || reps < 1 || validate_rows < 0 || only < 0 || only > 4) {
        std::fprintf(stderr, "--rows, --cols and --reps must be at least 1, --validate-rows at least 0, --variant 0 to 4\n");
        return 2;
    }
    spec.labels = spec.mode != TEMPERATURE;
    if (spec.mode == TEMPERATURE) { spec.alpha = 0; spec.eps = 0; }

    int device = 0;
    cudaDeviceProp prop;
    CHECK(cudaGetDevice(&device));
    CHECK(cudaGetDeviceProperties(&prop, device));
    int clock_khz = 0;
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device);
    std::string name = prop.name;
    std::replace(name.begin(), name.end(), ' ', '_');
    std::printf("DEVICE name=%s cc=%d.%d sms=%d l2_mb=%.1f clock_mhz=%d\n", name.c_str(), prop.major, prop.minor,
                prop.multiProcessorCount, prop.l2CacheSize / 1048576.0, clock_khz / 1000);

    bool all_ok = true;
    if (do_validate) {
        struct Case { int rows, cols; Mode mode; double T, scale; };
        const Case cases[] = {
            {64, 1, HINTON, 4, 5}, {64, 3, TEMPERATURE, 4, 5}, {64, 10, HINTON, 4, 5}, {64, 10, HARD, 4, 5},
            {256, 1000, HINTON, 4, 5}, {256, 1000, TEMPERATURE, 2, 5}, {64, 1000, HARD, 4, 5},
            {16, 1025, HINTON, 4, 5}, {8, 5000, HINTON, 4, 5}, {4, 8192, TEMPERATURE, 4, 5},
            {4, 9000, HINTON, 4, 5}, {2, 32768, HINTON, 4, 5}, {2, 32768, HARD, 4, 5},
            {64, 11, HINTON, 0.05, 1e4}, {64, 11, TEMPERATURE, 100, 1}, {64, 1000, HINTON, 100, 1e2},
            {32, 1000, TEMPERATURE, 0.05, 1e4},
        };
        for (int v = 1; v <= 4; v++) {
            if (only && v != only) continue;
            for (const Case& c : cases) {
                Spec s{c.mode, c.T, c.mode == TEMPERATURE ? 0.0 : 0.1, c.mode == HINTON ? 0.1 : 0.0, c.mode != TEMPERATURE};
                const int case_rows = validate_rows > 0 ? std::min(c.rows, validate_rows) : c.rows;
                all_ok &= validate(v, case_rows, c.cols, s, c.scale);
            }
        }
    }

    if (do_bench) {
        HostData d = make_data(rows, cols, 5, spec.labels);
        Problem p = upload(d, rows, cols, spec);
        const size_t n = (size_t)rows * cols;
        const double bytes = 12.0 * n; // the op's floor: read s and t, write the gradient

        // Device-to-device copy of the same footprint, flushed like the kernels: the card's practical roof.
        const size_t copy_bytes = 2 * n * 4;
        void *copy_src, *copy_dst, *flush;
        const size_t flush_bytes = std::max<size_t>(2 * (size_t)prop.l2CacheSize, 64u << 20);
        CHECK(cudaMalloc(&copy_src, copy_bytes));
        CHECK(cudaMalloc(&copy_dst, copy_bytes));
        CHECK(cudaMalloc(&flush, flush_bytes));
        CHECK(cudaMemset(copy_src, 1, copy_bytes));
        Timer timer;
        std::vector<float> times;
        for (int r = 0; r < reps + 2; r++) {
            CHECK(cudaMemset(flush, r, flush_bytes)); // evict everything from L2
            CHECK(cudaEventRecord(timer.start));
            CHECK(cudaMemcpy(copy_dst, copy_src, copy_bytes, cudaMemcpyDeviceToDevice));
            CHECK(cudaEventRecord(timer.stop));
            CHECK(cudaEventSynchronize(timer.stop));
            if (r >= 2) times.push_back(timer.elapsed_us());
        }
        std::sort(times.begin(), times.end());
        const double copy_us = times[times.size() / 2];
        const double copy_gbps = 2.0 * copy_bytes / (copy_us * 1e3);
        std::printf("MEMCPY bytes=%zu time_us=%.2f gbps=%.1f\n", copy_bytes, copy_us, copy_gbps);
        CHECK(cudaFree(copy_src));
        CHECK(cudaFree(copy_dst));

        double best_gbps = 0;
        int best_v = 0, best_block = 0;
        const int blocks[] = {32, 64, 128, 256, 512, 1024};
        for (int v = 1; v <= 4; v++) {
            if (only && v != only) continue;
            for (int block : blocks) {
                if (!variant_fits(v, block, cols)) continue;
                times.clear();
                for (int r = 0; r < reps + 2; r++) {
                    CHECK(cudaMemset(flush, r, flush_bytes));
                    CHECK(cudaEventRecord(timer.start));
                    launch(v, block, p);
                    CHECK(cudaEventRecord(timer.stop));
                    CHECK(cudaEventSynchronize(timer.stop));
                    if (r >= 2) times.push_back(timer.elapsed_us()); // the first two warm up clocks and caches
                }
                std::sort(times.begin(), times.end());
                const double median = times[times.size() / 2];
                const double gbps = bytes / (median * 1e3);
                std::printf("RESULT variant=%d name=%s block=%d rows=%d cols=%d mode=%s time_us=%.2f min_us=%.2f "
                            "gbps=%.1f pct_memcpy=%.1f\n", v, variant_name(v), block, rows, cols, spec.name(), median,
                            times[0], gbps, 100.0 * gbps / copy_gbps);
                if (gbps > best_gbps) {
                    best_gbps = gbps;
                    best_v = v;
                    best_block = block;
                }
            }
        }
        if (best_v) {
            std::printf("BEST variant=%d name=%s block=%d gbps=%.1f pct_memcpy=%.1f\n", best_v, variant_name(best_v),
                        best_block, best_gbps, 100.0 * best_gbps / copy_gbps);
        }
        CHECK(cudaFree(flush));
        release(p);
    }
    return all_ok ? 0 : 1;
}
