/* tests/test_stft.c: audio/stft.h against golden torch.stft / torch.istft /
 * scipy.signal.stft outputs (fixtures/stft/, made by fixtures/gen_stft.py),
 * perfect reconstruction for many lengths, and streaming == whole-signal. */
#include "check.h"
#include "../audio/stft.h"
#include "../common/rng.h"

#include <stdint.h>

#define SIG_N 5000

/* Read exactly n little-endian float32 values (this test runs on little-endian hosts). */
static float *load_f32(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "  cannot open %s\n", path);
        return NULL;
    }
    float *v = malloc(n * sizeof *v + 1);
    size_t got = fread(v, sizeof *v, n, f);
    int extra = fgetc(f);
    fclose(f);
    if (got != n || extra != EOF) {
        fprintf(stderr, "  %s: expected exactly %zu floats\n", path, n);
        free(v);
        return NULL;
    }
    return v;
}

/* max |a-b| / max |b| over n floats */
static double rel_err(const float *a, const float *b, size_t n, double *abs_out)
{
    double m = 0, ref = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m || d != d) m = d != d ? INFINITY : d;
        if (fabs(b[i]) > ref) ref = fabs(b[i]);
    }
    if (abs_out) *abs_out = m;
    return ref > 0 ? m / ref : m;
}

static void golden_case(const char *name, int nfft, int hop, duet_window win, size_t n_sig)
{
    float *x = load_f32(FIXTURE("stft/signal.f32"), SIG_N);
    REQUIRE(x);
    duet_stft *s;
    REQUIRE(duet_stft_new(nfft, hop, win, &s, NULL) == DUET_OK);
    int64_t T = duet_stft_n_frames(s, (int64_t)n_sig);
    size_t fl = (size_t)T * (size_t)duet_stft_n_bins(s) * 2;
    char path[256];
    snprintf(path, sizeof path, "fixtures/stft/%s.f32", name);
    float *ref = load_f32(path, fl);
    float *spec = malloc(fl * sizeof *spec);
    CHECK(duet_stft_forward(s, x, (int64_t)n_sig, spec, NULL) == DUET_OK);
    if (ref) {
        double ab, re = rel_err(spec, ref, fl, &ab);
        printf("# %s vs torch.stft: %lld frames, max abs err %.3g, relative to max |X| %.3g\n", name,
               (long long)T, ab, re);
        CHECK_MSG(re < 2e-6, "%s: relative error %g", name, re);
    }
    free(ref);
    free(spec);
    duet_stft_free(s);
    free(x);
}

static void test_golden_torch(void)
{
    golden_case("torch_2048_512", 2048, 512, DUET_WIN_HANN, SIG_N);
    golden_case("torch_4096_1024", 4096, 1024, DUET_WIN_HANN, SIG_N);
    golden_case("torchsqrt_2048_512", 2048, 512, DUET_WIN_SQRT_HANN, SIG_N);
    golden_case("short_torch_2048_512", 2048, 512, DUET_WIN_HANN, 300);
}

/* scipy.signal.stft (boundary="zeros", padded=True, scaling "spectrum"):
 * frame t is torch's frame t divided by sum(window) = n_fft / 2. */
static void test_golden_scipy(void)
{
    float *x = load_f32(FIXTURE("stft/signal.f32"), SIG_N);
    REQUIRE(x);
    const int cfg[2][2] = {{2048, 512}, {4096, 1024}};
    for (int c = 0; c < 2; c++) {
        int nfft = cfg[c][0], hop = cfg[c][1];
        duet_stft *s;
        REQUIRE(duet_stft_new(nfft, hop, DUET_WIN_HANN, &s, NULL) == DUET_OK);
        int64_t T = duet_stft_n_frames(s, SIG_N);
        int K = duet_stft_n_bins(s);
        /* SciPy's padded=True adds frames: ceil((N + nfft/2*2 - nfft) / hop) + 1 */
        int64_t Ts = (SIG_N + hop - 1) / hop + 1;
        char path[128];
        snprintf(path, sizeof path, "fixtures/stft/scipy_%d_%d.f32", nfft, hop);
        float *ref = load_f32(path, (size_t)Ts * (size_t)K * 2);
        float *spec = malloc(sizeof(float) * (size_t)T * (size_t)K * 2);
        CHECK(duet_stft_forward(s, x, SIG_N, spec, NULL) == DUET_OK);
        if (ref) {
            size_t fl = (size_t)T * (size_t)K * 2;
            for (size_t i = 0; i < fl; i++) spec[i] /= (float)(nfft / 2);
            double ab, re = rel_err(spec, ref, fl, &ab);
            printf("# %d/%d vs scipy.signal.stft (x 1/sum(w), first %lld of %lld frames): max abs err %.3g, "
                   "relative %.3g\n", nfft, hop, (long long)T, (long long)Ts, ab, re);
            CHECK_MSG(re < 2e-6, "relative error %g", re);
        }
        free(ref);
        free(spec);
        duet_stft_free(s);
    }
    free(x);
}

