/* tests/test_separators.c: the separators of separation/separators.h.
 * Every method keeps the input's rate, channel count and exact length and
 * gives stems that sum to the mixture; the oracle masks recover a known
 * source; REPET-SIM pulls a non-repeating tone out of a repeating
 * background; HPSS's vocal stem takes a vibrato tone over steady chords and
 * clicks; bad input is refused with the right status; the metrics of
 * separation/sep_eval.h behave (NSDR of the mixture floor = 0, silent
 * reference noted as undefined). */
#include "check.h"
#include "../separation/separators.h"
#include "../separation/sep_eval.h"
#include "../separation/sdr.h"
#include "../common/rng.h"

#define RATE 8000
#define PI_F 3.14159265f

/* a repeating background: a 0.5 s pattern of a chord + noise burst,
 * repeated; a foreground: a gliding tone with vibrato, not repeating */
static void make_song(duet_audio *bg, duet_audio *fg, duet_audio *mix, int channels, int64_t n)
{
    duet_audio_alloc(bg, channels, n, RATE);
    duet_audio_alloc(fg, channels, n, RATE);
    duet_audio_alloc(mix, channels, n, RATE);
    duet_rng r;
    duet_rng_seed(&r, 7);
    int64_t period = RATE / 2;
    float *pat = malloc(sizeof(float) * (size_t)period);
    for (int64_t i = 0; i < period; i++) {
        float t = (float)i / RATE;
        pat[i] = 0.2f * sinf(2 * PI_F * 196.0f * t) + 0.15f * sinf(2 * PI_F * 294.0f * t);
        if (i < RATE / 20) pat[i] += 0.3f * duet_rng_normal(&r) * (1.0f - (float)i / (RATE / 20));
    }
    double ph = 0;
    for (int64_t i = 0; i < n; i++) {
        float t = (float)i / RATE;
        double f = 500.0 + 300.0 * t + 25.0 * sin(2 * 3.14159265 * 5.5 * t);
        ph += 2 * 3.14159265 * f / RATE;
        float v = 0.25f * (float)(sin(ph) + 0.5 * sin(2 * ph));
        for (int c = 0; c < channels; c++) {
            float g = c ? 0.7f : 1.0f;
            bg->ch[c][i] = g * pat[i % period];
            fg->ch[c][i] = (2.0f - g) * v;
            mix->ch[c][i] = bg->ch[c][i] + fg->ch[c][i];
        }
    }
    free(pat);
}

static double si(const duet_audio *ref, const duet_audio *est)
{
    double v = NAN;
    duet_si_sdr((const float *const *)ref->ch, (const float *const *)est->ch, ref->channels, ref->frames, &v, NULL);
    return v;
}

static void test_all_methods_shape_and_sum(void)
{
    duet_audio bg, fg, mix;
    make_song(&bg, &fg, &mix, 2, 3 * RATE + 123);
    duet_sep_input in = {&mix, &fg, &bg};
    int count = 0;
    for (int i = 0; duet_separator_at(i); i++) {
        const duet_separator *s = duet_separator_at(i);
        if (!strcmp(s->name, "model")) continue; /* tested with its weights elsewhere */
        duet_audio v, a;
        duet_err e = {0};
        duet_status st = duet_separate_once(s, NULL, &in, &v, &a, &e);
        CHECK_MSG(st == DUET_OK, "%s: %s", s->name, e.msg);
        if (st) continue;
        count++;
        CHECK(v.frames == mix.frames && a.frames == mix.frames);
        CHECK(v.channels == 2 && a.channels == 2 && v.sample_rate == RATE && a.sample_rate == RATE);
        double worst = 0;
        for (int c = 0; c < 2; c++)
            for (int64_t k = 0; k < mix.frames; k++) {
                double d = fabs((double)v.ch[c][k] + a.ch[c][k] - mix.ch[c][k]);
                if (d > worst || d != d) worst = d != d ? INFINITY : d;
            }
        CHECK_MSG(worst <= 1e-6, "%s: |vocals + accompaniment - mixture| = %g", s->name, worst);
        double sv = si(&fg, &v), sm = si(&fg, &mix);
        printf("# %-12s vocals SI-SDR %6.2f dB (mixture %5.2f)\n", s->name, sv, sm);
        if (!strncmp(s->name, "oracle", 6)) CHECK_MSG(sv > sm + 10, "%s: vocals SI-SDR %.2f", s->name, sv);
        if (!strcmp(s->name, "repet-sim") || !strcmp(s->name, "hpss"))
            CHECK_MSG(sv > sm + 2, "%s: vocals SI-SDR %.2f vs mixture %.2f", s->name, sv, sm);
        if (!strcmp(s->name, "mixture")) CHECK_NEAR(sv, sm, 1e-6);
        duet_audio_free(&v);
        duet_audio_free(&a);
    }
    CHECK(count >= 6);
    duet_audio_free(&bg);
    duet_audio_free(&fg);
    duet_audio_free(&mix);
}

static void test_table(void)
{
    CHECK(duet_separator_find("repet-sim") != NULL && !strcmp(duet_separator_find("repet-sim")->name, "repet-sim"));
    CHECK(duet_separator_find("no-such-method") == NULL);
    CHECK(duet_separator_find(NULL) == NULL);
    const duet_separator *d = duet_separator_default();
    REQUIRE(d);
    CHECK(!d->needs_references);
    CHECK(duet_separator_find("oracle-irm")->needs_references == 1);
    CHECK(duet_sep_nfft_for(16000, 0.064) == 1024);
    CHECK(duet_sep_nfft_for(44100, 0.064) == 4096 || duet_sep_nfft_for(44100, 0.064) == 2048);
}

