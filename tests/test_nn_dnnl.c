/* tests/test_nn_dnnl.c: the oneDNN convolution path (nn/dnnl_conv.h) against
 * the reference im2col + sgemm convolution of nn/layers.h on random
 * geometries (kernels 1 and 3, strides 1 and 2, dilation 2, bias or not,
 * 32-96 channels, several batch sizes, repeated shapes and changed weights),
 * and a whole separation network in evaluation mode on both engines. */
#include "check.h"

#include <math.h>

#include "../common/rng.h"
#include "../nn/dnnl_conv.h"
#include "../nn/nn.h"
#include "../separation/sepnet.h"

static void fill(float *x, size_t n, duet_rng *r, float scale)
{
    for (size_t i = 0; i < n; i++) x[i] = scale * (duet_rng_uniform(r) * 2.0f - 1.0f);
}

static double rel_err(const float *a, const float *b, size_t n)
{
    double m = 0, s = 1e-6;
    for (size_t i = 0; i < n; i++) {
        m = fmax(m, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    return m / s;
}

static void test_conv_geometries(void)
{
    duet_dnnl *c;
    duet_err err = {0};
    REQUIRE(duet_dnnl_new(&c, &err) == DUET_OK);
    duet_rng rng;
    duet_rng_seed(&rng, 11);
    struct {
        int B, Ci, H, W, Co, k, s, p, dil, bias;
    } g[] = {{1, 32, 16, 12, 32, 3, 1, 1, 1, 1}, {3, 48, 20, 8, 64, 3, 1, 1, 1, 0}, {2, 64, 9, 7, 32, 3, 2, 1, 1, 1},
             {2, 32, 12, 12, 48, 1, 1, 0, 1, 1}, {1, 96, 8, 16, 96, 3, 1, 2, 2, 1}, {4, 40, 5, 6, 36, 3, 1, 1, 1, 0},
             {1, 32, 16, 12, 32, 3, 1, 1, 1, 1}};
    double worst = 0;
    for (size_t t = 0; t < sizeof g / sizeof *g; t++) {
        duet_conv2d_dims d;
        REQUIRE(duet_conv2d_dims_make(&d, g[t].B, g[t].Ci, g[t].H, g[t].W, g[t].Co, g[t].k, g[t].s, g[t].p,
                                      g[t].dil) == 0);
        CHECK(duet_dnnl_conv_wins(&d));
        size_t ni = (size_t)d.B * d.Ci * d.H * d.W, no = (size_t)d.B * d.Co * d.Ho * d.Wo,
               nw = (size_t)d.Co * d.Ci * d.kh * d.kw;
        float *x = malloc(ni * 4), *w = malloc(nw * 4), *b = malloc((size_t)d.Co * 4), *y0 = malloc(no * 4),
              *y1 = malloc(no * 4);
        size_t wn = duet_conv2d_work_floats(&d, duet_nn_workers());
        float *work = malloc(wn * 4);
        fill(x, ni, &rng, 1.0f);
        fill(w, nw, &rng, 0.2f);
        fill(b, (size_t)d.Co, &rng, 0.5f);
        for (int rep = 0; rep < 2; rep++) {
            if (rep == 1) { /* same pointers, new weights: the cache must be dropped */
                fill(w, nw, &rng, 0.2f);
                duet_dnnl_forget_weights(c);
            }
            duet_conv2d_forward(y0, work, wn, x, w, g[t].bias ? b : NULL, &d);
            memset(y1, 0xff, no * 4);
            CHECK_MSG(duet_dnnl_conv2d_forward(c, y1, x, w, g[t].bias ? b : NULL, &d, &err) == DUET_OK, "%s", err.msg);
            double e = rel_err(y1, y0, no);
            if (e > worst) worst = e;
            CHECK_MSG(e < 2e-6, "geometry %zu (rep %d): relative error %.2e", t, rep, e);
            /* with the ReLU fused */
            duet_relu_forward(y0, y0, no);
            CHECK(duet_dnnl_conv2d_forward_relu(c, y1, x, w, g[t].bias ? b : NULL, &d, 1, &err) == DUET_OK);
            e = rel_err(y1, y0, no);
            CHECK_MSG(e < 2e-6, "geometry %zu + ReLU: relative error %.2e", t, e);
        }
        free(x);
        free(w);
        free(b);
        free(y0);
        free(y1);
        free(work);
    }
    fprintf(stderr, "  oneDNN vs reference: max relative error %.2e over %zu geometries\n", worst, sizeof g / sizeof *g);
    duet_dnnl_free(c);
}

/* A network with 32-128 channels in evaluation mode: both engines. */
static void test_network_both_engines(void)
{
    duet_sepnet_config cfg = duet_sepnet_config_default();
    cfg.sample_rate = 8000;
    cfg.n_fft = 256;
    cfg.hop = 64;
    cfg.n_freq = 64;
    cfg.depth = 3;
    cfg.base = 32;
    cfg.phase_ch = 4;
    cfg.channels = 2;
    duet_rng rng;
    duet_rng_seed(&rng, 3);
    sepnet *m;
    REQUIRE(duet_sepnet_new(&cfg, &rng, &m, NULL) == DUET_OK);
    const int B = 2, T = 16;
    size_t nf = (size_t)B * cfg.channels * 3 * cfg.n_freq * T, nm = (size_t)B * cfg.channels * 2 * cfg.n_freq * T;
    float *feat = malloc(nf * 4), *ref = malloc(nm * 4);
    fill(feat, nf, &rng, 1.0f);
    duet_sepnet_run *a, *b;
    REQUIRE(duet_sepnet_run_new(m, &a, NULL) == DUET_OK && duet_sepnet_run_new(m, &b, NULL) == DUET_OK);
    duet_sepnet_run_set_reference(a, 1);
    const float *ma, *mb;
    REQUIRE(duet_sepnet_forward(a, feat, B, T, 0, NULL, &ma, NULL) == DUET_OK);
    memcpy(ref, ma, nm * 4);
    REQUIRE(duet_sepnet_forward(b, feat, B, T, 0, NULL, &mb, NULL) == DUET_OK);
    double e = 0;
    for (size_t i = 0; i < nm; i++) e = fmax(e, fabs((double)ref[i] - mb[i]));
    fprintf(stderr, "  separation network (base 32, stereo), eval masks: oneDNN vs reference max abs diff %.2e\n", e);
    CHECK(e < 1e-5);
    duet_sepnet_run_free(a);
    duet_sepnet_run_free(b);
    duet_sepnet_free(m);
    free(feat);
    free(ref);
}

int main(void)
{
    duet_nn_set_threads(DUET_THREADS_OMP, 2);
    RUN(test_conv_geometries);
    RUN(test_network_both_engines);
    return check_summary();
}
