/* tests/test_bsseval.c: separation/bsseval.h against mir_eval 0.7.
 *
 * 1. mir_eval's own regression data, read in place from
 *    ../shared/data/sep/mir_eval_separation (refNN/, estNN/, outputNN.json):
 *    bss_eval_sources (with permutation), bss_eval_sources_framewise, and
 *    bss_eval_images / bss_eval_images_framewise on the multichannel
 *    signals mir_eval's test builds (channel 0 = the source, the other
 *    channels = gain x the source for the estimates), to within 0.01 dB.
 *    Image cases costing more than one factorisation of a 2048 x 2048 Gram
 *    matrix (nsrc x nchan > 4, or framewise with several windows) take
 *    1-150 s each; they run only with DUET_SLOW_TESTS=1 (the test says which
 *    it skipped). All of them passed when this test was written.
 *    Without the folder the test prints "skipped" and goes on.
 * 2. Small golden cases made by fixtures/gen_bsseval.py with mir_eval
 *    (files under fixtures/bsseval/), always run.
 * 3. Bad input: silent sources, NaN, empty, bad window. */
#include "check.h"
#include "../separation/dfft.h"
#include "../separation/bsseval.h"
#include "../separation/sep_json.h"
#include "../separation/sdr.h"
#include "../audio/audio.h"
#include "../common/progress.h"

#include <dirent.h>
#include <stdint.h>

#define TOL_DB 0.01
#define MIR_DIR "../shared/data/sep/mir_eval_separation"

static double worst_err;

/* Load every *.wav of dir (sorted by name) as mono (channel mean, like
 * mir_eval.io.load_wav), into planar sources. Returns the count. */
static int load_dir(const char *dir, float ***out, int64_t *n)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    char names[32][64];
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d)) && k < 32) {
        size_t l = strlen(e->d_name);
        if (l > 4 && l < 60 && strcmp(e->d_name + l - 4, ".wav") == 0) strcpy(names[k++], e->d_name);
    }
    closedir(d);
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[64];
            strcpy(t, names[j]);
            strcpy(names[j], names[j - 1]);
            strcpy(names[j - 1], t);
        }
    float **src = calloc((size_t)k, sizeof(float *));
    for (int i = 0; i < k; i++) {
        char p[2200];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        duet_audio a;
        if (duet_audio_read(p, NULL, &a, NULL, NULL) != DUET_OK) return -1;
        *n = a.frames;
        src[i] = malloc(sizeof(float) * (size_t)a.frames);
        for (int64_t t = 0; t < a.frames; t++) {
            double s = 0;
            for (int c = 0; c < a.channels; c++) s += a.ch[c][t];
            src[i][t] = (float)(s / a.channels);
        }
        duet_audio_free(&a);
    }
    *out = src;
    return k;
}

/* Compare one metric array (nsrc x nwin) with a JSON array (nested or flat). */
static void cmp_metric(const char *label, const double *got, int nsrc, int nwin, const duet_sep_json *want)
{
    REQUIRE(want);
    double flat[4096];
    int m = 0;
    for (int i = 0; i < want->n && m < 4096; i++) {
        const duet_sep_json *v = &want->items[i];
        if (v->type == SJ_ARR)
            for (int t = 0; t < v->n && m < 4096; t++) flat[m++] = duet_sep_json_num(&v->items[t]);
        else
            flat[m++] = duet_sep_json_num(v);
    }
    CHECK_MSG(m == nsrc * nwin, "%s: %d reference values, duet has %d x %d", label, m, nsrc, nwin);
    if (m != nsrc * nwin) return;
    double worst = 0;
    for (int i = 0; i < m; i++) {
        if (isnan(flat[i]) || isnan(got[i])) {
            CHECK_MSG(isnan(flat[i]) && isnan(got[i]), "%s[%d]: %g vs %g", label, i, got[i], flat[i]);
            continue;
        }
        double d = fabs(got[i] - flat[i]);
        if (isinf(flat[i]) && got[i] == flat[i]) d = 0;
        if (d > worst) worst = d;
        if (getenv("DUET_TEST_VERBOSE") && d > 1e-3) printf("#   %s[%d] diff %.4g\n", label, i, d);
        CHECK_MSG(d <= TOL_DB, "%s[%d]: duet %.6f, mir_eval %.6f", label, i, got[i], flat[i]);
    }
    if (worst > worst_err) worst_err = worst;
}

