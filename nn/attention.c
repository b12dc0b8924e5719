/* nn/attention.c: SAGAN self-attention (Zhang, Goodfellow, Metaxas, Odena,
 * "Self-Attention Generative Adversarial Networks", 2019): 1x1 query/key/
 * value projections, softmax over positions of q^T k (no 1/sqrt(d) scale, as
 * in SAGAN), o = v A^T, out = gamma o + x. The axis option restricts
 * attention to the last axis (W, time) for every row separately.
 *
 * Backward, per batch item and group (sequence of L positions):
 *   dv = gamma dout A, dA = gamma dout^T v, dE = A * (dA - rowsum(A * dA)),
 *   dq = k dE^T, dk = q dE, then the 1x1 projections' backward.
 * Groups with few channels (C <= FUSED_MAX_C) run fused kernels that make
 * one attention row at a time in L1 (vectorised exp, AVX2 when the CPU has
 * it) instead of per-group sgemm calls; evaluation (duet_attn_forward_eval)
 * stores no attention maps at all. */
#include "layers.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "../common/status.h"
#include "gemm.h"

/* The fused kernels' loops (exp with a clamp) vectorise with GCC's dynamic
 * cost model (the -O2 default refuses them). On x86-64 each kernel is also
 * compiled for AVX2 and chosen at run time by CPU feature (the library
 * targets x86-64-v2; target_clones' resolver picked the baseline on this
 * machine's AMD EPYC, hence the explicit test). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FUSED_DISPATCH 1
#define FUSED_INLINE static inline __attribute__((always_inline))
static int have_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}
#else
#define FUSED_INLINE static
#endif

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

/* Groups with at most this many channels run the fused kernels below
 * (one attention row at a time, in L1, vectorised over positions) instead
 * of per-group sgemm calls, whose call overhead dominates at small C (the
 * phase branch's time-axis attention: C = 4..8, Cq = 2). */
#define FUSED_MAX_C 16

/* exp(x) for x <= 88.7, written so that `omp simd` loops vectorise it:
 * x = n ln 2 + r, |r| <= ln 2 / 2, exp(r) by the Cephes expf polynomial
 * (relative error ~1e-7), 2^n from the exponent bits. x < -60 gives 0:
 * softmax arguments are <= 0 and the row sum is >= 1, so e^-60 ~ 1e-26 is
 * invisible, while the tiny and denormal values that exp(-60..-104) and
 * their products would make cost ~100 cycles per operation. */
static inline float expf_simd(float x)
{
    const float x0 = x;
    x = x < -60.0f ? -60.0f : x;
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    union {
        int32_t i;
        float f;
    } s;
    s.i = ((int32_t)n + 127) * (1 << 23);
    return x0 < -60.0f ? 0.0f : y * s.f;
}

/* e[j] = exp(e[j] - mx) for j < L; returns the sum. */
static float exp_row(float *e, int L, float mx)
{
    float s = 0.0f;
    for (int j = 0; j < L; j++) {
        float t = expf_simd(e[j] - mx);
        e[j] = t;
        s += t;
    }
    return s;
}

#ifdef FUSED_DISPATCH
#include <immintrin.h>
/* The same, 8 lanes of AVX2 (same polynomial, round-to-nearest for n). */
__attribute__((target("avx2"))) static float exp_row_avx2(float *e, int L, float mx)
{
    const __m256 vmx = _mm256_set1_ps(mx), lo = _mm256_set1_ps(-60.0f), l2e = _mm256_set1_ps(1.44269504088896341f);
    const __m256 c1 = _mm256_set1_ps(0.693359375f), c2 = _mm256_set1_ps(2.12194440e-4f), one = _mm256_set1_ps(1.0f);
    __m256 acc = _mm256_setzero_ps();
    int j = 0;
    for (; j + 8 <= L; j += 8) {
        __m256 x = _mm256_sub_ps(_mm256_loadu_ps(e + j), vmx);
        __m256 keep = _mm256_cmp_ps(x, lo, _CMP_GE_OQ);
        x = _mm256_max_ps(x, lo);
        __m256 n = _mm256_round_ps(_mm256_mul_ps(x, l2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(n, c1));
        r = _mm256_add_ps(r, _mm256_mul_ps(n, c2));
        __m256 p = _mm256_set1_ps(1.9875691500e-4f);
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.3981999507e-3f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.3334519073e-3f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.1665795894e-2f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.6666665459e-1f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(5.0000001201e-1f));
        __m256 y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, r), r), r), one);
        __m256i ex = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
        y = _mm256_and_ps(_mm256_mul_ps(y, _mm256_castsi256_ps(ex)), keep);
        _mm256_storeu_ps(e + j, y);
        acc = _mm256_add_ps(acc, y);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    float s = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    return s + exp_row(e + j, L - j, mx);
}
#endif

/* One group, fused: for every query position i, the attention row
 * a = softmax_j(sum_c q[c][i] k[c][j]) in e (L floats of scratch), then
 * o[c][i] = sum_j v[c][j] a[j]; rows of q, k, v, o are ld apart. When A
 * (L, L) is not NULL the rows are made in place there (training keeps them
 * for backward) and e is not used. */
