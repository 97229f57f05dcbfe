/*
 * Fake cuBLAS, cuBLASLt, cuDNN and CUDA driver libraries for the bridge's CPU tests (FakeCudaLibrariesTest).
 *
 * Compiled once per library with -DFAKE_CUBLAS, -DFAKE_CUBLAS_PARTIAL, -DFAKE_CUBLASLT, -DFAKE_CUDNN or
 * -DFAKE_DRIVER. Why fakes: no GPU and no NVIDIA library is on the build machines, yet dlopen/dlsym, the error paths,
 * the row-major-to-column-major GEMM mapping and the cuDNN descriptor and algorithm logic can all be checked on the
 * host. The fake GEMMs really compute (column-major, on host memory, checking leading dimensions as cuBLAS does);
 * the fake cuDNN only records its calls in calls.log beside the library. Files beside the library switch
 * behaviours at run time: "create-fails" (cublasCreate_v2 returns CUBLAS_STATUS_ALLOC_FAILED), "oom"
 * (cuMemAllocAsync returns CUDA_ERROR_OUT_OF_MEMORY), "no-context" (cuCtxGetCurrent reports none).
 * Status values are those of cublas_api.h (CUDA 13), cudnn_graph.h (cuDNN 9) and cuda.h (CUDA 13).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void here(char *out, size_t n, const char *file) {
    Dl_info info;
    out[0] = '\0';
    if (dladdr((void *)here, &info) && info.dli_fname) {
        snprintf(out, n, "%s", info.dli_fname);
        char *slash = strrchr(out, '/');
        if (slash) {
            snprintf(slash + 1, n - (size_t)(slash + 1 - out), "%s", file);
        }
    }
}

__attribute__((unused)) static int flag(const char *name) {
    char path[4096];
    struct stat st;
    here(path, sizeof path, name);
    return stat(path, &st) == 0;
}

__attribute__((unused, format(printf, 1, 2))) static void fake_log(const char *fmt, ...) {
    char path[4096];
    here(path, sizeof path, "calls.log");
    FILE *f = fopen(path, "a");
    if (!f) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

#if defined(FAKE_CUBLAS) || defined(FAKE_CUBLAS_PARTIAL)
int cublasCreate_v2(void **handle) {
    if (flag("create-fails")) {
        return 3; /* CUBLAS_STATUS_ALLOC_FAILED */
    }
    *handle = malloc(16);
    fake_log("cublasCreate_v2");
    return 0;
}
#endif

#ifdef FAKE_CUBLAS
int cublasDestroy_v2(void *handle) {
    free(handle);
    fake_log("cublasDestroy_v2");
    return 0;
}

int cublasSetStream_v2(void *handle, void *stream) {
    (void)handle;
    fake_log("cublasSetStream_v2 %p", stream);
    return 0;
}

int cublasGetProperty(int type, int *value) {
    *value = type == 0 ? 13 : type == 1 ? 0 : 2; /* MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL */
    return 0;
}

const char *cublasGetStatusName(int status) {
    return status == 3 ? "CUBLAS_STATUS_ALLOC_FAILED" : status == 7 ? "CUBLAS_STATUS_INVALID_VALUE" : "CUBLAS_STATUS_?";
}

const char *cublasGetStatusString(int status) {
    return status == 3 ? "fake: the resource allocation failed" : "fake: an invalid value was used as an argument";
}