static void cmp_perm(const char *label, const int *got, int nsrc, const duet_sep_json *want)
{
    REQUIRE(want);
    REQUIRE(want->n == nsrc);
    for (int j = 0; j < nsrc; j++) CHECK_MSG(got[j] == (int)duet_sep_json_num(&want->items[j]), "%s: perm[%d]", label, j);
}

/* the multichannel signals of mir_eval's __generate_multichannel */
static float **make_images(float **src, int nsrc, int64_t n, int nchan, double gain)
{
    float **img = malloc(sizeof(float *) * (size_t)nsrc * nchan);
    for (int j = 0; j < nsrc; j++)
        for (int c = 0; c < nchan; c++) {
            img[j * nchan + c] = malloc(sizeof(float) * (size_t)n);
            for (int64_t t = 0; t < n; t++) img[j * nchan + c][t] = c == 0 ? src[j][t] : (float)(gain * src[j][t]);
        }
    return img;
}

static void free_sig(float **s, int k)
{
    for (int i = 0; i < k; i++) free(s[i]);
    free(s);
}

static int slow_tests(void) { return getenv("DUET_SLOW_TESTS") && atoi(getenv("DUET_SLOW_TESTS")) > 0; }

static void run_case(const char *id)
{
    char rp[256], ep[256], jp[256];
    snprintf(rp, sizeof rp, MIR_DIR "/ref%s", id);
    snprintf(ep, sizeof ep, MIR_DIR "/est%s", id);
    snprintf(jp, sizeof jp, MIR_DIR "/output%s.json", id);
    float **ref, **est;
    int64_t n = 0, n2 = 0;
    int nsrc = load_dir(rp, &ref, &n), ne = load_dir(ep, &est, &n2);
    REQUIRE(nsrc > 0 && ne == nsrc && n == n2);
    duet_sep_json js;
    duet_err err = {0};
    REQUIRE(duet_sep_json_load(jp, &js, &err) == DUET_OK);
    char lab[128];
    duet_bss_result r;

    const duet_sep_json *S = duet_sep_json_get(&js, "Sources");
    CHECK(duet_bss_eval_sources((const float *const *)ref, (const float *const *)est, nsrc, n, 1, &r, &err) == DUET_OK);
    snprintf(lab, sizeof lab, "%s Sources SDR", id);
    cmp_metric(lab, r.sdr, nsrc, 1, duet_sep_json_get(S, "Source to Distortion"));
    snprintf(lab, sizeof lab, "%s Sources SIR", id);
    cmp_metric(lab, r.sir, nsrc, 1, duet_sep_json_get(S, "Source to Interference"));
    snprintf(lab, sizeof lab, "%s Sources SAR", id);
    cmp_metric(lab, r.sar, nsrc, 1, duet_sep_json_get(S, "Source to Artifact"));
    cmp_perm(lab, r.perm, nsrc, duet_sep_json_get(S, "Source permutation"));
    duet_bss_result_free(&r);

    const duet_sep_json *F = duet_sep_json_get(&js, "Framewise");
    int64_t win = (int64_t)duet_sep_json_num(duet_sep_json_get(F, "win")), hop = (int64_t)duet_sep_json_num(duet_sep_json_get(F, "hop"));
    CHECK(duet_bss_eval_sources_framewise((const float *const *)ref, (const float *const *)est, nsrc, n, win, hop, 0,
                                          &r, &err) == DUET_OK);
    snprintf(lab, sizeof lab, "%s Framewise SDR", id);
    cmp_metric(lab, r.sdr, nsrc, r.nwin, duet_sep_json_get(F, "Source to Distortion"));
    snprintf(lab, sizeof lab, "%s Framewise SIR", id);
    cmp_metric(lab, r.sir, nsrc, r.nwin, duet_sep_json_get(F, "Source to Interference"));
    snprintf(lab, sizeof lab, "%s Framewise SAR", id);
    cmp_metric(lab, r.sar, nsrc, r.nwin, duet_sep_json_get(F, "Source to Artifact"));
    int nwin_v3 = r.nwin;
    duet_bss_result_free(&r);

    const char *keys[2] = {"Images", "Images Framewise"};
    for (int v = 0; v < 2; v++) {
        const duet_sep_json *I = duet_sep_json_get(&js, keys[v]);
        int nchan = (int)duet_sep_json_num(duet_sep_json_get(I, "nchan"));
        double gain = duet_sep_json_num(duet_sep_json_get(I, "gain"));
        int R = nsrc * nchan;
        int64_t w = v ? (int64_t)duet_sep_json_num(duet_sep_json_get(I, "win")) : 0;
        int64_t h = v ? (int64_t)duet_sep_json_num(duet_sep_json_get(I, "hop")) : 0;
        int64_t nw = v ? (n - w + h) / h : 1;
        if (nw < 2) nw = 1;
        double cost = (double)nw * R * R * R;
        (void)nwin_v3;
        if (cost > 64.0 && !slow_tests()) {
            printf("# %s %s: skipped (Gram matrix %d x %d, %lld window(s): too slow for make test; DUET_SLOW_TESTS=1 runs it)\n", id,
                   keys[v], R * 512, R * 512, (long long)nw);
            continue;
        }
        double t0 = duet_now();
        float **ri = make_images(ref, nsrc, n, nchan, 1.0), **ei = make_images(est, nsrc, n, nchan, gain);
        duet_status st = v ? duet_bss_eval_images_framewise((const float *const *)ri, (const float *const *)ei, nsrc,
                                                            nchan, n, w, h, 0, &r, &err)
                           : duet_bss_eval_images((const float *const *)ri, (const float *const *)ei, nsrc, nchan, n, 1,
                                                  &r, &err);
        CHECK_MSG(st == DUET_OK, "%s", err.msg);
        if (st == DUET_OK) {
            snprintf(lab, sizeof lab, "%s %s SDR", id, keys[v]);
            cmp_metric(lab, r.sdr, nsrc, r.nwin, duet_sep_json_get(I, "Source to Distortion"));
            snprintf(lab, sizeof lab, "%s %s ISR", id, keys[v]);
            cmp_metric(lab, r.isr, nsrc, r.nwin, duet_sep_json_get(I, "Image to Spatial"));
            snprintf(lab, sizeof lab, "%s %s SIR", id, keys[v]);
            cmp_metric(lab, r.sir, nsrc, r.nwin, duet_sep_json_get(I, "Source to Interference"));
            snprintf(lab, sizeof lab, "%s %s SAR", id, keys[v]);
            cmp_metric(lab, r.sar, nsrc, r.nwin, duet_sep_json_get(I, "Source to Artifact"));
            if (!v) cmp_perm(lab, r.perm, nsrc, duet_sep_json_get(I, "Source permutation"));
            duet_bss_result_free(&r);
        }
        if (getenv("DUET_TEST_VERBOSE")) printf("# %s %s: %.2f s\n", id, keys[v], duet_now() - t0);
        free_sig(ri, R);
        free_sig(ei, R);
    }
    duet_sep_json_free(&js);
    free_sig(ref, nsrc);
    free_sig(est, nsrc);
}

