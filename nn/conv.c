/* nn/conv.c: 2-D convolution (groups = 1) forward and backward through
 * im2col + one sgemm per batch item (Caffe/llm.c style), with a 1x1 fast
 * path that multiplies the input planes directly. Batch items run on OpenMP
 * workers with single-threaded OpenBLAS, or serially with threaded OpenBLAS
 * (gemm.h). Weight gradients from several workers are reduced from
 * per-worker partial sums in worker order, so results are deterministic for
 * a given worker count. Geometry follows torch.nn.Conv2d. */
#include "layers.h"

#include <omp.h>
#include <string.h>

#include "../common/status.h"
#include "gemm.h"

int duet_conv2d_dims_make2(duet_conv2d_dims *d, int B, int Ci, int H, int W, int Co, int kh,
                           int kw, int sh, int sw, int ph, int pw, int dh, int dw)
{
    memset(d, 0, sizeof *d);
    if (B < 1 || Ci < 1 || H < 1 || W < 1 || Co < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1 ||
        ph < 0 || pw < 0 || dh < 1 || dw < 1)
        return -1;
    long eh = (long)H + 2L * ph - (long)dh * (kh - 1) - 1;
    long ew = (long)W + 2L * pw - (long)dw * (kw - 1) - 1;
    if (eh < 0 || ew < 0) return -1;
    d->B = B, d->Ci = Ci, d->H = H, d->W = W, d->Co = Co, d->kh = kh, d->kw = kw;
    d->sh = sh, d->sw = sw, d->ph = ph, d->pw = pw, d->dh = dh, d->dw = dw;
    d->Ho = (int)(eh / sh + 1);
    d->Wo = (int)(ew / sw + 1);
    return 0;
}

int duet_conv2d_dims_make(duet_conv2d_dims *d, int B, int Ci, int H, int W, int Co, int k, int s,
                          int p, int dil)
{
    return duet_conv2d_dims_make2(d, B, Ci, H, W, Co, k, k, s, s, p, p, dil, dil);
}

static int is_pointwise(const duet_conv2d_dims *d)
{
    return d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->ph == 0 && d->pw == 0;
}

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

/* Per-worker floats: im2col buffer + partial dW + partial dbias. */
static size_t per_worker(const duet_conv2d_dims *d)
{
    size_t K = (size_t)d->Ci * d->kh * d->kw, N = (size_t)d->Ho * d->Wo;
    size_t col = is_pointwise(d) ? 0 : round16(K * N);
    return col + round16((size_t)d->Co * K) + round16((size_t)d->Co);
}

size_t duet_conv2d_work_floats(const duet_conv2d_dims *d, int workers)
{
    if (workers < 1) workers = 1;
    return per_worker(d) * (size_t)workers;
}

double duet_conv2d_macs(const duet_conv2d_dims *d)
{
    return (double)d->B * d->Co * d->Ho * d->Wo * (double)d->Ci * d->kh * d->kw;
}

/* col (Ci*kh*kw, Ho*Wo) from one image x (Ci, H, W). */
static void im2col(float *col, const float *x, const duet_conv2d_dims *d)
{
    const int Ho = d->Ho, Wo = d->Wo, H = d->H, W = d->W;
    for (int c = 0; c < d->Ci; c++)
        for (int ki = 0; ki < d->kh; ki++)
            for (int kj = 0; kj < d->kw; kj++) {
                float *row = col + ((size_t)(c * d->kh + ki) * d->kw + kj) * Ho * Wo;
                const float *xc = x + (size_t)c * H * W;
                int off_w = kj * d->dw - d->pw;
                /* valid ow: 0 <= ow*sw + off_w < W */
                int lo = off_w >= 0 ? 0 : (-off_w + d->sw - 1) / d->sw;
                int hi = W - off_w <= 0 ? 0 : (W - off_w - 1) / d->sw + 1;
                if (hi > Wo) hi = Wo;
                if (lo > hi) lo = hi;
                for (int oh = 0; oh < Ho; oh++) {
                    float *r = row + (size_t)oh * Wo;
                    int ih = oh * d->sh - d->ph + ki * d->dh;
                    if (ih < 0 || ih >= H) {
                        memset(r, 0, (size_t)Wo * sizeof(float));
                        continue;
                    }
                    const float *xr = xc + (size_t)ih * W;
                    for (int ow = 0; ow < lo; ow++) r[ow] = 0.0f;
                    if (d->sw == 1)
                        memcpy(r + lo, xr + lo + off_w, (size_t)(hi - lo) * sizeof(float));
                    else
                        for (int ow = lo; ow < hi; ow++) r[ow] = xr[ow * d->sw + off_w];
                    for (int ow = hi; ow < Wo; ow++) r[ow] = 0.0f;
                }
            }
}

