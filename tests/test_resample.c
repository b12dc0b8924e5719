/* tests/test_resample.c: duet_audio_resample: exact output lengths, time
 * alignment (no converter delay) for every quality, the 44.1k -> 22.05k ->
 * 44.1k round trip of band-limited content, and bad arguments. */
#include "check.h"
#include "../audio/audio.h"
#include "../common/rng.h"

#define PI 3.14159265358979323846

static void test_exact_lengths(void)
{
    const int64_t lens[] = {0, 1, 2, 3, 7, 100, 4409, 4410, 4411};
    const int rates[] = {8000, 16000, 22050, 32000, 44100, 48000, 96000, 11025};
    for (int q = 0; q < 4; q++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
            for (size_t ri = 0; ri < sizeof rates / sizeof rates[0]; ri++) {
                duet_audio a, b;
                REQUIRE(duet_audio_alloc(&a, 2, lens[li], 44100) == DUET_OK);
                for (int64_t i = 0; i < a.frames; i++) a.ch[0][i] = a.ch[1][i] = (float)sin(0.01 * (double)i);
                duet_err e = {0};
                duet_status st = duet_audio_resample(&a, rates[ri], (duet_resample_quality)q, &b, &e);
                CHECK_MSG(st == DUET_OK, "%s", e.msg);
                int64_t want = llround((double)lens[li] * rates[ri] / 44100.0);
                CHECK_MSG(b.frames == want, "q %d: %lld frames at 44100 -> %d: got %lld, want %lld", q,
                          (long long)lens[li], rates[ri], (long long)b.frames, (long long)want);
                CHECK(b.channels == 2 && b.sample_rate == rates[ri]);
                int finite = 1;
                for (int c = 0; c < b.channels; c++)
                    for (int64_t i = 0; i < b.frames; i++) finite &= isfinite(b.ch[c][i]) != 0;
                CHECK(finite);
                duet_audio_free(&a);
                duet_audio_free(&b);
            }
}

/* A Gaussian-windowed 1 kHz tone centred at t0 samples: after resampling, the
 * energy centroid must sit at t0 * ratio (no delay), for every quality. */
static void test_time_alignment(void)
{
    const int rates[] = {16000, 22050, 48000, 88200};
    for (int q = 0; q < 4; q++)
        for (size_t ri = 0; ri < sizeof rates / sizeof rates[0]; ri++) {
            duet_audio a, b;
            REQUIRE(duet_audio_alloc(&a, 1, 20000, 44100) == DUET_OK);
            const double t0 = 9000.3;
            for (int64_t i = 0; i < a.frames; i++) {
                double d = ((double)i - t0) / 1500.0;
                a.ch[0][i] = (float)(exp(-d * d) * sin(2 * PI * 1000.0 * (double)i / 44100.0));
            }
            REQUIRE(duet_audio_resample(&a, rates[ri], (duet_resample_quality)q, &b, NULL) == DUET_OK);
            double num = 0, den = 0;
            for (int64_t i = 0; i < b.frames; i++) {
                double p = (double)b.ch[0][i] * b.ch[0][i];
                num += p * (double)i;
                den += p;
            }
            double ratio = rates[ri] / 44100.0;
            double off = num / den - t0 * ratio;
            CHECK_MSG(fabs(off) < 0.02, "quality %d, 44100 -> %d: centroid off by %.4f output samples", q,
                      rates[ri], off);
            duet_audio_free(&a);
            duet_audio_free(&b);
        }
}

/* 44.1 kHz -> 22.05 kHz -> 44.1 kHz of content below 8 kHz with a slow fade
 * in and out: the signal must come back sample for sample. */
static void test_roundtrip_bandlimited(void)
{
    duet_rng rng;
    duet_rng_seed(&rng, 5);
    duet_audio a;
    const int64_t n = 44100;
    REQUIRE(duet_audio_alloc(&a, 2, n, 44100) == DUET_OK);
    double fr[12], ph[12];
    for (int k = 0; k < 12; k++) {
        fr[k] = 50.0 + 7900.0 * duet_rng_uniform_d(&rng);
        ph[k] = 2 * PI * duet_rng_uniform_d(&rng);
    }
    for (int c = 0; c < 2; c++)
        for (int64_t i = 0; i < n; i++) {
            double t = (double)i / 44100.0, v = 0;
            for (int k = 0; k < 12; k++) v += sin(2 * PI * fr[k] * t + ph[k] + c);
            double fade = i < 2205 ? (double)i / 2205 : i > n - 2205 ? (double)(n - i) / 2205 : 1.0;
            fade = 0.5 - 0.5 * cos(PI * fade);
            a.ch[c][i] = (float)(0.06 * v * fade);
        }
    const double bound[3] = {1e-6, 1e-5, 5e-3}; /* max abs error per quality, signal peak ~0.5 */
    const char *names[3] = {"best", "high", "fast"};
    for (int q = 0; q < 3; q++) {
        duet_audio h, b;
        REQUIRE(duet_audio_resample(&a, 22050, (duet_resample_quality)q, &h, NULL) == DUET_OK);
        REQUIRE(duet_audio_resample(&h, 44100, (duet_resample_quality)q, &b, NULL) == DUET_OK);
        CHECK(h.frames == n / 2 && b.frames == n);
        double peak, rms;
        duet_audio_stats(&a, &peak, &rms);
        double maxe = 0, se = 0;
        for (int c = 0; c < 2; c++)
            for (int64_t i = 0; i < n; i++) {
                double d = fabs((double)b.ch[c][i] - a.ch[c][i]);
                if (d > maxe) maxe = d;
                se += d * d;
            }
        double rmse = sqrt(se / (2.0 * n));
        printf("# 44.1k -> 22.05k -> 44.1k (%s): max abs error %.3g, RMS error %.3g (signal peak %.3f, "
               "RMS %.3f, SNR %.1f dB)\n", names[q], maxe, rmse, peak, rms, 20 * log10(rms / rmse));
        CHECK_MSG(maxe < bound[q], "%s: max error %g over %g", names[q], maxe, bound[q]);
        duet_audio_free(&h);
        duet_audio_free(&b);
    }
    duet_audio_free(&a);
}

static void test_same_rate_and_bad_args(void)
{
    duet_audio a, b;
    REQUIRE(duet_audio_alloc(&a, 1, 5, 16000) == DUET_OK);
    for (int i = 0; i < 5; i++) a.ch[0][i] = (float)i * 0.1f;
    REQUIRE(duet_audio_resample(&a, 16000, DUET_RESAMPLE_HIGH, &b, NULL) == DUET_OK);
    CHECK(b.frames == 5 && memcmp(a.ch[0], b.ch[0], 5 * sizeof(float)) == 0);
    CHECK(b.ch[0] != a.ch[0]);
    duet_audio_free(&b);
    duet_err e = {0};
    CHECK(duet_audio_resample(&a, 0, DUET_RESAMPLE_HIGH, &b, &e) == DUET_ERR_ARG && b.ch == NULL);
    CHECK(duet_audio_resample(&a, -44100, DUET_RESAMPLE_HIGH, &b, &e) == DUET_ERR_ARG);
    CHECK(duet_audio_resample(&a, 16000 * 300, DUET_RESAMPLE_HIGH, &b, &e) == DUET_ERR_ARG);
    CHECK(strstr(e.msg, "beyond") != NULL);
    CHECK(duet_audio_resample(&a, 50, DUET_RESAMPLE_HIGH, &b, &e) == DUET_ERR_ARG);
    CHECK(duet_audio_resample(&a, 8000, (duet_resample_quality)9, &b, &e) == DUET_ERR_ARG);
    duet_audio bad = a;
    bad.sample_rate = 0;
    CHECK(duet_audio_resample(&bad, 8000, DUET_RESAMPLE_HIGH, &b, &e) == DUET_ERR_ARG);
    /* extreme but legal ratio */
    REQUIRE(duet_audio_resample(&a, 16000 * 256, DUET_RESAMPLE_FAST, &b, &e) == DUET_OK);
    CHECK(b.frames == 5 * 256);
    duet_audio_free(&b);
    duet_audio_free(&a);
}

typedef struct {
    duet_audio *a; /* preallocated, frames = capacity */
    int64_t n;
    int abort_after;
} sink;

static int sink_cb(void *user, const float *const *ch, int64_t n)
{
    sink *k = user;
    if (k->n + n > k->a->frames) return 1;
    for (int c = 0; c < k->a->channels; c++) memcpy(k->a->ch[c] + k->n, ch[c], sizeof(float) * (size_t)n);
    k->n += n;
    return k->abort_after > 0 && k->n >= k->abort_after;
}

/* The streaming resampler gives the whole-signal result for random chunk sizes. */
static void test_streaming_equals_whole(void)
{
    duet_rng rng;
    duet_rng_seed(&rng, 77);
    const int64_t lens[] = {0, 1, 5, 1000, 12007};
    const int rates[] = {16000, 22050, 48000, 44100};
    double worst = 0;
    for (int q = 0; q < 4; q++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
            for (size_t ri = 0; ri < sizeof rates / sizeof rates[0]; ri++) {
                duet_audio a, w, got;
                REQUIRE(duet_audio_alloc(&a, 2, lens[li], 44100) == DUET_OK);
                for (int64_t i = 0; i < a.frames; i++) {
                    a.ch[0][i] = 0.3f * (float)sin(0.031 * (double)i) + 0.05f * duet_rng_normal(&rng);
                    a.ch[1][i] = 0.3f * (float)cos(0.007 * (double)i);
                }
                REQUIRE(duet_audio_resample(&a, rates[ri], (duet_resample_quality)q, &w, NULL) == DUET_OK);
                REQUIRE(duet_audio_alloc(&got, 2, w.frames + 8, rates[ri]) == DUET_OK);
                sink k = {&got, 0, 0};
                duet_resampler *r;
                REQUIRE(duet_resampler_new(2, 44100, rates[ri], (duet_resample_quality)q, sink_cb, &k, &r, NULL) ==
                        DUET_OK);
                for (int64_t pos = 0; pos < a.frames;) {
                    int64_t m = (int64_t)duet_rng_below(&rng, 5000);
                    if (m > a.frames - pos) m = a.frames - pos;
                    const float *chp[2] = {a.ch[0] + pos, a.ch[1] + pos};
                    CHECK(duet_resampler_feed(r, chp, m, NULL) == DUET_OK);
                    pos += m;
                }
                CHECK(duet_resampler_finish(r, NULL) == DUET_OK);
                CHECK(duet_resampler_feed(r, NULL, 0, NULL) == DUET_ERR_ARG);
                duet_resampler_free(r);
                CHECK_MSG(k.n == w.frames, "q %d n %lld -> %d Hz: streamed %lld frames, whole %lld", q,
                          (long long)lens[li], rates[ri], (long long)k.n, (long long)w.frames);
                if (k.n == w.frames)
                    for (int c = 0; c < 2; c++) {
                        double d = check_max_abs_diff(got.ch[c], w.ch[c], (size_t)w.frames);
                        if (d > worst) worst = d;
                        CHECK_MSG(d <= 1e-6, "q %d n %lld -> %d Hz: max diff %g", q, (long long)lens[li], rates[ri], d);
                    }
                duet_audio_free(&a);
                duet_audio_free(&w);
                duet_audio_free(&got);
            }
    printf("# streamed vs whole-signal resampling: max abs difference %.3g\n", worst);
    /* abort from the callback, bad arguments */
    duet_audio a;
    REQUIRE(duet_audio_alloc(&a, 1, 10000, 44100) == DUET_OK);
    sink k = {&a, 0, 100};
    duet_resampler *r;
    REQUIRE(duet_resampler_new(1, 22050, 44100, DUET_RESAMPLE_HIGH, sink_cb, &k, &r, NULL) == DUET_OK);
    const float *chp[1] = {a.ch[0]};
    duet_err e = {0};
    CHECK(duet_resampler_feed(r, chp, 4000, &e) == DUET_ERR_ARG);
    CHECK(strstr(e.msg, "aborted") != NULL);
    duet_resampler_free(r);
    CHECK(duet_resampler_new(0, 44100, 16000, DUET_RESAMPLE_HIGH, sink_cb, &k, &r, &e) == DUET_ERR_ARG);
    CHECK(duet_resampler_new(1, 44100, 0, DUET_RESAMPLE_HIGH, sink_cb, &k, &r, &e) == DUET_ERR_ARG);
    CHECK(duet_resampler_new(1, 44100, 100, DUET_RESAMPLE_HIGH, sink_cb, &k, &r, &e) == DUET_ERR_ARG);
    CHECK(duet_resampler_new(1, 44100, 16000, (duet_resample_quality)5, sink_cb, &k, &r, &e) == DUET_ERR_ARG);
    CHECK(duet_resampler_new(1, 44100, 16000, DUET_RESAMPLE_HIGH, NULL, &k, &r, &e) == DUET_ERR_ARG);
    duet_resampler_free(NULL);
    duet_audio_free(&a);
}

int main(void)
{
    RUN(test_exact_lengths);
    RUN(test_time_alignment);
    RUN(test_roundtrip_bandlimited);
    RUN(test_same_rate_and_bad_args);
    RUN(test_streaming_equals_whole);
    return check_summary();
}