#ifdef FUSED_DISPATCH
#define EXP_ROW(e, L, mx) (avx ? exp_row_avx2(e, L, mx) : exp_row(e, L, mx))
#else
#define EXP_ROW(e, L, mx) ((void)avx, exp_row(e, L, mx))
#endif
FUSED_INLINE void group_fused_body(int avx, float *o, float *A, float *e, const float *q, const float *k, const float *v,
                        int C, int Cq, int L, size_t ld)
{
    for (int i = 0; i < L; i++) {
        float q0 = q[i];
        const float *k0 = k;
        if (A) e = A + (size_t)i * L;
#pragma omp simd
        for (int j = 0; j < L; j++) e[j] = q0 * k0[j];
        for (int c = 1; c < Cq; c++) {
            float qc = q[(size_t)c * ld + i];
            const float *kc = k + (size_t)c * ld;
#pragma omp simd
            for (int j = 0; j < L; j++) e[j] += qc * kc[j];
        }
        float mx = e[0];
#pragma omp simd reduction(max : mx)
        for (int j = 0; j < L; j++) mx = e[j] > mx ? e[j] : mx;
        const float s = EXP_ROW(e, L, mx);
        float inv = 1.0f / s;
        if (A) { /* the stored row is normalised */
#pragma omp simd
            for (int j = 0; j < L; j++) e[j] *= inv;
            inv = 1.0f;
        }
        int c = 0;
        for (; c + 4 <= C; c += 4) { /* four channels per pass over the row */
            const float *v0 = v + (size_t)c * ld, *v1 = v0 + ld, *v2 = v1 + ld, *v3 = v2 + ld;
            float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
            for (int j = 0; j < L; j++) {
                const float ej = e[j];
                a0 += v0[j] * ej;
                a1 += v1[j] * ej;
                a2 += v2[j] * ej;
                a3 += v3[j] * ej;
            }
            o[(size_t)c * ld + i] = a0 * inv;
            o[(size_t)(c + 1) * ld + i] = a1 * inv;
            o[(size_t)(c + 2) * ld + i] = a2 * inv;
            o[(size_t)(c + 3) * ld + i] = a3 * inv;
        }
        for (; c < C; c++) {
            const float *vc = v + (size_t)c * ld;
            float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
            for (int j = 0; j < L; j++) acc += vc[j] * e[j];
            o[(size_t)c * ld + i] = acc * inv;
        }
    }
}

/* Backward of one group, fused, row by row (i = query position):
 *   dA[j] = gamma sum_c dout[c][i] v[c][j];   dv[c][j] += gamma dout[c][i] A[i][j]
 *   dE[j] = A[i][j] (dA[j] - sum_j A[i][j] dA[j])
 *   dq[c][i] = sum_j k[c][j] dE[j];           dk[c][j] += q[c][i] dE[j]
 * dq, dk, dv (rows ld apart) are overwritten for this group's positions. */
FUSED_INLINE void group_fused_backward_body(float *dq, float *dk, float *dv, float *e, const float *A, const float *g_o,
                                 const float *q, const float *k, const float *v, float gm, int C, int Cq, int L,
                                 size_t ld)
{
    for (int c = 0; c < C; c++) memset(dv + (size_t)c * ld, 0, (size_t)L * sizeof(float));
    for (int c = 0; c < Cq; c++) memset(dk + (size_t)c * ld, 0, (size_t)L * sizeof(float));
    for (int i = 0; i < L; i++) {
        const float *a = A + (size_t)i * L;
        memset(e, 0, (size_t)L * sizeof(float));
        for (int c = 0; c < C; c++) {
            const float go = gm * g_o[(size_t)c * ld + i];
            const float *vc = v + (size_t)c * ld;
            float *dvc = dv + (size_t)c * ld;
#pragma omp simd
            for (int j = 0; j < L; j++) {
                e[j] += go * vc[j];
                dvc[j] += go * a[j];
            }
        }
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int j = 0; j < L; j++) s += a[j] * e[j];
#pragma omp simd
        for (int j = 0; j < L; j++) e[j] = a[j] * (e[j] - s);
        for (int c = 0; c < Cq; c++) {
            const float *kc = k + (size_t)c * ld;
            float *dkc = dk + (size_t)c * ld;
            const float qc = q[(size_t)c * ld + i];
            float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
            for (int j = 0; j < L; j++) {
                acc += kc[j] * e[j];
                dkc[j] += qc * e[j];
            }
            dq[(size_t)c * ld + i] = acc;
        }
    }
}

#ifdef FUSED_DISPATCH
__attribute__((target("avx2"))) static void group_fused_avx2(float *o, float *A, float *e, const float *q,
                                                          const float *k, const float *v, int C, int Cq, int L,
                                                          size_t ld)
{
    group_fused_body(1, o, A, e, q, k, v, C, Cq, L, ld);
}