/* x (Ci, H, W) += col2im(col (Ci*kh*kw, Ho*Wo)). */
static void col2im_add(float *x, const float *col, const duet_conv2d_dims *d)
{
    const int Ho = d->Ho, Wo = d->Wo, H = d->H, W = d->W;
    for (int c = 0; c < d->Ci; c++)
        for (int ki = 0; ki < d->kh; ki++)
            for (int kj = 0; kj < d->kw; kj++) {
                const float *row = col + ((size_t)(c * d->kh + ki) * d->kw + kj) * Ho * Wo;
                float *xc = x + (size_t)c * H * W;
                int off_w = kj * d->dw - d->pw;
                int lo = off_w >= 0 ? 0 : (-off_w + d->sw - 1) / d->sw;
                int hi = W - off_w <= 0 ? 0 : (W - off_w - 1) / d->sw + 1;
                if (hi > Wo) hi = Wo;
                if (lo > hi) lo = hi;
                for (int oh = 0; oh < Ho; oh++) {
                    int ih = oh * d->sh - d->ph + ki * d->dh;
                    if (ih < 0 || ih >= H) continue;
                    const float *r = row + (size_t)oh * Wo;
                    float *xr = xc + (size_t)ih * W;
                    if (d->sw == 1) {
                        float *xo = xr + off_w;
                        for (int ow = lo; ow < hi; ow++) xo[ow] += r[ow];
                    } else {
                        for (int ow = lo; ow < hi; ow++) xr[ow * d->sw + off_w] += r[ow];
                    }
                }
            }
}

static int pick_workers(const duet_conv2d_dims *d, size_t work_floats)
{
    size_t pw = per_worker(d);
    DUET_CHECK(work_floats >= pw);
    int n = duet_nn_workers();
    if (n > d->B) n = d->B;
    if ((size_t)n > work_floats / pw) n = (int)(work_floats / pw);
    return n < 1 ? 1 : n;
}

static void forward_item(float *out_b, float *col, const float *x_b, const float *w,
                         const float *bias, const duet_conv2d_dims *d)
{
    const int K = d->Ci * d->kh * d->kw, N = d->Ho * d->Wo;
    const float *B;
    if (is_pointwise(d)) {
        B = x_b;
    } else {
        im2col(col, x_b, d);
        B = col;
    }
    if (bias) {
        for (int co = 0; co < d->Co; co++) {
            float *o = out_b + (size_t)co * N, bv = bias[co];
            for (int i = 0; i < N; i++) o[i] = bv;
        }
    }
    duet_sgemm(0, 0, d->Co, N, K, 1.0f, w, K, B, N, bias ? 1.0f : 0.0f, out_b, N);
}

