/*
 * The JNI bridge from dev.retort.backend.cuda.NativeBridge to cuBLAS and cuDNN, bound at run time with dlopen.
 *
 * Why this shape (docs/design.md, "cuBLAS and cuDNN through our own JNI bridge"): JCublas links libcublas.so.12
 * with versioned symbols and JCudnn targets cuDNN 8, so neither loads on a CUDA 13 / cuDNN 9 machine. This file
 * includes no CUDA header: it declares the few types, values and entry points it uses (each group below names the
 * header its values were checked against) and resolves them with dlsym, so one binary serves cuBLAS 12 and 13.
 *
 * Conventions:
 * - Device pointers and streams arrive as jlong addresses; the bridge never dereferences them on the host.
 * - Every library status is checked; a failure throws dev.retort.backend.cuda.CudaLibraryException naming the call
 *   and the status string, and the JNI function returns at once. Java validates arguments before it calls in.
 * - A "context" (struct bridge_ctx) holds one cuBLAS and one cuDNN handle bound to one stream, the cuDNN
 *   descriptors and chosen algorithms cached per shape, and a workspace that only grows. One thread at a time
 *   uses a context (the Java side synchronises).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <jni.h>
#include <link.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define UNUSED(x) (void)(x)

/* ---- cuBLAS: values from cublas_api.h of CUDA 13.0 (CUBLAS_VER_MAJOR 13); CUDA 12's header has the same ---- */
enum {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_OP_N = 0,
    CUBLAS_OP_T = 1,
    CUBLAS_GEMM_DEFAULT = -1,          /* cublasGemmAlgo_t */
    CUBLAS_COMPUTE_32F = 68,           /* cublasComputeType_t: float, default (no TF32) */
    CUBLAS_COMPUTE_32F_FAST_TF32 = 77  /* float, inputs may be rounded to TF32 for tensor cores */
};
/* library_types.h (CUDA 13.0): cudaDataType CUDA_R_32F = 0; libraryPropertyType MAJOR_VERSION = 0,
 * MINOR_VERSION = 1, PATCH_LEVEL = 2. */
enum { CUDA_R_32F = 0, MAJOR_VERSION = 0, MINOR_VERSION = 1, PATCH_LEVEL = 2 };

/* ---- cuDNN: values from cudnn_graph.h, cudnn_ops.h and cudnn_cnn.h of cuDNN 9.6.0 ---- */
enum {
    CUDNN_STATUS_SUCCESS = 0,
    CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED = 1008,
    CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER = 3005,
    CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH = 3007,
    CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE = 3009,
    CUDNN_DATA_FLOAT = 0,              /* cudnnDataType_t */
    CUDNN_TENSOR_NCHW = 0,             /* cudnnTensorFormat_t */
    CUDNN_DEFAULT_MATH = 0,            /* cudnnMathType_t: TF32 permitted on Ampere and newer */
    CUDNN_TENSOR_OP_MATH = 1,
    CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = 2,
    CUDNN_FMA_MATH = 3,                /* FMA kernels only: no TF32 */
    CUDNN_PROPAGATE_NAN = 1,           /* cudnnNanPropagation_t */
    CUDNN_DETERMINISTIC = 1,           /* cudnnDeterminism_t */
    CUDNN_CROSS_CORRELATION = 1,       /* cudnnConvolutionMode_t: what deep-learning frameworks call convolution */
    CUDNN_POOLING_MAX = 0,             /* cudnnPoolingMode_t */
    CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING = 1,
    CUDNN_POOLING_MAX_DETERMINISTIC = 3,
    CUDNN_BATCHNORM_SPATIAL = 1,       /* cudnnBatchNormMode_t: one statistic per channel over N, H, W */
    CUDNN_CONVOLUTION_FWD_ALGO_COUNT = 8,
    CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT = 6,
    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT = 7
};

/* cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionBwdDataAlgoPerf_t and cudnnConvolutionBwdFilterAlgoPerf_t
 * (cudnn_cnn.h, cuDNN 9.6.0) share this layout: algo, status, time, memory, determinism, mathType, reserved[3]. */
typedef struct {
    int algo;
    int status;
    float time;
    size_t memory;
    int determinism;
    int mathType;
    int reserved[3];
} conv_perf;
_Static_assert(sizeof(conv_perf) == 48, "cudnnConvolution*AlgoPerf_t is 48 bytes on LP64");

/* ---- CUDA driver: from cuda.h of CUDA 13.0; CUdeviceptr is unsigned long long, CUresult an int enum ---- */
enum { CUDA_SUCCESS = 0, CUDA_ERROR_OUT_OF_MEMORY = 2 };

/* ---- the entry points, filled by dlsym ---- */
static struct {
    int (*create)(void **handle);
    int (*destroy)(void *handle);
    int (*setStream)(void *handle, void *stream);
    int (*getProperty)(int type, int *value);
    int (*sgemm)(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int lda,
                 const float *b, int ldb, const float *beta, float *c, int ldc);
    int (*gemmEx)(void *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *a, int aType, int lda,
                  const void *b, int bType, int ldb, const void *beta, void *c, int cType, int ldc, int computeType,
                  int algo);
    int (*sgemmStridedBatched)(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a,
                               int lda, long long strideA, const float *b, int ldb, long long strideB,
                               const float *beta, float *c, int ldc, long long strideC, int batchCount);
    const char *(*statusName)(int status);   /* optional: cuBLAS 11.4.2 and later */
    const char *(*statusString)(int status); /* optional */
} CB;

static struct {
    size_t (*getVersion)(void);
    size_t (*getCudartVersion)(void);                    /* optional */
    const char *(*getErrorString)(int status);
    void (*getLastErrorString)(char *message, size_t n); /* optional: cuDNN 9 */
    int (*opsVersionCheck)(void);                        /* optional: loads and checks the ops sub-library */
    int (*cnnVersionCheck)(void);                        /* optional: loads and checks the cnn sub-library */
    int (*create)(void **handle);
    int (*destroy)(void *handle);
    int (*setStream)(void *handle, void *stream);
    int (*createTensor)(void **desc);
    int (*setTensor4d)(void *desc, int format, int dataType, int n, int c, int h, int w);
    int (*destroyTensor)(void *desc);
    int (*createFilter)(void **desc);
    int (*setFilter4d)(void *desc, int dataType, int format, int k, int c, int h, int w);
    int (*destroyFilter)(void *desc);
    int (*createConv)(void **desc);
    int (*setConv2d)(void *desc, int padH, int padW, int strideH, int strideW, int dilationH, int dilationW,
                     int mode, int computeType);
    int (*setConvMathType)(void *desc, int mathType);
    int (*destroyConv)(void *desc);
    int (*findFwdEx)(void *h, void *xDesc, const void *x, void *wDesc, const void *w, void *convDesc, void *yDesc,
                     void *y, int requested, int *returned, conv_perf *perf, void *ws, size_t wsBytes);
    int (*getFwdV7)(void *h, void *xDesc, void *wDesc, void *convDesc, void *yDesc, int requested, int *returned,
                    conv_perf *perf);
    int (*getFwdWs)(void *h, void *xDesc, void *wDesc, void *convDesc, void *yDesc, int algo, size_t *bytes);
    int (*convFwd)(void *h, const void *alpha, void *xDesc, const void *x, void *wDesc, const void *w,
                   void *convDesc, int algo, void *ws, size_t wsBytes, const void *beta, void *yDesc, void *y);
    int (*findBwdDataEx)(void *h, void *wDesc, const void *w, void *dyDesc, const void *dy, void *convDesc,
                         void *dxDesc, void *dx, int requested, int *returned, conv_perf *perf, void *ws,
                         size_t wsBytes);
    int (*getBwdDataV7)(void *h, void *wDesc, void *dyDesc, void *convDesc, void *dxDesc, int requested,
                        int *returned, conv_perf *perf);
    int (*getBwdDataWs)(void *h, void *wDesc, void *dyDesc, void *convDesc, void *dxDesc, int algo, size_t *bytes);
    int (*convBwdData)(void *h, const void *alpha, void *wDesc, const void *w, void *dyDesc, const void *dy,
                       void *convDesc, int algo, void *ws, size_t wsBytes, const void *beta, void *dxDesc,
                       void *dx);
    int (*findBwdFilterEx)(void *h, void *xDesc, const void *x, void *dyDesc, const void *dy, void *convDesc,
                           void *dwDesc, void *dw, int requested, int *returned, conv_perf *perf, void *ws,
                           size_t wsBytes);
    int (*getBwdFilterV7)(void *h, void *xDesc, void *dyDesc, void *convDesc, void *dwDesc, int requested,
                          int *returned, conv_perf *perf);
    int (*getBwdFilterWs)(void *h, void *xDesc, void *dyDesc, void *convDesc, void *dwDesc, int algo,
                          size_t *bytes);
    int (*convBwdFilter)(void *h, const void *alpha, void *xDesc, const void *x, void *dyDesc, const void *dy,
                         void *convDesc, int algo, void *ws, size_t wsBytes, const void *beta, void *dwDesc,
                         void *dw);
    int (*addTensor)(void *h, const void *alpha, void *aDesc, const void *a, const void *beta, void *cDesc, void *c);
    int (*createPooling)(void **desc);
    int (*setPooling2d)(void *desc, int mode, int nanOpt, int windowH, int windowW, int padH, int padW,
                        int strideH, int strideW);
    int (*destroyPooling)(void *desc);
    int (*poolFwd)(void *h, void *pool, const void *alpha, void *xDesc, const void *x, const void *beta,
                   void *yDesc, void *y);
    int (*poolBwd)(void *h, void *pool, const void *alpha, void *yDesc, const void *y, void *dyDesc, const void *dy,
                   void *xDesc, const void *x, const void *beta, void *dxDesc, void *dx);
    int (*deriveBn)(void *bnDesc, void *xDesc, int mode);
    int (*bnTrain)(void *h, int mode, const void *alpha, const void *beta, void *xDesc, const void *x, void *yDesc,
                   void *y, void *bnDesc, const void *scale, const void *bias, double factor, void *runMean,
                   void *runVar, double eps, void *saveMean, void *saveInvStd);
    int (*bnInfer)(void *h, int mode, const void *alpha, const void *beta, void *xDesc, const void *x, void *yDesc,
                   void *y, void *bnDesc, const void *scale, const void *bias, const void *mean, const void *var,
                   double eps);
    int (*bnBwd)(void *h, int mode, const void *alphaData, const void *betaData, const void *alphaParam,
                 const void *betaParam, void *xDesc, const void *x, void *dyDesc, const void *dy, void *dxDesc,
                 void *dx, void *bnDesc, const void *scale, void *dScale, void *dBias, double eps,
                 const void *savedMean, const void *savedInvStd);
} DN;

