/* tests/test_nn_grad.c: finite-difference gradient checks for every layer
 * of nn/layers.h, plus sgemm against its naive reference.
 *
 * For a layer y = f(x1, x2, ...) and a fixed random R, the scalar
 * L = sum(y * R) (accumulated in double) has dL/dxk = backward(dout = R).
 * Each input gets up to 48 sampled coordinates checked against the central
 * difference (L(x + e) - L(x - e)) / 2e with e = 1e-2 (float layers, so
 * round-off in L bounds the accuracy to ~1e-4 absolute on these sizes);
 * pass when |analytic - numeric| <= 2e-3 + 2e-2 |numeric|. Inputs of
 * piecewise layers (ReLU, max-pool) are kept away from the kinks. */
#include <stdint.h>

#include "../nn/nn.h"
#include "check.h"

#define MAXIN 8

typedef struct gc gc;
struct gc {
    const char *name;
    void (*fwd)(gc *g, float *out);
    void (*bwd)(gc *g, const float *dout);
    int nin;
    float *in[MAXIN], *gr[MAXIN];
    size_t n[MAXIN];
    size_t nout;
    /* layer-specific */
    duet_conv2d_dims cd;
    duet_pool2d_dims pd;
    duet_attn_dims ad;
    int i0, i1, i2, i3, i4, i5;
    float f0;
    float *cache, *cache2, *work;
    size_t work_n;
    int32_t *idx;
    uint8_t *mask;
    int32_t *amax;
    uint64_t seed;
};

static duet_rng trng;

static float *rnd(size_t n, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * duet_rng_uniform(&trng);
    return p;
}

static float *zeros(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static void add_in(gc *g, size_t n, float lo, float hi)
{
    g->n[g->nin] = n;
    g->in[g->nin] = rnd(n, lo, hi);
    g->gr[g->nin] = zeros(n);
    g->nin++;
}

static double dotR(const float *y, const float *R, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)y[i] * R[i];
    return s;
}

/* Returns 1 when every sampled coordinate agrees. */
static int gradcheck(gc *g)
{
    float *y = zeros(g->nout), *R = rnd(g->nout, -1, 1);
    g->fwd(g, y);
    g->bwd(g, R);
    int ok = 1;
    const float eps = 1e-2f;
    for (int k = 0; k < g->nin; k++) {
        double worst = 0;
        size_t m = g->n[k] < 48 ? g->n[k] : 48;
        for (size_t s = 0; s < m; s++) {
            size_t i = g->n[k] <= 48 ? s : (size_t)duet_rng_below(&trng, g->n[k]);
            float save = g->in[k][i];
            g->in[k][i] = save + eps;
            g->fwd(g, y);
            double lp = dotR(y, R, g->nout);
            g->in[k][i] = save - eps;
            g->fwd(g, y);
            double lm = dotR(y, R, g->nout);
            g->in[k][i] = save;
            double num = (lp - lm) / (2.0 * eps), an = g->gr[k][i];
            double err = fabs(an - num), lim = 2e-3 + 2e-2 * fabs(num);
            if (err / lim > worst) worst = err / lim;
            if (err > lim) {
                if (ok)
                    fprintf(stderr, "  %s: input %d [%zu]: analytic %.6g numeric %.6g\n", g->name, k,
                            i, an, num);
                ok = 0;
            }
        }
        fprintf(stderr, "  %s: input %d (%zu values): worst error / tolerance %.3f\n", g->name, k,
                g->n[k], worst);
    }
    free(y);
    free(R);
    return ok;
}

static void gc_free(gc *g)
{
    for (int k = 0; k < g->nin; k++) {
        free(g->in[k]);
        free(g->gr[k]);
    }
    free(g->cache);
    free(g->cache2);
    free(g->work);
    free(g->idx);
    free(g->mask);
    free(g->amax);
}

/* ---------------------------------------------------------------- conv */

