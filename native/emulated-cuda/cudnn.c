/*
 * An emulated cuDNN 9 (libcudnn.so.9) for the emulated CUDA device: handles, descriptors, versions, errors and the
 * convolution algorithm search, with the arithmetic in cudnn_ops.c. Two behaviours of NVIDIA's are modelled because
 * Retort's first GPU run depends on them:
 *
 * - Engines: like cuDNN 9, the convolutions run in a separate engine library, opened by name from this library's
 *   folder at the first convolution. It needs libcublasLt.so.13 and libnvrtc.so.13 and has no search path of its
 *   own, so unless a caller loaded those globally beforehand (PyTorch does) the convolution fails with
 *   CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED.
 * - Workspaces: algorithm 0 needs no workspace, algorithm 1 needs CONV_WORKSPACE bytes (under 1 MiB) and is the one
 *   the measuring search ranks first; given less workspace the search reports it unusable, and running it with less
 *   fails with CUDNN_STATUS_BAD_PARAM.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cudnn_emulated.h"
#include "emulated.h"

enum { CONV_WORKSPACE = 96 << 10, FWD_ALGOS = 8, BWD_DATA_ALGOS = 6, BWD_FILTER_ALGOS = 7 };

typedef struct {
    int algo, status;
    float time;
    size_t memory;
    int determinism, mathType, reserved[3];
} perf;

static __thread char last_error[512];

void dnn_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

int dnn_ready(void) {
    if (retortEmulatedBindRuntimeContext() != 0) {
        dnn_error("no CUDA context could be bound");
        return ST_NOT_INITIALIZED;
    }
    if (retortEmulatedStickyError() != 0) {
        dnn_error("the CUDA context has faulted earlier");
        return ST_EXECUTION_FAILED;
    }
    return ST_SUCCESS;
}

int dnn_check(const char *call, int count, const void *const *pointers, const size_t *bytes) {
    for (int i = 0; i < count; i++) {
        if (bytes[i] > 0 && retortEmulatedCheckDevice(pointers[i], bytes[i], call) != 0) {
            dnn_error("%s: operand %d is not device memory of %zu bytes", call, i, bytes[i]);
            return ST_EXECUTION_FAILED;
        }
    }
    return ST_SUCCESS;
}

size_t tensor_bytes(const tensor_desc *t) { return (size_t)t->n * t->c * t->h * t->w * sizeof(float); }

API size_t cudnnGetVersion(void) { return 90600; }
API size_t cudnnGetCudartVersion(void) { return 13000; }

API const char *cudnnGetErrorString(int status) {
    switch (status) {
    case ST_SUCCESS: return "CUDNN_STATUS_SUCCESS";
    case ST_NOT_INITIALIZED: return "CUDNN_STATUS_NOT_INITIALIZED";
    case ST_SUBLIBRARY_LOADING_FAILED: return "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED";
    case ST_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
    case ST_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
    case ST_EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
    default: return "CUDNN_STATUS_UNKNOWN";
    }
}

API void cudnnGetLastErrorString(char *message, size_t n) {
    snprintf(message, n, "%s", last_error);
    last_error[0] = '\0';
}

API int cudnnOpsVersionCheck(void) { return ST_SUCCESS; }
API int cudnnCnnVersionCheck(void) { return ST_SUCCESS; }

API int cudnnCreate(void **handle) {
    if (retortEmulatedBindRuntimeContext() != 0) {
        return ST_NOT_INITIALIZED;
    }
    *handle = calloc(1, 1);
    return ST_SUCCESS;
}

API int cudnnDestroy(void *handle) {
    free(handle);
    return ST_SUCCESS;
}

API int cudnnSetStream(void *handle, void *stream) {
    (void)handle;
    (void)stream;
    return ST_SUCCESS;
}

/* ---- the engine library, loaded as cuDNN 9 loads its engines: by path from this library's folder ---- */

static int engines_loaded;

