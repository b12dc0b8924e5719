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

#ifndef DUET_CONV_TILE_FLOATS
/* im2col works on tiles of output rows whose column buffer holds about this
 * many floats (1 MiB), so the buffer stays in cache between im2col and the
 * sgemm that packs it, instead of streaming a whole-image column matrix
 * through memory. Measured with bench/bench_nn.sh. */
#define DUET_CONV_TILE_FLOATS (1 << 18)
#endif

/* Output rows per tile. */
static int tile_rows(const duet_conv2d_dims *d)
{
    size_t K = (size_t)d->Ci * d->kh * d->kw, per_row = K * (size_t)d->Wo;
    if (is_pointwise(d)) per_row = (size_t)d->Wo * 16; /* no buffer; tiles only for parallelism */
    size_t r = DUET_CONV_TILE_FLOATS / (per_row ? per_row : 1);
    if (r < 1) r = 1;
    if (r > (size_t)d->Ho) r = (size_t)d->Ho;
    return (int)r;
}

/* Backward's input gradient for stride-1 convolutions is itself a
 * convolution: dinp = conv(dout, W'), W'[ci][co][i][j] = W[co][ci][kh-1-i][kw-1-j],
 * padding d(k-1) - p, same dilation. That runs as im2col + sgemm with
 * inner dimension Co*kh*kw instead of a scatter (col2im) after an sgemm
 * with inner dimension Co, which is slow for thin layers. */
static int use_tconv(const duet_conv2d_dims *d)
{
    return !is_pointwise(d) && d->sh == 1 && d->sw == 1 && d->ph <= d->dh * (d->kh - 1) &&
           d->pw <= d->dw * (d->kw - 1);
}

static void tconv_dims(duet_conv2d_dims *t, const duet_conv2d_dims *d)
{
    int rc = duet_conv2d_dims_make2(t, 1, d->Co, d->Ho, d->Wo, d->Ci, d->kh, d->kw, 1, 1,
                                    d->dh * (d->kh - 1) - d->ph, d->dw * (d->kw - 1) - d->pw, d->dh,
                                    d->dw);
    DUET_CHECK(rc == 0 && t->Ho == d->H && t->Wo == d->W);
}

static size_t col_floats(const duet_conv2d_dims *d)
{
    if (is_pointwise(d)) return 0;
    return round16((size_t)d->Ci * d->kh * d->kw * (size_t)tile_rows(d) * d->Wo);
}

/* Per-worker floats: im2col tile (forward or transposed) + partial dW + partial dbias. */
static size_t per_worker(const duet_conv2d_dims *d)
{
    size_t K = (size_t)d->Ci * d->kh * d->kw, col = col_floats(d);
    if (use_tconv(d)) {
        duet_conv2d_dims t;
        tconv_dims(&t, d);
        if (col_floats(&t) > col) col = col_floats(&t);
    }
    return col + round16((size_t)d->Co * K) + round16((size_t)d->Co);
}

/* Floats shared by all workers: the flipped weights of the transposed path. */
static size_t shared_floats(const duet_conv2d_dims *d)
{
    return use_tconv(d) ? round16((size_t)d->Co * d->Ci * d->kh * d->kw) : 0;
}

size_t duet_conv2d_work_floats(const duet_conv2d_dims *d, int workers)
{
    if (workers < 1) workers = 1;
    return per_worker(d) * (size_t)workers + shared_floats(d);
}

double duet_conv2d_macs(const duet_conv2d_dims *d)
{
    return (double)d->B * d->Co * d->Ho * d->Wo * (double)d->Ci * d->kh * d->kw;
}