static struct {
    int (*ctxGetCurrent)(void **ctx);
    int (*ctxSetCurrent)(void *ctx);
    int (*memAllocAsync)(unsigned long long *ptr, size_t bytes, void *stream);
    int (*memFreeAsync)(unsigned long long ptr, void *stream);
    int (*getErrorName)(int error, const char **name);
    int (*getErrorString)(int error, const char **text);
    int (*driverGetVersion)(int *version);
} CU;

typedef struct {
    const char *name;
    void *slot; /* address of the function pointer above */
    int required;
} symbol;

#define SYM(table, field, name, required) { name, &table.field, required }

static const symbol CUBLAS_SYMBOLS[] = {
    SYM(CB, create, "cublasCreate_v2", 1),
    SYM(CB, destroy, "cublasDestroy_v2", 1),
    SYM(CB, setStream, "cublasSetStream_v2", 1),
    SYM(CB, getProperty, "cublasGetProperty", 1),
    SYM(CB, sgemm, "cublasSgemm_v2", 1),
    SYM(CB, gemmEx, "cublasGemmEx", 1),
    SYM(CB, sgemmStridedBatched, "cublasSgemmStridedBatched", 1),
    SYM(CB, statusName, "cublasGetStatusName", 0),
    SYM(CB, statusString, "cublasGetStatusString", 0),
};

static const symbol CUDNN_SYMBOLS[] = {
    SYM(DN, getVersion, "cudnnGetVersion", 1),
    SYM(DN, getCudartVersion, "cudnnGetCudartVersion", 0),
    SYM(DN, getErrorString, "cudnnGetErrorString", 1),
    SYM(DN, getLastErrorString, "cudnnGetLastErrorString", 0),
    SYM(DN, opsVersionCheck, "cudnnOpsVersionCheck", 0),
    SYM(DN, cnnVersionCheck, "cudnnCnnVersionCheck", 0),
    SYM(DN, create, "cudnnCreate", 1),
    SYM(DN, destroy, "cudnnDestroy", 1),
    SYM(DN, setStream, "cudnnSetStream", 1),
    SYM(DN, createTensor, "cudnnCreateTensorDescriptor", 1),
    SYM(DN, setTensor4d, "cudnnSetTensor4dDescriptor", 1),
    SYM(DN, destroyTensor, "cudnnDestroyTensorDescriptor", 1),
    SYM(DN, createFilter, "cudnnCreateFilterDescriptor", 1),
    SYM(DN, setFilter4d, "cudnnSetFilter4dDescriptor", 1),
    SYM(DN, destroyFilter, "cudnnDestroyFilterDescriptor", 1),
    SYM(DN, createConv, "cudnnCreateConvolutionDescriptor", 1),
    SYM(DN, setConv2d, "cudnnSetConvolution2dDescriptor", 1),
    SYM(DN, setConvMathType, "cudnnSetConvolutionMathType", 1),
    SYM(DN, destroyConv, "cudnnDestroyConvolutionDescriptor", 1),
    SYM(DN, findFwdEx, "cudnnFindConvolutionForwardAlgorithmEx", 1),
    SYM(DN, getFwdV7, "cudnnGetConvolutionForwardAlgorithm_v7", 1),
    SYM(DN, getFwdWs, "cudnnGetConvolutionForwardWorkspaceSize", 1),
    SYM(DN, convFwd, "cudnnConvolutionForward", 1),
    SYM(DN, findBwdDataEx, "cudnnFindConvolutionBackwardDataAlgorithmEx", 1),
    SYM(DN, getBwdDataV7, "cudnnGetConvolutionBackwardDataAlgorithm_v7", 1),
    SYM(DN, getBwdDataWs, "cudnnGetConvolutionBackwardDataWorkspaceSize", 1),
    SYM(DN, convBwdData, "cudnnConvolutionBackwardData", 1),
    SYM(DN, findBwdFilterEx, "cudnnFindConvolutionBackwardFilterAlgorithmEx", 1),
    SYM(DN, getBwdFilterV7, "cudnnGetConvolutionBackwardFilterAlgorithm_v7", 1),
    SYM(DN, getBwdFilterWs, "cudnnGetConvolutionBackwardFilterWorkspaceSize", 1),
    SYM(DN, convBwdFilter, "cudnnConvolutionBackwardFilter", 1),
    SYM(DN, addTensor, "cudnnAddTensor", 1),
    SYM(DN, createPooling, "cudnnCreatePoolingDescriptor", 1),
    SYM(DN, setPooling2d, "cudnnSetPooling2dDescriptor", 1),
    SYM(DN, destroyPooling, "cudnnDestroyPoolingDescriptor", 1),
    SYM(DN, poolFwd, "cudnnPoolingForward", 1),
    SYM(DN, poolBwd, "cudnnPoolingBackward", 1),
    SYM(DN, deriveBn, "cudnnDeriveBNTensorDescriptor", 1),
    SYM(DN, bnTrain, "cudnnBatchNormalizationForwardTraining", 1),
    SYM(DN, bnInfer, "cudnnBatchNormalizationForwardInference", 1),
    SYM(DN, bnBwd, "cudnnBatchNormalizationBackward", 1),
};

static const symbol DRIVER_SYMBOLS[] = {
    SYM(CU, ctxGetCurrent, "cuCtxGetCurrent", 1),
    SYM(CU, ctxSetCurrent, "cuCtxSetCurrent", 1),
    SYM(CU, memAllocAsync, "cuMemAllocAsync", 1),
    SYM(CU, memFreeAsync, "cuMemFreeAsync", 1),
    SYM(CU, getErrorName, "cuGetErrorName", 1),
    SYM(CU, getErrorString, "cuGetErrorString", 1),
    SYM(CU, driverGetVersion, "cuDriverGetVersion", 1),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- process-wide binding ---- */
static void *g_cublas, *g_cublasLt, *g_nvrtc, *g_cudnn, *g_driver;
static int g_bound;
static int g_live_contexts;
static jclass g_library_exception, g_illegal_state, g_illegal_argument;

/* ---- a growable string, for messages that list every folder tried ---- */
typedef struct {
    char *data;
    size_t len, cap;
} sbuf;

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
        return;
    }
    if (b->len + (size_t)need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + (size_t)need + 1) {
            cap *= 2;
        }
        char *grown = realloc(b->data, cap);
        if (grown == NULL) {
            return; /* a truncated message beats none */
        }
        b->data = grown;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)need;
}

static const char *sb_str(const sbuf *b) { return b->data ? b->data : ""; }