static int load_engines(void) {
    if (engines_loaded) {
        return ST_SUCCESS;
    }
    Dl_info self;
    char path[4096];
    if (dladdr((void *)load_engines, &self) == 0 || self.dli_fname == NULL) {
        dnn_error("cannot find the folder of libcudnn.so.9");
        return ST_SUBLIBRARY_LOADING_FAILED;
    }
    snprintf(path, sizeof path, "%s", self.dli_fname);
    char *slash = strrchr(path, '/');
    snprintf(slash ? slash + 1 : path, sizeof path - (size_t)(slash ? slash + 1 - path : 0),
             "libcudnn_engines_precompiled.so.9");
    if (dlopen(path, RTLD_NOW | RTLD_LOCAL) == NULL) {
        dnn_error("libcudnn_engines_precompiled.so.9 could not be loaded: %s", dlerror());
        return ST_SUBLIBRARY_LOADING_FAILED;
    }
    engines_loaded = 1;
    return ST_SUCCESS;
}

/* ---- descriptors ---- */

#define DESCRIPTOR(type, create, destroy)          \
    API int create(type **d) {                     \
        *d = calloc(1, sizeof **d);                \
        return *d ? ST_SUCCESS : ST_BAD_PARAM;     \
    }                                              \
    API int destroy(type *d) {                     \
        free(d);                                   \
        return ST_SUCCESS;                         \
    }

DESCRIPTOR(tensor_desc, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor)
DESCRIPTOR(filter_desc, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor)
DESCRIPTOR(conv_desc, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor)
DESCRIPTOR(pool_desc, cudnnCreatePoolingDescriptor, cudnnDestroyPoolingDescriptor)

API int cudnnSetTensor4dDescriptor(tensor_desc *d, int format, int type, int n, int c, int h, int w) {
    if (format != 0 || type != 0 || n <= 0 || c <= 0 || h <= 0 || w <= 0) {
        dnn_error("cudnnSetTensor4dDescriptor: only NCHW float with positive sizes is emulated");
        return ST_BAD_PARAM;
    }
    *d = (tensor_desc){ n, c, h, w };
    return ST_SUCCESS;
}

API int cudnnSetFilter4dDescriptor(filter_desc *d, int type, int format, int k, int c, int h, int w) {
    if (format != 0 || type != 0 || k <= 0 || c <= 0 || h <= 0 || w <= 0) {
        return ST_BAD_PARAM;
    }
    *d = (filter_desc){ k, c, h, w };
    return ST_SUCCESS;
}

API int cudnnSetConvolution2dDescriptor(conv_desc *d, int padH, int padW, int strideH, int strideW, int dilationH,
                                        int dilationW, int mode, int computeType) {
    if (mode != 1 || computeType != 0 || dilationH != 1 || dilationW != 1 || strideH <= 0 || strideW <= 0 ||
        padH < 0 || padW < 0) {
        dnn_error("cudnnSetConvolution2dDescriptor: only float cross-correlation without dilation is emulated");
        return ST_NOT_SUPPORTED;
    }
    *d = (conv_desc){ padH, padW, strideH, strideW, dilationH, dilationW, 0 };
    return ST_SUCCESS;
}

API int cudnnSetConvolutionMathType(conv_desc *d, int math) {
    d->math = math;
    return ST_SUCCESS;
}

API int cudnnSetPooling2dDescriptor(pool_desc *d, int mode, int nan, int wh, int ww, int ph, int pw, int sh, int sw) {
    if ((mode != 0 && mode != 1 && mode != 3) || wh <= 0 || ww <= 0 || sh <= 0 || sw <= 0 || ph < 0 || pw < 0) {
        return ST_BAD_PARAM;
    }
    *d = (pool_desc){ mode, nan, wh, ww, ph, pw, sh, sw };
    return ST_SUCCESS;
}

API int cudnnDeriveBNTensorDescriptor(tensor_desc *d, const tensor_desc *x, int mode) {
    if (mode != 1) {
        return ST_NOT_SUPPORTED;
    }
    *d = (tensor_desc){ 1, x->c, 1, 1 };
    return ST_SUCCESS;
}

/* ---- convolution algorithms ---- */