/* col (Ci*kh*kw, (r1-r0)*Wo) from one image x (Ci, H, W), output rows [r0, r1). */
static void im2col(float *col, const float *x, const duet_conv2d_dims *d, int r0, int r1)
{
    const int Ho = r1 - r0, Wo = d->Wo, H = d->H, W = d->W;
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
                    int ih = (oh + r0) * d->sh - d->ph + ki * d->dh;
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

/* x (Ci, H, W) += col2im(col (Ci*kh*kw, (r1-r0)*Wo)), output rows [r0, r1). */
static void col2im_add(float *x, const float *col, const duet_conv2d_dims *d, int r0, int r1)
{
    const int Ho = r1 - r0, Wo = d->Wo, H = d->H, W = d->W;
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
                    int ih = (oh + r0) * d->sh - d->ph + ki * d->dh;
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

static int pick_workers(const duet_conv2d_dims *d, size_t work_floats, long items)
{
    size_t pw = per_worker(d), sh = shared_floats(d);
    DUET_CHECK(work_floats >= pw + sh);
    long n = duet_nn_workers();
    if (n > items) n = items;
    if ((size_t)n > (work_floats - sh) / pw) n = (long)((work_floats - sh) / pw);
    return n < 1 ? 1 : (int)n;
}

/* Output rows [r0, r1) of item b. */
static void forward_tile(float *out_b, float *col, const float *x_b, const float *w,
                         const float *bias, const duet_conv2d_dims *d, int r0, int r1, float beta)
{
    const int K = d->Ci * d->kh * d->kw, N = d->Ho * d->Wo, n = (r1 - r0) * d->Wo;
    float *o = out_b + (size_t)r0 * d->Wo;
    const float *B;
    int ldb;
    if (is_pointwise(d)) {
        B = x_b + (size_t)r0 * d->Wo;
        ldb = N;
    } else {
        im2col(col, x_b, d, r0, r1);
        B = col;
        ldb = n;
    }
    if (bias)
        for (int co = 0; co < d->Co; co++) {
            float *r = o + (size_t)co * N, bv = bias[co];
            for (int i = 0; i < n; i++) r[i] = bv;
        }
    duet_sgemm(0, 0, d->Co, n, K, 1.0f, w, K, B, ldb, bias ? 1.0f : beta, o, N);
}

void duet_conv2d_forward(float *out, float *work, size_t work_floats, const float *inp,
                         const float *w, const float *bias, const duet_conv2d_dims *d)
{
    const size_t in_sz = (size_t)d->Ci * d->H * d->W, out_sz = (size_t)d->Co * d->Ho * d->Wo;
    const size_t pw = per_worker(d);
    const int tr = tile_rows(d), nt = (d->Ho + tr - 1) / tr;
    const long items = (long)d->B * nt;
    int nw = pick_workers(d, work_floats, items);
#pragma omp parallel for num_threads(nw) schedule(static) if (nw > 1)
    for (long it = 0; it < items; it++) {
        int b = (int)(it / nt), r0 = (int)(it % nt) * tr, r1 = r0 + tr < d->Ho ? r0 + tr : d->Ho;
        float *col = work + (size_t)(nw > 1 ? omp_get_thread_num() : 0) * pw;
        forward_tile(out + b * out_sz, col, inp + b * in_sz, w, bias, d, r0, r1, 0.0f);
    }
}

static void backward_item(float *dinp_b, float *dw, float *dbias, float *col, const float *wflip,
                          const float *dout_b, const float *x_b, const float *w,
                          const duet_conv2d_dims *d)
{
    const int K = d->Ci * d->kh * d->kw, N = d->Ho * d->Wo;
    const int pt = is_pointwise(d), tr = tile_rows(d), tc = use_tconv(d);
    if (dbias)
        for (int co = 0; co < d->Co; co++) {
            const float *g = dout_b + (size_t)co * N;
            double s = 0;
            for (int i = 0; i < N; i++) s += g[i];
            dbias[co] += (float)s;
        }
    for (int r0 = 0; r0 < d->Ho; r0 += tr) {
        int r1 = r0 + tr < d->Ho ? r0 + tr : d->Ho, n = (r1 - r0) * d->Wo;
        const float *g = dout_b + (size_t)r0 * d->Wo;
        const float *xb = pt ? x_b + (size_t)r0 * d->Wo : col;
        if (!pt) im2col(col, x_b, d, r0, r1);
        /* dw (Co, K) += dout tile (Co, n) @ col^T (n, K) */
        duet_sgemm(0, 1, d->Co, K, n, 1.0f, g, N, xb, pt ? N : n, 1.0f, dw, K);
        if (!dinp_b || tc) continue;
        if (pt) {
            /* dinp tile (Ci, n) += w^T (Ci, Co) @ dout tile (Co, n) */
            duet_sgemm(1, 0, K, n, d->Co, 1.0f, w, K, g, N, 1.0f, dinp_b + (size_t)r0 * d->Wo, N);
        } else {
            duet_sgemm(1, 0, K, n, d->Co, 1.0f, w, K, g, N, 0.0f, col, n);
            col2im_add(dinp_b, col, d, r0, r1);
        }
    }
    if (dinp_b && tc) {
        duet_conv2d_dims t;
        tconv_dims(&t, d);
        const int ttr = tile_rows(&t);
        for (int r0 = 0; r0 < t.Ho; r0 += ttr)
            forward_tile(dinp_b, col, dout_b, wflip, NULL, &t, r0, r0 + ttr < t.Ho ? r0 + ttr : t.Ho, 1.0f);
    }
}

/* wflip (Ci, Co, kh, kw) from w (Co, Ci, kh, kw), kernel rotated by 180 degrees */
static void flip_weights(float *wflip, const float *w, const duet_conv2d_dims *d)
{
    const int kk = d->kh * d->kw;
    for (int co = 0; co < d->Co; co++)
        for (int ci = 0; ci < d->Ci; ci++) {
            const float *src = w + ((size_t)co * d->Ci + ci) * kk;
            float *dst = wflip + ((size_t)ci * d->Co + co) * kk;
            for (int i = 0; i < kk; i++) dst[i] = src[kk - 1 - i];
        }
}

void duet_conv2d_backward(float *dinp, float *dw, float *dbias, float *work, size_t work_floats,
                          const float *dout, const float *inp, const float *w,
                          const duet_conv2d_dims *d)
{
    const size_t in_sz = (size_t)d->Ci * d->H * d->W, out_sz = (size_t)d->Co * d->Ho * d->Wo;
    const size_t K = (size_t)d->Ci * d->kh * d->kw, wsz = (size_t)d->Co * K;
    const size_t pw = per_worker(d), colsz = pw - round16(wsz) - round16((size_t)d->Co);
    int nw = pick_workers(d, work_floats, d->B);
    float *wflip = NULL;
    if (use_tconv(d) && dinp) {
        wflip = work + (size_t)nw * pw;
        flip_weights(wflip, w, d);
    }
    if (nw == 1) {
        for (int b = 0; b < d->B; b++)
            backward_item(dinp ? dinp + b * in_sz : NULL, dw, dbias, work, wflip, dout + b * out_sz,
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
            backward_item(dinp ? dinp + b * in_sz : NULL, pdw, dbias ? pdb : NULL, col, wflip,
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
