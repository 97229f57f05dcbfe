/*
 * An emulated cuBLAS 13 (libcublas.so.13) for the emulated CUDA device: the entry points the JNI bridge binds, with
 * column-major GEMM computed on the host, device pointers checked against the emulated driver's allocations, and
 * FAST_TF32 rounding the inputs to TF32 (10 mantissa bits) as tensor cores do, so tolerances are tested honestly.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emulated.h"

#define API __attribute__((visibility("default")))

enum { SUCCESS = 0, NOT_INITIALIZED = 1, INVALID_VALUE = 7, EXECUTION_FAILED = 13, NOT_SUPPORTED = 15 };
enum { OP_N = 0, OP_T = 1, R_32F = 0, COMPUTE_32F = 68, COMPUTE_32F_FAST_TF32 = 77 };

typedef struct {
    void *stream;
} handle;

API int cublasCreate_v2(handle **h) {
    /* cuBLAS initialises through the CUDA runtime, which binds the primary context when none is current. */
    if (retortEmulatedBindRuntimeContext() != 0) {
        return NOT_INITIALIZED;
    }
    *h = calloc(1, sizeof **h);
    return *h ? SUCCESS : NOT_INITIALIZED;
}

API int cublasDestroy_v2(handle *h) {
    free(h);
    return SUCCESS;
}

API int cublasSetStream_v2(handle *h, void *stream) {
    h->stream = stream;
    return SUCCESS;
}

API int cublasGetProperty(int type, int *value) {
    static const int version[] = { 13, 0, 0 };
    if (type < 0 || type > 2) {
        return INVALID_VALUE;
    }
    *value = version[type];
    return SUCCESS;
}

API const char *cublasGetStatusName(int status) {
    switch (status) {
    case SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "CUBLAS_STATUS_UNKNOWN";
    }
}

API const char *cublasGetStatusString(int status) { return cublasGetStatusName(status); }

/* TF32: float's exponent with 10 mantissa bits, rounded to nearest (ties away, as the hardware's conversion). */
static float tf32(float v) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    if ((bits & 0x7f800000u) != 0x7f800000u) {
        bits = (bits + 0x1000u) & 0xffffe000u;
    }
    memcpy(&v, &bits, 4);
    return v;
}

/* The bytes a column-major rows×cols operand with leading dimension ld spans. */
static size_t span(int rows, int cols, int ld) {
    return rows == 0 || cols == 0 ? 0 : ((size_t)(cols - 1) * (size_t)ld + (size_t)rows) * sizeof(float);
}

/* C = alpha·op(A)·op(B) + beta·C, column-major, one matrix; double accumulation (the order of a GPU's sums is
 * unspecified anyway, so parity tests must tolerate rounding). */
static int gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                float beta, float *c, int ldc, int round_tf32) {
    if ((ta != OP_N && ta != OP_T) || (tb != OP_N && tb != OP_T) || m < 0 || n < 0 || k < 0 ||
        lda < (ta == OP_N ? m : k) || ldb < (tb == OP_N ? k : n) || ldc < m || lda < 1 || ldb < 1 || ldc < 1) {
        return INVALID_VALUE;
    }
    if (m == 0 || n == 0) {
        return SUCCESS;
    }
    if ((k > 0 && (retortEmulatedCheckDevice(a, span(ta == OP_N ? m : k, ta == OP_N ? k : m, lda), "cuBLAS A") ||
                   retortEmulatedCheckDevice(b, span(tb == OP_N ? k : n, tb == OP_N ? n : k, ldb), "cuBLAS B"))) ||
        retortEmulatedCheckDevice(c, span(m, n, ldc), "cuBLAS C")) {
        return EXECUTION_FAILED;
    }
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            double sum = 0;
            for (int l = 0; l < k; l++) {
                float x = ta == OP_N ? a[i + (size_t)l * lda] : a[l + (size_t)i * lda];
                float y = tb == OP_N ? b[l + (size_t)j * ldb] : b[j + (size_t)l * ldb];
                if (round_tf32) {
                    x = tf32(x);
                    y = tf32(y);
                }
                sum += (double)x * y;
            }
            float *out = &c[i + (size_t)j * ldc];
            /* beta 0 overwrites without reading, as cuBLAS documents (C may hold NaN). */
            *out = beta == 0.0f ? (float)(alpha * sum) : (float)(alpha * sum + (double)beta * *out);
        }
    }
    return SUCCESS;
}

static int ready(const handle *h) {
    if (h == NULL) {
        return NOT_INITIALIZED;
    }
    if (retortEmulatedBindRuntimeContext() != 0 || retortEmulatedStickyError() != 0) {
        return EXECUTION_FAILED;
    }
    return SUCCESS;
}

API int cublasSgemm_v2(handle *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int lda,
                       const float *b, int ldb, const float *beta, float *c, int ldc) {
    int st = ready(h);
    return st ? st : gemm(ta, tb, m, n, k, *alpha, a, lda, b, ldb, *beta, c, ldc, 0);
}

API int cublasGemmEx(handle *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *a, int aType,
                     int lda, const void *b, int bType, int ldb, const void *beta, void *c, int cType, int ldc,
                     int computeType, int algo) {
    (void)algo;
    int st = ready(h);
    if (st) {
        return st;
    }
    if (aType != R_32F || bType != R_32F || cType != R_32F ||
        (computeType != COMPUTE_32F && computeType != COMPUTE_32F_FAST_TF32)) {
        return NOT_SUPPORTED;
    }
    return gemm(ta, tb, m, n, k, *(const float *)alpha, a, lda, b, ldb, *(const float *)beta, c, ldc,
                computeType == COMPUTE_32F_FAST_TF32);
}

API int cublasSgemmStridedBatched(handle *h, int ta, int tb, int m, int n, int k, const float *alpha,
                                  const float *a, int lda, long long strideA, const float *b, int ldb,
                                  long long strideB, const float *beta, float *c, int ldc, long long strideC,
                                  int batch) {
    int st = ready(h);
    for (int i = 0; st == SUCCESS && i < batch; i++) {
        st = gemm(ta, tb, m, n, k, *alpha, a + i * strideA, lda, b + i * strideB, ldb, *beta, c + i * strideC, ldc, 0);
    }
    return st;
}
