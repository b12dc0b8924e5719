/* nn/attention.c: SAGAN self-attention (Zhang, Goodfellow, Metaxas, Odena,
 * "Self-Attention Generative Adversarial Networks", 2019): 1x1 query/key/
 * value projections, softmax over positions of q^T k (no 1/sqrt(d) scale, as
 * in SAGAN), o = v A^T, out = gamma o + x. The axis option restricts
 * attention to the last axis (W, time) for every row separately.
 *
 * Backward, per batch item and group (sequence of L positions):
 *   dv = gamma dout A, dA = gamma dout^T v, dE = A * (dA - rowsum(A * dA)),
 *   dq = k dE^T, dk = q dE, then the 1x1 projections' backward. */
#include "layers.h"

#include <omp.h>
#include <string.h>

#include "../common/status.h"
#include "gemm.h"

typedef struct attn_layout {
    size_t HW, G, L;
    size_t q, k, v, o, a; /* offsets into the cache */
    size_t total;
} attn_layout;

static attn_layout layout(const duet_attn_dims *d)
{
    attn_layout l;
    l.HW = (size_t)d->H * d->W;
    l.G = d->axis == DUET_ATTN_W ? (size_t)d->H : 1;
    l.L = d->axis == DUET_ATTN_W ? (size_t)d->W : l.HW;
    size_t B = (size_t)d->B;
    l.q = 0;
    l.k = l.q + B * d->Cq * l.HW;
    l.v = l.k + B * d->Cq * l.HW;
    l.o = l.v + B * d->C * l.HW;
    l.a = l.o + B * d->C * l.HW;
    l.total = l.a + B * l.G * l.L * l.L;
    return l;
}

size_t duet_attn_cache_floats(const duet_attn_dims *d) { return layout(d).total; }

size_t duet_attn_work_floats(const duet_attn_dims *d, int workers)
{
    attn_layout l = layout(d);
    if (workers < 1) workers = 1;
    /* dq, dk, dv for the whole batch + one dA per worker */
    return (size_t)d->B * (2 * (size_t)d->Cq + d->C) * l.HW + (size_t)workers * l.L * l.L;
}

/* y (M, HW) = w (M, C) x (C, HW) + bias (M) */
static void proj(float *y, const float *w, const float *bias, const float *x, int M, int C, int HW)
{
    for (int m = 0; m < M; m++) {
        float *r = y + (size_t)m * HW;
        for (int i = 0; i < HW; i++) r[i] = bias ? bias[m] : 0.0f;
    }
    duet_sgemm(0, 0, M, HW, C, 1.0f, w, C, x, HW, 1.0f, y, HW);
}

void duet_attn_forward(float *out, float *cache, const float *inp, const float *wq,
                       const float *bq, const float *wk, const float *bk, const float *wv,
                       const float *bv, const float *gamma, const duet_attn_dims *d)
{
    const attn_layout l = layout(d);
    const int C = d->C, Cq = d->Cq, HW = (int)l.HW, L = (int)l.L;
    const size_t xs = (size_t)C * l.HW, qs = (size_t)Cq * l.HW;
    const int nw = duet_nn_workers();
#pragma omp parallel for schedule(static) num_threads(nw) if (nw > 1 && d->B > 1)
    for (int b = 0; b < d->B; b++) {
        const float *x = inp + b * xs;
        proj(cache + l.q + b * qs, wq, bq, x, Cq, C, HW);
        proj(cache + l.k + b * qs, wk, bk, x, Cq, C, HW);
        proj(cache + l.v + b * xs, wv, bv, x, C, C, HW);
    }
    const long pairs = (long)d->B * (long)l.G;
#pragma omp parallel for schedule(static) num_threads(nw) if (nw > 1 && pairs > 1)
    for (long bg = 0; bg < pairs; bg++) {
        size_t b = (size_t)bg / l.G, g = (size_t)bg % l.G, go = g * (l.G > 1 ? l.L : 0);
        const float *q = cache + l.q + b * qs + go, *k = cache + l.k + b * qs + go;
        const float *v = cache + l.v + b * xs + go;
        float *o = cache + l.o + b * xs + go;
        float *A = cache + l.a + (size_t)bg * l.L * l.L;
        /* E (L, L) = q^T (L, Cq) k (Cq, L); A = softmax rows */
        duet_sgemm(1, 0, L, L, Cq, 1.0f, q, HW, k, HW, 0.0f, A, L);
        duet_softmax_forward(A, A, L, L);
        /* o (C, L) = v (C, L) A^T (L, L) */
        duet_sgemm(0, 1, C, L, L, 1.0f, v, HW, A, L, 0.0f, o, HW);
    }
    const float gm = gamma[0];
    const size_t n = (size_t)d->B * xs;
    const float *o = cache + l.o;
    for (size_t i = 0; i < n; i++) out[i] = gm * o[i] + inp[i];
}

