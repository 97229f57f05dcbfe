/*
 * What the parts of the JNI bridge from dev.retort.backend.cuda.NativeBridge to cuBLAS and cuDNN share: the values
 * and entry points of the NVIDIA libraries (bound at run time with dlsym; no CUDA header is included), the
 * process-wide binding, and error reporting. The parts: bridge_errors.c (messages, exceptions), bridge_libraries.c
 * (finding and binding the libraries), bridge_contexts.c (handles, caches, workspace), bridge_convolution.c and
 * bridge_operations.c (the cuBLAS and cuDNN calls).
 *
 * Why this shape (docs/design.md, "cuBLAS and cuDNN through our own JNI bridge"): JCublas links libcublas.so.12
 * with versioned symbols and JCudnn targets cuDNN 8, so neither loads on a CUDA 13 / cuDNN 9 machine. The bridge
 * includes no CUDA header: this file declares the few types, values and entry points it uses (each group below
 * names the header its values were checked against) and bridge_libraries.c resolves them with dlsym, so one
 * binary serves cuBLAS 12 and 13.
 *
 * Conventions:
 * - Device pointers and streams arrive as jlong addresses; the bridge never dereferences them on the host.
 * - Every library status is checked; a failure throws dev.retort.backend.cuda.CudaLibraryException naming the call
 *   and the status string, and the JNI function returns at once. Java validates arguments before it calls in.
 * - A "context" (struct bridge_ctx) holds one cuBLAS and one cuDNN handle bound to one stream, the cuDNN
 *   descriptors and chosen algorithms cached per shape, and a workspace that only grows. One thread at a time
 *   uses a context (the Java side synchronises).
 */
#ifndef RETORT_BRIDGE_H
#define RETORT_BRIDGE_H

#include <jni.h>
#include <stddef.h>
#include <stdint.h>

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

/* ---- the entry points, filled by dlsym (bridge_libraries.c) ---- */
typedef struct {
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
} cublas_api;
extern cublas_api CB;

typedef struct {
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
} cudnn_api;
extern cudnn_api DN;

typedef struct {
    int (*ctxGetCurrent)(void **ctx);
    int (*ctxSetCurrent)(void *ctx);
    int (*memAllocAsync)(unsigned long long *ptr, size_t bytes, void *stream);
    int (*memFreeAsync)(unsigned long long ptr, void *stream);
    int (*getErrorName)(int error, const char **name);
    int (*getErrorString)(int error, const char **text);
    int (*driverGetVersion)(int *version);
} driver_api;
extern driver_api CU;


#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- process-wide binding (bridge_libraries.c); the exception classes are bound in JNI_OnLoad ---- */
extern void *g_cublas, *g_cublasLt, *g_nvrtc, *g_cudnn, *g_driver;
extern int g_bound;
extern int g_live_contexts;
extern jclass g_library_exception, g_illegal_state, g_illegal_argument;

/* ---- errors (bridge_errors.c) ---- */
typedef struct {
    char *data;
    size_t len, cap;
} sbuf;
__attribute__((format(printf, 2, 3))) void sb_printf(sbuf *b, const char *fmt, ...);
const char *sb_str(const sbuf *b);
void sb_free(sbuf *b);
__attribute__((format(printf, 3, 4))) void throw_new(JNIEnv *env, jclass cls, const char *fmt, ...);
/* Each throws CudaLibraryException "<call> failed: <NAME> (<text>) [status n]<context>" and returns -1. */
int fail_cublas(JNIEnv *env, const char *call, int status, const char *context);
int fail_cudnn(JNIEnv *env, const char *call, int status, const char *context);
int fail_driver(JNIEnv *env, const char *call, int result, const char *context);

#define CHECK_CUDNN(env, call, expr)                                \
    do {                                                            \
        int status_ = (expr);                                       \
        if (status_ != CUDNN_STATUS_SUCCESS) {                      \
            return fail_cudnn((env), (call), status_, NULL);        \
        }                                                           \
    } while (0)

#endif
