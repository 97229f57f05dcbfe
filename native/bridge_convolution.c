/*
 * The JNI bridge's cuDNN convolutions: descriptors per shape, the algorithm search (measured or heuristic) done
 * once per shape and direction, and the three directions.
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