static void test_bad_input(void)
{
    duet_audio bg, fg, mix, shortv;
    make_song(&bg, &fg, &mix, 1, RATE);
    duet_audio v, a;
    duet_err e = {0};
    const duet_separator *irm = duet_separator_find("oracle-irm"), *rep = duet_separator_find("repet-sim");
    duet_sep_input none = {&mix, NULL, NULL};
    CHECK(duet_separate_once(irm, NULL, &none, &v, &a, &e) == DUET_ERR_ARG);
    CHECK(strstr(e.msg, "needs the reference") != NULL);
    duet_audio_alloc(&shortv, 1, RATE - 1, RATE);
    duet_sep_input mism = {&mix, &shortv, &bg};
    CHECK(duet_separate_once(irm, NULL, &mism, &v, &a, &e) == DUET_ERR_SHAPE);
    mix.ch[0][100] = NAN;
    CHECK(duet_separate_once(rep, NULL, &none, &v, &a, &e) == DUET_ERR_NAN);
    mix.ch[0][100] = 0;
    duet_audio empty;
    duet_audio_alloc(&empty, 1, 0, RATE);
    duet_sep_input emp = {&empty, NULL, NULL};
    CHECK(duet_separate_once(rep, NULL, &emp, &v, &a, &e) == DUET_ERR_EMPTY);
    CHECK(v.ch == NULL && a.ch == NULL);
    /* a very short input (shorter than one STFT window) still works */
    duet_audio tiny;
    duet_audio_alloc(&tiny, 1, 100, RATE);
    for (int i = 0; i < 100; i++) tiny.ch[0][i] = sinf(0.3f * i);
    duet_sep_input ti = {&tiny, NULL, NULL};
    for (int i = 0; duet_separator_at(i); i++) {
        const duet_separator *s = duet_separator_at(i);
        if (s->needs_references || !strcmp(s->name, "model")) continue;
        duet_status st = duet_separate_once(s, NULL, &ti, &v, &a, &e);
        CHECK_MSG(st == DUET_OK, "%s on 100 samples: %s", s->name, e.msg);
        if (!st) {
            CHECK(v.frames == 100);
            duet_audio_free(&v);
            duet_audio_free(&a);
        }
    }
    duet_audio_free(&tiny);
    duet_audio_free(&empty);
    duet_audio_free(&shortv);
    duet_audio_free(&bg);
    duet_audio_free(&fg);
    duet_audio_free(&mix);
}

static void test_eval_track(void)
{
    duet_audio bg, fg, mix;
    make_song(&bg, &fg, &mix, 1, 3 * RATE);
    duet_stems ref = {mix, fg, bg};
    duet_sep_input in = {&mix, &fg, &bg};
    duet_audio v, a;
    REQUIRE(duet_separate_once(duet_separator_find("mixture"), NULL, &in, &v, &a, NULL) == DUET_OK);
    duet_track_eval ev;
    duet_err e = {0};
    REQUIRE(duet_eval_track("song", &ref, &v, &a, NULL, &ev, &e) == DUET_OK);
    CHECK_NEAR(ev.t[0].nsdr, 0.0, 1e-4);
    CHECK_NEAR(ev.t[1].nsdr, 0.0, 1e-4);
    CHECK(ev.t[0].nwin == 3);
    CHECK(!ev.t[0].note[0]);
    duet_track_eval_free(&ev);
    duet_audio_free(&v);
    duet_audio_free(&a);
    REQUIRE(duet_separate_once(duet_separator_find("oracle-irm"), NULL, &in, &v, &a, NULL) == DUET_OK);
    double ms[2];
    REQUIRE(duet_eval_mixture_sdr(&ref, ms, NULL) == DUET_OK);
    REQUIRE(duet_eval_track("song", &ref, &v, &a, ms, &ev, &e) == DUET_OK);
    CHECK(ev.t[0].nsdr > 10 && ev.t[1].nsdr > 10);
    CHECK(ev.t[0].sdr > 10 && isfinite(ev.t[0].v4_sdr) && isfinite(ev.t[0].si_sdr));
    duet_track_eval_free(&ev);
    /* an estimate of the wrong length is refused, naming the stem */
    v.frames--;
    CHECK(duet_eval_track("song", &ref, &v, &a, NULL, &ev, &e) == DUET_ERR_SHAPE);
    CHECK(strstr(e.msg, "vocals estimate") != NULL);
    v.frames++;
    /* a silent vocal reference: BSSEval undefined -> NaN with a note, not an error */
    duet_audio z;
    duet_audio_alloc(&z, 1, mix.frames, RATE);
    duet_stems zref = {mix, z, bg};
    REQUIRE(duet_eval_track("song", &zref, &v, &a, NULL, &ev, &e) == DUET_OK);
    CHECK(isnan(ev.t[0].sdr) && isnan(ev.t[0].si_sdr) && strstr(ev.t[0].note, "silent") != NULL);
    duet_track_eval_free(&ev);
    duet_audio_free(&z);
    duet_audio_free(&v);
    duet_audio_free(&a);
    duet_audio_free(&bg);
    duet_audio_free(&fg);
    duet_audio_free(&mix);
}

int main(void)
{
    RUN(test_table);
    RUN(test_all_methods_shape_and_sum);
    RUN(test_bad_input);
    RUN(test_eval_track);
    return check_summary();
}
