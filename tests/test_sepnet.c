/* tests/test_sepnet.c: the separation network: finite-difference gradient
 * check of the whole network (every variant: FEM/SA, no phase, transposed
 * up blocks), masks summing to one, save/load round trip, and rejection of
 * model files with wrong shapes or versions. */
#include "check.h"

#include <unistd.h>

#include "../nn/nn.h"
#include "../separation/sepnet.h"

static duet_sepnet_config tiny_config(void)
{
    duet_sepnet_config c = duet_sepnet_config_default();
    c.n_fft = 64;
    c.hop = 16;
    c.n_freq = 16;
    c.depth = 2;
    c.base = 6;
    c.phase_ch = 2;
    c.dropout = 0.2f;
    return c;
}

/* loss = sum(masks * R) with the same dropout masks every call (re-seeded rng) */
static double loss_of(duet_sepnet_run *run, const float *feat, int B, int T, const float *R, size_t n)
{
    duet_rng rng;
    duet_rng_seed(&rng, 99);
    const float *m;
    if (duet_sepnet_forward(run, feat, B, T, 1, &rng, &m, NULL) != DUET_OK) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)m[i] * R[i];
    return s;
}

static void grad_check(duet_sepnet_config c, const char *label)
{
    duet_rng rng;
    duet_rng_seed(&rng, 1);
    sepnet *m;
    REQUIRE(duet_sepnet_new(&c, &rng, &m, NULL) == DUET_OK);
    REQUIRE(duet_params_enable_training(m->params, NULL) == DUET_OK);
    /* give the SA gains a non-zero value so their inputs get gradients */
    for (size_t i = 0; i < m->params->count; i++)
        if (strstr(m->params->info[i].name, "gamma")) duet_params_data(m->params, i)[0] = 0.5f;
    duet_sepnet_run *run;
    REQUIRE(duet_sepnet_run_new(m, &run, NULL) == DUET_OK);
    int B = 4, T = 8, F = c.n_freq;
    size_t nf = (size_t)B * c.channels * 3 * F * T, nm = (size_t)B * c.channels * 2 * F * T;
    float *feat = malloc(nf * sizeof *feat), *R = malloc(nm * sizeof *R);
    for (size_t i = 0; i < nf; i++) feat[i] = duet_rng_normal(&rng);
    for (size_t i = 0; i < nm; i++) R[i] = duet_rng_normal(&rng);
    duet_params_zero_grad(m->params);
    double l0 = loss_of(run, feat, B, T, R, nm);
    CHECK(isfinite(l0));
    duet_sepnet_backward(run, R);
    /* running statistics change on every training forward: save and restore them */
    float *saved = malloc(m->params->total * sizeof(float));
    memcpy(saved, m->params->data, m->params->total * sizeof(float));
    int checked = 0, bad = 0;
    double errs[1024];
    for (size_t i = 0; i < m->params->count; i++) {
        const duet_param_info *in = &m->params->info[i];
        if (in->flags & DUET_PARAM_BUFFER) continue;
        for (int rep = 0; rep < 2; rep++) {
            size_t j = duet_rng_below(&rng, in->numel);
            float *w = duet_params_data(m->params, i) + j;
            float g = duet_params_grad(m->params, i)[j];
            float w0 = w[0], eps = 1e-3f;
            memcpy(m->params->data, saved, m->params->total * sizeof(float));
            w[0] = w0 + eps;
            double lp = loss_of(run, feat, B, T, R, nm);
            memcpy(m->params->data, saved, m->params->total * sizeof(float));
            w[0] = w0 - eps;
            double lm = loss_of(run, feat, B, T, R, nm);
            memcpy(m->params->data, saved, m->params->total * sizeof(float));
            double fd = (lp - lm) / (2.0 * eps);
            double err = fabs(fd - g) / fmax(5e-2, fmax(fabs(fd), fabs(g)));
            if (checked < 1024) errs[checked] = err;
            checked++;
            if (err > 0.25) {
                bad++;
                fprintf(stderr, "  %s: %s[%zu]: analytic %.6g, numeric %.6g\n", label, in->name, j, g, fd);
            }
        }
    }
    /* float32 central differences through ReLU and max-pool kinks are
     * noisy for single entries (a kink crossed inside +-eps), so the test
     * asserts on the distribution: a wrong backward shows up as large
     * errors on most entries, not on a few. */
    int n = checked < 1024 ? checked : 1024;
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && errs[k - 1] > errs[k]; k--) {
            double t = errs[k];
            errs[k] = errs[k - 1];
            errs[k - 1] = t;
        }
    fprintf(stderr, "  %s: %d entries, relative error median %.3g, 90th percentile %.3g, %d over 0.25\n",
            label, checked, errs[n / 2], errs[n * 9 / 10], bad);
    CHECK(errs[n / 2] < 0.03);
    CHECK(errs[n * 9 / 10] < 0.2);
    CHECK(bad <= checked / 10);
    free(saved);
    free(feat);
    free(R);
    duet_sepnet_run_free(run);
    duet_sepnet_free(m);
}

