/*
 * The emulated cuDNN's arithmetic on host memory: NCHW float convolutions (the three directions), bias addition,
 * max and average pooling, and spatial batch normalisation, each checking its shapes and that its pointers are
 * device allocations. Sums are in double: a GPU's summation order is unspecified, so tests must tolerate rounding.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cudnn_emulated.h"

/* The outputs q in [*lo, *hi) whose input column q·stride + s − pad lies in [0, size): the inner loops then run
 * without a bounds test, which lets the compiler vectorise them. */
static void valid(int s, int pad, int stride, int size, int outputs, int *lo, int *hi) {
    *lo = pad - s <= 0 ? 0 : (pad - s + stride - 1) / stride;
    int last = size - 1 - s + pad;
    *hi = last < 0 ? 0 : last / stride + 1;
    if (*hi > outputs) *hi = outputs;
    if (*lo > *hi) *lo = *hi;
}

static size_t filter_bytes(const filter_desc *f) { return (size_t)f->k * f->c * f->h * f->w * sizeof(float); }

int conv_compute(int dir, const tensor_desc *x, const void *xp, const filter_desc *w, const void *wp,
                 const conv_desc *c, const tensor_desc *y, const void *yp, float alpha, float beta) {
    if (y->n != x->n || y->c != w->k || x->c != w->c || y->h != (x->h + 2 * c->padH - w->h) / c->strideH + 1 ||
        y->w != (x->w + 2 * c->padW - w->w) / c->strideW + 1) {
        dnn_error("convolution: the output shape does not match the input, filter and convolution descriptors");
        return ST_BAD_PARAM;
    }
    const void *ptrs[] = { xp, wp, yp };
    const size_t bytes[] = { tensor_bytes(x), filter_bytes(w), tensor_bytes(y) };
    int st = dnn_check("convolution", 3, ptrs, bytes);
    if (st != ST_SUCCESS) {
        return st;
    }
    const int N = x->n, C = x->c, H = x->h, W = x->w, K = w->k, R = w->h, S = w->w, P = y->h, Q = y->w;
    float *X = (float *)xp, *F = (float *)wp, *Y = (float *)yp;
#define AT_X(n, ch, i, j) X[(((size_t)(n) * C + (ch)) * H + (i)) * W + (j)]
#define AT_F(k, ch, r, s) F[(((size_t)(k) * C + (ch)) * R + (r)) * S + (s)]
#define AT_Y(n, k, p, q) Y[(((size_t)(n) * K + (k)) * P + (p)) * Q + (q)]
    /* Forward and backward data accumulate whole output planes in double, row by row, so the inner loop runs
     * along contiguous memory: the emulator is for truth, but CI runs it on two cores. */
    double *acc = malloc(sizeof(double) * (size_t)(dir == 0 ? P * Q : H * W));
    if (acc == NULL) {
        return ST_EXECUTION_FAILED;
    }
    if (dir == 0) { /* y[n,k,p,q] = Σ x[n,c,p·stride+r−pad, q·stride+s−pad] · w[k,c,r,s] */
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++) {
                memset(acc, 0, sizeof(double) * (size_t)P * Q);
                for (int ch = 0; ch < C; ch++)
                    for (int r = 0; r < R; r++)
                        for (int s = 0; s < S; s++) {
                            double f = AT_F(k, ch, r, s);
                            int qlo, qhi;
                            valid(s, c->padW, c->strideW, W, Q, &qlo, &qhi);
                            for (int p = 0; p < P; p++) {
                                int i = p * c->strideH + r - c->padH;
                                if (i < 0 || i >= H) continue;
                                const float *row = &AT_X(n, ch, i, s - c->padW);
                                for (int q = qlo; q < qhi; q++) acc[p * Q + q] += row[q * c->strideW] * f;
                            }
                        }
                for (int p = 0; p < P; p++)
                    for (int q = 0; q < Q; q++) blend(&AT_Y(n, k, p, q), acc[p * Q + q], alpha, beta);
            }
    } else if (dir == 1) { /* dx[n,c,i,j] = Σ over the outputs that read it of dy · w */
        for (int n = 0; n < N; n++)
            for (int ch = 0; ch < C; ch++) {
                memset(acc, 0, sizeof(double) * (size_t)H * W);
                for (int k = 0; k < K; k++)
                    for (int r = 0; r < R; r++)
                        for (int s = 0; s < S; s++) {
                            double f = AT_F(k, ch, r, s);
                            int qlo, qhi;
                            valid(s, c->padW, c->strideW, W, Q, &qlo, &qhi);
                            for (int p = 0; p < P; p++) {
                                int i = p * c->strideH + r - c->padH;
                                if (i < 0 || i >= H) continue;
                                double *row = &acc[i * W + s - c->padW];
                                const float *g = &AT_Y(n, k, p, 0);
                                for (int q = qlo; q < qhi; q++) row[q * c->strideW] += g[q] * f;
                            }
                        }
                for (int i = 0; i < H; i++)
                    for (int j = 0; j < W; j++) blend(&AT_X(n, ch, i, j), acc[i * W + j], alpha, beta);
            }
    } else { /* dw[k,c,r,s] = Σ over n, p, q of dy · x */
        for (int k = 0; k < K; k++)
            for (int ch = 0; ch < C; ch++)
                for (int r = 0; r < R; r++)
                    for (int s = 0; s < S; s++) {
                        double sum = 0;
                        int qlo, qhi;
                        valid(s, c->padW, c->strideW, W, Q, &qlo, &qhi);
                        for (int n = 0; n < N; n++)
                            for (int p = 0; p < P; p++) {
                                int i = p * c->strideH + r - c->padH;
                                if (i < 0 || i >= H) continue;
                                const float *g = &AT_Y(n, k, p, 0), *row = &AT_X(n, ch, i, s - c->padW);
                                for (int q = qlo; q < qhi; q++) sum += (double)g[q] * row[q * c->strideW];
                            }
                        blend(&AT_F(k, ch, r, s), sum, alpha, beta);
                    }
    }