static int algorithms(int dir) { return dir == 0 ? FWD_ALGOS : dir == 1 ? BWD_DATA_ALGOS : BWD_FILTER_ALGOS; }

static int workspace(int dir, int algo, size_t *bytes) {
    if (algo < 0 || algo >= algorithms(dir)) {
        return ST_BAD_PARAM;
    }
    if (algo > 1) {
        return ST_NOT_SUPPORTED; /* only two algorithms are emulated */
    }
    *bytes = algo == 0 ? 0 : CONV_WORKSPACE;
    return ST_SUCCESS;
}

API int cudnnGetConvolutionForwardWorkspaceSize(void *h, void *x, void *w, void *c, void *y, int algo, size_t *b) {
    (void)h, (void)x, (void)w, (void)c, (void)y;
    return workspace(0, algo, b);
}
API int cudnnGetConvolutionBackwardDataWorkspaceSize(void *h, void *w, void *dy, void *c, void *dx, int algo,
                                                     size_t *b) {
    (void)h, (void)w, (void)dy, (void)c, (void)dx;
    return workspace(1, algo, b);
}
API int cudnnGetConvolutionBackwardFilterWorkspaceSize(void *h, void *x, void *dy, void *c, void *dw, int algo,
                                                       size_t *b) {
    (void)h, (void)x, (void)dy, (void)c, (void)dw;
    return workspace(2, algo, b);
}

/* The results a search reports: algorithm 1 first when measuring (it is "faster"), usable only with its workspace;
 * the heuristic lists algorithm 0 first. */
static void report(int measured, const conv_desc *c, size_t ws_bytes, int requested, int *returned, perf *out) {
    int order[2] = { measured ? 1 : 0, measured ? 0 : 1 };
    int n = requested < 2 ? requested : 2;
    for (int i = 0; i < n; i++) {
        size_t need = 0;
        workspace(0, order[i], &need);
        out[i] = (perf){ order[i], ST_SUCCESS, measured ? 0.5f + (float)i : -1.0f, need, 1, c->math, { 0, 0, 0 } };
        if (measured && need > ws_bytes) {
            out[i].status = ST_NOT_SUPPORTED; /* cannot be timed without its workspace */
            out[i].time = -1.0f;
        }
    }
    *returned = n;
}

int conv_compute(int dir, const tensor_desc *x, const void *xp, const filter_desc *w, const void *wp,
                 const conv_desc *c, const tensor_desc *y, const void *yp, float alpha, float beta);

/* Checks engines, algorithm and workspace, then computes one direction (0 forward, 1 backward data, 2 filter). */
static int convolve(const char *call, int dir, const tensor_desc *x, const void *xp, const filter_desc *w,
                    const void *wp, const conv_desc *c, const tensor_desc *y, const void *yp, int algo, size_t wsBytes,
                    const float *alpha, const float *beta) {
    int st = dnn_ready();
    if (st == ST_SUCCESS) {
        st = load_engines();
    }
    size_t need = 0;
    if (st == ST_SUCCESS && (st = workspace(dir, algo, &need)) != ST_SUCCESS) {
        dnn_error("%s: algorithm %d is not supported", call, algo);
    }
    if (st == ST_SUCCESS && need > wsBytes) {
        dnn_error("%s: algorithm %d needs a %zu-byte workspace, %zu given", call, algo, need, wsBytes);
        st = ST_BAD_PARAM;
    }
    if (st == ST_SUCCESS) {
        st = conv_compute(dir, x, xp, w, wp, c, y, yp, *alpha, *beta);
    }
    return st;
}

static const float ONE = 1.0f, ZERO = 0.0f;

API int cudnnFindConvolutionForwardAlgorithmEx(void *h, const tensor_desc *x, const void *xp, const filter_desc *w,
                                               const void *wp, const conv_desc *c, const tensor_desc *y, void *yp,
                                               int requested, int *returned, perf *out, void *ws, size_t wsBytes) {
    (void)h;
    int st = convolve("cudnnFindConvolutionForwardAlgorithmEx", 0, x, xp, w, wp, c, y, yp, 0, 0, &ONE, &ZERO);
    if (st == ST_SUCCESS) {
        report(1, c, ws ? wsBytes : 0, requested, returned, out);
    }
    return st;
}