static void test_grad_full(void) { grad_check(tiny_config(), "fem+sa"); }

static void test_grad_no_phase_no_fem(void)
{
    duet_sepnet_config c = tiny_config();
    c.phase_ch = 0;
    c.use_fem = 0;
    grad_check(c, "no-phase,no-fem");
}

/* the stereo network: (B, 2, 3, F, T) in, (B, 2, 2, F, T) masks out */
static void test_grad_stereo(void)
{
    duet_sepnet_config c = tiny_config();
    c.channels = 2;
    grad_check(c, "stereo,fem+sa");
}

static void test_grad_transposed_no_sa(void)
{
    duet_sepnet_config c = tiny_config();
    c.transposed = 1;
    c.use_sa = 0;
    grad_check(c, "transposed,no-sa");
}

static void test_masks_sum_to_one_and_eval_deterministic(void)
{
    duet_sepnet_config c = tiny_config();
    duet_rng rng;
    duet_rng_seed(&rng, 3);
    sepnet *m;
    REQUIRE(duet_sepnet_new(&c, &rng, &m, NULL) == DUET_OK);
    duet_sepnet_run *run;
    REQUIRE(duet_sepnet_run_new(m, &run, NULL) == DUET_OK);
    int B = 1, T = 16, F = c.n_freq;
    float *feat = malloc((size_t)3 * F * T * sizeof *feat);
    for (int i = 0; i < 3 * F * T; i++) feat[i] = duet_rng_normal(&rng);
    const float *mk;
    REQUIRE(duet_sepnet_forward(run, feat, B, T, 0, NULL, &mk, NULL) == DUET_OK);
    float *first = malloc((size_t)2 * F * T * sizeof *first);
    memcpy(first, mk, (size_t)2 * F * T * sizeof *first);
    double maxdev = 0;
    for (int i = 0; i < F * T; i++) {
        CHECK(mk[i] >= 0.0f && mk[i] <= 1.0f);
        maxdev = fmax(maxdev, fabs(mk[i] + mk[F * T + i] - 1.0));
    }
    CHECK(maxdev < 1e-6);
    REQUIRE(duet_sepnet_forward(run, feat, B, T, 0, NULL, &mk, NULL) == DUET_OK);
    CHECK(memcmp(first, mk, (size_t)2 * F * T * sizeof *first) == 0);
    CHECK(duet_sepnet_forward(run, feat, B, 10, 0, NULL, &mk, NULL) == DUET_ERR_ARG);
    free(first);
    free(feat);
    duet_sepnet_run_free(run);
    duet_sepnet_free(m);
}

