/* nn/layers.c: the element-wise, normalisation, resampling, pooling, dense
 * and loss layers of layers.h. Semantics follow PyTorch 1.13 (BatchNorm2d
 * momentum/eps and unbiased running variance, F.interpolate bilinear with
 * align_corners=False, MaxPool2d/AvgPool2d floor mode with
 * count_include_pad=True, BCEWithLogitsLoss's stable form). Sums that feed
 * statistics or losses are accumulated in double. */
#include "layers.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "../common/status.h"
#include "gemm.h"

#define PAR_MIN 32768 /* elements below which element-wise loops stay serial */

/* ------------------------------------------------------------ BatchNorm2d */

void duet_bn2d_forward_train(float *out, float *mean, float *invstd, float *run_mean,
                             float *run_var, const float *inp, const float *gamma,
                             const float *beta, int B, int C, int HW, float momentum, float eps)
{
    const size_t plane = (size_t)HW, cstride = (size_t)C * HW;
    const double n = (double)B * HW;
#pragma omp parallel for schedule(static) if (n * C > PAR_MIN && duet_nn_workers() > 1)
    for (int c = 0; c < C; c++) {
        /* one pass: sum and sum of squares in double (no cancellation issue
         * at float input precision) */
        double s = 0, sq = 0;
        for (int b = 0; b < B; b++) {
            const float *x = inp + b * cstride + c * plane;
            for (size_t i = 0; i < plane; i++) {
                double v = x[i];
                s += v;
                sq += v * v;
            }
        }
        double mu = s / n, ss = sq - s * mu;
        if (ss < 0) ss = 0;
        double var = ss / n;
        float is = (float)(1.0 / sqrt(var + eps));
        mean[c] = (float)mu;
        invstd[c] = is;
        if (run_mean) run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * (float)mu;
        if (run_var)
            run_var[c] = (1.0f - momentum) * run_var[c] +
                         momentum * (float)(n > 1 ? ss / (n - 1) : var);
        float g = gamma ? gamma[c] * is : is, bb = beta ? beta[c] : 0.0f, m = (float)mu;
        for (int b = 0; b < B; b++) {
            const float *x = inp + b * cstride + c * plane;
            float *y = out + b * cstride + c * plane;
            for (size_t i = 0; i < plane; i++) y[i] = (x[i] - m) * g + bb;
        }
    }
}

void duet_bn2d_forward_eval(float *out, const float *inp, const float *gamma, const float *beta,
                            const float *run_mean, const float *run_var, int B, int C, int HW,
                            float eps)
{
    const size_t plane = (size_t)HW, cstride = (size_t)C * HW;
#pragma omp parallel for collapse(2) schedule(static) if ((double)B * C * HW > PAR_MIN && duet_nn_workers() > 1)
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            float is = 1.0f / sqrtf(run_var[c] + eps);
            float g = gamma ? gamma[c] * is : is, bb = beta ? beta[c] : 0.0f, m = run_mean[c];
            const float *x = inp + b * cstride + c * plane;
            float *y = out + b * cstride + c * plane;
            for (size_t i = 0; i < plane; i++) y[i] = (x[i] - m) * g + bb;
        }
}

void duet_bn2d_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                        const float *inp, const float *mean, const float *invstd,
                        const float *gamma, int B, int C, int HW)
{
    const size_t plane = (size_t)HW, cstride = (size_t)C * HW;
    const double n = (double)B * HW;
#pragma omp parallel for schedule(static) if (n * C > PAR_MIN && duet_nn_workers() > 1)
    for (int c = 0; c < C; c++) {
        const float m = mean[c], is = invstd[c];
        double sdy = 0, sdyx = 0;
        for (int b = 0; b < B; b++) {
            const float *x = inp + b * cstride + c * plane, *g = dout + b * cstride + c * plane;
            for (size_t i = 0; i < plane; i++) {
                sdy += g[i];
                sdyx += (double)g[i] * ((x[i] - m) * is);
            }
        }
        if (dgamma) dgamma[c] += (float)sdyx;
        if (dbeta) dbeta[c] += (float)sdy;
        if (!dinp) continue;
        const float k = (gamma ? gamma[c] : 1.0f) * is;
        const float mdy = (float)(sdy / n), mdyx = (float)(sdyx / n);
        for (int b = 0; b < B; b++) {
            const float *x = inp + b * cstride + c * plane, *g = dout + b * cstride + c * plane;
            float *dx = dinp + b * cstride + c * plane;
            for (size_t i = 0; i < plane; i++) dx[i] += k * (g[i] - mdy - (x[i] - m) * is * mdyx);
        }
    }
}