/* TF32 keeps 10 of float's 23 mantissa bits; round to nearest. */
static float tf32(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    bits = (bits + 0x1000u) & ~0x1FFFu;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* Column-major C = alpha·op(A)·op(B) + beta·C, with cuBLAS's leading-dimension checks. */
static int gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                float beta, float *c, int ldc, int round) {
    if (m < 0 || n < 0 || k < 0 || (ta != 0 && ta != 1) || (tb != 0 && tb != 1) || lda < (ta ? k : m) ||
        ldb < (tb ? n : k) || ldc < m || lda < 1 || ldb < 1 || ldc < 1) {
        fake_log("gemm rejected: ta %d tb %d m %d n %d k %d lda %d ldb %d ldc %d", ta, tb, m, n, k, lda, ldb, ldc);
        return 7; /* CUBLAS_STATUS_INVALID_VALUE */
    }
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                float x = ta ? a[p + (size_t)i * lda] : a[i + (size_t)p * lda];
                float y = tb ? b[j + (size_t)p * ldb] : b[p + (size_t)j * ldb];
                if (round) {
                    x = tf32(x);
                    y = tf32(y);
                }
                s += (double)x * y;
            }
            float *out = &c[i + (size_t)j * ldc];
            *out = (float)(alpha * s + (beta == 0 ? 0 : beta * *out));
        }
    }
    return 0;
}

int cublasSgemm_v2(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int lda,
                   const float *b, int ldb, const float *beta, float *c, int ldc) {
    (void)h;
    fake_log("cublasSgemm_v2 ta %d tb %d m %d n %d k %d lda %d ldb %d ldc %d", ta, tb, m, n, k, lda, ldb, ldc);
    return gemm(ta, tb, m, n, k, *alpha, a, lda, b, ldb, *beta, c, ldc, 0);
}

int cublasGemmEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *a, int aType, int lda,
                 const void *b, int bType, int ldb, const void *beta, void *c, int cType, int ldc, int computeType,
                 int algo) {
    (void)h;
    fake_log("cublasGemmEx compute %d algo %d types %d %d %d", computeType, algo, aType, bType, cType);
    if (aType != 0 || bType != 0 || cType != 0 || (computeType != 68 && computeType != 77) || algo != -1) {
        return 7;
    }
    return gemm(ta, tb, m, n, k, *(const float *)alpha, a, lda, b, ldb, *(const float *)beta, c, ldc,
                computeType == 77);
}

int cublasSgemmStridedBatched(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a,
                              int lda, long long strideA, const float *b, int ldb, long long strideB,
                              const float *beta, float *c, int ldc, long long strideC, int batch) {
    (void)h;
    fake_log("cublasSgemmStridedBatched batch %d strides %lld %lld %lld", batch, strideA, strideB, strideC);
    for (int i = 0; i < batch; i++) {
        int st = gemm(ta, tb, m, n, k, *alpha, a + i * strideA, lda, b + i * strideB, ldb, *beta, c + i * strideC,
                      ldc, 0);
        if (st != 0) {
            return st;
        }
    }
    return 0;
}
#endif

#ifdef FAKE_CUBLASLT
size_t cublasLtGetVersion(void) { return 130002; }
#endif

#ifdef FAKE_CUDNN
typedef struct {
    int n, c, h, w;
} fake_desc;

typedef struct {
    int algo;
    int status;
    float time;
    size_t memory;
    int determinism;
    int mathType;
    int reserved[3];
} perf_t;

#define MIB ((size_t)1 << 20)

size_t cudnnGetVersion(void) { return 90600; }
size_t cudnnGetCudartVersion(void) { return 12060; }
int cudnnOpsVersionCheck(void) { return 0; }
int cudnnCnnVersionCheck(void) { return 0; }

const char *cudnnGetErrorString(int status) {
    return status == 2000 ? "CUDNN_STATUS_BAD_PARAM" : status == 3000 ? "CUDNN_STATUS_NOT_SUPPORTED" : "CUDNN_STATUS_?";
}

void cudnnGetLastErrorString(char *message, size_t n) { snprintf(message, n, "fake: the batch of 13 is unlucky"); }

int cudnnCreate(void **h) {
    *h = malloc(16);
    fake_log("cudnnCreate");
    return 0;
}
int cudnnDestroy(void *h) {
    free(h);
    fake_log("cudnnDestroy");
    return 0;
}
int cudnnSetStream(void *h, void *s) {
    (void)h;
    fake_log("cudnnSetStream %p", s);
    return 0;
}