static void test_save_load_roundtrip(void)
{
    duet_sepnet_config c = tiny_config();
    duet_rng rng;
    duet_rng_seed(&rng, 5);
    sepnet *m, *m2, *other;
    REQUIRE(duet_sepnet_new(&c, &rng, &m, NULL) == DUET_OK);
    char path[] = "/tmp/duet_sepnet_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    const char *kv[] = {"trained_steps", "0"};
    REQUIRE(duet_sepnet_save(m, path, kv, 1, NULL) == DUET_OK);
    duet_err e;
    duet_err_clear(&e);
    REQUIRE(duet_sepnet_load(path, &m2, &e) == DUET_OK);
    CHECK(m2->cfg.n_freq == c.n_freq && m2->cfg.depth == c.depth && m2->cfg.phase_ch == c.phase_ch);
    CHECK(m2->params->count == m->params->count);
    CHECK(memcmp(m2->params->data, m->params->data, m->params->total * sizeof(float)) == 0);
    duet_sepnet_free(m2);
    /* a stereo model round-trips, and loads from a buffer too */
    duet_sepnet_config cs = c;
    cs.channels = 2;
    sepnet *ms, *ms2;
    REQUIRE(duet_sepnet_new(&cs, &rng, &ms, NULL) == DUET_OK);
    REQUIRE(duet_sepnet_save(ms, path, NULL, 0, NULL) == DUET_OK);
    REQUIRE(duet_sepnet_load(path, &ms2, &e) == DUET_OK);
    CHECK(ms2->cfg.channels == 2 && ms2->params->total == ms->params->total &&
          memcmp(ms2->params->data, ms->params->data, ms->params->total * sizeof(float)) == 0);
    duet_sepnet_free(ms2);
    {
        FILE *fp = fopen(path, "rb");
        REQUIRE(fp);
        fseek(fp, 0, SEEK_END);
        long len = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        char *buf = malloc((size_t)len);
        REQUIRE(buf && fread(buf, 1, (size_t)len, fp) == (size_t)len);
        fclose(fp);
        CHECK(duet_sepnet_load_buffer(buf, (size_t)len, &ms2, &e) == DUET_OK && ms2->cfg.channels == 2);
        duet_sepnet_free(ms2);
        CHECK(duet_sepnet_load_buffer(buf, (size_t)len / 2, &ms2, &e) != DUET_OK); /* truncated image */
        free(buf);
    }
    /* the mono model's weights in a file that claims 2 channels: a shape error */
    {
        duet_st_file *fm;
        REQUIRE(duet_sepnet_save(m, path, NULL, 0, NULL) == DUET_OK);
        REQUIRE(duet_st_load(path, &fm, NULL) == DUET_OK);
        duet_st_writer *wm;
        REQUIRE(duet_st_writer_new(&wm, NULL) == DUET_OK);
        for (size_t i = 0; i < duet_st_meta_count(fm); i++) {
            const char *k, *v;
            duet_st_meta_at(fm, i, &k, &v);
            duet_st_writer_meta(wm, k, v, NULL);
        }
        duet_st_writer_meta(wm, "channels", "2", NULL);
        for (size_t i = 0; i < duet_st_count(fm); i++) {
            const duet_st_tensor *t = duet_st_at(fm, i);
            duet_st_writer_add(wm, t->name, t->dtype, t->ndim, t->shape, t->data, NULL);
        }
        REQUIRE(duet_st_writer_save(wm, path, NULL) == DUET_OK);
        duet_st_writer_free(wm);
        duet_st_free(fm);
        CHECK(duet_sepnet_load(path, &ms2, &e) == DUET_ERR_SHAPE);
    }
    duet_sepnet_free(ms);
    /* a file whose metadata says one architecture but whose tensors are another */
    duet_sepnet_config c2 = c;
    c2.base = 8;
    REQUIRE(duet_sepnet_new(&c2, &rng, &other, NULL) == DUET_OK);
    REQUIRE(duet_sepnet_save(other, path, NULL, 0, NULL) == DUET_OK);
    duet_st_file *f;
    REQUIRE(duet_st_load(path, &f, NULL) == DUET_OK);
    duet_st_writer *w;
    REQUIRE(duet_st_writer_new(&w, NULL) == DUET_OK);
    for (size_t i = 0; i < duet_st_meta_count(f); i++) {
        const char *k, *v;
        duet_st_meta_at(f, i, &k, &v);
        duet_st_writer_meta(w, k, strcmp(k, "base") == 0 ? "6" : v, NULL);
    }
    for (size_t i = 0; i < duet_st_count(f); i++) {
        const duet_st_tensor *t = duet_st_at(f, i);
        duet_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data, NULL);
    }
    REQUIRE(duet_st_writer_save(w, path, NULL) == DUET_OK);
    duet_st_writer_free(w);
    duet_st_free(f);
    duet_err_clear(&e);
    CHECK(duet_sepnet_load(path, &m2, &e) == DUET_ERR_SHAPE);
    CHECK(strstr(e.msg, "expected shape") != NULL || strstr(e.msg, "shape") != NULL);
    /* wrong version */
    REQUIRE(duet_st_writer_new(&w, NULL) == DUET_OK);
    duet_st_writer_meta(w, "format", "duet-sepnet", NULL);
    duet_st_writer_meta(w, "version", "99", NULL);
    REQUIRE(duet_st_writer_save(w, path, NULL) == DUET_OK);
    duet_st_writer_free(w);
    duet_err_clear(&e);
    CHECK(duet_sepnet_load(path, &m2, &e) == DUET_ERR_FORMAT);
    CHECK(strstr(e.msg, "version") != NULL);
    unlink(path);
    duet_sepnet_free(other);
    duet_sepnet_free(m);
}