/* ---------------------------------------------------------------- Dropout */

void duet_dropout_forward(float *out, uint8_t *mask, const float *inp, size_t n, float p,
                          duet_rng *rng)
{
    DUET_CHECK(p >= 0.0f && p < 1.0f);
    if (p == 0.0f) {
        memset(mask, 1, n);
        if (out != inp) memcpy(out, inp, n * sizeof(float));
        return;
    }
    const float scale = 1.0f / (1.0f - p);
    /* one 64-bit draw gives two 32-bit uniforms */
    const uint64_t thr = (uint64_t)((double)p * 4294967296.0);
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        uint64_t r = duet_rng_u64(rng);
        mask[i] = (r & 0xffffffffu) >= thr;
        mask[i + 1] = (r >> 32) >= thr;
    }
    if (i < n) mask[i] = (duet_rng_u64(rng) & 0xffffffffu) >= thr;
#pragma omp parallel for schedule(static) if (n > PAR_MIN && duet_nn_workers() > 1)
    for (size_t j = 0; j < n; j++) out[j] = mask[j] ? inp[j] * scale : 0.0f;
}

void duet_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, size_t n, float p)
{
    const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static) if (n > PAR_MIN && duet_nn_workers() > 1)
    for (size_t j = 0; j < n; j++)
        if (mask[j]) dinp[j] += dout[j] * scale;
}

/* ------------------------------------------------------------ Activations */

/* ELEMENTWISE_FOR(n, body): `for (size_t i = 0; i < n; i++) body`, split over
 * the OpenMP workers when n > PAR_MIN. Small n never enters an OpenMP
 * construct: even a `parallel if (0)` region sets up a team (and allocates in
 * libgomp) on every call, and duet_acc runs once per row of 16-64 floats in
 * the embedding and concat backward passes (11% of a NeuMF epoch went to
 * malloc_consolidate before this). */
#define ELEMENTWISE_FOR(n, ...)                                                                                    \
    do {                                                                                                           \
        if ((n) > PAR_MIN && duet_nn_workers() > 1) {                                                              \
            _Pragma("omp parallel for schedule(static)") for (size_t i = 0; i < (n); i++) { __VA_ARGS__; }       \
        } else {                                                                                                   \
            for (size_t i = 0; i < (n); i++) { __VA_ARGS__; }                                                     \
        }                                                                                                          \
    } while (0)

void duet_relu_forward(float *out, const float *inp, size_t n)
{
    ELEMENTWISE_FOR(n, out[i] = inp[i] > 0.0f ? inp[i] : 0.0f);
}

void duet_relu_backward(float *dinp, const float *dout, const float *out, size_t n)
{
    ELEMENTWISE_FOR(n, dinp[i] += out[i] > 0.0f ? dout[i] : 0.0f); /* branchless: vectorises */
}

void duet_leaky_relu_forward(float *out, const float *inp, size_t n, float slope)
{
    ELEMENTWISE_FOR(n, out[i] = inp[i] > 0.0f ? inp[i] : inp[i] * slope);
}

void duet_leaky_relu_backward(float *dinp, const float *dout, const float *out, size_t n, float slope)
{
    ELEMENTWISE_FOR(n, dinp[i] += out[i] > 0.0f ? dout[i] : dout[i] * slope);
}

void duet_sigmoid_forward(float *out, const float *inp, size_t n)
{
    ELEMENTWISE_FOR(n, {
        float x = inp[i];
        if (x >= 0) {
            out[i] = 1.0f / (1.0f + expf(-x));
        } else {
            float e = expf(x);
            out[i] = e / (1.0f + e);
        }
    });
}