static int create(void **d) {
    *d = calloc(1, sizeof(fake_desc));
    return 0;
}
static int destroy(void *d) {
    free(d);
    return 0;
}
int cudnnCreateTensorDescriptor(void **d) { return create(d); }
int cudnnDestroyTensorDescriptor(void *d) { return destroy(d); }
int cudnnCreateFilterDescriptor(void **d) { return create(d); }
int cudnnDestroyFilterDescriptor(void *d) { return destroy(d); }
int cudnnCreateConvolutionDescriptor(void **d) { return create(d); }
int cudnnDestroyConvolutionDescriptor(void *d) { return destroy(d); }
int cudnnCreatePoolingDescriptor(void **d) { return create(d); }
int cudnnDestroyPoolingDescriptor(void *d) { return destroy(d); }

int cudnnSetTensor4dDescriptor(void *d, int format, int type, int n, int c, int h, int w) {
    fake_log("cudnnSetTensor4dDescriptor format %d type %d %dx%dx%dx%d", format, type, n, c, h, w);
    *(fake_desc *)d = (fake_desc){ n, c, h, w };
    return n > 0 && c > 0 && h > 0 && w > 0 ? 0 : 2000;
}
int cudnnSetFilter4dDescriptor(void *d, int type, int format, int k, int c, int h, int w) {
    fake_log("cudnnSetFilter4dDescriptor type %d format %d %dx%dx%dx%d", type, format, k, c, h, w);
    *(fake_desc *)d = (fake_desc){ k, c, h, w };
    return 0;
}
int cudnnSetConvolution2dDescriptor(void *d, int padH, int padW, int u, int v, int dilH, int dilW, int mode, int type) {
    (void)d;
    fake_log("cudnnSetConvolution2dDescriptor pad %dx%d stride %dx%d dilation %dx%d mode %d type %d", padH, padW, u, v,
             dilH, dilW, mode, type);
    return 0;
}
int cudnnSetConvolutionMathType(void *d, int math) {
    (void)d;
    fake_log("cudnnSetConvolutionMathType %d", math);
    return 0;
}

/* Results fastest first: a tensor-op one with the largest workspace, a non-deterministic FMA one, a deterministic
 * FMA one needing no workspace, and an unsupported one. */
static void results(int *returned, perf_t *perf, int requested) {
    const perf_t all[] = { { 1, 0, 0.1f, 3 * MIB, 0, 1, { 0 } }, { 2, 0, 0.2f, 1 * MIB, 0, 3, { 0 } },
                           { 0, 0, 0.3f, 0, 1, 3, { 0 } }, { 5, 3000, -1.0f, 0, 0, 0, { 0 } } };
    int n = requested < 4 ? requested : 4;
    memcpy(perf, all, (size_t)n * sizeof(perf_t));
    *returned = n;
}

static int workspace(int algo, size_t *bytes) {
    switch (algo) {
    case 0: *bytes = 0; return 0;
    case 1: *bytes = 3 * MIB; return 0;
    case 2: *bytes = 1 * MIB; return 0;
    case 3: *bytes = 5 * MIB; return 0;
    default: return 3000;
    }
}