static void test_mir_eval_regression(void)
{
    DIR *d = opendir(MIR_DIR);
    if (!d) {
        printf("# mir_eval regression data (%s) not found: skipped\n", MIR_DIR);
        return;
    }
    closedir(d);
    const char *ids[] = {"01", "02", "03", "05", "06", "07", "08", "09"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) run_case(ids[i]);
    printf("# mir_eval regression data: max |duet - mir_eval| = %.3g dB (tolerance %.2g)\n", worst_err, TOL_DB);
}


/* ---- small golden cases from fixtures/gen_bsseval.py ------------------ */

#define GOLD_TOL 1e-3

typedef struct gold {
    int nsrc, nchan;
    int64_t n;
    float *data;           /* refs then ests, [src][chan][n] */
    const float *ref[16], *est[16];
    char keys[40][32];
    double vals[40][16];
    int nval[40], nkeys;
} gold;

static int gold_load(const char *name, gold *g)
{
    memset(g, 0, sizeof *g);
    char p[256];
    snprintf(p, sizeof p, "fixtures/bsseval/%s.txt", name);
    FILE *f = fopen(p, "r");
    if (!f) return -1;
    char line[4096];
    while (fgets(line, sizeof line, f) && g->nkeys < 40) {
        char *save = NULL, *tok = strtok_r(line, " \n", &save);
        if (!tok) continue;
        if (!strcmp(tok, "shape")) {
            g->nsrc = atoi(strtok_r(NULL, " \n", &save));
            g->nchan = atoi(strtok_r(NULL, " \n", &save));
            g->n = atoll(strtok_r(NULL, " \n", &save));
            continue;
        }
        snprintf(g->keys[g->nkeys], 32, "%s", tok);
        int k = 0;
        while ((tok = strtok_r(NULL, " \n", &save)) && k < 16) g->vals[g->nkeys][k++] = strtod(tok, NULL);
        g->nval[g->nkeys++] = k;
    }
    fclose(f);
    size_t per = (size_t)g->nsrc * g->nchan * (size_t)g->n;
    if (per == 0 || g->nsrc * g->nchan > 16) return -1;
    g->data = malloc(sizeof(float) * per * 2);
    snprintf(p, sizeof p, "fixtures/bsseval/%s.f32", name);
    f = fopen(p, "rb");
    if (!f || fread(g->data, sizeof(float), per * 2, f) != per * 2) {
        if (f) fclose(f);
        return -1;
    }
    fclose(f);
    for (int i = 0; i < g->nsrc * g->nchan; i++) {
        g->ref[i] = g->data + (size_t)i * g->n;
        g->est[i] = g->data + per + (size_t)i * g->n;
    }
    return 0;
}