static void conv_fwd(gc *g, float *y)
{
    duet_conv2d_forward(y, g->work, g->work_n, g->in[0], g->in[1], g->i0 ? g->in[2] : NULL, &g->cd);
}
static void conv_bwd(gc *g, const float *dy)
{
    duet_conv2d_backward(g->gr[0], g->gr[1], g->i0 ? g->gr[2] : NULL, g->work, g->work_n, dy,
                         g->in[0], g->in[1], &g->cd);
}

static int conv_case(const char *name, int B, int Ci, int H, int W, int Co, int kh, int kw, int sh,
                     int sw, int ph, int pw, int dh, int dw, int bias, int workers)
{
    gc g = {0};
    g.name = name;
    if (duet_conv2d_dims_make2(&g.cd, B, Ci, H, W, Co, kh, kw, sh, sw, ph, pw, dh, dw)) return 0;
    add_in(&g, (size_t)B * Ci * H * W, -1, 1);
    add_in(&g, (size_t)Co * Ci * kh * kw, -0.5f, 0.5f);
    if (bias) add_in(&g, (size_t)Co, -0.5f, 0.5f);
    g.i0 = bias;
    g.nout = (size_t)B * Co * g.cd.Ho * g.cd.Wo;
    g.work_n = duet_conv2d_work_floats(&g.cd, workers);
    g.work = zeros(g.work_n);
    g.fwd = conv_fwd;
    g.bwd = conv_bwd;
    int ok = gradcheck(&g);
    gc_free(&g);
    return ok;
}

static void test_conv2d(void)
{
    CHECK(conv_case("conv3x3", 2, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1));
    CHECK(conv_case("conv3x3-2workers", 3, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2));
    CHECK(conv_case("conv-stride2", 2, 2, 7, 8, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1));
    CHECK(conv_case("conv-dilated", 2, 2, 7, 9, 3, 3, 3, 1, 1, 2, 2, 2, 2, 0, 1));
    CHECK(conv_case("conv-rect", 1, 2, 5, 9, 3, 1, 5, 1, 2, 0, 2, 1, 1, 1, 1));
    CHECK(conv_case("conv1x1", 2, 5, 4, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, 2));
    CHECK(conv_case("conv4x4-s2-p1", 2, 2, 8, 6, 3, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1));
    CHECK(conv_case("conv-valid", 2, 3, 6, 7, 2, 3, 3, 1, 1, 0, 0, 1, 1, 1, 2));
    CHECK(conv_case("conv-1x5-s1", 2, 2, 4, 9, 3, 1, 5, 1, 1, 0, 2, 1, 1, 1, 1));
    CHECK(conv_case("conv-5x3-dil21", 1, 2, 12, 6, 2, 5, 3, 1, 1, 3, 1, 2, 1, 1, 1));
}


/* Direct convolution in double, forward and both gradients, as the
 * reference for shapes large enough to need several im2col tiles. */
static void conv_naive(double *y, double *dx, double *dw, const float *x, const float *w,
                       const float *dy, const duet_conv2d_dims *d)
{
    for (int b = 0; b < d->B; b++)
        for (int co = 0; co < d->Co; co++)
            for (int oh = 0; oh < d->Ho; oh++)
                for (int ow = 0; ow < d->Wo; ow++) {
                    size_t oi = (((size_t)b * d->Co + co) * d->Ho + oh) * d->Wo + ow;
                    double s = 0;
                    for (int ci = 0; ci < d->Ci; ci++)
                        for (int i = 0; i < d->kh; i++)
                            for (int j = 0; j < d->kw; j++) {
                                int ih = oh * d->sh - d->ph + i * d->dh, iw = ow * d->sw - d->pw + j * d->dw;
                                if (ih < 0 || ih >= d->H || iw < 0 || iw >= d->W) continue;
                                size_t xi = (((size_t)b * d->Ci + ci) * d->H + ih) * d->W + iw;
                                size_t wi = (((size_t)co * d->Ci + ci) * d->kh + i) * d->kw + j;
                                s += (double)x[xi] * w[wi];
                                dx[xi] += (double)dy[oi] * w[wi];
                                dw[wi] += (double)dy[oi] * x[xi];
                            }
                    y[oi] = s;
                }
}