int cudnnFindConvolutionForwardAlgorithmEx(void *h, void *xd, const void *x, void *wd, const void *w, void *cd,
                                           void *yd, void *y, int requested, int *returned, perf_t *perf, void *ws,
                                           size_t wsBytes) {
    (void)h, (void)xd, (void)x, (void)wd, (void)w, (void)cd, (void)yd, (void)y;
    fake_log("cudnnFindConvolutionForwardAlgorithmEx requested %d workspace %s %zu", requested, ws ? "set" : "null",
             wsBytes);
    results(returned, perf, requested);
    return 0;
}
int cudnnGetConvolutionForwardAlgorithm_v7(void *h, void *xd, void *wd, void *cd, void *yd, int requested,
                                           int *returned, perf_t *perf) {
    (void)h, (void)xd, (void)wd, (void)cd, (void)yd;
    fake_log("cudnnGetConvolutionForwardAlgorithm_v7 requested %d", requested);
    results(returned, perf, requested);
    return 0;
}
int cudnnGetConvolutionForwardWorkspaceSize(void *h, void *xd, void *wd, void *cd, void *yd, int algo, size_t *bytes) {
    (void)h, (void)xd, (void)wd, (void)cd, (void)yd;
    return workspace(algo, bytes);
}
int cudnnConvolutionForward(void *h, const void *alpha, void *xd, const void *x, void *wd, const void *w, void *cd,
                            int algo, void *ws, size_t wsBytes, const void *beta, void *yd, void *y) {
    (void)h, (void)x, (void)w, (void)cd, (void)y;
    const fake_desc *in = xd, *filter = wd, *out = yd;
    fake_log("cudnnConvolutionForward algo %d workspace %zu alpha %g beta %g x %dx%dx%dx%d w %dx%dx%dx%d y %dx%dx%dx%d",
             algo, ws ? wsBytes : 0, *(const float *)alpha, *(const float *)beta, in->n, in->c, in->h, in->w,
             filter->n, filter->c, filter->h, filter->w, out->n, out->c, out->h, out->w);
    return in->n == 13 ? 2000 : 0;
}

int cudnnFindConvolutionBackwardDataAlgorithmEx(void *h, void *wd, const void *w, void *dyd, const void *dy, void *cd,
                                                void *dxd, void *dx, int requested, int *returned, perf_t *perf,
                                                void *ws, size_t wsBytes) {
    (void)h, (void)wd, (void)w, (void)dyd, (void)dy, (void)cd, (void)dxd, (void)dx, (void)ws;
    fake_log("cudnnFindConvolutionBackwardDataAlgorithmEx requested %d workspace %zu", requested, wsBytes);
    results(returned, perf, requested);
    return 0;
}
int cudnnGetConvolutionBackwardDataAlgorithm_v7(void *h, void *wd, void *dyd, void *cd, void *dxd, int requested,
                                                int *returned, perf_t *perf) {
    (void)h, (void)wd, (void)dyd, (void)cd, (void)dxd;
    fake_log("cudnnGetConvolutionBackwardDataAlgorithm_v7 requested %d", requested);
    results(returned, perf, requested);
    return 0;
}
int cudnnGetConvolutionBackwardDataWorkspaceSize(void *h, void *wd, void *dyd, void *cd, void *dxd, int algo,
                                                 size_t *bytes) {
    (void)h, (void)wd, (void)dyd, (void)cd, (void)dxd;
    return workspace(algo, bytes);
}
int cudnnConvolutionBackwardData(void *h, const void *alpha, void *wd, const void *w, void *dyd, const void *dy,
                                 void *cd, int algo, void *ws, size_t wsBytes, const void *beta, void *dxd, void *dx) {
    (void)h, (void)alpha, (void)w, (void)dy, (void)cd, (void)beta, (void)dx;
    const fake_desc *filter = wd, *grad = dyd, *out = dxd;
    fake_log("cudnnConvolutionBackwardData algo %d workspace %zu w %dx%dx%dx%d dy %dx%dx%dx%d dx %dx%dx%dx%d", algo,
             ws ? wsBytes : 0, filter->n, filter->c, filter->h, filter->w, grad->n, grad->c, grad->h, grad->w, out->n,
             out->c, out->h, out->w);
    return 0;
}