void duet_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n)
{
    ELEMENTWISE_FOR(n, dinp[i] += dout[i] * out[i] * (1.0f - out[i]));
}

void duet_tanh_forward(float *out, const float *inp, size_t n)
{
    ELEMENTWISE_FOR(n, out[i] = tanhf(inp[i]));
}

void duet_tanh_backward(float *dinp, const float *dout, const float *out, size_t n)
{
    ELEMENTWISE_FOR(n, dinp[i] += dout[i] * (1.0f - out[i] * out[i]));
}

void duet_softmax_forward(float *out, const float *inp, int N, int D)
{
#pragma omp parallel for schedule(static) if ((double)N * D > PAR_MIN && duet_nn_workers() > 1)
    for (int r = 0; r < N; r++) {
        const float *x = inp + (size_t)r * D;
        float *y = out + (size_t)r * D;
        float mx = -INFINITY;
        for (int j = 0; j < D; j++) mx = x[j] > mx ? x[j] : mx;
        double s = 0;
        for (int j = 0; j < D; j++) {
            y[j] = expf(x[j] - mx);
            s += y[j];
        }
        float inv = (float)(1.0 / s);
        for (int j = 0; j < D; j++) y[j] *= inv;
    }
}

void duet_softmax_backward(float *dinp, const float *dout, const float *out, int N, int D)
{
#pragma omp parallel for schedule(static) if ((double)N * D > PAR_MIN && duet_nn_workers() > 1)
    for (int r = 0; r < N; r++) {
        const float *y = out + (size_t)r * D, *g = dout + (size_t)r * D;
        float *dx = dinp + (size_t)r * D;
        double s = 0;
        for (int j = 0; j < D; j++) s += (double)g[j] * y[j];
        float fs = (float)s;
        for (int j = 0; j < D; j++) dx[j] += y[j] * (g[j] - fs);
    }
}

void duet_softmax_channels_forward(float *out, const float *inp, int B, int C, int HW)
{
    const size_t hw = (size_t)HW;
#pragma omp parallel for schedule(static) if ((double)B * C * HW > PAR_MIN && duet_nn_workers() > 1)
    for (long bi = 0; bi < (long)B * HW; bi++) {
        size_t b = (size_t)bi / hw, i = (size_t)bi % hw;
        const float *x = inp + b * C * hw + i;
        float *y = out + b * C * hw + i;
        float mx = -INFINITY;
        for (int c = 0; c < C; c++) mx = x[c * hw] > mx ? x[c * hw] : mx;
        double s = 0;
        for (int c = 0; c < C; c++) {
            y[c * hw] = expf(x[c * hw] - mx);
            s += y[c * hw];
        }
        float inv = (float)(1.0 / s);
        for (int c = 0; c < C; c++) y[c * hw] *= inv;
    }
}

void duet_softmax_channels_backward(float *dinp, const float *dout, const float *out, int B, int C,
                                    int HW)
{
    const size_t hw = (size_t)HW;
#pragma omp parallel for schedule(static) if ((double)B * C * HW > PAR_MIN && duet_nn_workers() > 1)
    for (long bi = 0; bi < (long)B * HW; bi++) {
        size_t b = (size_t)bi / hw, i = (size_t)bi % hw;
        const float *y = out + b * C * hw + i, *g = dout + b * C * hw + i;
        float *dx = dinp + b * C * hw + i;
        double s = 0;
        for (int c = 0; c < C; c++) s += (double)g[c * hw] * y[c * hw];
        float fs = (float)s;
        for (int c = 0; c < C; c++) dx[c * hw] += y[c * hw] * (g[c * hw] - fs);
    }
}

/* --------------------------------------------------- Bilinear up-sampling */