static double max_err_d(const float *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]);
        if (!(e <= m)) m = e;
    }
    return m;
}

static void conv_big_case(int B, int Ci, int H, int W, int Co, int k, int s, int p, int dil, int workers)
{
    duet_conv2d_dims d;
    REQUIRE(!duet_conv2d_dims_make(&d, B, Ci, H, W, Co, k, s, p, dil));
    size_t nx = (size_t)B * Ci * H * W, nw = (size_t)Co * Ci * k * k, ny = (size_t)B * Co * d.Ho * d.Wo;
    float *x = rnd(nx, -1, 1), *w = rnd(nw, -0.3f, 0.3f), *dy = rnd(ny, -1, 1);
    float *y = zeros(ny), *dx = zeros(nx), *dw = zeros(nw);
    double *ry = calloc(ny, sizeof(double)), *rdx = calloc(nx, sizeof(double)), *rdw = calloc(nw, sizeof(double));
    size_t wn = duet_conv2d_work_floats(&d, workers);
    float *work = zeros(wn);
    duet_conv2d_forward(y, work, wn, x, w, NULL, &d);
    duet_conv2d_backward(dx, dw, NULL, work, wn, dy, x, w, &d);
    conv_naive(ry, rdx, rdw, x, w, dy, &d);
    double ey = max_err_d(y, ry, ny), ex = max_err_d(dx, rdx, nx), ew = max_err_d(dw, rdw, nw);
    fprintf(stderr, "  conv %dx%dx%dx%d->%d k%d s%d p%d d%d, %d workers: max abs err y %.2g dx %.2g dw %.2g\n",
            B, Ci, H, W, Co, k, s, p, dil, workers, ey, ex, ew);
    CHECK(ey < 1e-4 && ex < 1e-4);
    CHECK(ew < 1e-3); /* dw sums B*Ho*Wo products in float */
    free(x), free(w), free(dy), free(y), free(dx), free(dw), free(ry), free(rdx), free(rdw), free(work);
}

static void test_conv2d_tiled_vs_direct(void)
{
    /* K*Wo large enough that im2col splits the output rows into many tiles */
    conv_big_case(2, 12, 45, 400, 5, 3, 1, 1, 1, 2);
    conv_big_case(3, 9, 37, 333, 4, 3, 2, 2, 2, 1);
    conv_big_case(2, 7, 30, 1200, 3, 1, 1, 0, 1, 2);
}

static void test_sgemm_matches_naive(void)
{
    int shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {64, 130, 9}};
    double worst = 0;
    for (int s = 0; s < 4; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                float *A = rnd((size_t)M * K, -1, 1), *B = rnd((size_t)K * N, -1, 1);
                float *C1 = rnd((size_t)M * N, -1, 1), *C2 = malloc((size_t)M * N * sizeof(float));
                memcpy(C2, C1, (size_t)M * N * sizeof(float));
                int lda = ta ? M : K, ldb = tb ? K : N;
                duet_sgemm(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C1, N);
                duet_sgemm_naive(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C2, N);
                double e = check_max_abs_diff(C1, C2, (size_t)M * N);
                if (e > worst) worst = e;
                CHECK_MSG(e < 1e-4, "M=%d N=%d K=%d ta=%d tb=%d err %g", M, N, K, ta, tb, e);
                free(A), free(B), free(C1), free(C2);
            }
    fprintf(stderr, "  sgemm vs naive: max abs error %.3g (tol 1e-4)\n", worst);
}

/* ----------------------------------------------------------- batch norm */

static void bn_fwd(gc *g, float *y)
{
    int C = g->i1;
    duet_bn2d_forward_train(y, g->cache, g->cache + C, NULL, NULL, g->in[0], g->in[1], g->in[2],
                            g->i0, C, g->i2, 0.1f, 1e-5f);
}
static void bn_bwd(gc *g, const float *dy)
{
    int C = g->i1;
    duet_bn2d_backward(g->gr[0], g->gr[1], g->gr[2], dy, g->in[0], g->cache, g->cache + C, g->in[1],
                       g->i0, C, g->i2);
}