#undef AT_X
#undef AT_F
#undef AT_Y
    free(acc);
    return ST_SUCCESS;
}

/* c = alpha·a + beta·c, a broadcast over c where a's dimension is 1 (the bias case: a is 1×C×1×1). */
API int cudnnAddTensor(void *h, const float *alpha, const tensor_desc *a, const void *ap, const float *beta,
                       const tensor_desc *c, void *cp) {
    (void)h;
    int st = dnn_ready();
    if (st != ST_SUCCESS) return st;
    if ((a->n != 1 && a->n != c->n) || (a->c != 1 && a->c != c->c) || (a->h != 1 && a->h != c->h) ||
        (a->w != 1 && a->w != c->w)) {
        return ST_BAD_PARAM;
    }
    const void *ptrs[] = { ap, cp };
    const size_t bytes[] = { tensor_bytes(a), tensor_bytes(c) };
    if ((st = dnn_check("cudnnAddTensor", 2, ptrs, bytes)) != ST_SUCCESS) return st;
    const float *A = ap;
    float *C = cp;
    for (int n = 0; n < c->n; n++)
        for (int ch = 0; ch < c->c; ch++)
            for (int i = 0; i < c->h; i++)
                for (int j = 0; j < c->w; j++) {
                    size_t ai = (((size_t)(a->n == 1 ? 0 : n) * a->c + (a->c == 1 ? 0 : ch)) * a->h +
                                 (a->h == 1 ? 0 : i)) * a->w + (a->w == 1 ? 0 : j);
                    blend(&C[(((size_t)n * c->c + ch) * c->h + i) * c->w + j], A[ai], *alpha, *beta);
                }
    return ST_SUCCESS;
}

/* ---- pooling: padded cells never win a max; average counts them (count_include_pad) ---- */

static int pool_shapes(const pool_desc *p, const tensor_desc *x, const tensor_desc *y) {
    return y->n == x->n && y->c == x->c && y->h == (x->h + 2 * p->ph - p->wh) / p->sh + 1 &&
           y->w == (x->w + 2 * p->pw - p->ww) / p->sw + 1;
}

/* The flat index of the window's maximum in plane `plane` (NaN wins, first maximum on ties), or -1. */
static long window_max(const pool_desc *p, const tensor_desc *x, const float *X, size_t plane, int oi, int oj) {
    long best = -1;
    for (int r = 0; r < p->wh; r++)
        for (int s = 0; s < p->ww; s++) {
            int i = oi * p->sh + r - p->ph, j = oj * p->sw + s - p->pw;
            if (i < 0 || i >= x->h || j < 0 || j >= x->w) continue;
            long at = (long)(plane * x->h * x->w + (size_t)i * x->w + j);
            if (best < 0 || (isnan(X[at]) && !isnan(X[best])) || (!isnan(X[best]) && X[at] > X[best])) best = at;
        }
    return best;
}