/* PyTorch's area_pixel_compute_source_index with align_corners=False. */
static void bilinear_index(int o, int in, int out, int *i0, int *i1, float *l1)
{
    float scale = (float)in / (float)out;
    float src = scale * ((float)o + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    int a = (int)src;
    if (a > in - 1) a = in - 1;
    *i0 = a;
    *i1 = a + (a < in - 1 ? 1 : 0);
    *l1 = src - (float)a;
}

/* Column source indices and weights, computed once per call: on the stack
 * for widths up to UP_TAB, else recomputed per pixel. */
#define UP_TAB 2048

void duet_upsample_bilinear_forward(float *out, const float *inp, int BC, int H, int W, int Ho,
                                    int Wo)
{
    int tw0[UP_TAB], tw1[UP_TAB];
    float tl[UP_TAB];
    const int tab = Wo <= UP_TAB;
    for (int ow = 0; tab && ow < Wo; ow++) bilinear_index(ow, W, Wo, &tw0[ow], &tw1[ow], &tl[ow]);
#pragma omp parallel for schedule(static) if ((double)BC * Ho * Wo > PAR_MIN && duet_nn_workers() > 1)
    for (int p = 0; p < BC; p++) {
        const float *x = inp + (size_t)p * H * W;
        float *y = out + (size_t)p * Ho * Wo;
        for (int oh = 0; oh < Ho; oh++) {
            int h0, h1;
            float lh;
            bilinear_index(oh, H, Ho, &h0, &h1, &lh);
            const float *r0 = x + (size_t)h0 * W, *r1 = x + (size_t)h1 * W;
            float *yr = y + (size_t)oh * Wo;
            for (int ow = 0; ow < Wo; ow++) {
                int w0, w1;
                float lw;
                if (tab) w0 = tw0[ow], w1 = tw1[ow], lw = tl[ow];
                else bilinear_index(ow, W, Wo, &w0, &w1, &lw);
                yr[ow] = (1.0f - lh) * ((1.0f - lw) * r0[w0] + lw * r0[w1]) +
                         lh * ((1.0f - lw) * r1[w0] + lw * r1[w1]);
            }
        }
    }
}

void duet_upsample_bilinear_backward(float *dinp, const float *dout, int BC, int H, int W, int Ho,
                                     int Wo)
{
    int tw0[UP_TAB], tw1[UP_TAB];
    float tl[UP_TAB];
    const int tab = Wo <= UP_TAB;
    for (int ow = 0; tab && ow < Wo; ow++) bilinear_index(ow, W, Wo, &tw0[ow], &tw1[ow], &tl[ow]);
#pragma omp parallel for schedule(static) if ((double)BC * Ho * Wo > PAR_MIN && duet_nn_workers() > 1)
    for (int p = 0; p < BC; p++) {
        float *dx = dinp + (size_t)p * H * W;
        const float *g = dout + (size_t)p * Ho * Wo;
        for (int oh = 0; oh < Ho; oh++) {
            int h0, h1;
            float lh;
            bilinear_index(oh, H, Ho, &h0, &h1, &lh);
            float *r0 = dx + (size_t)h0 * W, *r1 = dx + (size_t)h1 * W;
            const float *gr = g + (size_t)oh * Wo;
            for (int ow = 0; ow < Wo; ow++) {
                int w0, w1;
                float lw;
                if (tab) w0 = tw0[ow], w1 = tw1[ow], lw = tl[ow];
                else bilinear_index(ow, W, Wo, &w0, &w1, &lw);
                float v = gr[ow];
                r0[w0] += (1.0f - lh) * (1.0f - lw) * v;
                r0[w1] += (1.0f - lh) * lw * v;
                r1[w0] += lh * (1.0f - lw) * v;
                r1[w1] += lh * lw * v;
            }
        }
    }
}

/* ---------------------------------------------------------------- Pooling */

int duet_pool2d_dims_make(duet_pool2d_dims *d, int BC, int H, int W, int kh, int kw, int sh,
                          int sw, int ph, int pw)
{
    memset(d, 0, sizeof *d);
    if (BC < 1 || H < 1 || W < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0 ||
        2 * ph > kh || 2 * pw > kw)
        return -1;
    long eh = (long)H + 2L * ph - kh, ew = (long)W + 2L * pw - kw;
    if (eh < 0 || ew < 0) return -1;
    d->BC = BC, d->H = H, d->W = W, d->kh = kh, d->kw = kw, d->sh = sh, d->sw = sw;
    d->ph = ph, d->pw = pw;
    d->Ho = (int)(eh / sh + 1);
    d->Wo = (int)(ew / sw + 1);
    return 0;
}

/* 2x2, stride 2, no padding: the common down-sampling, without the generic
 * window bookkeeping. Same results as the generic path (first maximum wins,
 * NaN propagates). */
static void maxpool2x2(float *out, int32_t *argmax, const float *inp, const duet_pool2d_dims *d)
{
    const int H = d->H, W = d->W, Ho = d->Ho, Wo = d->Wo;
#pragma omp parallel for schedule(static) if ((double)d->BC * Ho * Wo > PAR_MIN && duet_nn_workers() > 1)
    for (int p = 0; p < d->BC; p++) {
        const float *x = inp + (size_t)p * H * W;
        float *y = out + (size_t)p * Ho * Wo;
        int32_t *am = argmax + (size_t)p * Ho * Wo;
        for (int oh = 0; oh < Ho; oh++) {
            const float *r0 = x + (size_t)(2 * oh) * W, *r1 = r0 + W;
            for (int ow = 0; ow < Wo; ow++) {
                int i0 = 2 * oh * W + 2 * ow;
                float v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
                int32_t idx[4] = {i0, i0 + 1, i0 + W, i0 + W + 1};
                float best = v[0];
                int32_t bi = idx[0];
                for (int k = 1; k < 4 && best == best; k++)
                    if (v[k] > best || v[k] != v[k]) best = v[k], bi = idx[k];
                y[(size_t)oh * Wo + ow] = best;
                am[(size_t)oh * Wo + ow] = bi;
            }
        }
    }
}

void duet_maxpool2d_forward(float *out, int32_t *argmax, const float *inp, const duet_pool2d_dims *d)
{
    if (d->kh == 2 && d->kw == 2 && d->sh == 2 && d->sw == 2 && d->ph == 0 && d->pw == 0) {
        maxpool2x2(out, argmax, inp, d);
        return;
    }
    const int H = d->H, W = d->W, Ho = d->Ho, Wo = d->Wo;
#pragma omp parallel for schedule(static) if ((double)d->BC * Ho * Wo > PAR_MIN && duet_nn_workers() > 1)
    for (int p = 0; p < d->BC; p++) {
        const float *x = inp + (size_t)p * H * W;
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) {
                float best = -INFINITY;
                int32_t bi = -1;
                for (int i = 0; i < d->kh; i++) {
                    int ih = oh * d->sh - d->ph + i;
                    if (ih < 0 || ih >= H) continue;
                    for (int j = 0; j < d->kw; j++) {
                        int iw = ow * d->sw - d->pw + j;
                        if (iw < 0 || iw >= W) continue;
                        float v = x[(size_t)ih * W + iw];
                        if (bi < 0 || v > best || v != v) {
                            best = v;
                            bi = ih * W + iw;
                            if (v != v) goto done; /* NaN propagates, as in PyTorch */
                        }
                    }
                }
            done:
                out[((size_t)p * Ho + oh) * Wo + ow] = best;
                argmax[((size_t)p * Ho + oh) * Wo + ow] = bi;
            }
    }
}

