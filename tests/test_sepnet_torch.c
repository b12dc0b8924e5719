/* tests/test_sepnet_torch.c: duet's separation network (separation/sepnet.c)
 * against the same network rebuilt in PyTorch 1.13 from duet's weights file
 * (fixtures/gen_sepnet_torch.py; goldens computed in float64).
 *
 * Two tiny random models (fixtures/sepnet/tiny_fem: phase branch, FEMs and
 * SA, bilinear up blocks; tiny_tconv: no phase, bottleneck SA without FEM,
 * transposed up blocks), every tensor random (BN statistics and SA gains
 * included):
 *   - evaluation-mode masks, max abs error <= 1e-5;
 *   - training-mode forward (batch statistics; the fixtures store dropout 0,
 *     since duet's dropout masks come from its own RNG and cannot be
 *     reproduced in PyTorch): masks <= 1e-5, the running statistics after
 *     the step <= 1e-5, and the gradient of sum(masks * dmasks) with respect
 *     to every trainable tensor, max abs error <= 2e-4 * max(1, max |grad|).
 * The shipped model models/sepnet.safetensors: evaluation-mode masks on a
 * 512 x 32 input, max abs error <= 2e-5. When the shipped model is no longer
 * the one the fixture was made from (sum of |weights| differs), that check
 * says so and is skipped: rerun fixtures/gen_sepnet_torch.py
 * (bench/bench_sepnet.sh compares against PyTorch on the current model at
 * every run).
 * Also: nn/attention.c's evaluation forward equals its training forward. */
#include "../nn/nn.h"
#include "../separation/sepnet.h"
#include "check.h"

static double max_abs_err(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= m)) m = e; /* NaN propagates */
    }
    return m;
}

static const duet_st_tensor *need(const duet_st_file *g, const char *name)
{
    const duet_st_tensor *t = duet_st_get(g, name);
    if (!t || t->dtype != DUET_ST_F32) fprintf(stderr, "  fixture tensor %s missing\n", name);
    return t && t->dtype == DUET_ST_F32 ? t : NULL;
}