static void sb_free(sbuf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- exceptions ---- */
__attribute__((format(printf, 3, 4))) static void throw_new(JNIEnv *env, jclass cls, const char *fmt, ...) {
    char message[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (!(*env)->ExceptionCheck(env)) {
        (*env)->ThrowNew(env, cls, message);
    }
}

static const char *cublas_fallback_name(int status) {
    switch (status) { /* cublas_api.h, CUDA 13.0 */
    case 0: return "CUBLAS_STATUS_SUCCESS";
    case 1: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case 3: return "CUBLAS_STATUS_ALLOC_FAILED";
    case 7: return "CUBLAS_STATUS_INVALID_VALUE";
    case 8: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
    case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case 16: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "unknown cuBLAS status";
    }
}

/* Throws CudaLibraryException "<call> failed: <NAME> (<text>) [status n]<context>"; returns -1 for "return". */
static int fail_cublas(JNIEnv *env, const char *call, int status, const char *context) {
    const char *name = CB.statusName ? CB.statusName(status) : NULL;
    const char *text = CB.statusString ? CB.statusString(status) : NULL;
    if (name == NULL) {
        name = cublas_fallback_name(status);
    }
    const char *hint = status == 1 ? "; cuBLAS could not initialise: is a CUDA context current and the GPU usable?"
                                   : "";
    if (text != NULL && strcmp(text, name) != 0) {
        throw_new(env, g_library_exception, "%s failed: %s (%s) [status %d]%s%s", call, name, text, status,
                  context ? context : "", hint);
    } else {
        throw_new(env, g_library_exception, "%s failed: %s [status %d]%s%s", call, name, status,
                  context ? context : "", hint);
    }
    return -1;
}

static int fail_cudnn(JNIEnv *env, const char *call, int status, const char *context) {
    const char *name = DN.getErrorString ? DN.getErrorString(status) : NULL;
    char last[1024] = "";
    if (DN.getLastErrorString) {
        DN.getLastErrorString(last, sizeof last);
    }
    const char *hint = "";
    if (status == CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED || status == CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE) {
        hint = "; cuDNN 9 loads libcudnn_ops, libcudnn_cnn, libcudnn_graph and libcudnn_engines_*.so.9 from the folder"
               " of libcudnn.so.9: install the complete package (pip install nvidia-cudnn-cu13 or nvidia-cudnn-cu12)";
    } else if (status == CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH) {
        hint = "; this cuDNN build does not support this GPU: install a newer cuDNN 9";
    } else if (status == CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER) {
        hint = "; the NVIDIA driver is older than this cuDNN needs: update the driver or install a cuDNN built for"
               " an older CUDA (nvidia-cudnn-cu12)";
    }
    throw_new(env, g_library_exception, "%s failed: %s [status %d]%s%s%s%s", call, name ? name : "unknown cuDNN status",
              status, last[0] ? ": " : "", last, context ? context : "", hint);
    return -1;
}

static int fail_driver(JNIEnv *env, const char *call, int result, const char *context) {
    const char *name = NULL, *text = NULL;
    if (CU.getErrorName) {
        CU.getErrorName(result, &name);
    }
    if (CU.getErrorString) {
        CU.getErrorString(result, &text);
    }
    throw_new(env, g_library_exception, "%s failed: %s (%s) [CUresult %d]%s", call, name ? name : "unknown CUresult",
              text ? text : "no description", result, context ? context : "");
    return -1;
}

#define CHECK_CUDNN(env, call, expr)                                \
    do {                                                            \
        int status_ = (expr);                                       \
        if (status_ != CUDNN_STATUS_SUCCESS) {                      \
            return fail_cudnn((env), (call), status_, NULL);        \
        }                                                           \
    } while (0)

/* ---- library search ---- */

/* One place to look: a folder, or NULL for the dynamic loader's own path (LD_LIBRARY_PATH, ldconfig cache). */
typedef struct {
    const char **folders; /* NULL entry = the loader path */
    int count;
} search_path;

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *path_of_handle(void *handle) {
    struct link_map *map = NULL;
    if (handle != NULL && dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map != NULL && map->l_name != NULL &&
        map->l_name[0] != '\0') {
        return strdup(map->l_name);
    }
    return NULL;
}

static void note_problem(sbuf *problems, const char *path, const char *why);

/*
 * Opens the first of `sonames` found along `where`, place by place (so an explicit folder holding only .so.12
 * wins over a .so.13 on the loader path). `preload`, parallel to `sonames`, names a dependency that is opened first
 * from the same folder (libcublasLt for libcublas): the loader then reuses it by soname instead of searching for
 * it, which matters for folders outside the loader path whose libraries carry no RUNPATH. Files that exist but
 * fail to load are reported with dlerror's reason in `problems`.
 */
static void *open_first(const search_path *where, const char *const *sonames, const char *const *preload, int n,
                        sbuf *problems, void **preloaded, const char **soname_out) {
    char path[4096];
    for (int p = 0; p < where->count; p++) {
        const char *folder = where->folders[p];
        for (int s = 0; s < n; s++) {
            void *dep = NULL;
            if (folder == NULL) {
                void *h = dlopen(sonames[s], RTLD_NOW | RTLD_LOCAL);
                if (h != NULL) {
                    *soname_out = sonames[s];
                    return h;
                }
                const char *why = dlerror();
                /* "<soname>: cannot open shared object file" only says it is not there. Anything else is worth
                 * reporting, such as a dependency (libcublasLt) that is missing: the message then names that one. */
                size_t len = strlen(sonames[s]);
                if (why != NULL && !(strncmp(why, sonames[s], len) == 0 &&
                                     strncmp(why + len, ": cannot open shared object file", 32) == 0)) {
                    sb_printf(problems, "\n  %s (loader path): %s", sonames[s], why);
                }
                continue;
            }
            snprintf(path, sizeof path, "%s/%s", folder, sonames[s]);
            if (!file_exists(path)) {
                continue;
            }
            if (preload != NULL && preload[s] != NULL) {
                char dep_path[4096];
                snprintf(dep_path, sizeof dep_path, "%s/%s", folder, preload[s]);
                if (file_exists(dep_path)) {
                    dep = dlopen(dep_path, RTLD_NOW | RTLD_GLOBAL);
                    if (dep == NULL) {
                        note_problem(problems, dep_path, dlerror());
                    }
                }
            }
            void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (h != NULL) {
                *preloaded = dep;
                *soname_out = sonames[s];
                return h;
            }
            note_problem(problems, path, dlerror());
            if (dep != NULL) {
                dlclose(dep);
            }
        }
    }
    return NULL;
}

/* dlerror's text usually starts with the file's path already; say it once. */
static void note_problem(sbuf *problems, const char *path, const char *why) {
    if (why == NULL) {
        why = "dlopen failed";
    }
    if (strncmp(why, path, strlen(path)) == 0) {
        sb_printf(problems, "\n  %s", why);
    } else {
        sb_printf(problems, "\n  %s: %s", path, why);
    }
}

static void describe_search(sbuf *out, const search_path *where) {
    for (int p = 0; p < where->count; p++) {
        sb_printf(out, "%s%s", p == 0 ? "" : ", ",
                  where->folders[p] ? where->folders[p] : "the loader path (LD_LIBRARY_PATH, ldconfig)");
    }
}

/* Resolves every symbol of `table` from `lib`; lists the missing required ones in `missing`. */
static int resolve(void *lib, const symbol *table, size_t n, sbuf *missing) {
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        void *fn = dlsym(lib, table[i].name);
        /* memcpy, not a cast through void**, so no object-to-function-pointer aliasing is assumed. */
        memcpy(table[i].slot, &fn, sizeof fn);
        if (fn == NULL && table[i].required) {
            sb_printf(missing, "%s%s", ok ? "" : ", ", table[i].name);
            ok = 0;
        }
    }
    return ok;
}

static void clear_symbols(const symbol *table, size_t n) {
    void *none = NULL;
    for (size_t i = 0; i < n; i++) {
        memcpy(table[i].slot, &none, sizeof none);
    }
}

static void unbind_all(void) {
    clear_symbols(CUBLAS_SYMBOLS, COUNT(CUBLAS_SYMBOLS));
    clear_symbols(CUDNN_SYMBOLS, COUNT(CUDNN_SYMBOLS));
    clear_symbols(DRIVER_SYMBOLS, COUNT(DRIVER_SYMBOLS));
    void **handles[] = { &g_cudnn, &g_nvrtc, &g_cublas, &g_cublasLt, &g_driver };
    for (size_t i = 0; i < COUNT(handles); i++) {
        if (*handles[i] != NULL) {
            dlclose(*handles[i]);
            *handles[i] = NULL;
        }
    }
    g_bound = 0;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
    UNUSED(reserved);
    JNIEnv *env;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK) {
        return JNI_ERR;
    }
    const char *names[] = { "dev/retort/backend/cuda/CudaLibraryException", "java/lang/IllegalStateException",
                            "java/lang/IllegalArgumentException" };
    jclass *slots[] = { &g_library_exception, &g_illegal_state, &g_illegal_argument };
    for (size_t i = 0; i < COUNT(names); i++) {
        jclass local = (*env)->FindClass(env, names[i]);
        if (local == NULL) {
            return JNI_ERR;
        }
        *slots[i] = (jclass)(*env)->NewGlobalRef(env, local);
        (*env)->DeleteLocalRef(env, local);
    }
    return JNI_VERSION_1_8;
}

/* Copies a Java String[] into C strings; NULL entries stay NULL. Returns a malloc'd array the caller frees. */
static char **strings_of(JNIEnv *env, jobjectArray array, int *count) {
    *count = array ? (*env)->GetArrayLength(env, array) : 0;
    char **out = calloc((size_t)*count + 1, sizeof(char *));
    for (int i = 0; out != NULL && i < *count; i++) {
        jstring s = (jstring)(*env)->GetObjectArrayElement(env, array, i);
        if (s != NULL) {
            const char *utf = (*env)->GetStringUTFChars(env, s, NULL);
            if (utf != NULL) {
                out[i] = strdup(utf);
                (*env)->ReleaseStringUTFChars(env, s, utf);
            }
            (*env)->DeleteLocalRef(env, s);
        }
    }
    return out;
}

static void free_strings(char **s, int count) {
    for (int i = 0; s != NULL && i < count; i++) {
        free(s[i]);
    }
    free(s);
}

static void put_pair(JNIEnv *env, jobjectArray out, int *at, const char *key, const char *value) {
    jstring k = (*env)->NewStringUTF(env, key);
    jstring v = (*env)->NewStringUTF(env, value ? value : "");
    (*env)->SetObjectArrayElement(env, out, (*at)++, k);
    (*env)->SetObjectArrayElement(env, out, (*at)++, v);
    (*env)->DeleteLocalRef(env, k);
    (*env)->DeleteLocalRef(env, v);
}

/*
 * Binds libcublas (13, then 12), libcudnn.so.9 and the driver's libcuda.so.1, then reports what came from where
 * as key/value pairs. cuBLAS and cuDNN are searched in: the explicit folders, the loader path, then the candidate
 * folders (toolkit lib64, pip wheels) that Java computed. libcuda is the driver's: the loader path first (JCuda
 * has normally loaded it already), then the explicit folders.
 */