void duet_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax,
                             const duet_pool2d_dims *d)
{
    const size_t in_plane = (size_t)d->H * d->W, out_plane = (size_t)d->Ho * d->Wo;
#pragma omp parallel for schedule(static) if ((double)d->BC * out_plane > PAR_MIN && duet_nn_workers() > 1)
    for (int p = 0; p < d->BC; p++)
        for (size_t i = 0; i < out_plane; i++) {
            int32_t a = argmax[p * out_plane + i];
            if (a >= 0) dinp[p * in_plane + (size_t)a] += dout[p * out_plane + i];
        }
}

void duet_avgpool2d_forward(float *out, const float *inp, const duet_pool2d_dims *d)
{
    const int H = d->H, W = d->W, Ho = d->Ho, Wo = d->Wo;
    const float inv = 1.0f / (float)(d->kh * d->kw);
#pragma omp parallel for schedule(static) if ((double)d->BC * Ho * Wo > PAR_MIN && duet_nn_workers() > 1)
    for (int p = 0; p < d->BC; p++) {
        const float *x = inp + (size_t)p * H * W;
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) {
                float s = 0.0f;
                for (int i = 0; i < d->kh; i++) {
                    int ih = oh * d->sh - d->ph + i;
                    if (ih < 0 || ih >= H) continue;
                    for (int j = 0; j < d->kw; j++) {
                        int iw = ow * d->sw - d->pw + j;
                        if (iw >= 0 && iw < W) s += x[(size_t)ih * W + iw];
                    }
                }
                out[((size_t)p * Ho + oh) * Wo + ow] = s * inv;
            }
    }
}

