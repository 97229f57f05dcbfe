/*
 * The JNI bridge's contexts: creating and destroying cuBLAS/cuDNN handles on a stream, the per-shape cache of
 * cuDNN descriptors, and the workspace.
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

bridge_ctx *ctx_of(JNIEnv *env, jlong address) {
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

void *ptr(jlong address) { return (void *)(uintptr_t)address; }

void free_entry(entry *e) {
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
entry *lookup(bridge_ctx *c, int kind, const int *key, int *created) {
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

void remember(bridge_ctx *c, entry *e) {
    e->next = c->entries;
    c->entries = e;
    c->entryCount++;
}

int tensor4d(JNIEnv *env, void **desc, int n, int ch, int h, int w) {
    CHECK_CUDNN(env, "cudnnCreateTensorDescriptor", DN.createTensor(desc));
    CHECK_CUDNN(env, "cudnnSetTensor4dDescriptor", DN.setTensor4d(*desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, ch, h, w));
    return 0;
}

/*
 * Grows the workspace to `need` bytes (rounded up to a MiB so that shapes of similar sizes share one
 * allocation). The old block is freed and the new one allocated in stream order, so no host synchronisation is
 * needed. Returns 0, -1 after throwing, or 1 for out-of-memory when `soft` (the caller then tries another algorithm).
 */
int ensure_workspace(JNIEnv *env, bridge_ctx *c, size_t need, int soft) {
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