static void test_features_phase(void)
{
    /* A stationary sinusoid exactly on bin k0: the instantaneous-frequency
     * deviation at k0 is ~0 and the log-magnitude peaks there. */
    duet_sepnet_config c = tiny_config();
    int n_bins = c.n_fft / 2 + 1, T = 8, k0 = 5;
    float *spec = calloc((size_t)T * n_bins * 2, sizeof *spec);
    for (int t = 0; t < T; t++) {
        double ph = 2 * 3.14159265358979323846 * k0 * (double)c.hop * t / c.n_fft + 0.3;
        for (int k = 0; k < n_bins; k++) {
            double a = k == k0 ? 10.0 : 0.01;
            spec[((size_t)t * n_bins + k) * 2] = (float)(a * cos(ph + 0.1 * k));
            spec[((size_t)t * n_bins + k) * 2 + 1] = (float)(a * sin(ph + 0.1 * k));
        }
    }
    float *feat = malloc((size_t)3 * c.n_freq * T * sizeof *feat);
    duet_sepnet_features(feat, spec, T, n_bins, 0, T, &c);
    size_t plane = (size_t)c.n_freq * T;
    for (int t = 1; t < T; t++) CHECK_NEAR(feat[plane + (size_t)k0 * T + t], 0.0, 1e-4);
    CHECK_NEAR(feat[(size_t)k0 * T + 3], log1p(10.0), 1e-4);
    /* group delay of a linear phase 0.1 k: -0.1 / pi */
    CHECK_NEAR(feat[2 * plane + (size_t)k0 * T + 3], -0.1 / 3.14159265358979323846, 1e-4);
    /* frames outside the spectrogram are zero */
    duet_sepnet_features(feat, spec, T, n_bins, T - 2, T, &c);
    CHECK(feat[5 * T + 4] == 0.0f);
    free(feat);
    free(spec);
}

int main(void)
{
    RUN(test_grad_full);
    RUN(test_grad_no_phase_no_fem);
    RUN(test_grad_transposed_no_sa);
    RUN(test_grad_stereo);
    RUN(test_masks_sum_to_one_and_eval_deterministic);
    RUN(test_save_load_roundtrip);
    RUN(test_features_phase);
    return check_summary();
}