void duet_avgpool2d_backward(float *dinp, const float *dout, const duet_pool2d_dims *d)
{
    const int H = d->H, W = d->W, Ho = d->Ho, Wo = d->Wo;
    const float inv = 1.0f / (float)(d->kh * d->kw);
#pragma omp parallel for schedule(static) if ((double)d->BC * Ho * Wo > PAR_MIN && duet_nn_workers() > 1)
    for (int p = 0; p < d->BC; p++) {
        float *dx = dinp + (size_t)p * H * W;
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) {
                float g = dout[((size_t)p * Ho + oh) * Wo + ow] * inv;
                for (int i = 0; i < d->kh; i++) {
                    int ih = oh * d->sh - d->ph + i;
                    if (ih < 0 || ih >= H) continue;
                    for (int j = 0; j < d->kw; j++) {
                        int iw = ow * d->sw - d->pw + j;
                        if (iw >= 0 && iw < W) dx[(size_t)ih * W + iw] += g;
                    }
                }
            }
    }
}

/* ------------------------------------------------------- Concat, add, sum */

void duet_concat_forward(float *out, const float *a, const float *b, int B, int C1, int C2, int HW)
{
    const size_t s1 = (size_t)C1 * HW, s2 = (size_t)C2 * HW;
    for (int i = 0; i < B; i++) {
        memcpy(out + i * (s1 + s2), a + i * s1, s1 * sizeof(float));
        memcpy(out + i * (s1 + s2) + s1, b + i * s2, s2 * sizeof(float));
    }
}

void duet_concat_backward(float *da, float *db, const float *dout, int B, int C1, int C2, int HW)
{
    const size_t s1 = (size_t)C1 * HW, s2 = (size_t)C2 * HW;
    for (int i = 0; i < B; i++) {
        if (da) duet_acc(da + i * s1, dout + i * (s1 + s2), s1);
        if (db) duet_acc(db + i * s2, dout + i * (s1 + s2) + s1, s2);
    }
}

void duet_add_forward(float *out, const float *a, const float *b, size_t n)
{
    ELEMENTWISE_FOR(n, out[i] = a[i] + b[i]);
}

void duet_acc(float *dst, const float *src, size_t n)
{
    ELEMENTWISE_FOR(n, dst[i] += src[i]);
}

void duet_axpy(float *dst, float alpha, const float *src, size_t n)
{
    ELEMENTWISE_FOR(n, dst[i] += alpha * src[i]);
}

/* ------------------------------------------------- Linear, embedding, outer */

void duet_linear_forward(float *out, const float *inp, const float *w, const float *bias, int N,
                         int I, int O)
{
    if (bias)
        for (int n = 0; n < N; n++) memcpy(out + (size_t)n * O, bias, (size_t)O * sizeof(float));
    duet_sgemm(0, 1, N, O, I, 1.0f, inp, I, w, I, bias ? 1.0f : 0.0f, out, O);
}

void duet_linear_backward(float *dinp, float *dw, float *dbias, const float *dout,
                          const float *inp, const float *w, int N, int I, int O)
{
    /* dw (O, I) += dout^T (O, N) @ inp (N, I) */
    duet_sgemm(1, 0, O, I, N, 1.0f, dout, O, inp, I, 1.0f, dw, I);
    if (dbias)
        for (int o = 0; o < O; o++) {
            double s = 0;
            for (int n = 0; n < N; n++) s += dout[(size_t)n * O + o];
            dbias[o] += (float)s;
        }
    /* dinp (N, I) += dout (N, O) @ w (O, I) */
    if (dinp) duet_sgemm(0, 0, N, I, O, 1.0f, dout, O, w, I, 1.0f, dinp, I);
}