static void test_batchnorm(void)
{
    gc g = {0};
    g.name = "batchnorm2d";
    g.i0 = 3, g.i1 = 4, g.i2 = 5;
    add_in(&g, 60, -2, 2);
    add_in(&g, 4, 0.5f, 1.5f);
    add_in(&g, 4, -1, 1);
    g.cache = zeros(8);
    g.nout = 60;
    g.fwd = bn_fwd, g.bwd = bn_bwd;
    CHECK(gradcheck(&g));
    gc_free(&g);
}

/* ------------------------------------------------------------ dropout */

static void drop_fwd(gc *g, float *y)
{
    duet_rng r;
    duet_rng_seed(&r, g->seed);
    duet_dropout_forward(y, g->mask, g->in[0], g->n[0], g->f0, &r);
}
static void drop_bwd(gc *g, const float *dy) { duet_dropout_backward(g->gr[0], dy, g->mask, g->n[0], g->f0); }

static void test_dropout(void)
{
    gc g = {0};
    g.name = "dropout";
    g.f0 = 0.3f;
    g.seed = 42;
    add_in(&g, 200, -1, 1);
    g.mask = malloc(200);
    g.nout = 200;
    g.fwd = drop_fwd, g.bwd = drop_bwd;
    CHECK(gradcheck(&g));
    /* the kept fraction is about 1 - p, the scaling 1/(1-p), and the mask reproducible */
    size_t n = 100000, kept = 0;
    float *x = rnd(n, 1, 1), *y = zeros(n);
    uint8_t *m = malloc(n), *m2 = malloc(n);
    duet_rng r;
    duet_rng_seed(&r, 7);
    duet_dropout_forward(y, m, x, n, 0.3f, &r);
    for (size_t i = 0; i < n; i++) {
        kept += m[i];
        CHECK(y[i] == (m[i] ? 1.0f / 0.7f : 0.0f));
    }
    fprintf(stderr, "  dropout p=0.3: kept %.4f\n", (double)kept / n);
    CHECK(fabs((double)kept / n - 0.7) < 0.01);
    duet_rng_seed(&r, 7);
    duet_dropout_forward(y, m2, x, n, 0.3f, &r);
    CHECK(!memcmp(m, m2, n));
    free(x), free(y), free(m), free(m2);
    gc_free(&g);
}

/* -------------------------------------------------------- activations */

static void act_fwd(gc *g, float *y)
{
    size_t n = g->n[0];
    switch (g->i0) {
    case 0: duet_relu_forward(y, g->in[0], n); break;
    case 1: duet_leaky_relu_forward(y, g->in[0], n, 0.1f); break;
    case 2: duet_sigmoid_forward(y, g->in[0], n); break;
    case 3: duet_tanh_forward(y, g->in[0], n); break;
    case 4: duet_softmax_forward(y, g->in[0], 4, (int)n / 4); break;
    default: duet_softmax_channels_forward(y, g->in[0], 2, 4, (int)n / 8); break;
    }
    if (!g->cache) g->cache = zeros(n);
    memcpy(g->cache, y, n * sizeof(float));
}
static void act_bwd(gc *g, const float *dy)
{
    size_t n = g->n[0];
    switch (g->i0) {
    case 0: duet_relu_backward(g->gr[0], dy, g->cache, n); break;
    case 1: duet_leaky_relu_backward(g->gr[0], dy, g->cache, n, 0.1f); break;
    case 2: duet_sigmoid_backward(g->gr[0], dy, g->cache, n); break;
    case 3: duet_tanh_backward(g->gr[0], dy, g->cache, n); break;
    case 4: duet_softmax_backward(g->gr[0], dy, g->cache, 4, (int)n / 4); break;
    default: duet_softmax_channels_backward(g->gr[0], dy, g->cache, 2, 4, (int)n / 8); break;
    }
}