/* ISTFT of a masked spectrogram (not the STFT of any signal) against torch.istft. */
static void test_golden_istft(void)
{
    float *x = load_f32(FIXTURE("stft/signal.f32"), SIG_N);
    REQUIRE(x);
    const int cfg[2][2] = {{2048, 512}, {4096, 1024}};
    for (int c = 0; c < 2; c++) {
        int nfft = cfg[c][0], hop = cfg[c][1];
        duet_stft *s;
        REQUIRE(duet_stft_new(nfft, hop, DUET_WIN_HANN, &s, NULL) == DUET_OK);
        int64_t T = duet_stft_n_frames(s, SIG_N);
        int K = duet_stft_n_bins(s);
        float *spec = malloc(sizeof(float) * (size_t)T * (size_t)K * 2);
        float *y = malloc(sizeof(float) * SIG_N);
        char path[128];
        snprintf(path, sizeof path, "fixtures/stft/istft_torch_%d_%d.f32", nfft, hop);
        float *ref = load_f32(path, SIG_N);
        CHECK(duet_stft_forward(s, x, SIG_N, spec, NULL) == DUET_OK);
        for (int64_t t = 0; t < T; t++)
            for (int k = 0; k < K; k++) {
                float m = (float)(0.5 + 0.5 * cos(0.01 * k + 0.3 * (double)t));
                spec[(t * K + k) * 2] *= m;
                spec[(t * K + k) * 2 + 1] *= m;
            }
        CHECK(duet_stft_inverse(s, spec, T, y, SIG_N, NULL) == DUET_OK);
        if (ref) {
            double ab, re = rel_err(y, ref, SIG_N, &ab);
            printf("# %d/%d masked ISTFT vs torch.istft: max abs err %.3g, relative %.3g\n", nfft, hop, ab, re);
            CHECK_MSG(re < 1e-5, "relative error %g", re);
        }
        free(ref);
        free(y);
        free(spec);
        duet_stft_free(s);
    }
    free(x);
}

static void test_roundtrip_lengths(void)
{
    const int cfg[3][3] = {{2048, 512, DUET_WIN_HANN}, {4096, 1024, DUET_WIN_HANN}, {2048, 512, DUET_WIN_SQRT_HANN}};
    const int64_t lens[] = {1, 2, 3, 100, 511, 512, 513, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 4097,
                            10000, 44100 + 7};
    duet_rng rng;
    duet_rng_seed(&rng, 99);
    double worst = 0;
    for (int c = 0; c < 3; c++) {
        duet_stft *s;
        REQUIRE(duet_stft_new(cfg[c][0], cfg[c][1], (duet_window)cfg[c][2], &s, NULL) == DUET_OK);
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            int64_t n = lens[li];
            int64_t T = duet_stft_n_frames(s, n);
            CHECK(T == 1 + n / cfg[c][1]);
            float *x = malloc(sizeof(float) * (size_t)n);
            float *y = malloc(sizeof(float) * (size_t)n);
            float *spec = malloc(sizeof(float) * (size_t)T * (size_t)duet_stft_n_bins(s) * 2);
            for (int64_t i = 0; i < n; i++) x[i] = duet_rng_normal(&rng) * 0.3f;
            CHECK(duet_stft_forward(s, x, n, spec, NULL) == DUET_OK);
            CHECK(duet_stft_inverse(s, spec, T, y, n, NULL) == DUET_OK);
            double re = rel_err(y, x, (size_t)n, NULL);
            if (re > worst) worst = re;
            CHECK_MSG(re <= 1e-5, "n_fft %d hop %d n %lld: relative error %g", cfg[c][0], cfg[c][1], (long long)n, re);
            free(x);
            free(y);
            free(spec);
        }
        duet_stft_free(s);
    }
    printf("# ISTFT(STFT(x)) worst relative error over %zu lengths x 3 settings: %.3g\n",
           sizeof lens / sizeof lens[0], worst);
    /* n = 0: one (all-zero) frame, empty output */
    duet_stft *s;
    REQUIRE(duet_stft_new(2048, 512, DUET_WIN_HANN, &s, NULL) == DUET_OK);
    float spec[1025 * 2];
    spec[7] = 1.0f;
    CHECK(duet_stft_n_frames(s, 0) == 1);
    CHECK(duet_stft_forward(s, NULL, 0, spec, NULL) == DUET_OK);
    CHECK(spec[7] == 0.0f);
    CHECK(duet_stft_inverse(s, spec, 1, NULL, 0, NULL) == DUET_OK);
    duet_stft_free(s);
}