JNIEXPORT jobjectArray JNICALL Java_dev_retort_backend_cuda_NativeBridge_nInit(JNIEnv *env, jclass cls,
                                                                              jobjectArray explicitFolders,
                                                                              jobjectArray candidateFolders) {
    UNUSED(cls);
    if (g_bound) {
        throw_new(env, g_illegal_state, "the bridge is already bound; NativeBridge.init returns the first binding");
        return NULL;
    }
    static const char *const blas_names[] = { "libcublas.so.13", "libcublas.so.12" };
    static const char *const lt_names[] = { "libcublasLt.so.13", "libcublasLt.so.12" };
    static const char *const nvrtc_names[] = { "libnvrtc.so.13", "libnvrtc.so.12" };
    static const char *const dnn_names[] = { "libcudnn.so.9" };
    static const char *const driver_names[] = { "libcuda.so.1" };
    int n_explicit = 0, n_candidates = 0, nf = 0, nd = 0, st;
    char **explicit_ = strings_of(env, explicitFolders, &n_explicit);
    char **candidates = strings_of(env, candidateFolders, &n_candidates);
    const char **folders = calloc((size_t)(n_explicit + n_candidates + 1), sizeof(char *));
    const char **driver_folders = calloc((size_t)n_explicit + 1, sizeof(char *));
    const char *blas_soname = NULL, *dnn_soname = NULL, *driver_soname = NULL;
    char *blas_path = NULL, *lt_path = NULL, *nvrtc_path = NULL, *dnn_path = NULL, *driver_path = NULL;
    char blas_version[64] = "", dnn_version[64] = "", cudart_version[64] = "", driver_version[64] = "";
    void *no_preload = NULL;
    jobjectArray result = NULL;
    sbuf problems = { 0 }, searched = { 0 }, missing = { 0 };
    if (explicit_ == NULL || candidates == NULL || folders == NULL || driver_folders == NULL) {
        throw_new(env, g_illegal_state, "NativeBridge.init: out of host memory");
        goto fail;
    }
    for (int i = 0; i < n_explicit; i++) {
        if (explicit_[i] != NULL) {
            folders[nf++] = explicit_[i];
        }
    }
    folders[nf++] = NULL; /* the loader path */
    for (int i = 0; i < n_candidates; i++) {
        if (candidates[i] != NULL) {
            folders[nf++] = candidates[i];
        }
    }
    search_path libs = { folders, nf };
    describe_search(&searched, &libs);

    /* cuBLAS */
    g_cublas = open_first(&libs, blas_names, lt_names, 2, &problems, &g_cublasLt, &blas_soname);
    if (g_cublas == NULL) {
        throw_new(env, g_library_exception,
                  "cuBLAS not found: no libcublas.so.13 or libcublas.so.12 in %s.%s%s\nInstall cuBLAS: the CUDA"
                  " toolkit (NVIDIA's apt repository: libcublas-13-0 or libcublas-12-9), or pip install nvidia-cublas"
                  " (CUDA 13) or nvidia-cublas-cu12 (CUDA 12); or set RETORT_CUDA_LIBS to the folder that holds it.",
                  sb_str(&searched), problems.len ? "\nFound but not loadable:" : "", sb_str(&problems));
        goto fail;
    }
    blas_path = path_of_handle(g_cublas);
    if (!resolve(g_cublas, CUBLAS_SYMBOLS, COUNT(CUBLAS_SYMBOLS), &missing)) {
        throw_new(env, g_library_exception,
                  "%s at %s lacks %s: Retort needs cuBLAS 12 or 13; install a complete cuBLAS (pip install"
                  " nvidia-cublas or nvidia-cublas-cu12) or set RETORT_CUDA_LIBS to a folder that holds one.",
                  blas_soname, blas_path ? blas_path : "?", sb_str(&missing));
        goto fail;
    }

    /* cuDNN 9 opens its engine libraries by name when it first runs a convolution, and they need libcublasLt and
     * libnvrtc of the same CUDA major with no search path of their own: the loader finds them only if they are
     * loaded already (PyTorch loads both up front). libcublasLt came with cuBLAS; libnvrtc is loaded here from the
     * same places. Without it cuDNN still binds, and the first convolution fails with a message that names it. */
    sb_free(&problems);
    const char *nvrtc_soname = NULL;
    const char *const *nvrtc_choice = blas_soname == blas_names[0] ? &nvrtc_names[0] : &nvrtc_names[1];
    g_nvrtc = open_first(&libs, nvrtc_choice, NULL, 1, &problems, &no_preload, &nvrtc_soname);
    nvrtc_path = path_of_handle(g_nvrtc);

    /* cuDNN */
    sb_free(&problems);
    g_cudnn = open_first(&libs, dnn_names, NULL, 1, &problems, &no_preload, &dnn_soname);
    if (g_cudnn == NULL) {
        throw_new(env, g_library_exception,
                  "cuDNN 9 not found: no libcudnn.so.9 in %s.%s%s\ncuDNN never ships with the CUDA toolkit: pip"
                  " install nvidia-cudnn-cu13 (or nvidia-cudnn-cu12), or NVIDIA's apt package libcudnn9-cuda-13 (or"
                  " libcudnn9-cuda-12); or set RETORT_CUDA_LIBS to the folder that holds it.",
                  sb_str(&searched), problems.len ? "\nFound but not loadable:" : "", sb_str(&problems));
        goto fail;
    }
    dnn_path = path_of_handle(g_cudnn);
    if (!resolve(g_cudnn, CUDNN_SYMBOLS, COUNT(CUDNN_SYMBOLS), &missing)) {
        throw_new(env, g_library_exception,
                  "libcudnn.so.9 at %s lacks %s: install a complete cuDNN 9 (pip install nvidia-cudnn-cu13 or"
                  " nvidia-cudnn-cu12) or set RETORT_CUDA_LIBS to a folder that holds one.",
                  dnn_path ? dnn_path : "?", sb_str(&missing));
        goto fail;
    }

    /* The driver, for the workspace (cuMemAllocAsync) and the current-context check: the loader path first,
     * where JCuda has normally loaded it already, then the explicit folders. */
    driver_folders[nd++] = NULL;
    for (int i = 0; i < n_explicit; i++) {
        if (explicit_[i] != NULL) {
            driver_folders[nd++] = explicit_[i];
        }
    }
    search_path drivers = { driver_folders, nd };
    sb_free(&problems);
    g_driver = open_first(&drivers, driver_names, NULL, 1, &problems, &no_preload, &driver_soname);
    if (g_driver == NULL) {
        throw_new(env, g_library_exception,
                  "the NVIDIA driver library libcuda.so.1 is not on the loader path%s%s: install the NVIDIA driver"
                  " for this GPU (Debian: nvidia-driver; NVIDIA's repository: cuda-drivers).",
                  problems.len ? "; found but not loadable:" : "", sb_str(&problems));
        goto fail;
    }
    driver_path = path_of_handle(g_driver);
    if (!resolve(g_driver, DRIVER_SYMBOLS, COUNT(DRIVER_SYMBOLS), &missing)) {
        throw_new(env, g_library_exception,
                  "libcuda.so.1 at %s lacks %s: the NVIDIA driver is older than CUDA 11.2; install a current driver.",
                  driver_path ? driver_path : "?", sb_str(&missing));
        goto fail;
    }

    /* Versions. cublasGetProperty needs no handle and no GPU. */
    int major = 0, minor = 0, patch = 0;
    if ((st = CB.getProperty(MAJOR_VERSION, &major)) != 0 || (st = CB.getProperty(MINOR_VERSION, &minor)) != 0 ||
        (st = CB.getProperty(PATCH_LEVEL, &patch)) != 0) {
        fail_cublas(env, "cublasGetProperty", st, NULL);
        goto fail;
    }
    snprintf(blas_version, sizeof blas_version, "%d.%d.%d", major, minor, patch);
    /* cuDNN 9 encodes its version as MAJOR*10000 + MINOR*100 + PATCH (cudnn_version.h). */
    size_t v = DN.getVersion();
    snprintf(dnn_version, sizeof dnn_version, "%zu.%zu.%zu", v / 10000, (v % 10000) / 100, v % 100);
    if (v / 10000 != 9) {
        throw_new(env, g_library_exception, "%s reports cuDNN version %zu, not 9.x: install cuDNN 9",
                  dnn_path ? dnn_path : "libcudnn.so.9", v);
        goto fail;
    }
    if (DN.getCudartVersion) {
        size_t rt = DN.getCudartVersion(); /* CUDA's encoding: 1000*major + 10*minor */
        snprintf(cudart_version, sizeof cudart_version, "%zu.%zu", rt / 1000, (rt % 1000) / 10);
    }
    int dv = 0;
    if (CU.driverGetVersion(&dv) == CUDA_SUCCESS) {
        snprintf(driver_version, sizeof driver_version, "%d.%d", dv / 1000, (dv % 1000) / 10);
    }
    /* Loading cuDNN's sub-libraries now turns a half-installed cuDNN into an error here, not mid-training. */
    if (DN.opsVersionCheck && (st = DN.opsVersionCheck()) != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnOpsVersionCheck", st, NULL);
        goto fail;
    }
    if (DN.cnnVersionCheck && (st = DN.cnnVersionCheck()) != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnCnnVersionCheck", st, NULL);
        goto fail;
    }

    /* libcublasLt: the copy we preloaded, or the one the loader found as libcublas's dependency. */
    lt_path = path_of_handle(g_cublasLt);
    if (lt_path == NULL) {
        void *lt = dlopen(blas_soname == blas_names[0] ? lt_names[0] : lt_names[1], RTLD_NOW | RTLD_NOLOAD);
        if (lt != NULL) {
            lt_path = path_of_handle(lt);
            dlclose(lt);
        }
    }

    jclass string_class = (*env)->FindClass(env, "java/lang/String");
    result = string_class ? (*env)->NewObjectArray(env, 18, string_class, NULL) : NULL;
    if (result == NULL) {
        goto fail; /* OutOfMemoryError is pending */
    }
    int at = 0;
    put_pair(env, result, &at, "cublas.path", blas_path ? blas_path : blas_soname);
    put_pair(env, result, &at, "cublas.version", blas_version);
    put_pair(env, result, &at, "cublasLt.path", lt_path);
    put_pair(env, result, &at, "nvrtc.path", nvrtc_path);
    put_pair(env, result, &at, "cudnn.path", dnn_path ? dnn_path : dnn_soname);
    put_pair(env, result, &at, "cudnn.version", dnn_version);
    put_pair(env, result, &at, "cudnn.cudart", cudart_version);
    put_pair(env, result, &at, "driver.path", driver_path ? driver_path : driver_soname);
    put_pair(env, result, &at, "driver.version", driver_version);
    g_bound = 1;
    goto done;

fail:
    unbind_all();
done:
    sb_free(&problems);
    sb_free(&searched);
    sb_free(&missing);
    free(folders);
    free(driver_folders);
    free(blas_path);
    free(lt_path);
    free(nvrtc_path);
    free(dnn_path);
    free(driver_path);
    free_strings(explicit_, n_explicit);
    free_strings(candidates, n_candidates);
    return result;
}

