/*
 * The bridge's contexts (bridge_contexts.c), shared by its operations: one cuBLAS and one cuDNN handle bound to one
 * stream, the cuDNN descriptors cached per shape as entries, and a workspace that only grows.
 */
#ifndef RETORT_BRIDGE_CONTEXT_H
#define RETORT_BRIDGE_CONTEXT_H

#include "bridge.h"

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

/* The context at `address`, made current on this thread; NULL after throwing. */
bridge_ctx *ctx_of(JNIEnv *env, jlong address);
void *ptr(jlong address);
void free_entry(entry *e);
/* The cached entry of that kind and key, or a new one (*created = 1) that the caller fills, then remember()s. */
entry *lookup(bridge_ctx *c, int kind, const int *key, int *created);
void remember(bridge_ctx *c, entry *e);
int tensor4d(JNIEnv *env, void **desc, int n, int ch, int h, int w);
/* Grows the workspace to `need` bytes; 0, -1 after throwing, or 1 for out-of-memory when `soft`. */
int ensure_workspace(JNIEnv *env, bridge_ctx *c, size_t need, int soft);

#endif