static const double *gold_get(const gold *g, const char *key, int *n)
{
    for (int i = 0; i < g->nkeys; i++)
        if (!strcmp(g->keys[i], key)) {
            *n = g->nval[i];
            return g->vals[i];
        }
    *n = 0;
    return NULL;
}

static void gold_cmp(const gold *g, const char *key, const double *got, int n)
{
    int m;
    const double *w = gold_get(g, key, &m);
    CHECK_MSG(w && m == n, "%s: %d reference values, duet has %d", key, m, n);
    if (!w || m != n) return;
    for (int i = 0; i < n; i++) CHECK_MSG(fabs(got[i] - w[i]) <= GOLD_TOL, "%s[%d]: duet %.8f, mir_eval %.8f", key, i, got[i], w[i]);
}

static void test_golden_sources(void)
{
    gold g;
    REQUIRE(gold_load("src2", &g) == 0);
    duet_bss_result r;
    REQUIRE(duet_bss_eval_sources(g.ref, g.est, g.nsrc, g.n, 1, &r, NULL) == DUET_OK);
    gold_cmp(&g, "sources_sdr", r.sdr, 2);
    gold_cmp(&g, "sources_sir", r.sir, 2);
    gold_cmp(&g, "sources_sar", r.sar, 2);
    duet_bss_result_free(&r);
    REQUIRE(duet_bss_eval_sources(g.ref, g.est, g.nsrc, g.n, 0, &r, NULL) == DUET_OK);
    gold_cmp(&g, "nopermsources_sdr", r.sdr, 2);
    duet_bss_result_free(&r);
    REQUIRE(duet_bss_eval_sources_framewise(g.ref, g.est, g.nsrc, g.n, 2000, 1500, 0, &r, NULL) == DUET_OK);
    CHECK(r.nwin == 3);
    gold_cmp(&g, "framewise_sdr", r.sdr, 2 * r.nwin);
    gold_cmp(&g, "framewise_sir", r.sir, 2 * r.nwin);
    gold_cmp(&g, "framewise_sar", r.sar, 2 * r.nwin);
    duet_bss_result_free(&r);
    double si[2], md[2];
    for (int j = 0; j < 2; j++) {
        CHECK(duet_si_sdr(&g.ref[j], &g.est[j], 1, g.n, &si[j], NULL) == DUET_OK);
        CHECK(duet_mdx_sdr(&g.ref[j], &g.est[j], 1, g.n, &md[j], NULL) == DUET_OK);
    }
    gold_cmp(&g, "si_sdr", si, 2);
    gold_cmp(&g, "mdx_sdr", md, 2);
    /* the combined track call (sources part) gives the same numbers */
    duet_bss_result v4;
    REQUIRE(duet_bss_eval_track(g.ref, g.est, 2, 1, g.n, 8000, 8000, &r, &v4, NULL) == DUET_OK);
    gold_cmp(&g, "nopermsources_sdr", r.sdr, 2);
    gold_cmp(&g, "nopermsources_sar", r.sar, 2);
    duet_bss_result_free(&r);
    duet_bss_result_free(&v4);
    free(g.data);
}