typedef struct {
    float *spec;
    int64_t frames, cap;
    size_t fsz;
    int abort_at;
} collect;

static int collect_frame(void *user, int64_t t, const float *frame)
{
    collect *c = user;
    if (t != c->frames || t >= c->cap) return 1;
    memcpy(c->spec + (size_t)t * c->fsz, frame, c->fsz * sizeof(float));
    c->frames++;
    return c->abort_at >= 0 && t == c->abort_at;
}

typedef struct {
    float *y;
    int64_t n, cap;
} collect_out;

static int collect_samples(void *user, const float *y, int64_t n)
{
    collect_out *c = user;
    if (c->n + n > c->cap) return 1;
    memcpy(c->y + c->n, y, (size_t)n * sizeof(float));
    c->n += n;
    return 0;
}

static void test_streaming_equals_whole(void)
{
    duet_rng rng;
    duet_rng_seed(&rng, 2024);
    const int cfg[2][2] = {{2048, 512}, {4096, 1024}};
    const int64_t lens[] = {0, 1, 300, 2048, 5000, 70001};
    for (int c = 0; c < 2; c++) {
        duet_stft *s;
        REQUIRE(duet_stft_new(cfg[c][0], cfg[c][1], DUET_WIN_HANN, &s, NULL) == DUET_OK);
        size_t fsz = (size_t)duet_stft_n_bins(s) * 2;
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            int64_t n = lens[li], T = duet_stft_n_frames(s, n);
            float *x = malloc(sizeof(float) * (size_t)(n + 1));
            for (int64_t i = 0; i < n; i++) x[i] = duet_rng_normal(&rng);
            float *whole = malloc(sizeof(float) * (size_t)T * fsz);
            REQUIRE(duet_stft_forward(s, x, n, whole, NULL) == DUET_OK);
            collect col = {malloc(sizeof(float) * (size_t)T * fsz), 0, T, fsz, -1};
            duet_stft_stream *st;
            REQUIRE(duet_stft_stream_new(s, collect_frame, &col, &st, NULL) == DUET_OK);
            for (int64_t pos = 0; pos < n;) {
                int64_t k = (int64_t)duet_rng_below(&rng, 3000); /* includes 0-length chunks */
                if (k > n - pos) k = n - pos;
                CHECK(duet_stft_stream_feed(st, x + pos, k, NULL) == DUET_OK);
                pos += k;
            }
            CHECK(duet_stft_stream_finish(st, NULL) == DUET_OK);
            CHECK(duet_stft_stream_finish(st, NULL) == DUET_OK); /* idempotent */
            CHECK(duet_stft_stream_feed(st, x, 1, NULL) == DUET_ERR_ARG);
            duet_stft_stream_free(st);
            CHECK_MSG(col.frames == T, "n %lld: %lld frames streamed, %lld expected", (long long)n,
                      (long long)col.frames, (long long)T);
            CHECK_MSG(memcmp(col.spec, whole, sizeof(float) * (size_t)T * fsz) == 0,
                      "n %lld: streamed STFT differs from whole (max %g)", (long long)n,
                      check_max_abs_diff(col.spec, whole, (size_t)T * fsz));

            /* streaming inverse */
            float *yw = malloc(sizeof(float) * (size_t)(n + 1));
            REQUIRE(duet_stft_inverse(s, whole, T, yw, n, NULL) == DUET_OK);
            collect_out co = {malloc(sizeof(float) * (size_t)(n + 1)), 0, n};
            duet_istft_stream *is;
            REQUIRE(duet_istft_stream_new(s, n, collect_samples, &co, &is, NULL) == DUET_OK);
            for (int64_t t = 0; t < T; t++) CHECK(duet_istft_stream_push(is, whole + (size_t)t * fsz, NULL) == DUET_OK);
            CHECK(duet_istft_stream_finish(is, NULL) == DUET_OK);
            duet_istft_stream_free(is);
            CHECK(co.n == n);
            if (co.n == n)
                CHECK_MSG(memcmp(co.y, yw, sizeof(float) * (size_t)n) == 0, "n %lld: streamed ISTFT differs (max %g)",
                          (long long)n, check_max_abs_diff(co.y, yw, (size_t)n));
            if (n > 0) CHECK(rel_err(co.y, x, (size_t)n, NULL) <= 1e-5);
            free(co.y);
            free(yw);
            free(col.spec);
            free(whole);
            free(x);
        }
        duet_stft_free(s);
    }
}

