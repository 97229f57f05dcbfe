/*
 * The emulated cuDNN's spatial batch normalisation (one statistic per channel over N, H, W): training forward with
 * running statistics (unbiased variance folded in, as cuDNN and PyTorch do), inference forward, and backward.
 */
#include <math.h>
#include <stddef.h>

#include "cudnn_emulated.h"

#define AT(t, n, ch, i) (((size_t)(n) * (t)->c + (ch)) * plane + (i))

static int prepare(const char *call, const tensor_desc *x, const tensor_desc *bn, int count, const void *const *data,
                   int params, const void *const *per_channel) {
    int st = dnn_ready();
    if (st != ST_SUCCESS) return st;
    if (bn->n != 1 || bn->c != x->c || bn->h != 1 || bn->w != 1) return ST_BAD_PARAM;
    size_t bytes[8];
    for (int i = 0; i < count; i++) bytes[i] = tensor_bytes(x);
    if ((st = dnn_check(call, count, data, bytes)) != ST_SUCCESS) return st;
    for (int i = 0; i < params; i++) bytes[i] = per_channel[i] ? (size_t)x->c * sizeof(float) : 0;
    return dnn_check(call, params, per_channel, bytes);
}

API int cudnnBatchNormalizationForwardTraining(void *h, int mode, const float *alpha, const float *beta,
                                               const tensor_desc *x, const void *xp, const tensor_desc *y, void *yp,
                                               const tensor_desc *bn, const void *scale, const void *bias,
                                               double factor, void *runMean, void *runVar, double eps,
                                               void *saveMean, void *saveInvStd) {
    (void)h;
    const void *data[] = { xp, yp };
    const void *params[] = { scale, bias, runMean, runVar, saveMean, saveInvStd };
    if (mode != 1 || y->n != x->n || y->c != x->c || y->h != x->h || y->w != x->w) return ST_BAD_PARAM;
    int st = prepare("cudnnBatchNormalizationForwardTraining", x, bn, 2, data, 6, params);
    if (st != ST_SUCCESS) return st;
    size_t plane = (size_t)x->h * x->w, count = (size_t)x->n * plane;
    const float *X = xp, *G = scale, *B = bias;
    float *Y = yp, *RM = runMean, *RV = runVar, *SM = saveMean, *SI = saveInvStd;
    for (int ch = 0; ch < x->c; ch++) {
        double mean = 0, var = 0;
        for (int n = 0; n < x->n; n++)
            for (size_t i = 0; i < plane; i++) mean += X[AT(x, n, ch, i)];
        mean /= (double)count;
        for (int n = 0; n < x->n; n++)
            for (size_t i = 0; i < plane; i++) var += (X[AT(x, n, ch, i)] - mean) * (X[AT(x, n, ch, i)] - mean);
        double biased = var / (double)count, inv = 1.0 / sqrt(biased + eps);
        for (int n = 0; n < x->n; n++)
            for (size_t i = 0; i < plane; i++)
                blend(&Y[AT(x, n, ch, i)], G[ch] * (X[AT(x, n, ch, i)] - mean) * inv + B[ch], *alpha, *beta);
        if (RM != NULL && RV != NULL) {
            double unbiased = count > 1 ? var / (double)(count - 1) : biased;
            RM[ch] = (float)(factor * mean + (1 - factor) * RM[ch]);
            RV[ch] = (float)(factor * unbiased + (1 - factor) * RV[ch]);
        }
        if (SM != NULL && SI != NULL) {
            SM[ch] = (float)mean;
            SI[ch] = (float)inv;
        }
    }
    return ST_SUCCESS;
}

API int cudnnBatchNormalizationForwardInference(void *h, int mode, const float *alpha, const float *beta,
                                                const tensor_desc *x, const void *xp, const tensor_desc *y, void *yp,
                                                const tensor_desc *bn, const void *scale, const void *bias,
                                                const void *mean, const void *var, double eps) {
    (void)h;
    (void)y;
    const void *data[] = { xp, yp };
    const void *params[] = { scale, bias, mean, var };
    if (mode != 1) return ST_BAD_PARAM;
    int st = prepare("cudnnBatchNormalizationForwardInference", x, bn, 2, data, 4, params);
    if (st != ST_SUCCESS) return st;
    size_t plane = (size_t)x->h * x->w;
    const float *X = xp, *G = scale, *B = bias, *M = mean, *V = var;
    float *Y = yp;
    for (int ch = 0; ch < x->c; ch++) {
        double inv = 1.0 / sqrt((double)V[ch] + eps);
        for (int n = 0; n < x->n; n++)
            for (size_t i = 0; i < plane; i++)
                blend(&Y[AT(x, n, ch, i)], G[ch] * (X[AT(x, n, ch, i)] - M[ch]) * inv + B[ch], *alpha, *beta);
    }
    return ST_SUCCESS;
}

API int cudnnBatchNormalizationBackward(void *h, int mode, const float *alphaData, const float *betaData,
                                        const float *alphaParam, const float *betaParam, const tensor_desc *x,
                                        const void *xp, const tensor_desc *dy, const void *dyp,
                                        const tensor_desc *dx, void *dxp, const tensor_desc *bn, const void *scale,
                                        void *dScale, void *dBias, double eps, const void *savedMean,
                                        const void *savedInvStd) {
    (void)h;
    (void)dy;
    (void)dx;
    const void *data[] = { xp, dyp, dxp };
    const void *params[] = { scale, dScale, dBias, savedMean, savedInvStd };
    if (mode != 1 || (savedMean == NULL) != (savedInvStd == NULL)) return ST_BAD_PARAM;
    int st = prepare("cudnnBatchNormalizationBackward", x, bn, 3, data, 5, params);
    if (st != ST_SUCCESS) return st;
    size_t plane = (size_t)x->h * x->w, count = (size_t)x->n * plane;
    const float *X = xp, *DY = dyp, *G = scale, *SM = savedMean, *SI = savedInvStd;
    float *DX = dxp, *DG = dScale, *DB = dBias;
    for (int ch = 0; ch < x->c; ch++) {
        double mean = 0, inv;
        if (SM != NULL) {
            mean = SM[ch];
            inv = SI[ch];
        } else {
            double var = 0;
            for (int n = 0; n < x->n; n++)
                for (size_t i = 0; i < plane; i++) mean += X[AT(x, n, ch, i)];
            mean /= (double)count;
            for (int n = 0; n < x->n; n++)
                for (size_t i = 0; i < plane; i++) var += (X[AT(x, n, ch, i)] - mean) * (X[AT(x, n, ch, i)] - mean);
            inv = 1.0 / sqrt(var / (double)count + eps);
        }
        double sum_dy = 0, sum_dy_xhat = 0;
        for (int n = 0; n < x->n; n++)
            for (size_t i = 0; i < plane; i++) {
                double xhat = (X[AT(x, n, ch, i)] - mean) * inv;
                sum_dy += DY[AT(x, n, ch, i)];
                sum_dy_xhat += DY[AT(x, n, ch, i)] * xhat;
            }
        for (int n = 0; n < x->n; n++)
            for (size_t i = 0; i < plane; i++) {
                double xhat = (X[AT(x, n, ch, i)] - mean) * inv;
                double g = G[ch] * inv * (DY[AT(x, n, ch, i)] - sum_dy / count - xhat * sum_dy_xhat / count);
                blend(&DX[AT(x, n, ch, i)], g, *alphaData, *betaData);
            }
        blend(&DG[ch], sum_dy_xhat, *alphaParam, *betaParam);
        blend(&DB[ch], sum_dy, *alphaParam, *betaParam);
    }
    return ST_SUCCESS;
}