API int cudnnPoolingForward(void *h, const pool_desc *p, const float *alpha, const tensor_desc *x, const void *xp,
                            const float *beta, const tensor_desc *y, void *yp) {
    (void)h;
    int st = dnn_ready();
    if (st != ST_SUCCESS) return st;
    if (!pool_shapes(p, x, y)) return ST_BAD_PARAM;
    const void *ptrs[] = { xp, yp };
    const size_t bytes[] = { tensor_bytes(x), tensor_bytes(y) };
    if ((st = dnn_check("cudnnPoolingForward", 2, ptrs, bytes)) != ST_SUCCESS) return st;
    const float *X = xp;
    float *Y = yp;
    for (size_t plane = 0; plane < (size_t)x->n * x->c; plane++)
        for (int oi = 0; oi < y->h; oi++)
            for (int oj = 0; oj < y->w; oj++) {
                double v = 0;
                if (p->mode == 1) {
                    for (int r = 0; r < p->wh; r++)
                        for (int s = 0; s < p->ww; s++) {
                            int i = oi * p->sh + r - p->ph, j = oj * p->sw + s - p->pw;
                            if (i >= 0 && i < x->h && j >= 0 && j < x->w)
                                v += X[plane * x->h * x->w + (size_t)i * x->w + j];
                        }
                    v /= (double)p->wh * p->ww;
                } else {
                    long at = window_max(p, x, X, plane, oi, oj);
                    v = at < 0 ? -INFINITY : X[at];
                }
                blend(&Y[plane * y->h * y->w + (size_t)oi * y->w + oj], v, *alpha, *beta);
            }
    return ST_SUCCESS;
}

API int cudnnPoolingBackward(void *h, const pool_desc *p, const float *alpha, const tensor_desc *y, const void *yp,
                             const tensor_desc *dy, const void *dyp, const tensor_desc *x, const void *xp,
                             const float *beta, const tensor_desc *dx, void *dxp) {
    (void)h;
    (void)yp;
    int st = dnn_ready();
    if (st != ST_SUCCESS) return st;
    if (!pool_shapes(p, x, y) || memcmp(y, dy, sizeof *y) != 0 || memcmp(x, dx, sizeof *x) != 0) return ST_BAD_PARAM;
    const void *ptrs[] = { yp, dyp, xp, dxp };
    const size_t bytes[] = { tensor_bytes(y), tensor_bytes(y), tensor_bytes(x), tensor_bytes(x) };
    if ((st = dnn_check("cudnnPoolingBackward", 4, ptrs, bytes)) != ST_SUCCESS) return st;
    const float *DY = dyp, *X = xp;
    float *DX = dxp;
    size_t plane_x = (size_t)x->h * x->w, planes = (size_t)x->n * x->c;
    double *grad = calloc(planes * plane_x, sizeof *grad);
    if (grad == NULL) return ST_EXECUTION_FAILED;
    for (size_t plane = 0; plane < planes; plane++)
        for (int oi = 0; oi < y->h; oi++)
            for (int oj = 0; oj < y->w; oj++) {
                double g = DY[plane * y->h * y->w + (size_t)oi * y->w + oj];
                if (p->mode == 1) {
                    for (int r = 0; r < p->wh; r++)
                        for (int s = 0; s < p->ww; s++) {
                            int i = oi * p->sh + r - p->ph, j = oj * p->sw + s - p->pw;
                            if (i >= 0 && i < x->h && j >= 0 && j < x->w)
                                grad[plane * plane_x + (size_t)i * x->w + j] += g / ((double)p->wh * p->ww);
                        }
                } else {
                    long at = window_max(p, x, X, plane, oi, oj);
                    if (at >= 0) grad[at] += g;
                }
            }
    for (size_t i = 0; i < planes * plane_x; i++) blend(&DX[i], grad[i], *alpha, *beta);
    free(grad);
    return ST_SUCCESS;
}