/* Test support: forgets the binding so that another set of (fake) libraries can be bound in the same JVM. */
JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nReset(JNIEnv *env, jclass cls) {
    UNUSED(cls);
    int live = __atomic_load_n(&g_live_contexts, __ATOMIC_SEQ_CST);
    if (live > 0) {
        throw_new(env, g_illegal_state, "NativeBridge reset with %d context(s) still open", live);
        return;
    }
    unbind_all();
}

/* Test support: the address of a direct buffer, so CPU tests can drive the bridge on host memory. */
JNIEXPORT jlong JNICALL Java_dev_retort_backend_cuda_NativeBridge_nAddressOf(JNIEnv *env, jclass cls, jobject buffer) {
    UNUSED(cls);
    void *address = (*env)->GetDirectBufferAddress(env, buffer);
    if (address == NULL) {
        throw_new(env, g_illegal_argument, "addressOf: not a direct buffer");
        return 0;
    }
    return (jlong)(uintptr_t)address;
}

/* ---- contexts: handles bound to a stream, descriptor caches, workspace ---- */

enum { KIND_CONV = 1, KIND_POOL = 2, KIND_BN = 3, KIND_BIAS = 4 };
enum { DIR_FWD = 0, DIR_BWD_DATA = 1, DIR_BWD_FILTER = 2 };
enum { SEARCH_MEASURE = 0, SEARCH_HEURISTIC = 1 };
#define KEY_INTS 12
#define MIB ((size_t)1 << 20)
/* Find*Ex is offered at most this much scratch memory to try algorithms in (FFT variants ask for gigabytes). */
#define SEARCH_WORKSPACE_CAP ((size_t)1 << 30)

typedef struct entry {
    struct entry *next;
    int kind;
    int key[KEY_INTS];
    void *xDesc, *yDesc; /* input and output tensors (for KIND_BIAS: the bias, then the output) */
    void *aux;           /* filter (conv) or per-channel statistics (batch norm) descriptor */
    void *op;            /* convolution or pooling descriptor */
    int ready[3], algo[3], math[3];
    size_t wsBytes[3];
} entry;

typedef struct {
    void *cublas, *cudnn, *stream;
    void *context; /* the CUDA context current when the handles were created; made current for every call */
    unsigned long long ws;
    size_t wsBytes;
    int search, deterministic, convTf32;
    entry *entries;
    int entryCount;
    int convSearches; /* algorithm searches run, for tests of the cache */
} bridge_ctx;

static bridge_ctx *ctx_of(JNIEnv *env, jlong address) {
    if (!g_bound) {
        throw_new(env, g_illegal_state, "the CUDA libraries are not bound: call NativeBridge.init first");
        return NULL;
    }
    if (address == 0) {
        throw_new(env, g_illegal_state, "the cuBLAS/cuDNN handles are closed");
        return NULL;
    }
    /* A thread whose first CUDA work is a bridge call has no current context: cuBLAS and cuDNN would bind the
     * primary context themselves (through the CUDA runtime), but the bridge's own driver calls (the workspace's
     * cuMemAllocAsync) would fail with CUDA_ERROR_INVALID_CONTEXT. cuCtxGetCurrent is a thread-local read. */
    bridge_ctx *c = (bridge_ctx *)(uintptr_t)address;
    void *current = NULL;
    if (CU.ctxGetCurrent(&current) == CUDA_SUCCESS && current != c->context) {
        int r = CU.ctxSetCurrent(c->context);
        if (r != CUDA_SUCCESS) {
            fail_driver(env, "cuCtxSetCurrent", r, " (binding the handles' context to this thread)");
            return NULL;
        }
    }
    return c;
}

static void *ptr(jlong address) { return (void *)(uintptr_t)address; }

static void free_entry(entry *e) {
    if (e->kind == KIND_CONV) {
        if (e->aux) DN.destroyFilter(e->aux);
        if (e->op) DN.destroyConv(e->op);
    } else if (e->kind == KIND_POOL) {
        if (e->op) DN.destroyPooling(e->op);
    } else if (e->kind == KIND_BN) {
        if (e->aux) DN.destroyTensor(e->aux);
    }
    if (e->xDesc) DN.destroyTensor(e->xDesc);
    if (e->yDesc) DN.destroyTensor(e->yDesc);
    free(e);
}

/* The cached entry for (kind, key), moved to the front; NULL with *created = 1 for a fresh one to fill. */
static entry *lookup(bridge_ctx *c, int kind, const int *key, int *created) {
    entry *prev = NULL;
    for (entry *e = c->entries; e != NULL; prev = e, e = e->next) {
        if (e->kind == kind && memcmp(e->key, key, sizeof e->key) == 0) {
            if (prev != NULL) {
                prev->next = e->next;
                e->next = c->entries;
                c->entries = e;
            }
            *created = 0;
            return e;
        }
    }
    entry *e = calloc(1, sizeof *e);
    if (e != NULL) {
        e->kind = kind;
        memcpy(e->key, key, sizeof e->key);
    }
    *created = 1;
    return e;
}

static void remember(bridge_ctx *c, entry *e) {
    e->next = c->entries;
    c->entries = e;
    c->entryCount++;
}

static int tensor4d(JNIEnv *env, void **desc, int n, int ch, int h, int w) {
    CHECK_CUDNN(env, "cudnnCreateTensorDescriptor", DN.createTensor(desc));
    CHECK_CUDNN(env, "cudnnSetTensor4dDescriptor", DN.setTensor4d(*desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, ch, h, w));
    return 0;
}

/*
 * Grows the workspace to `need` bytes (rounded up to a MiB so that shapes of similar sizes share one
 * allocation). The old block is freed and the new one allocated in stream order, so no host synchronisation is
 * needed. Returns 0, -1 after throwing, or 1 for out-of-memory when `soft` (the caller then tries another algorithm).
 */
static int ensure_workspace(JNIEnv *env, bridge_ctx *c, size_t need, int soft) {
    if (need <= c->wsBytes) {
        return 0;
    }
    size_t want = (need + MIB - 1) / MIB * MIB;
    if (c->ws != 0) {
        int r = CU.memFreeAsync(c->ws, c->stream);
        if (r != CUDA_SUCCESS) {
            return fail_driver(env, "cuMemFreeAsync", r, " (freeing the cuDNN workspace)");
        }
        c->ws = 0;
        c->wsBytes = 0;
    }
    unsigned long long p = 0;
    int r = CU.memAllocAsync(&p, want, c->stream);
    if (r == CUDA_ERROR_OUT_OF_MEMORY && soft) {
        return 1;
    }
    if (r != CUDA_SUCCESS) {
        char context[128];
        snprintf(context, sizeof context, " (a %zu-byte cuDNN workspace)", want);
        return fail_driver(env, "cuMemAllocAsync", r, context);
    }
    c->ws = p;
    c->wsBytes = want;
    return 0;
}

static int conv_entry(JNIEnv *env, bridge_ctx *c, const int *key, entry **out) {
    int created;
    entry *e = lookup(c, KIND_CONV, key, &created);
    if (e == NULL) {
        throw_new(env, g_illegal_state, "convolution: out of host memory");
        return -1;
    }
    if (!created) {
        *out = e;
        return 0;
    }
    int n = key[0], ch = key[1], h = key[2], w = key[3], k = key[4], r = key[5], s = key[6];
    int padH = key[7], padW = key[8], strideH = key[9], strideW = key[10];
    int outH = (h + 2 * padH - r) / strideH + 1, outW = (w + 2 * padW - s) / strideW + 1;
    int st;
    if (tensor4d(env, &e->xDesc, n, ch, h, w) || tensor4d(env, &e->yDesc, n, k, outH, outW)) {
        free_entry(e);
        return -1;
    }
    /* cudnnSetFilter4dDescriptor takes the data type before the format, unlike the tensor variant. */
    if ((st = DN.createFilter(&e->aux)) != 0 ||
        (st = DN.setFilter4d(e->aux, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, k, ch, r, s)) != 0) {
        free_entry(e);
        return fail_cudnn(env, "cudnnSetFilter4dDescriptor", st, NULL);
    }
    if ((st = DN.createConv(&e->op)) != 0 ||
        (st = DN.setConv2d(e->op, padH, padW, strideH, strideW, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT)) != 0) {
        free_entry(e);
        return fail_cudnn(env, "cudnnSetConvolution2dDescriptor", st, NULL);
    }
    remember(c, e);
    *out = e;
    return 0;
}