static void test_activations(void)
{
    const char *names[] = {"relu", "leaky_relu", "sigmoid", "tanh", "softmax", "softmax_channels"};
    for (int a = 0; a < 6; a++) {
        gc g = {0};
        g.name = names[a];
        g.i0 = a;
        add_in(&g, 40, -3, 3);
        /* keep piecewise-linear ones away from the kink at 0 */
        for (int i = 0; i < 40; i++)
            if (fabsf(g.in[0][i]) < 0.1f) g.in[0][i] = 0.5f;
        g.nout = 40;
        g.fwd = act_fwd, g.bwd = act_bwd;
        CHECK_MSG(gradcheck(&g), "%s", names[a]);
        gc_free(&g);
    }
    /* softmax rows sum to 1 even for large inputs */
    float x[3] = {1000, 1001, 1002}, y[3];
    duet_softmax_forward(y, x, 1, 3);
    CHECK_NEAR(y[0] + y[1] + y[2], 1.0, 1e-6);
    CHECK(isfinite(y[0]));
}

/* ------------------------------------------------ upsample and pooling */

static void up_fwd(gc *g, float *y) { duet_upsample_bilinear_forward(y, g->in[0], g->i0, g->i1, g->i2, g->i3, g->i4); }
static void up_bwd(gc *g, const float *dy)
{
    duet_upsample_bilinear_backward(g->gr[0], dy, g->i0, g->i1, g->i2, g->i3, g->i4);
}

static void test_upsample(void)
{
    int cases[][5] = {{3, 4, 5, 8, 10}, {2, 5, 3, 7, 11}, {2, 8, 6, 3, 4}, {1, 1, 4, 3, 9}};
    for (int c = 0; c < 4; c++) {
        gc g = {0};
        g.name = "upsample_bilinear";
        g.i0 = cases[c][0], g.i1 = cases[c][1], g.i2 = cases[c][2], g.i3 = cases[c][3], g.i4 = cases[c][4];
        add_in(&g, (size_t)g.i0 * g.i1 * g.i2, -1, 1);
        g.nout = (size_t)g.i0 * g.i3 * g.i4;
        g.fwd = up_fwd, g.bwd = up_bwd;
        CHECK(gradcheck(&g));
        gc_free(&g);
    }
    /* identity when sizes match; constant planes stay constant */
    float x[12], y[12];
    for (int i = 0; i < 12; i++) x[i] = (float)i;
    duet_upsample_bilinear_forward(y, x, 1, 3, 4, 3, 4);
    CHECK(!memcmp(x, y, sizeof x));
}

static void pool_fwd(gc *g, float *y)
{
    if (g->i0) duet_maxpool2d_forward(y, g->amax, g->in[0], &g->pd);
    else duet_avgpool2d_forward(y, g->in[0], &g->pd);
}
static void pool_bwd(gc *g, const float *dy)
{
    if (g->i0) duet_maxpool2d_backward(g->gr[0], dy, g->amax, &g->pd);
    else duet_avgpool2d_backward(g->gr[0], dy, &g->pd);
}

static void test_pooling(void)
{
    int cases[][9] = {{3, 6, 8, 2, 2, 2, 2, 0, 0}, {2, 7, 5, 3, 3, 2, 2, 1, 1}, {2, 6, 6, 3, 2, 1, 2, 1, 0}};
    for (int mx = 0; mx < 2; mx++)
        for (int c = 0; c < 3; c++) {
            gc g = {0};
            g.name = mx ? "maxpool2d" : "avgpool2d";
            g.i0 = mx;
            int *a = cases[c];
            REQUIRE(!duet_pool2d_dims_make(&g.pd, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]));
            size_t n = (size_t)a[0] * a[1] * a[2];
            add_in(&g, n, -1, 1);
            /* distinct values spaced > 2 eps apart so the arg-max is stable */
            for (size_t i = 0; i < n; i++) g.in[0][i] = (float)((i * 37) % n) * 0.05f - 1.0f;
            g.nout = (size_t)a[0] * g.pd.Ho * g.pd.Wo;
            g.amax = malloc(g.nout * sizeof(int32_t));
            g.fwd = pool_fwd, g.bwd = pool_bwd;
            CHECK(gradcheck(&g));
            gc_free(&g);
        }
}

/* ------------------------------------------------------ concat and add */