int cudnnFindConvolutionBackwardFilterAlgorithmEx(void *h, void *xd, const void *x, void *dyd, const void *dy,
                                                  void *cd, void *dwd, void *dw, int requested, int *returned,
                                                  perf_t *perf, void *ws, size_t wsBytes) {
    (void)h, (void)xd, (void)x, (void)dyd, (void)dy, (void)cd, (void)dwd, (void)dw, (void)ws;
    fake_log("cudnnFindConvolutionBackwardFilterAlgorithmEx requested %d workspace %zu", requested, wsBytes);
    results(returned, perf, requested);
    return 0;
}
int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void *h, void *xd, void *dyd, void *cd, void *dwd, int requested,
                                                  int *returned, perf_t *perf) {
    (void)h, (void)xd, (void)dyd, (void)cd, (void)dwd;
    fake_log("cudnnGetConvolutionBackwardFilterAlgorithm_v7 requested %d", requested);
    results(returned, perf, requested);
    return 0;
}
int cudnnGetConvolutionBackwardFilterWorkspaceSize(void *h, void *xd, void *dyd, void *cd, void *dwd, int algo,
                                                   size_t *bytes) {
    (void)h, (void)xd, (void)dyd, (void)cd, (void)dwd;
    return workspace(algo, bytes);
}
int cudnnConvolutionBackwardFilter(void *h, const void *alpha, void *xd, const void *x, void *dyd, const void *dy,
                                   void *cd, int algo, void *ws, size_t wsBytes, const void *beta, void *dwd,
                                   void *dw) {
    (void)h, (void)alpha, (void)x, (void)dy, (void)cd, (void)beta, (void)dw;
    const fake_desc *in = xd, *grad = dyd, *filter = dwd;
    fake_log("cudnnConvolutionBackwardFilter algo %d workspace %zu x %dx%dx%dx%d dy %dx%dx%dx%d dw %dx%dx%dx%d", algo,
             ws ? wsBytes : 0, in->n, in->c, in->h, in->w, grad->n, grad->c, grad->h, grad->w, filter->n, filter->c,
             filter->h, filter->w);
    return 0;
}

int cudnnAddTensor(void *h, const void *alpha, void *ad, const void *a, const void *beta, void *cd, void *c) {
    (void)h, (void)a, (void)c;
    const fake_desc *bias = ad, *out = cd;
    fake_log("cudnnAddTensor alpha %g beta %g bias %dx%dx%dx%d y %dx%dx%dx%d", *(const float *)alpha,
             *(const float *)beta, bias->n, bias->c, bias->h, bias->w, out->n, out->c, out->h, out->w);
    return 0;
}

int cudnnSetPooling2dDescriptor(void *d, int mode, int nan, int wh, int ww, int ph, int pw, int sh, int sw) {
    (void)d;
    fake_log("cudnnSetPooling2dDescriptor mode %d nan %d window %dx%d pad %dx%d stride %dx%d", mode, nan, wh, ww, ph,
             pw, sh, sw);
    return 0;
}
int cudnnPoolingForward(void *h, void *p, const void *alpha, void *xd, const void *x, const void *beta, void *yd,
                        void *y) {
    (void)h, (void)p, (void)alpha, (void)x, (void)beta, (void)y;
    const fake_desc *in = xd, *out = yd;
    fake_log("cudnnPoolingForward x %dx%dx%dx%d y %dx%dx%dx%d", in->n, in->c, in->h, in->w, out->n, out->c, out->h,
             out->w);
    return 0;
}
int cudnnPoolingBackward(void *h, void *p, const void *alpha, void *yd, const void *y, void *dyd, const void *dy,
                         void *xd, const void *x, const void *beta, void *dxd, void *dx) {
    (void)h, (void)p, (void)alpha, (void)yd, (void)dyd, (void)xd, (void)beta, (void)dxd;
    fake_log("cudnnPoolingBackward y %s dy x %s dx", y == dy ? "==" : "!=", x == dx ? "==" : "!=");
    return 0;
}

