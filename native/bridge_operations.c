/*
 * The JNI bridge's other operations: cuBLAS GEMMs (row-major through column-major), and cuDNN bias addition,
 * pooling and batch normalisation.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bridge.h"
#include "bridge_context.h"

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