static void cat_fwd(gc *g, float *y) { duet_concat_forward(y, g->in[0], g->in[1], 2, 3, 2, 5); }
static void cat_bwd(gc *g, const float *dy) { duet_concat_backward(g->gr[0], g->gr[1], dy, 2, 3, 2, 5); }

static void test_concat(void)
{
    gc g = {0};
    g.name = "concat";
    add_in(&g, 30, -1, 1);
    add_in(&g, 20, -1, 1);
    g.nout = 50;
    g.fwd = cat_fwd, g.bwd = cat_bwd;
    CHECK(gradcheck(&g));
    gc_free(&g);
}

/* ------------------------------------------------------- self-attention */

static void attn_fwd(gc *g, float *y)
{
    duet_attn_forward(y, g->cache, g->in[0], g->in[1], g->in[2], g->in[3], g->in[4], g->in[5],
                      g->in[6], g->in[7], &g->ad);
}
static void attn_bwd(gc *g, const float *dy)
{
    duet_attn_backward(g->gr[0], g->gr[1], g->gr[2], g->gr[3], g->gr[4], g->gr[5], g->gr[6], g->gr[7],
                       g->work, g->work_n, dy, g->cache, g->in[0], g->in[1], g->in[3], g->in[5],
                       g->in[7], &g->ad);
}

static int attn_case(const char *name, int axis, int workers)
{
    gc g = {0};
    g.name = name;
    duet_attn_dims d = {2, 4, 3, 5, 2, axis};
    g.ad = d;
    size_t n = (size_t)d.B * d.C * d.H * d.W;
    add_in(&g, n, -1, 1);
    add_in(&g, (size_t)d.Cq * d.C, -0.7f, 0.7f);
    add_in(&g, (size_t)d.Cq, -0.5f, 0.5f);
    add_in(&g, (size_t)d.Cq * d.C, -0.7f, 0.7f);
    add_in(&g, (size_t)d.Cq, -0.5f, 0.5f);
    add_in(&g, (size_t)d.C * d.C, -0.7f, 0.7f);
    add_in(&g, (size_t)d.C, -0.5f, 0.5f);
    add_in(&g, 1, 0.5f, 0.9f); /* gamma non-zero so every path carries gradient */
    g.cache = zeros(duet_attn_cache_floats(&d));
    g.work_n = duet_attn_work_floats(&d, workers);
    g.work = zeros(g.work_n);
    g.nout = n;
    g.fwd = attn_fwd, g.bwd = attn_bwd;
    int ok = gradcheck(&g);
    gc_free(&g);
    return ok;
}

static void test_attention(void)
{
    CHECK(attn_case("attention-full", DUET_ATTN_FULL, 1));
    CHECK(attn_case("attention-time", DUET_ATTN_W, 2));
}

/* ---------------------------------------- linear, embedding, outer product */

static void lin_fwd(gc *g, float *y) { duet_linear_forward(y, g->in[0], g->in[1], g->in[2], 3, 5, 4); }
static void lin_bwd(gc *g, const float *dy)
{
    duet_linear_backward(g->gr[0], g->gr[1], g->gr[2], dy, g->in[0], g->in[1], 3, 5, 4);
}
static void emb_fwd(gc *g, float *y) { duet_embedding_forward(y, g->in[0], g->idx, 5, 3, 6); }
static void emb_bwd(gc *g, const float *dy) { duet_embedding_backward(g->gr[0], dy, g->idx, 5, 3); }
static void outer_fwd(gc *g, float *y) { duet_outer_forward(y, g->in[0], g->in[1], 2, 3, 4); }
static void outer_bwd(gc *g, const float *dy) { duet_outer_backward(g->gr[0], g->gr[1], dy, g->in[0], g->in[1], 2, 3, 4); }