static void test_golden_permutation(void)
{
    gold g;
    REQUIRE(gold_load("swap3", &g) == 0);
    duet_bss_result r;
    REQUIRE(duet_bss_eval_sources(g.ref, g.est, g.nsrc, g.n, 1, &r, NULL) == DUET_OK);
    gold_cmp(&g, "sources_sdr", r.sdr, 3);
    gold_cmp(&g, "sources_sir", r.sir, 3);
    gold_cmp(&g, "sources_sar", r.sar, 3);
    int m;
    const double *p = gold_get(&g, "sources_perm", &m);
    REQUIRE(p && m == 3);
    for (int j = 0; j < 3; j++) CHECK(r.perm[j] == (int)p[j]);
    duet_bss_result_free(&r);
    free(g.data);
}

static void test_golden_images(void)
{
    gold g;
    REQUIRE(gold_load("img2", &g) == 0);
    duet_bss_result r;
    REQUIRE(duet_bss_eval_images(g.ref, g.est, g.nsrc, g.nchan, g.n, 1, &r, NULL) == DUET_OK);
    gold_cmp(&g, "images_sdr", r.sdr, 2);
    gold_cmp(&g, "images_isr", r.isr, 2);
    gold_cmp(&g, "images_sir", r.sir, 2);
    gold_cmp(&g, "images_sar", r.sar, 2);
    duet_bss_result_free(&r);
    REQUIRE(duet_bss_eval_images_framewise(g.ref, g.est, g.nsrc, g.nchan, g.n, 2500, 2500, 0, &r, NULL) == DUET_OK);
    CHECK(r.nwin == 2);
    gold_cmp(&g, "imgframes_sdr", r.sdr, 4);
    gold_cmp(&g, "imgframes_isr", r.isr, 4);
    gold_cmp(&g, "imgframes_sir", r.sir, 4);
    gold_cmp(&g, "imgframes_sar", r.sar, 4);
    duet_bss_result_free(&r);
    /* museval v4 with one window covering the track == bss_eval_images */
    REQUIRE(duet_bss_eval_v4(g.ref, g.est, g.nsrc, g.nchan, g.n, 100000, 100000, &r, NULL) == DUET_OK);
    CHECK(r.nwin == 1);
    gold_cmp(&g, "nopermimages_sdr", r.sdr, 2);
    gold_cmp(&g, "nopermimages_isr", r.isr, 2);
    gold_cmp(&g, "nopermimages_sir", r.sir, 2);
    gold_cmp(&g, "nopermimages_sar", r.sar, 2);
    duet_bss_result_free(&r);
    free(g.data);
}