API int cudnnFindConvolutionBackwardDataAlgorithmEx(void *h, const filter_desc *w, const void *wp,
                                                    const tensor_desc *dy, const void *dyp, const conv_desc *c,
                                                    const tensor_desc *dx, void *dxp, int requested, int *returned,
                                                    perf *out, void *ws, size_t wsBytes) {
    (void)h;
    int st = convolve("cudnnFindConvolutionBackwardDataAlgorithmEx", 1, dx, dxp, w, wp, c, dy, dyp, 0, 0, &ONE, &ZERO);
    if (st == ST_SUCCESS) {
        report(1, c, ws ? wsBytes : 0, requested, returned, out);
    }
    return st;
}

API int cudnnFindConvolutionBackwardFilterAlgorithmEx(void *h, const tensor_desc *x, const void *xp,
                                                      const tensor_desc *dy, const void *dyp, const conv_desc *c,
                                                      const filter_desc *dw, void *dwp, int requested, int *returned,
                                                      perf *out, void *ws, size_t wsBytes) {
    (void)h;
    int st = convolve("cudnnFindConvolutionBackwardFilterAlgorithmEx", 2, x, xp, dw, dwp, c, dy, dyp, 0, 0, &ONE,
                      &ZERO);
    if (st == ST_SUCCESS) {
        report(1, c, ws ? wsBytes : 0, requested, returned, out);
    }
    return st;
}

API int cudnnGetConvolutionForwardAlgorithm_v7(void *h, void *x, void *w, const conv_desc *c, void *y, int requested,
                                               int *returned, perf *out) {
    (void)h, (void)x, (void)w, (void)y;
    report(0, c, 0, requested, returned, out);
    return ST_SUCCESS;
}
API int cudnnGetConvolutionBackwardDataAlgorithm_v7(void *h, void *w, void *dy, const conv_desc *c, void *dx,
                                                    int requested, int *returned, perf *out) {
    (void)h, (void)w, (void)dy, (void)dx;
    report(0, c, 0, requested, returned, out);
    return ST_SUCCESS;
}
API int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void *h, void *x, void *dy, const conv_desc *c, void *dw,
                                                      int requested, int *returned, perf *out) {
    (void)h, (void)x, (void)dy, (void)dw;
    report(0, c, 0, requested, returned, out);
    return ST_SUCCESS;
}

API int cudnnConvolutionForward(void *h, const float *alpha, const tensor_desc *x, const void *xp,
                                const filter_desc *w, const void *wp, const conv_desc *c, int algo, void *ws,
                                size_t wsBytes, const float *beta, const tensor_desc *y, void *yp) {
    (void)h;
    return convolve("cudnnConvolutionForward", 0, x, xp, w, wp, c, y, yp, algo, ws ? wsBytes : 0, alpha, beta);
}

API int cudnnConvolutionBackwardData(void *h, const float *alpha, const filter_desc *w, const void *wp,
                                     const tensor_desc *dy, const void *dyp, const conv_desc *c, int algo, void *ws,
                                     size_t wsBytes, const float *beta, const tensor_desc *dx, void *dxp) {
    (void)h;
    return convolve("cudnnConvolutionBackwardData", 1, dx, dxp, w, wp, c, dy, dyp, algo, ws ? wsBytes : 0, alpha,
                    beta);
}

API int cudnnConvolutionBackwardFilter(void *h, const float *alpha, const tensor_desc *x, const void *xp,
                                       const tensor_desc *dy, const void *dyp, const conv_desc *c, int algo, void *ws,
                                       size_t wsBytes, const float *beta, const filter_desc *dw, void *dwp) {
    (void)h;
    return convolve("cudnnConvolutionBackwardFilter", 2, x, xp, dw, dwp, c, dy, dyp, algo, ws ? wsBytes : 0, alpha,
                    beta);
}