void duet_conv2d_forward(float *out, float *work, size_t work_floats, const float *inp,
                         const float *w, const float *bias, const duet_conv2d_dims *d)
{
    const size_t in_sz = (size_t)d->Ci * d->H * d->W, out_sz = (size_t)d->Co * d->Ho * d->Wo;
    const size_t pw = per_worker(d);
    int nw = pick_workers(d, work_floats);
    if (nw == 1) {
        for (int b = 0; b < d->B; b++) forward_item(out + b * out_sz, work, inp + b * in_sz, w, bias, d);
        return;
    }
#pragma omp parallel for num_threads(nw) schedule(static)
    for (int b = 0; b < d->B; b++) {
        float *col = work + (size_t)omp_get_thread_num() * pw;
        forward_item(out + b * out_sz, col, inp + b * in_sz, w, bias, d);
    }
}

static void backward_item(float *dinp_b, float *dw, float *dbias, float *col, const float *dout_b,
                          const float *x_b, const float *w, const duet_conv2d_dims *d)
{
    const int K = d->Ci * d->kh * d->kw, N = d->Ho * d->Wo;
    const int pt = is_pointwise(d);
    if (!pt) im2col(col, x_b, d);
    /* dw (Co, K) += dout_b (Co, N) @ col^T (N, K) */
    duet_sgemm(0, 1, d->Co, K, N, 1.0f, dout_b, N, pt ? x_b : col, N, 1.0f, dw, K);
    if (dbias)
        for (int co = 0; co < d->Co; co++) {
            const float *g = dout_b + (size_t)co * N;
            double s = 0;
            for (int i = 0; i < N; i++) s += g[i];
            dbias[co] += (float)s;
        }
    if (!dinp_b) return;
    if (pt) {
        /* dinp_b (Ci, N) += w^T (Ci, Co) @ dout_b (Co, N) */
        duet_sgemm(1, 0, K, N, d->Co, 1.0f, w, K, dout_b, N, 1.0f, dinp_b, N);
    } else {
        duet_sgemm(1, 0, K, N, d->Co, 1.0f, w, K, dout_b, N, 0.0f, col, N);
        col2im_add(dinp_b, col, d);
    }
}

void duet_conv2d_backward(float *dinp, float *dw, float *dbias, float *work, size_t work_floats,
                          const float *dout, const float *inp, const float *w,
                          const duet_conv2d_dims *d)
{
    const size_t in_sz = (size_t)d->Ci * d->H * d->W, out_sz = (size_t)d->Co * d->Ho * d->Wo;
    const size_t K = (size_t)d->Ci * d->kh * d->kw, wsz = (size_t)d->Co * K;
    const size_t pw = per_worker(d), colsz = is_pointwise(d) ? 0 : round16(K * d->Ho * d->Wo);
    int nw = pick_workers(d, work_floats);
    if (nw == 1) {
        for (int b = 0; b < d->B; b++)
            backward_item(dinp ? dinp + b * in_sz : NULL, dw, dbias, work, dout + b * out_sz,
                          inp + b * in_sz, w, d);
        return;
    }
#pragma omp parallel num_threads(nw)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *col = work + (size_t)t * pw;
        float *pdw = col + colsz, *pdb = pdw + round16(wsz);
        memset(pdw, 0, wsz * sizeof(float));
        memset(pdb, 0, (size_t)d->Co * sizeof(float));
#pragma omp for schedule(static)
        for (int b = 0; b < d->B; b++)
            backward_item(dinp ? dinp + b * in_sz : NULL, pdw, dbias ? pdb : NULL, col,
                          dout + b * out_sz, inp + b * in_sz, w, d);
        /* implicit barrier; reduce partials in worker order, split over outputs */
#pragma omp for schedule(static)
        for (long i = 0; i < (long)wsz; i++) {
            float s = 0.0f;
            for (int u = 0; u < nt; u++) s += work[(size_t)u * pw + colsz + (size_t)i];
            dw[i] += s;
        }
        if (dbias) {
#pragma omp single
            for (int co = 0; co < d->Co; co++) {
                float s = 0.0f;
                for (int u = 0; u < nt; u++) s += work[(size_t)u * pw + colsz + round16(wsz) + co];
                dbias[co] += s;
            }
        }
    }
}