static const char *const FIND_NAMES[] = { "cudnnFindConvolutionForwardAlgorithmEx",
                                          "cudnnFindConvolutionBackwardDataAlgorithmEx",
                                          "cudnnFindConvolutionBackwardFilterAlgorithmEx" };
static const char *const HEURISTIC_NAMES[] = { "cudnnGetConvolutionForwardAlgorithm_v7",
                                               "cudnnGetConvolutionBackwardDataAlgorithm_v7",
                                               "cudnnGetConvolutionBackwardFilterAlgorithm_v7" };

static int workspace_size(bridge_ctx *c, entry *e, int dir, int algo, size_t *bytes) {
    switch (dir) {
    case DIR_FWD: return DN.getFwdWs(c->cudnn, e->xDesc, e->aux, e->op, e->yDesc, algo, bytes);
    case DIR_BWD_DATA: return DN.getBwdDataWs(c->cudnn, e->aux, e->yDesc, e->op, e->xDesc, algo, bytes);
    default: return DN.getBwdFilterWs(c->cudnn, e->xDesc, e->yDesc, e->op, e->aux, algo, bytes);
    }
}

/*
 * Picks the algorithm for one direction of one shape, once; later calls reuse it.
 *
 * SEARCH_MEASURE runs cudnnFind*AlgorithmEx: it times every algorithm on the caller's own buffers (so the output
 * buffer is overwritten, which the callers do anyway) and returns them fastest first. It costs a few milliseconds
 * and one host synchronisation per shape, once; in exchange it picks what is really fastest on this card, which
 * the heuristics of Get*_v7 do not always do (PyTorch's cudnn.benchmark makes the same trade). SEARCH_HEURISTIC
 * asks Get*_v7 instead: no timing, no synchronisation, for short runs or many distinct shapes.
 *
 * Math: without TF32 the descriptor is set to CUDNN_FMA_MATH (CUDNN_DEFAULT_MATH lets Ampere and newer use TF32
 * for float convolutions) and tensor-op results are skipped; with TF32 the descriptor gets the math type of the
 * chosen result, as cuDNN's documentation asks.
 */
static int conv_choose(JNIEnv *env, bridge_ctx *c, entry *e, int dir, void *a, void *b, void *out) {
    if (e->ready[dir]) {
        return 0;
    }
    int st;
    int searchMath = c->convTf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    CHECK_CUDNN(env, "cudnnSetConvolutionMathType", DN.setConvMathType(e->op, searchMath));
    conv_perf perf[16];
    memset(perf, 0, sizeof perf);
    int returned = 0;
    const char *call;
    if (c->search == SEARCH_MEASURE) {
        call = FIND_NAMES[dir];
        int algos = dir == DIR_FWD ? CUDNN_CONVOLUTION_FWD_ALGO_COUNT
                  : dir == DIR_BWD_DATA ? CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT
                                        : CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
        size_t most = 0;
        for (int algo = 0; algo < algos; algo++) {
            size_t bytes = 0;
            if (workspace_size(c, e, dir, algo, &bytes) == CUDNN_STATUS_SUCCESS && bytes > most) {
                most = bytes; /* algorithms that do not support this shape report an error: skipped */
            }
        }
        if (most > SEARCH_WORKSPACE_CAP) {
            most = SEARCH_WORKSPACE_CAP;
        }
        /* Scratch for the search only, freed right after, so the lasting workspace stays as small as the
         * chosen algorithms need. Halve on out-of-memory: the search then skips the greediest algorithms. */
        unsigned long long scratch = 0;
        void *space = ptr((jlong)c->ws);
        size_t spaceBytes = c->wsBytes;
        if (most > c->wsBytes) {
            /* Rounded up to whole MiB, as the lasting workspace is: a need under 1 MiB must still get scratch, or
             * the search would time only the algorithms that need none and the choice would be cached for good. */
            size_t bytes = (most + MIB - 1) / MIB * MIB;
            while (bytes >= MIB && bytes > c->wsBytes) {
                int r = CU.memAllocAsync(&scratch, bytes, c->stream);
                if (r == CUDA_SUCCESS) {
                    space = ptr((jlong)scratch);
                    spaceBytes = bytes;
                    break;
                }
                if (r != CUDA_ERROR_OUT_OF_MEMORY) {
                    return fail_driver(env, "cuMemAllocAsync", r, " (scratch for the convolution algorithm search)");
                }
                scratch = 0;
                bytes /= 2;
            }
        }
        switch (dir) {
        case DIR_FWD:
            st = DN.findFwdEx(c->cudnn, e->xDesc, a, e->aux, b, e->op, e->yDesc, out, 16, &returned, perf, space,
                              spaceBytes);
            break;
        case DIR_BWD_DATA:
            st = DN.findBwdDataEx(c->cudnn, e->aux, a, e->yDesc, b, e->op, e->xDesc, out, 16, &returned, perf, space,
                                  spaceBytes);
            break;
        default:
            st = DN.findBwdFilterEx(c->cudnn, e->xDesc, a, e->yDesc, b, e->op, e->aux, out, 16, &returned, perf,
                                    space, spaceBytes);
            break;
        }
        if (scratch != 0) {
            int r = CU.memFreeAsync(scratch, c->stream);
            if (st == CUDNN_STATUS_SUCCESS && r != CUDA_SUCCESS) {
                return fail_driver(env, "cuMemFreeAsync", r, " (scratch for the convolution algorithm search)");
            }
        }
    } else {
        call = HEURISTIC_NAMES[dir];
        switch (dir) {
        case DIR_FWD: st = DN.getFwdV7(c->cudnn, e->xDesc, e->aux, e->op, e->yDesc, 16, &returned, perf); break;
        case DIR_BWD_DATA: st = DN.getBwdDataV7(c->cudnn, e->aux, e->yDesc, e->op, e->xDesc, 16, &returned, perf); break;
        default: st = DN.getBwdFilterV7(c->cudnn, e->xDesc, e->yDesc, e->op, e->aux, 16, &returned, perf); break;
        }
    }
    if (st != CUDNN_STATUS_SUCCESS) {
        return fail_cudnn(env, call, st, NULL);
    }
    c->convSearches++;
    sbuf seen = { 0 };
    for (int i = 0; i < returned && i < 16; i++) {
        const conv_perf *p = &perf[i];
        sb_printf(&seen, "%s algo %d: status %d, %zu bytes, math %d, determinism %d", i ? "; " : "", p->algo,
                  p->status, p->memory, p->mathType, p->determinism);
        if (p->status != CUDNN_STATUS_SUCCESS || (c->deterministic && p->determinism != CUDNN_DETERMINISTIC)) {
            continue;
        }
        if (!c->convTf32 && (p->mathType == CUDNN_TENSOR_OP_MATH || p->mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)) {
            continue;
        }
        int grown = ensure_workspace(env, c, p->memory, 1);
        if (grown < 0) {
            sb_free(&seen);
            return -1;
        }
        if (grown > 0) {
            continue; /* out of memory for this one's workspace: the next may need less */
        }
        e->algo[dir] = p->algo;
        e->math[dir] = c->convTf32 ? p->mathType : CUDNN_FMA_MATH;
        e->wsBytes[dir] = p->memory;
        e->ready[dir] = 1;
        sb_free(&seen);
        return 0;
    }
    throw_new(env, g_library_exception,
              "%s: no usable algorithm for input %dx%dx%dx%d, filter %dx%dx%dx%d, padding %dx%d, stride %dx%d"
              " (deterministic %s, TF32 %s); cuDNN returned %d result(s): %s",
              call, e->key[0], e->key[1], e->key[2], e->key[3], e->key[4], e->key[1], e->key[5], e->key[6], e->key[7],
              e->key[8], e->key[9], e->key[10], c->deterministic ? "required" : "not required",
              c->convTf32 ? "allowed" : "off", returned, sb_str(&seen));
    sb_free(&seen);
    return -1;
}

/* The smallest alignment (4, 8 or 16 bytes) among a call's pointers: part of the convolution cache key, because an
 * algorithm chosen for 16-byte-aligned buffers may refuse a view that starts 4 bytes further (PyTorch keys its
 * cache on alignment for the same reason). */
static int alignment_of(jlong a, jlong b, jlong c) {
    unsigned long long all = (unsigned long long)a | (unsigned long long)b | (unsigned long long)c;
    return (all & 15) == 0 ? 16 : (all & 7) == 0 ? 8 : 4;
}

static int conv_run(JNIEnv *env, jlong address, int *key, int dir, jlong a, jlong b, jlong out) {
    static const char *const RUN_NAMES[] = { "cudnnConvolutionForward", "cudnnConvolutionBackwardData",
                                             "cudnnConvolutionBackwardFilter" };
    bridge_ctx *c = ctx_of(env, address);
    entry *e = NULL;
    key[11] = alignment_of(a, b, out);
    if (c == NULL || conv_entry(env, c, key, &e) || conv_choose(env, c, e, dir, ptr(a), ptr(b), ptr(out))) {
        return -1;
    }
    if (ensure_workspace(env, c, e->wsBytes[dir], 0)) {
        return -1;
    }
    CHECK_CUDNN(env, "cudnnSetConvolutionMathType", DN.setConvMathType(e->op, e->math[dir]));
    const float one = 1.0f, zero = 0.0f;
    void *ws = ptr((jlong)c->ws);
    int st;
    switch (dir) {
    case DIR_FWD:
        st = DN.convFwd(c->cudnn, &one, e->xDesc, ptr(a), e->aux, ptr(b), e->op, e->algo[dir], ws, c->wsBytes, &zero,
                        e->yDesc, ptr(out));
        break;
    case DIR_BWD_DATA:
        st = DN.convBwdData(c->cudnn, &one, e->aux, ptr(a), e->yDesc, ptr(b), e->op, e->algo[dir], ws, c->wsBytes,
                            &zero, e->xDesc, ptr(out));
        break;
    default:
        st = DN.convBwdFilter(c->cudnn, &one, e->xDesc, ptr(a), e->yDesc, ptr(b), e->op, e->algo[dir], ws, c->wsBytes,
                              &zero, e->aux, ptr(out));
        break;
    }
    if (st != CUDNN_STATUS_SUCCESS) {
        char context[160];
        snprintf(context, sizeof context, " (algorithm %d, workspace %zu bytes, input %dx%dx%dx%d)", e->algo[dir],
                 c->wsBytes, key[0], key[1], key[2], key[3]);
        return fail_cudnn(env, RUN_NAMES[dir], st, context);
    }
    return 0;
}