void duet_embedding_forward(float *out, const float *table, const int32_t *idx, int N, int D, int V)
{
    for (int n = 0; n < N; n++) {
        DUET_CHECK(idx[n] >= 0 && idx[n] < V);
        memcpy(out + (size_t)n * D, table + (size_t)idx[n] * D, (size_t)D * sizeof(float));
    }
}

void duet_embedding_backward(float *dtable, const float *dout, const int32_t *idx, int N, int D)
{
    for (int n = 0; n < N; n++) duet_acc(dtable + (size_t)idx[n] * D, dout + (size_t)n * D, (size_t)D);
}

void duet_outer_forward(float *out, const float *p, const float *q, int N, int D, int E)
{
    for (int n = 0; n < N; n++) {
        const float *pn = p + (size_t)n * D, *qn = q + (size_t)n * E;
        float *o = out + (size_t)n * D * E;
        for (int i = 0; i < D; i++)
            for (int j = 0; j < E; j++) o[(size_t)i * E + j] = pn[i] * qn[j];
    }
}

void duet_outer_backward(float *dp, float *dq, const float *dout, const float *p, const float *q,
                         int N, int D, int E)
{
    for (int n = 0; n < N; n++) {
        const float *pn = p + (size_t)n * D, *qn = q + (size_t)n * E;
        const float *g = dout + (size_t)n * D * E;
        for (int i = 0; i < D; i++) {
            const float *gi = g + (size_t)i * E;
            if (dp) {
                float s = 0.0f;
                for (int j = 0; j < E; j++) s += gi[j] * qn[j];
                dp[(size_t)n * D + i] += s;
            }
            if (dq)
                for (int j = 0; j < E; j++) dq[(size_t)n * E + j] += gi[j] * pn[i];
        }
    }
}

/* ----------------------------------------------------------------- Losses */

double duet_loss_l1(float *dpred, const float *pred, const float *target, size_t n, float scale)
{
    if (n == 0) return 0.0;
    double s = 0;
    const float g = scale / (float)n;
    for (size_t i = 0; i < n; i++) {
        float e = pred[i] - target[i];
        s += fabsf(e);
        if (dpred) dpred[i] += e > 0.0f ? g : (e < 0.0f ? -g : 0.0f);
    }
    return s / (double)n;
}

double duet_loss_mse(float *dpred, const float *pred, const float *target, size_t n, float scale)
{
    if (n == 0) return 0.0;
    double s = 0;
    const float g = 2.0f * scale / (float)n;
    for (size_t i = 0; i < n; i++) {
        float e = pred[i] - target[i];
        s += (double)e * e;
        if (dpred) dpred[i] += g * e;
    }
    return s / (double)n;
}

/* log(1 + exp(x)) without overflow */
static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static double sigmoid_d(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

double duet_loss_bce_logits(float *dlogit, const float *logit, const float *target, size_t n,
                            float scale)
{
    if (n == 0) return 0.0;
    double s = 0;
    const double g = (double)scale / (double)n;
    for (size_t i = 0; i < n; i++) {
        double x = logit[i], y = target[i];
        /* -[y log s(x) + (1-y) log(1-s(x))] = softplus(x) - x y */
        s += softplus(x) - x * y;
        if (dlogit) dlogit[i] += (float)(g * (sigmoid_d(x) - y));
    }
    return s / (double)n;
}

double duet_loss_bpr(float *dpos, float *dneg, const float *pos, const float *neg, size_t n,
                     float scale)
{
    if (n == 0) return 0.0;
    double s = 0;
    const double g = (double)scale / (double)n;
    for (size_t i = 0; i < n; i++) {
        double x = (double)pos[i] - neg[i];
        s += softplus(-x); /* -log sigmoid(x) */
        double dx = -sigmoid_d(-x) * g;
        if (dpos) dpos[i] += (float)dx;
        if (dneg) dneg[i] -= (float)dx;
    }
    return s / (double)n;
}