int cudnnDeriveBNTensorDescriptor(void *bn, void *xd, int mode) {
    const fake_desc *in = xd;
    *(fake_desc *)bn = (fake_desc){ 1, in->c, 1, 1 };
    fake_log("cudnnDeriveBNTensorDescriptor mode %d channels %d", mode, in->c);
    return 0;
}
int cudnnBatchNormalizationForwardTraining(void *h, int mode, const void *alpha, const void *beta, void *xd,
                                           const void *x, void *yd, void *y, void *bnd, const void *scale,
                                           const void *bias, double factor, void *runMean, void *runVar, double eps,
                                           void *saveMean, void *saveInvStd) {
    (void)h, (void)alpha, (void)beta, (void)xd, (void)x, (void)yd, (void)y, (void)bnd, (void)scale, (void)bias;
    fake_log("cudnnBatchNormalizationForwardTraining mode %d factor %g eps %g running %s %s saved %s %s", mode, factor,
             eps, runMean ? "set" : "null", runVar ? "set" : "null", saveMean ? "set" : "null",
             saveInvStd ? "set" : "null");
    return 0;
}
int cudnnBatchNormalizationForwardInference(void *h, int mode, const void *alpha, const void *beta, void *xd,
                                            const void *x, void *yd, void *y, void *bnd, const void *scale,
                                            const void *bias, const void *mean, const void *var, double eps) {
    (void)h, (void)alpha, (void)beta, (void)xd, (void)x, (void)yd, (void)y, (void)bnd, (void)scale, (void)bias;
    (void)mean, (void)var;
    fake_log("cudnnBatchNormalizationForwardInference mode %d eps %g", mode, eps);
    return 0;
}
int cudnnBatchNormalizationBackward(void *h, int mode, const void *ad, const void *bd, const void *ap, const void *bp,
                                    void *xd, const void *x, void *dyd, const void *dy, void *dxd, void *dx, void *bnd,
                                    const void *scale, void *dScale, void *dBias, double eps, const void *savedMean,
                                    const void *savedInvStd) {
    (void)h, (void)xd, (void)x, (void)dyd, (void)dy, (void)dxd, (void)dx, (void)bnd, (void)scale, (void)dScale;
    (void)dBias;
    fake_log("cudnnBatchNormalizationBackward mode %d blend %g %g %g %g eps %g saved %s %s", mode, *(const float *)ad,
             *(const float *)bd, *(const float *)ap, *(const float *)bp, eps, savedMean ? "set" : "null",
             savedInvStd ? "set" : "null");
    return 0;
}
#endif

#ifdef FAKE_DRIVER
int cuCtxGetCurrent(void **ctx) {
    *ctx = flag("no-context") ? NULL : (void *)0x1;
    return 0;
}
/* The bridge makes its handles' context current on each calling thread; here there is only the one context. */
int cuCtxSetCurrent(void *ctx) {
    (void)ctx;
    return 0;
}
int cuMemAllocAsync(unsigned long long *p, size_t bytes, void *stream) {
    (void)stream;
    if (flag("oom")) {
        fake_log("cuMemAllocAsync %zu refused", bytes);
        return 2; /* CUDA_ERROR_OUT_OF_MEMORY */
    }
    *p = (unsigned long long)(uintptr_t)malloc(bytes ? bytes : 1);
    fake_log("cuMemAllocAsync %zu", bytes);
    return 0;
}
int cuMemFreeAsync(unsigned long long p, void *stream) {
    (void)stream;
    free((void *)(uintptr_t)p);
    fake_log("cuMemFreeAsync");
    return 0;
}
int cuGetErrorName(int e, const char **name) {
    *name = e == 2 ? "CUDA_ERROR_OUT_OF_MEMORY" : "CUDA_ERROR_?";
    return 0;
}
int cuGetErrorString(int e, const char **text) {
    *text = e == 2 ? "out of memory" : "?";
    return 0;
}
int cuDriverGetVersion(int *v) {
    *v = 13000;
    return 0;
}
#endif