/* 1x1 projection backward for one item: dw (M, C) += dy (M, HW) x^T;
 * dbias += rowsum dy; dx (C, HW) += w^T dy. */
static void proj_backward(float *dx, float *dw, float *dbias, const float *dy, const float *x,
                          const float *w, int M, int C, int HW)
{
    duet_sgemm(0, 1, M, C, HW, 1.0f, dy, HW, x, HW, 1.0f, dw, C);
    if (dbias)
        for (int m = 0; m < M; m++) {
            double s = 0;
            const float *r = dy + (size_t)m * HW;
            for (int i = 0; i < HW; i++) s += r[i];
            dbias[m] += (float)s;
        }
    if (dx) duet_sgemm(1, 0, C, HW, M, 1.0f, w, C, dy, HW, 1.0f, dx, HW);
}

void duet_attn_backward(float *dinp, float *dwq, float *dbq, float *dwk, float *dbk, float *dwv,
                        float *dbv, float *dgamma, float *work, size_t work_floats,
                        const float *dout, const float *cache, const float *inp, const float *wq,
                        const float *wk, const float *wv, const float *gamma,
                        const duet_attn_dims *d)
{
    const attn_layout l = layout(d);
    const int C = d->C, Cq = d->Cq, HW = (int)l.HW, L = (int)l.L;
    const size_t xs = (size_t)C * l.HW, qs = (size_t)Cq * l.HW, LL = l.L * l.L;
    const size_t fixed = (size_t)d->B * (2 * (size_t)Cq + C) * l.HW;
    DUET_CHECK(work_floats >= fixed + LL);
    int nw = duet_nn_workers();
    if ((size_t)nw > (work_floats - fixed) / LL) nw = (int)((work_floats - fixed) / LL);
    float *dq = work, *dk = dq + (size_t)d->B * qs, *dv = dk + (size_t)d->B * qs;
    float *dA0 = work + fixed;
    const float gm = gamma[0];
    const size_t n = (size_t)d->B * xs;

    /* out = gamma o + x */
    double sg = 0;
    for (size_t i = 0; i < n; i++) sg += (double)dout[i] * cache[l.o + i];
    dgamma[0] += (float)sg;
    if (dinp) duet_acc(dinp, dout, n);

    const long pairs = (long)d->B * (long)l.G;
#pragma omp parallel num_threads(nw) if (nw > 1 && pairs > 1)
    {
        float *dA = dA0 + (size_t)omp_get_thread_num() * LL;
#pragma omp for schedule(static)
        for (long bg = 0; bg < pairs; bg++) {
            size_t b = (size_t)bg / l.G, g = (size_t)bg % l.G, go = g * (l.G > 1 ? l.L : 0);
            const float *q = cache + l.q + b * qs + go, *k = cache + l.k + b * qs + go;
            const float *v = cache + l.v + b * xs + go;
            const float *A = cache + l.a + (size_t)bg * LL;
            const float *g_o = dout + b * xs + go;
            /* dv (C, L) = gamma dout (C, L) A (L, L) */
            duet_sgemm(0, 0, C, L, L, gm, g_o, HW, A, L, 0.0f, dv + b * xs + go, HW);
            /* dA (L, L) = gamma dout^T (L, C) v (C, L) */
            duet_sgemm(1, 0, L, L, C, gm, g_o, HW, v, HW, 0.0f, dA, L);
            /* dE = softmax backward, in place */
            for (int i = 0; i < L; i++) {
                const float *ar = A + (size_t)i * L;
                float *dr = dA + (size_t)i * L;
                double s = 0;
                for (int j = 0; j < L; j++) s += (double)ar[j] * dr[j];
                float fs = (float)s;
                for (int j = 0; j < L; j++) dr[j] = ar[j] * (dr[j] - fs);
            }
            /* dq (Cq, L) = k (Cq, L) dE^T; dk (Cq, L) = q (Cq, L) dE */
            duet_sgemm(0, 1, Cq, L, L, 1.0f, k, HW, dA, L, 0.0f, dq + b * qs + go, HW);
            duet_sgemm(0, 0, Cq, L, L, 1.0f, q, HW, dA, L, 0.0f, dk + b * qs + go, HW);
        }
    }
    /* projections, serial over items so parameter sums are in a fixed order */
    for (int b = 0; b < d->B; b++) {
        const float *x = inp + b * xs;
        float *dx = dinp ? dinp + b * xs : NULL;
        proj_backward(dx, dwq, dbq, dq + b * qs, x, wq, Cq, C, HW);
        proj_backward(dx, dwk, dbk, dk + b * qs, x, wk, Cq, C, HW);
        proj_backward(dx, dwv, dbv, dv + b * xs, x, wv, C, C, HW);
    }
}