JNIEXPORT jlong JNICALL Java_dev_retort_backend_cuda_NativeBridge_nCreate(JNIEnv *env, jclass cls, jlong stream,
                                                                         jint search, jboolean deterministic,
                                                                         jboolean convTf32) {
    UNUSED(cls);
    if (!g_bound) {
        throw_new(env, g_illegal_state, "the CUDA libraries are not bound: call NativeBridge.init first");
        return 0;
    }
    void *current = NULL;
    int r = CU.ctxGetCurrent(&current);
    if (r != CUDA_SUCCESS) {
        fail_driver(env, "cuCtxGetCurrent", r, NULL);
        return 0;
    }
    if (current == NULL) {
        throw_new(env, g_illegal_state,
                  "no CUDA context is current on this thread: make the device's primary context current"
                  " (cuCtxSetCurrent) before creating cuBLAS/cuDNN handles");
        return 0;
    }
    bridge_ctx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        throw_new(env, g_illegal_state, "out of host memory");
        return 0;
    }
    c->stream = ptr(stream);
    c->context = current;
    c->search = search;
    c->deterministic = deterministic == JNI_TRUE;
    c->convTf32 = convTf32 == JNI_TRUE;
    int st;
    if ((st = CB.create(&c->cublas)) != CUBLAS_STATUS_SUCCESS) {
        fail_cublas(env, "cublasCreate_v2", st, NULL);
        free(c);
        return 0;
    }
    if ((st = CB.setStream(c->cublas, c->stream)) != CUBLAS_STATUS_SUCCESS) {
        fail_cublas(env, "cublasSetStream_v2", st, NULL);
        CB.destroy(c->cublas);
        free(c);
        return 0;
    }
    if ((st = DN.create(&c->cudnn)) != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnCreate", st, NULL);
        CB.destroy(c->cublas);
        free(c);
        return 0;
    }
    if ((st = DN.setStream(c->cudnn, c->stream)) != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnSetStream", st, NULL);
        DN.destroy(c->cudnn);
        CB.destroy(c->cublas);
        free(c);
        return 0;
    }
    __atomic_add_fetch(&g_live_contexts, 1, __ATOMIC_SEQ_CST); /* handles may be opened on several threads */
    return (jlong)(uintptr_t)c;
}

/* Releases everything; reports the first failure after releasing the rest. */
JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nDestroy(JNIEnv *env, jclass cls, jlong address) {
    UNUSED(cls);
    bridge_ctx *c = ctx_of(env, address);
    if (c == NULL) {
        return;
    }
    for (entry *e = c->entries, *next; e != NULL; e = next) {
        next = e->next;
        free_entry(e);
    }
    int freed = c->ws ? CU.memFreeAsync(c->ws, c->stream) : CUDA_SUCCESS;
    int dnn = DN.destroy(c->cudnn);
    int blas = CB.destroy(c->cublas);
    free(c);
    __atomic_sub_fetch(&g_live_contexts, 1, __ATOMIC_SEQ_CST);
    if (freed != CUDA_SUCCESS) {
        fail_driver(env, "cuMemFreeAsync", freed, " (the cuDNN workspace)");
    } else if (dnn != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnDestroy", dnn, NULL);
    } else if (blas != CUBLAS_STATUS_SUCCESS) {
        fail_cublas(env, "cublasDestroy_v2", blas, NULL);
    }
}

/* [workspace bytes, cached shapes, algorithm searches run] */
JNIEXPORT jlongArray JNICALL Java_dev_retort_backend_cuda_NativeBridge_nStatistics(JNIEnv *env, jclass cls,
                                                                                  jlong address) {
    UNUSED(cls);
    bridge_ctx *c = ctx_of(env, address);
    if (c == NULL) {
        return NULL;
    }
    jlong values[3] = { (jlong)c->wsBytes, c->entryCount, c->convSearches };
    jlongArray out = (*env)->NewLongArray(env, 3);
    if (out != NULL) {
        (*env)->SetLongArrayRegion(env, out, 0, 3, values);
    }
    return out;
}

/* ---- cuBLAS ----
 * cuBLAS is column-major; Retort's arrays are row-major. A row-major M×N matrix C is, read column-major, the
 * N×M matrix Cᵀ, and Cᵀ = op(B)ᵀ·op(A)ᵀ. So C = op(A)·op(B) is computed as the column-major product of B's buffer
 * and A's buffer with m and n swapped: transa is B's flag, transb is A's, and each leading dimension is the row
 * length of the buffer as stored (B: transB ? K : N; A: transA ? M : K; C: N). No data is ever transposed. */
JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nSgemm(JNIEnv *env, jclass cls, jlong address,
                                                                       jboolean transA, jboolean transB, jint m,
                                                                       jint n, jint k, jfloat alpha, jlong a, jlong b,
                                                                       jfloat beta, jlong c) {
    UNUSED(cls);
    bridge_ctx *x = ctx_of(env, address);
    if (x == NULL) {
        return;
    }
    int lda = transA ? m : k, ldb = transB ? k : n;
    int st = CB.sgemm(x->cublas, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k,
                      &alpha, ptr(b), ldb, ptr(a), lda, &beta, ptr(c), n);
    if (st != CUBLAS_STATUS_SUCCESS) {
        char context[96];
        snprintf(context, sizeof context, " (m %d, n %d, k %d)", m, n, k);
        fail_cublas(env, "cublasSgemm_v2", st, context);
    }
}