static void tiny_case(const char *name)
{
    char path[256];
    duet_err err = {0};
    sepnet *m = NULL;
    duet_st_file *g = NULL;
    snprintf(path, sizeof path, "fixtures/sepnet/%s.safetensors", name);
    REQUIRE(duet_sepnet_load(path, &m, &err) == DUET_OK);
    snprintf(path, sizeof path, "fixtures/sepnet/%s_golden.safetensors", name);
    if (duet_st_load(path, &g, &err)) {
        duet_sepnet_free(m);
        REQUIRE(0);
    }
    const duet_st_tensor *tf = need(g, "feat"), *te = need(g, "eval"), *tt = need(g, "train"),
                         *td = need(g, "dmasks");
    duet_sepnet_run *r = NULL;
    int ok = tf && te && tt && td && tf->ndim == 4 && duet_sepnet_run_new(m, &r, &err) == DUET_OK &&
             duet_params_enable_training(m->params, &err) == DUET_OK;
    CHECK(ok);
    if (ok) {
        int B = (int)tf->shape[0], T = (int)tf->shape[3];
        size_t nm = (size_t)B * 2 * m->cfg.channels * m->cfg.n_freq * T;
        CHECK(tf->shape[1] == 3 * m->cfg.channels && tf->shape[2] == m->cfg.n_freq && (size_t)te->numel == nm);
        const float *mk;
        CHECK(duet_sepnet_forward(r, tf->data, B, T, 0, NULL, &mk, &err) == DUET_OK);
        double e = max_abs_err(mk, te->data, nm);
        fprintf(stderr, "  %-10s eval masks      max abs err %.2e (tol 1e-5)\n", name, e);
        CHECK(e <= 1e-5);

        duet_rng rng;
        duet_rng_seed(&rng, 1);
        duet_params_zero_grad(m->params);
        CHECK(duet_sepnet_forward(r, tf->data, B, T, 1, &rng, &mk, &err) == DUET_OK);
        e = max_abs_err(mk, tt->data, nm);
        fprintf(stderr, "  %-10s train masks     max abs err %.2e (tol 1e-5)\n", name, e);
        CHECK(e <= 1e-5);
        duet_sepnet_backward(r, td->data);

        const duet_params *p = m->params;
        double worst_g = 0, worst_b = 0;
        const char *wg = "", *wb = "";
        int n_g = 0, n_b = 0;
        for (size_t i = 0; i < p->count; i++) {
            const duet_param_info *in = &p->info[i];
            char key[DUET_PARAM_NAME_MAX + 8];
            int buffer = (in->flags & DUET_PARAM_BUFFER) != 0;
            snprintf(key, sizeof key, "%s%s", buffer ? "after." : "grad.", in->name);
            const duet_st_tensor *ref = need(g, key);
            CHECK(ref && (size_t)ref->numel == in->numel);
            if (!ref || (size_t)ref->numel != in->numel) continue;
            const float *got = buffer ? duet_params_data(p, i) : duet_params_grad(p, i);
            double scale = 1;
            for (size_t j = 0; j < in->numel; j++)
                if (fabs(((const float *)ref->data)[j]) > scale) scale = fabs(((const float *)ref->data)[j]);
            double rel = max_abs_err(got, ref->data, in->numel) / (buffer ? 1.0 : scale);
            if (buffer) {
                n_b++;
                if (!(rel <= worst_b)) worst_b = rel, wb = in->name;
            } else {
                n_g++;
                if (!(rel <= worst_g)) worst_g = rel, wg = in->name;
            }
        }
        fprintf(stderr, "  %-10s %d gradients    max abs err / max(1, |grad|) %.2e at %s (tol 2e-4)\n", name,
                n_g, worst_g, wg);
        fprintf(stderr, "  %-10s %d running stats max abs err %.2e at %s (tol 1e-5)\n", name, n_b, worst_b, wb);
        CHECK(n_g > 0 && worst_g <= 2e-4);
        CHECK(n_b > 0 && worst_b <= 1e-5);
    }
    duet_sepnet_run_free(r);
    duet_st_free(g);
    duet_sepnet_free(m);
}

static void test_tiny_fem(void) { tiny_case("tiny_fem"); }
static void test_tiny_tconv(void) { tiny_case("tiny_tconv"); }
/* two audio channels seen jointly: (B, 2, 3, F, T) in, (B, 2, 2, F, T) masks out */
static void test_tiny_stereo(void) { tiny_case("tiny_stereo"); }

static void test_shipped_model(void)
{
    duet_err err = {0};
    sepnet *m = NULL;
    duet_st_file *g = NULL;
    REQUIRE(duet_st_load("fixtures/sepnet/ship_golden.safetensors", &g, &err) == DUET_OK);
    const char *model = duet_st_meta(g, "model"), *as = duet_st_meta(g, "abs_sum");
    if (!model || !as || duet_sepnet_load(model, &m, &err)) {
        fprintf(stderr, "  cannot load the shipped model: %s\n", err.msg);
        duet_st_free(g);
        REQUIRE(0);
    }
    double abs_sum = 0;
    const duet_params *p = m->params;
    for (size_t i = 0; i < p->count; i++) {
        const float *d = duet_params_data(p, i);
        for (size_t j = 0; j < p->info[i].numel; j++) abs_sum += fabs((double)d[j]);
    }
    double want = strtod(as, NULL);
    if (fabs(abs_sum - want) > 1e-9 * want + 1e-6) {
        fprintf(stderr, "  SKIP: %s is not the model fixtures/sepnet/ship_golden.safetensors was made from "
                        "(sum |w| %.6f, fixture %.6f); rerun /usr/bin/python3 fixtures/gen_sepnet_torch.py\n",
                model, abs_sum, want);
    } else {
        const duet_st_tensor *tf = need(g, "feat"), *te = need(g, "eval");
        duet_sepnet_run *r = NULL;
        int ok = tf && te && tf->ndim == 4 && duet_sepnet_run_new(m, &r, &err) == DUET_OK;
        CHECK(ok);
        if (ok) {
            int B = (int)tf->shape[0], T = (int)tf->shape[3];
            size_t nm = (size_t)B * 2 * m->cfg.channels * m->cfg.n_freq * T;
            const float *mk;
            CHECK((size_t)te->numel == nm);
            CHECK(duet_sepnet_forward(r, tf->data, B, T, 0, NULL, &mk, &err) == DUET_OK);
            double e = max_abs_err(mk, te->data, nm);
            fprintf(stderr, "  shipped model (base %d, depth %d, %d x %d) eval masks max abs err %.2e (tol 2e-5)\n",
                    m->cfg.base, m->cfg.depth, m->cfg.n_freq, T, e);
            CHECK(e <= 2e-5);
        }
        duet_sepnet_run_free(r);
    }
    duet_sepnet_free(m);
    duet_st_free(g);
}