static void test_bad_input(void)
{
    enum { N = 3000 };
    static float a[N], b[N], z[N], nanv[N];
    for (int i = 0; i < N; i++) {
        a[i] = sinf(0.01f * i);
        b[i] = cosf(0.37f * i) * 0.5f;
        nanv[i] = a[i];
    }
    nanv[100] = NAN;
    const float *ok2[2] = {a, b}, *sil[2] = {a, z}, *bad[2] = {a, nanv};
    duet_bss_result r;
    duet_err e = {0};
    CHECK(duet_bss_eval_sources(sil, ok2, 2, N, 0, &r, &e) == DUET_ERR_EMPTY);
    CHECK(strstr(e.msg, "reference source 1 is silent") != NULL);
    CHECK(duet_bss_eval_sources(ok2, sil, 2, N, 0, &r, &e) == DUET_ERR_EMPTY);
    CHECK(strstr(e.msg, "estimated source 1 is silent") != NULL);
    CHECK(duet_bss_eval_sources(ok2, bad, 2, N, 0, &r, &e) == DUET_ERR_NAN);
    CHECK(duet_bss_eval_sources(ok2, ok2, 0, N, 0, &r, &e) == DUET_ERR_ARG);
    CHECK(duet_bss_eval_sources(ok2, ok2, 2, 0, 0, &r, &e) == DUET_ERR_ARG);
    CHECK(duet_bss_eval_sources_framewise(ok2, ok2, 2, N, 0, 10, 0, &r, &e) == DUET_ERR_ARG);
    CHECK(duet_bss_eval_v4(ok2, ok2, 2, 1, N, 1000, 0, &r, &e) == DUET_ERR_ARG);
    double v;
    CHECK(duet_si_sdr(&sil[1], &ok2[0], 1, N, &v, &e) == DUET_ERR_EMPTY);
    CHECK(duet_si_sdr(&ok2[0], &sil[1], 1, N, &v, &e) == DUET_ERR_EMPTY);
    CHECK(duet_si_sdr(&ok2[0], &bad[1], 1, N, &v, &e) == DUET_ERR_NAN);
    /* a perfect estimate: SIR and SAR infinite as mir_eval's _safe_db, SI-SDR infinite */
    REQUIRE(duet_si_sdr(&ok2[0], &ok2[0], 1, N, &v, &e) == DUET_OK);
    CHECK(isinf(v) && v > 0);
    /* framewise: a silent window in the reference is NaN, the others are numbers */
    static float part[N];
    for (int i = 0; i < N; i++) part[i] = (i >= 1000 && i < 2000) ? 0.0f : b[i];
    const float *refp[2] = {a, part};
    REQUIRE(duet_bss_eval_sources_framewise(refp, ok2, 2, N, 1000, 1000, 0, &r, &e) == DUET_OK);
    CHECK(r.nwin == 3);
    CHECK(!isnan(r.sdr[0]) && isnan(r.sdr[1]) && !isnan(r.sdr[2]));
    CHECK(isnan(r.sdr[3 + 1]) && !isnan(r.sdr[3 + 2]));
    duet_bss_result_free(&r);
    REQUIRE(duet_bss_eval_v4(refp, ok2, 2, 1, N, 1000, 1000, &r, &e) == DUET_OK);
    CHECK(isnan(r.sdr[1]) && isnan(r.isr[1]) && !isnan(r.sdr[0]) && !isnan(r.sdr[2]));
    double med = duet_nanmedian(r.sdr, 3);
    CHECK(!isnan(med));
    duet_bss_result_free(&r);
    duet_gnsdr g;
    memset(&g, 0, sizeof g);
    duet_gnsdr_add(&g, 5.0, 1.0, 10.0, 8.0, 100);  /* NSDR 4, weight 100 */
    duet_gnsdr_add(&g, 2.0, 1.0, 6.0, INFINITY, 300); /* NSDR 1, weight 300 */
    CHECK_NEAR(duet_gnsdr_value(&g), (4.0 * 100 + 1.0 * 300) / 400, 1e-12);
    CHECK_NEAR(duet_gsir_value(&g), (10.0 * 100 + 6.0 * 300) / 400, 1e-12);
    CHECK_NEAR(duet_gsar_value(&g), 8.0, 1e-12);
    duet_gnsdr_add(&g, NAN, 1.0, 1.0, 1.0, 50);
    CHECK(g.skipped == 1);
    CHECK_NEAR(duet_gnsdr_value(&g), 1.75, 1e-12);
}

/* The double FFT against a direct DFT, and the inverse round trip. */
static void test_dfft(void)
{
    const int m = 64;
    double x[64], spec[66], y[64];
    unsigned s = 7;
    for (int i = 0; i < m; i++) x[i] = (double)((s = s * 1103515245u + 12345u) >> 8) / 16777216.0 - 0.5;
    duet_dfft *p;
    REQUIRE(duet_dfft_new(m, &p, NULL) == DUET_OK);
    duet_dfft_forward(p, x, spec);
    double worst = 0;
    for (int k = 0; k <= m / 2; k++) {
        double re = 0, im = 0;
        for (int n = 0; n < m; n++) {
            re += x[n] * cos(2 * 3.14159265358979323846 * k * n / m);
            im -= x[n] * sin(2 * 3.14159265358979323846 * k * n / m);
        }
        worst = fmax(worst, fmax(fabs(re - spec[2 * k]), fabs(im - spec[2 * k + 1])));
    }
    CHECK_MSG(worst < 1e-12, "forward error %g", worst);
    duet_dfft_inverse(p, spec, y);
    worst = 0;
    for (int i = 0; i < m; i++) worst = fmax(worst, fabs(y[i] - x[i]));
    CHECK_MSG(worst < 1e-14, "round trip error %g", worst);
    duet_dfft_free(p);
    CHECK(duet_dfft_new(48, &p, NULL) == DUET_ERR_ARG);
}

int main(void)
{
    RUN(test_dfft);
    RUN(test_golden_sources);
    RUN(test_golden_permutation);
    RUN(test_golden_images);
    RUN(test_bad_input);
    RUN(test_mir_eval_regression);
    return check_summary();
}