/* The same product through cublasGemmEx, where TF32 is an explicit compute type rather than a handle mode. */
JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nGemmEx(JNIEnv *env, jclass cls, jlong address,
                                                                        jboolean transA, jboolean transB, jint m,
                                                                        jint n, jint k, jfloat alpha, jlong a,
                                                                        jlong b, jfloat beta, jlong c, jboolean tf32) {
    UNUSED(cls);
    bridge_ctx *x = ctx_of(env, address);
    if (x == NULL) {
        return;
    }
    int lda = transA ? m : k, ldb = transB ? k : n;
    int st = CB.gemmEx(x->cublas, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k,
                       &alpha, ptr(b), CUDA_R_32F, ldb, ptr(a), CUDA_R_32F, lda, &beta, ptr(c), CUDA_R_32F, n,
                       tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (st != CUBLAS_STATUS_SUCCESS) {
        char context[128];
        snprintf(context, sizeof context, " (m %d, n %d, k %d, compute %s)", m, n, k,
                 tf32 ? "CUBLAS_COMPUTE_32F_FAST_TF32" : "CUBLAS_COMPUTE_32F");
        fail_cublas(env, "cublasGemmEx", st, context);
    }
}

/* Batched row-major products; strides are in elements and may be 0 to reuse one matrix for every batch. */
JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nSgemmStridedBatched(
    JNIEnv *env, jclass cls, jlong address, jboolean transA, jboolean transB, jint m, jint n, jint k, jfloat alpha,
    jlong a, jlong strideA, jlong b, jlong strideB, jfloat beta, jlong c, jlong strideC, jint batch) {
    UNUSED(cls);
    bridge_ctx *x = ctx_of(env, address);
    if (x == NULL) {
        return;
    }
    int lda = transA ? m : k, ldb = transB ? k : n;
    int st = CB.sgemmStridedBatched(x->cublas, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                                    n, m, k, &alpha, ptr(b), ldb, strideB, ptr(a), lda, strideA, &beta, ptr(c), n,
                                    strideC, batch);
    if (st != CUBLAS_STATUS_SUCCESS) {
        char context[96];
        snprintf(context, sizeof context, " (m %d, n %d, k %d, batch %d)", m, n, k, batch);
        fail_cublas(env, "cublasSgemmStridedBatched", st, context);
    }
}

/* ---- cuDNN convolution: key = n, c, h, w, k, kernelH, kernelW, padH, padW, strideH, strideW, alignment ---- */

#define CONV_KEY { n, c, h, w, k, kh, kw, padH, padW, strideH, strideW, 0 }
#define CONV_ARGS jint n, jint c, jint h, jint w, jint k, jint kh, jint kw, jint padH, jint padW, jint strideH, jint strideW

JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nConvolutionForward(JNIEnv *env, jclass cls,
                                                                                    jlong address, CONV_ARGS, jlong x,
                                                                                    jlong weight, jlong y) {
    UNUSED(cls);
    int key[KEY_INTS] = CONV_KEY;
    conv_run(env, address, key, DIR_FWD, x, weight, y);
}

JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nConvolutionBackwardData(JNIEnv *env, jclass cls,
                                                                                         jlong address, CONV_ARGS,
                                                                                         jlong weight, jlong dy,
                                                                                         jlong dx) {
    UNUSED(cls);
    int key[KEY_INTS] = CONV_KEY;
    conv_run(env, address, key, DIR_BWD_DATA, weight, dy, dx);
}

JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nConvolutionBackwardFilter(JNIEnv *env, jclass cls,
                                                                                           jlong address, CONV_ARGS,
                                                                                           jlong x, jlong dy,
                                                                                           jlong dw) {
    UNUSED(cls);
    int key[KEY_INTS] = CONV_KEY;
    conv_run(env, address, key, DIR_BWD_FILTER, x, dy, dw);
}

/* y[n, c, h, w] += bias[c] (cudnnAddTensor broadcasts a 1×C×1×1 tensor). */
JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nAddBias(JNIEnv *env, jclass cls, jlong address,
                                                                         jint n, jint c, jint h, jint w, jlong bias,
                                                                         jlong y) {
    UNUSED(cls);
    bridge_ctx *x = ctx_of(env, address);
    if (x == NULL) {
        return;
    }
    const int key[KEY_INTS] = { n, c, h, w };
    int created;
    entry *e = lookup(x, KIND_BIAS, key, &created);
    if (e == NULL) {
        throw_new(env, g_illegal_state, "addBias: out of host memory");
        return;
    }
    if (created) {
        if (tensor4d(env, &e->xDesc, 1, c, 1, 1) || tensor4d(env, &e->yDesc, n, c, h, w)) {
            free_entry(e);
            return;
        }
        remember(x, e);
    }
    const float one = 1.0f;
    int st = DN.addTensor(x->cudnn, &one, e->xDesc, ptr(bias), &one, e->yDesc, ptr(y));
    if (st != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnAddTensor", st, NULL);
    }
}

/* ---- cuDNN pooling: key = n, c, h, w, windowH, windowW, padH, padW, strideH, strideW, mode ---- */

static entry *pool_entry(JNIEnv *env, bridge_ctx *x, const int *key) {
    int created;
    entry *e = lookup(x, KIND_POOL, key, &created);
    if (e == NULL) {
        throw_new(env, g_illegal_state, "pooling: out of host memory");
        return NULL;
    }
    if (!created) {
        return e;
    }
    int n = key[0], c = key[1], h = key[2], w = key[3], wh = key[4], ww = key[5], ph = key[6], pw = key[7];
    int sh = key[8], sw = key[9], mode = key[10];
    int outH = (h + 2 * ph - wh) / sh + 1, outW = (w + 2 * pw - ww) / sw + 1;
    if (tensor4d(env, &e->xDesc, n, c, h, w) || tensor4d(env, &e->yDesc, n, c, outH, outW)) {
        free_entry(e);
        return NULL;
    }
    int st;
    /* Max pooling propagates NaN, as PyTorch's does; padding never wins a max (cuDNN skips padded cells). */
    if ((st = DN.createPooling(&e->op)) != 0 ||
        (st = DN.setPooling2d(e->op, mode, CUDNN_PROPAGATE_NAN, wh, ww, ph, pw, sh, sw)) != 0) {
        free_entry(e);
        fail_cudnn(env, "cudnnSetPooling2dDescriptor", st, NULL);
        return NULL;
    }
    remember(x, e);
    return e;
}

static int pool_mode(bridge_ctx *x, jboolean max) {
    if (!max) {
        return CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING; /* PyTorch's count_include_pad=True */
    }
    return x->deterministic ? CUDNN_POOLING_MAX_DETERMINISTIC : CUDNN_POOLING_MAX;
}

#define POOL_ARGS jint n, jint c, jint h, jint w, jint wh, jint ww, jint ph, jint pw, jint sh, jint sw, jboolean max

JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nPoolingForward(JNIEnv *env, jclass cls,
                                                                                jlong address, POOL_ARGS, jlong x,
                                                                                jlong y) {
    UNUSED(cls);
    bridge_ctx *b = ctx_of(env, address);
    if (b == NULL) {
        return;
    }
    const int key[KEY_INTS] = { n, c, h, w, wh, ww, ph, pw, sh, sw, pool_mode(b, max) };
    entry *e = pool_entry(env, b, key);
    if (e == NULL) {
        return;
    }
    const float one = 1.0f, zero = 0.0f;
    int st = DN.poolFwd(b->cudnn, e->op, &one, e->xDesc, ptr(x), &zero, e->yDesc, ptr(y));
    if (st != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnPoolingForward", st, NULL);
    }
}

/* Max pooling needs the forward input x and output y to find each window's maximum; average pooling reads
 * neither, and cuDNN is then given dy and dx in their places (it only requires non-null pointers). */
JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nPoolingBackward(JNIEnv *env, jclass cls,
                                                                                 jlong address, POOL_ARGS, jlong y,
                                                                                 jlong dy, jlong x, jlong dx) {
    UNUSED(cls);
    bridge_ctx *b = ctx_of(env, address);
    if (b == NULL) {
        return;
    }
    const int key[KEY_INTS] = { n, c, h, w, wh, ww, ph, pw, sh, sw, pool_mode(b, max) };
    entry *e = pool_entry(env, b, key);
    if (e == NULL) {
        return;
    }
    const float one = 1.0f, zero = 0.0f;
    int st = DN.poolBwd(b->cudnn, e->op, &one, e->yDesc, ptr(y ? y : dy), e->yDesc, ptr(dy), e->xDesc,
                        ptr(x ? x : dx), &zero, e->xDesc, ptr(dx));
    if (st != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnPoolingBackward", st, NULL);
    }
}

/* ---- cuDNN batch normalisation, spatial mode (one statistic per channel over N, H, W) ---- */

static entry *bn_entry(JNIEnv *env, bridge_ctx *x, int n, int c, int h, int w) {
    const int key[KEY_INTS] = { n, c, h, w };
    int created;
    entry *e = lookup(x, KIND_BN, key, &created);
    if (e == NULL) {
        throw_new(env, g_illegal_state, "batch norm: out of host memory");
        return NULL;
    }
    if (!created) {
        return e;
    }
    int st;
    if (tensor4d(env, &e->xDesc, n, c, h, w)) {
        free_entry(e);
        return NULL;
    }
    if ((st = DN.createTensor(&e->aux)) != 0 || (st = DN.deriveBn(e->aux, e->xDesc, CUDNN_BATCHNORM_SPATIAL)) != 0) {
        free_entry(e);
        fail_cudnn(env, "cudnnDeriveBNTensorDescriptor", st, NULL);
        return NULL;
    }
    remember(x, e);
    return e;
}

/*
 * Training-mode forward. `factor` is PyTorch's momentum: cuDNN updates running = factor·batch + (1 − factor)·running,
 * and, like PyTorch, folds the unbiased batch variance (÷ (N·H·W − 1)) into the running variance while normalising
 * with the biased one. saveMean / saveInvStd receive the batch mean and 1/sqrt(biased variance + eps) (cuDNN calls
 * the latter "inverse variance"; it is the inverse standard deviation). Running and saved pairs may each be 0.
 */
JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nBatchNormForwardTraining(
    JNIEnv *env, jclass cls, jlong address, jint n, jint c, jint h, jint w, jdouble eps, jdouble factor, jlong x,
    jlong gamma, jlong beta, jlong y, jlong runningMean, jlong runningVar, jlong saveMean, jlong saveInvStd) {
    UNUSED(cls);
    bridge_ctx *b = ctx_of(env, address);
    entry *e = b ? bn_entry(env, b, n, c, h, w) : NULL;
    if (e == NULL) {
        return;
    }
    const float one = 1.0f, zero = 0.0f;
    int st = DN.bnTrain(b->cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, e->xDesc, ptr(x), e->xDesc, ptr(y), e->aux,
                        ptr(gamma), ptr(beta), factor, ptr(runningMean), ptr(runningVar), eps, ptr(saveMean),
                        ptr(saveInvStd));
    if (st != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnBatchNormalizationForwardTraining", st, NULL);
    }
}

JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nBatchNormForwardInference(
    JNIEnv *env, jclass cls, jlong address, jint n, jint c, jint h, jint w, jdouble eps, jlong x, jlong gamma,
    jlong beta, jlong mean, jlong var, jlong y) {
    UNUSED(cls);
    bridge_ctx *b = ctx_of(env, address);
    entry *e = b ? bn_entry(env, b, n, c, h, w) : NULL;
    if (e == NULL) {
        return;
    }
    const float one = 1.0f, zero = 0.0f;
    int st = DN.bnInfer(b->cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, e->xDesc, ptr(x), e->xDesc, ptr(y), e->aux,
                        ptr(gamma), ptr(beta), ptr(mean), ptr(var), eps);
    if (st != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnBatchNormalizationForwardInference", st, NULL);
    }
}

/* Training-mode backward; savedMean/savedInvStd from the forward call, or both 0 for cuDNN to recompute them.
 * dGamma and dBeta are overwritten, not accumulated. */
JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nBatchNormBackward(
    JNIEnv *env, jclass cls, jlong address, jint n, jint c, jint h, jint w, jdouble eps, jlong x, jlong dy,
    jlong gamma, jlong savedMean, jlong savedInvStd, jlong dx, jlong dGamma, jlong dBeta) {
    UNUSED(cls);
    bridge_ctx *b = ctx_of(env, address);
    entry *e = b ? bn_entry(env, b, n, c, h, w) : NULL;
    if (e == NULL) {
        return;
    }
    const float one = 1.0f, zero = 0.0f;
    int st = DN.bnBwd(b->cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, e->xDesc, ptr(x), e->xDesc,
                      ptr(dy), e->xDesc, ptr(dx), e->aux, ptr(gamma), ptr(dGamma), ptr(dBeta), eps, ptr(savedMean),
                      ptr(savedInvStd));
    if (st != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnBatchNormalizationBackward", st, NULL);
    }
}