/* nn/attention.c's evaluation forward (no cache; fused row kernel for
 * C <= 16, per-group sgemm above) against the training forward, both axes,
 * odd lengths (exp tail), 1 and 2 workers. */
static void test_attn_eval_matches_forward(void)
{
    const int cases[][6] = {/* B, C, H, W, Cq, axis */
                            {2, 4, 6, 37, 2, DUET_ATTN_W},
                            {1, 16, 3, 20, 2, DUET_ATTN_W},
                            {2, 5, 4, 9, 2, DUET_ATTN_FULL},
                            {2, 24, 5, 7, 3, DUET_ATTN_FULL}};
    for (int ci = 0; ci < 4; ci++) {
        duet_attn_dims d = {cases[ci][0], cases[ci][1], cases[ci][2], cases[ci][3], cases[ci][4], cases[ci][5]};
        size_t n = (size_t)d.B * d.C * d.H * d.W, np = (size_t)d.C * d.C + 2 * (size_t)d.Cq * d.C + 2 * d.Cq + d.C + 1;
        float *x = malloc(n * sizeof(float)), *y0 = malloc(n * sizeof(float)), *y1 = malloc(n * sizeof(float));
        float *p = malloc(np * sizeof(float)), *cache = malloc(duet_attn_cache_floats(&d) * sizeof(float));
        size_t wn = duet_attn_eval_work_floats(&d, 2);
        float *work = malloc(wn * sizeof(float));
        REQUIRE(x && y0 && y1 && p && cache && work);
        duet_rng rng;
        duet_rng_seed(&rng, 3 + (uint64_t)ci);
        for (size_t i = 0; i < n; i++) x[i] = 2.0f * duet_rng_normal(&rng);
        for (size_t i = 0; i < np; i++) p[i] = duet_rng_normal(&rng);
        const float *wq = p, *wk = wq + d.Cq * d.C, *wv = wk + d.Cq * d.C, *bq = wv + d.C * d.C, *bk = bq + d.Cq;
        const float *bv = bk + d.Cq, *gm = bv + d.C;
        duet_attn_forward(y0, cache, x, wq, bq, wk, bk, wv, bv, gm, &d);
        for (int workers = 1; workers <= 2; workers++) {
            duet_nn_set_threads(DUET_THREADS_OMP, workers);
            duet_attn_forward_eval(y1, work, duet_attn_eval_work_floats(&d, workers), x, wq, bq, wk, bk, wv, bv, gm,
                                   &d);
            double e = max_abs_err(y0, y1, n);
            CHECK_MSG(e <= 1e-5, "case %d, %d workers: max abs err %.2e", ci, workers, e);
        }
        duet_nn_set_threads(DUET_THREADS_OMP, 2);
        free(x), free(y0), free(y1), free(p), free(cache), free(work);
    }
}

int main(void)
{
    duet_nn_set_threads(DUET_THREADS_OMP, 2);
    RUN(test_tiny_fem);
    RUN(test_tiny_tconv);
    RUN(test_tiny_stereo);
    RUN(test_shipped_model);
    RUN(test_attn_eval_matches_forward);
    return check_summary();
}