__attribute__((target("avx2"))) static void group_fused_backward_avx2(float *dq, float *dk, float *dv, float *e,
                                                                   const float *A, const float *g_o,
                                                                   const float *q, const float *k, const float *v,
                                                                   float gm, int C, int Cq, int L, size_t ld)
{
    group_fused_backward_body(dq, dk, dv, e, A, g_o, q, k, v, gm, C, Cq, L, ld);
}
#endif

static void group_fused(float *o, float *A, float *e, const float *q, const float *k, const float *v, int C,
                        int Cq, int L, size_t ld)
{
#ifdef FUSED_DISPATCH
    if (have_avx2()) {
        group_fused_avx2(o, A, e, q, k, v, C, Cq, L, ld);
        return;
    }
#endif
    group_fused_body(0, o, A, e, q, k, v, C, Cq, L, ld);
}

static void group_fused_backward(float *dq, float *dk, float *dv, float *e, const float *A, const float *g_o,
                                 const float *q, const float *k, const float *v, float gm, int C, int Cq, int L,
                                 size_t ld)
{
#ifdef FUSED_DISPATCH
    if (have_avx2()) {
        group_fused_backward_avx2(dq, dk, dv, e, A, g_o, q, k, v, gm, C, Cq, L, ld);
        return;
    }
#endif
    group_fused_backward_body(dq, dk, dv, e, A, g_o, q, k, v, gm, C, Cq, L, ld);
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
        if (C <= FUSED_MAX_C) {
            group_fused(o, A, NULL, q, k, v, C, Cq, L, l.HW);
            continue;
        }
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

/* Evaluation-mode layout of the scratch: q, k (B, Cq, HW), v, o (B, C, HW),
 * then per worker an attention row (fused kernel) or map (L, L). */
static size_t eval_fixed(const duet_attn_dims *d)
{
    return (size_t)d->B * (2 * (size_t)d->Cq + 2 * (size_t)d->C) * ((size_t)d->H * d->W);
}

static size_t eval_per_worker(const duet_attn_dims *d)
{
    attn_layout l = layout(d);
    return (d->C <= FUSED_MAX_C ? l.L : l.L * l.L) + 16;
}

size_t duet_attn_eval_work_floats(const duet_attn_dims *d, int workers)
{
    if (workers < 1) workers = 1;
    return eval_fixed(d) + (size_t)workers * eval_per_worker(d);
}

void duet_attn_forward_eval(float *out, float *work, size_t work_floats, const float *inp, const float *wq,
                            const float *bq, const float *wk, const float *bk, const float *wv,
                            const float *bv, const float *gamma, const duet_attn_dims *d)
{
    const attn_layout l = layout(d);
    const int C = d->C, Cq = d->Cq, HW = (int)l.HW, L = (int)l.L;
    const size_t xs = (size_t)C * l.HW, qs = (size_t)Cq * l.HW, fixed = eval_fixed(d), pw = eval_per_worker(d);
    DUET_CHECK(work_floats >= fixed + pw);
    int nw = duet_nn_workers();
    if ((size_t)nw > (work_floats - fixed) / pw) nw = (int)((work_floats - fixed) / pw);
    float *qb = work, *kb = qb + (size_t)d->B * qs, *vb = kb + (size_t)d->B * qs, *ob = vb + (size_t)d->B * xs;
    float *scratch = work + fixed;
#pragma omp parallel for schedule(static) num_threads(nw) if (nw > 1 && d->B > 1)
    for (int b = 0; b < d->B; b++) {
        const float *x = inp + b * xs;
        proj(qb + b * qs, wq, bq, x, Cq, C, HW);
        proj(kb + b * qs, wk, bk, x, Cq, C, HW);
        proj(vb + b * xs, wv, bv, x, C, C, HW);
    }
    const long pairs = (long)d->B * (long)l.G;
#pragma omp parallel num_threads(nw) if (nw > 1 && pairs > 1)
    {
        float *e = scratch + (size_t)omp_get_thread_num() * pw;
#pragma omp for schedule(static)
        for (long bg = 0; bg < pairs; bg++) {
            size_t b = (size_t)bg / l.G, g = (size_t)bg % l.G, go = g * (l.G > 1 ? l.L : 0);
            const float *q = qb + b * qs + go, *k = kb + b * qs + go, *v = vb + b * xs + go;
            float *o = ob + b * xs + go;
            if (C <= FUSED_MAX_C) {
                group_fused(o, NULL, e, q, k, v, C, Cq, L, l.HW);
            } else {
                duet_sgemm(1, 0, L, L, Cq, 1.0f, q, HW, k, HW, 0.0f, e, L);
                duet_softmax_forward(e, e, L, L);
                duet_sgemm(0, 1, C, L, L, 1.0f, v, HW, e, L, 0.0f, o, HW);
            }
        }
    }
    const float gm = gamma[0];
    const size_t n = (size_t)d->B * xs;
    for (size_t i = 0; i < n; i++) out[i] = gm * ob[i] + inp[i];
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
            if (C <= FUSED_MAX_C) {
                group_fused_backward(dq + b * qs + go, dk + b * qs + go, dv + b * xs + go, dA, A, g_o, q, k, v, gm,
                                     C, Cq, L, l.HW);
                continue;
            }
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