static void test_dense(void)
{
    gc g = {0};
    g.name = "linear";
    add_in(&g, 15, -1, 1);
    add_in(&g, 20, -1, 1);
    add_in(&g, 4, -1, 1);
    g.nout = 12;
    g.fwd = lin_fwd, g.bwd = lin_bwd;
    CHECK(gradcheck(&g));
    gc_free(&g);

    gc e = {0};
    e.name = "embedding";
    add_in(&e, 18, -1, 1);
    e.idx = malloc(5 * sizeof(int32_t));
    int32_t ids[5] = {4, 0, 4, 2, 5}; /* a repeated row sums, row 1 and 3 get nothing */
    memcpy(e.idx, ids, sizeof ids);
    e.nout = 15;
    e.fwd = emb_fwd, e.bwd = emb_bwd;
    CHECK(gradcheck(&e));
    for (int j = 0; j < 3; j++) CHECK(e.gr[0][1 * 3 + j] == 0.0f && e.gr[0][3 * 3 + j] == 0.0f);
    gc_free(&e);

    gc o = {0};
    o.name = "outer";
    add_in(&o, 6, -1, 1);
    add_in(&o, 8, -1, 1);
    o.nout = 24;
    o.fwd = outer_fwd, o.bwd = outer_bwd;
    CHECK(gradcheck(&o));
    gc_free(&o);
}

/* ----------------------------------------------------------------- losses */

static void loss_fwd(gc *g, float *y)
{
    size_t n = g->n[0];
    switch (g->i0) {
    case 0: y[0] = (float)duet_loss_l1(NULL, g->in[0], g->in[1], n, 1); break;
    case 1: y[0] = (float)duet_loss_mse(NULL, g->in[0], g->in[1], n, 1); break;
    case 2: y[0] = (float)duet_loss_bce_logits(NULL, g->in[0], g->in[1], n, 1); break;
    default: y[0] = (float)duet_loss_bpr(NULL, NULL, g->in[0], g->in[1], n, 1); break;
    }
}
static void loss_bwd(gc *g, const float *dy)
{
    size_t n = g->n[0];
    switch (g->i0) {
    case 0: duet_loss_l1(g->gr[0], g->in[0], g->in[1], n, dy[0]); break;
    case 1: duet_loss_mse(g->gr[0], g->in[0], g->in[1], n, dy[0]); break;
    case 2: duet_loss_bce_logits(g->gr[0], g->in[0], g->in[1], n, dy[0]); break;
    default: duet_loss_bpr(g->gr[0], g->gr[1], g->in[0], g->in[1], n, dy[0]); break;
    }
}

static void test_losses(void)
{
    const char *names[] = {"l1", "mse", "bce_logits", "bpr"};
    for (int l = 0; l < 4; l++) {
        gc g = {0};
        g.name = names[l];
        g.i0 = l;
        add_in(&g, 12, -3, 3);
        add_in(&g, 12, l == 2 ? 0.0f : -3.0f, l == 2 ? 1.0f : 3.0f);
        if (l == 0) /* |pred - target| > eps everywhere */
            for (int i = 0; i < 12; i++)
                if (fabsf(g.in[0][i] - g.in[1][i]) < 0.1f) g.in[0][i] += 0.5f;
        g.nout = 1;
        g.fwd = loss_fwd, g.bwd = loss_bwd;
        /* only the targets of BPR (negatives) are inputs with gradients */
        if (l != 3) g.nin = 1;
        CHECK_MSG(gradcheck(&g), "%s", names[l]);
        if (l != 3) g.nin = 2;
        gc_free(&g);
    }
    /* extreme logits stay finite */
    float x[2] = {100.0f, -100.0f}, t[2] = {0.0f, 1.0f};
    double L = duet_loss_bce_logits(NULL, x, t, 2, 1);
    CHECK_NEAR(L, 100.0, 1e-6);
}

int main(void)
{
    duet_rng_seed(&trng, 1234);
    RUN(test_sgemm_matches_naive);
    RUN(test_conv2d);
    RUN(test_conv2d_tiled_vs_direct);
    RUN(test_batchnorm);
    RUN(test_dropout);
    RUN(test_activations);
    RUN(test_upsample);
    RUN(test_pooling);
    RUN(test_concat);
    RUN(test_attention);
    RUN(test_dense);
    RUN(test_losses);
    return check_summary();
}
