/*
 * The descriptors and status values shared by the emulated cuDNN's bookkeeping (cudnn.c) and its arithmetic
 * (cudnn_ops.c). Values are cuDNN 9's, as native/bridge.h declares them.
 */
#ifndef RETORT_CUDNN_EMULATED_H
#define RETORT_CUDNN_EMULATED_H

#include <stddef.h>

#define API __attribute__((visibility("default")))

enum {
    ST_SUCCESS = 0,
    ST_NOT_INITIALIZED = 1001,
    ST_SUBLIBRARY_LOADING_FAILED = 1008,
    ST_BAD_PARAM = 2000,
    ST_NOT_SUPPORTED = 3000,
    ST_EXECUTION_FAILED = 5000
};

typedef struct {
    int n, c, h, w;
} tensor_desc;

typedef struct {
    int k, c, h, w;
} filter_desc;

typedef struct {
    int padH, padW, strideH, strideW, dilationH, dilationW, math;
} conv_desc;

typedef struct {
    int mode, nan, wh, ww, ph, pw, sh, sw;
} pool_desc;

/* Records why the last call failed, for cudnnGetLastErrorString. */
void dnn_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ST_SUCCESS when the call may compute: a context is current (bound as the CUDA runtime would) and healthy. */
int dnn_ready(void);

/* ST_SUCCESS when every device pointer given lies in a device allocation for its byte count. */
int dnn_check(const char *call, int count, const void *const *pointers, const size_t *bytes);

size_t tensor_bytes(const tensor_desc *t);

/* out = alpha·value + beta·out; beta 0 overwrites without reading, as cuDNN documents (out may hold NaN). */
static inline void blend(float *out, double value, float alpha, float beta) {
    *out = beta == 0.0f ? (float)(alpha * value) : (float)(alpha * value + (double)beta * *out);
}

#endif