static void test_stream_abort_and_missing_frames(void)
{
    duet_stft *s;
    REQUIRE(duet_stft_new(256, 64, DUET_WIN_HANN, &s, NULL) == DUET_OK);
    float x[2000];
    for (int i = 0; i < 2000; i++) x[i] = (float)sin(i * 0.05);
    size_t fsz = 129 * 2;
    collect col = {malloc(sizeof(float) * 40 * fsz), 0, 40, fsz, 5};
    duet_stft_stream *st;
    REQUIRE(duet_stft_stream_new(s, collect_frame, &col, &st, NULL) == DUET_OK);
    duet_err e = {0};
    CHECK(duet_stft_stream_feed(st, x, 2000, &e) == DUET_ERR_ARG);
    CHECK(strstr(e.msg, "aborted") != NULL);
    CHECK(col.frames == 6);
    duet_stft_stream_free(st);
    /* inverse with too few frames: uncovered samples are 0, not NaN */
    float y[2000];
    CHECK(duet_stft_inverse(s, col.spec, 6, y, 2000, NULL) == DUET_OK);
    int finite = 1;
    for (int i = 0; i < 2000; i++) finite &= isfinite(y[i]) != 0;
    CHECK(finite);
    CHECK(y[1999] == 0.0f);
    CHECK(fabs(y[100] - x[100]) < 1e-5);
    free(col.spec);
    duet_stft_free(s);
}

static void test_bad_args(void)
{
    duet_stft *s = (duet_stft *)1;
    duet_err e = {0};
    CHECK(duet_stft_new(2047, 512, DUET_WIN_HANN, &s, &e) == DUET_ERR_ARG && s == NULL);
    CHECK(duet_stft_new(2, 1, DUET_WIN_HANN, &s, &e) == DUET_ERR_ARG);
    CHECK(duet_stft_new(2048, 0, DUET_WIN_HANN, &s, &e) == DUET_ERR_ARG);
    CHECK(duet_stft_new(2048, 2048, DUET_WIN_HANN, &s, &e) == DUET_ERR_ARG);
    CHECK(strstr(e.msg, "reconstruction") != NULL);
    CHECK(duet_stft_new(2048, 1025, DUET_WIN_HANN, &s, &e) == DUET_ERR_ARG);
    CHECK(duet_stft_new(2048, 512, (duet_window)7, &s, &e) == DUET_ERR_ARG);
    CHECK(duet_stft_new(2048, 512, DUET_WIN_HANN, NULL, &e) == DUET_ERR_ARG);
    REQUIRE(duet_stft_new(8, 4, DUET_WIN_HANN, &s, &e) == DUET_OK);
    const float *w = duet_stft_window(s);
    CHECK(w[0] == 0.0f && fabs(w[4] - 1.0f) < 1e-7 && fabs(w[2] - 0.5f) < 1e-7); /* periodic */
    float buf[64];
    CHECK(duet_stft_forward(s, NULL, 5, buf, &e) == DUET_ERR_ARG);
    CHECK(duet_stft_forward(s, buf, -1, buf, &e) == DUET_ERR_ARG);
    CHECK(duet_stft_inverse(s, NULL, 2, buf, 4, &e) == DUET_ERR_ARG);
    duet_stft_stream *st;
    CHECK(duet_stft_stream_new(s, NULL, NULL, &st, &e) == DUET_ERR_ARG);
    duet_istft_stream *is;
    CHECK(duet_istft_stream_new(s, -1, collect_samples, NULL, &is, &e) == DUET_ERR_ARG);
    duet_stft_free(s);
    duet_stft_free(NULL);
    duet_stft_stream_free(NULL);
    duet_istft_stream_free(NULL);
}

/* Plans made from several threads at once (the planner is serialised inside). */
static void test_parallel_plans(void)
{
    int bad = 0;
#pragma omp parallel for reduction(+ : bad)
    for (int i = 0; i < 16; i++) {
        duet_stft *s;
        if (duet_stft_new(256 << (i % 4), 64 << (i % 4), DUET_WIN_HANN, &s, NULL) != DUET_OK) {
            bad++;
            continue;
        }
        float x[300], y[300], spec[3 * 1025 * 2 + 1];
        for (int k = 0; k < 300; k++) x[k] = (float)((k * 37 % 101) - 50) / 50.0f;
        int64_t T = duet_stft_n_frames(s, 300);
        if (T * duet_stft_n_bins(s) * 2 > (int64_t)(sizeof spec / sizeof spec[0]) ||
            duet_stft_forward(s, x, 300, spec, NULL) != DUET_OK || duet_stft_inverse(s, spec, T, y, 300, NULL) != DUET_OK)
            bad++;
        else
            for (int k = 0; k < 300; k++) bad += fabsf(x[k] - y[k]) > 1e-5f;
        duet_stft_free(s);
    }
    CHECK(bad == 0);
}

int main(void)
{
    RUN(test_golden_torch);
    RUN(test_golden_scipy);
    RUN(test_golden_istft);
    RUN(test_roundtrip_lengths);
    RUN(test_streaming_equals_whole);
    RUN(test_stream_abort_and_missing_frames);
    RUN(test_bad_args);
    RUN(test_parallel_plans);
    return check_summary();
}
