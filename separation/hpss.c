/* separation/hpss.c: median-filtering harmonic/percussive separation
 * (D. Fitzgerald, "Harmonic/percussive separation using median filtering",
 * DAFx 2010), used twice to pull out the singing voice (the two-stage idea
 * of Fitzgerald and Gainza 2010 and Tachibana et al. 2010):
 *
 * Stage 1, short window (n_fft = power of two nearest 32 ms: 512 at 16 kHz,
 *   hop n_fft/4): harmonic = median over 17 frames along time, percussive =
 *   median over 17 bins along frequency, soft masks H^2/(H^2+P^2). At this
 *   resolution the voice's partials look steady, so voice + pitched
 *   instruments go to the harmonic part h1; drums to the percussive part.
 * Stage 2, long window (nearest 256 ms: 4096 at 16 kHz, hop n_fft/4), on
 *   h1 with the same median lengths: the voice's vibrato and glides smear
 *   across frequency over a long frame, so it lands in the percussive part,
 *   while sustained instruments stay harmonic.
 * Vocals = stage-2 percussive part; accompaniment = mixture - vocals (=
 * stage-1 percussive + stage-2 harmonic). Medians at the edges use the
 * frames/bins that exist (the window is cut, not padded). */
#include "separators.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HPSS_MED_LEN 17

typedef struct hpss_ctx {
    int want_percussive; /* mask to return: 0 = harmonic, 1 = percussive */
} hpss_ctx;

static void sort_small(float *v, int m)
{
    for (int i = 1; i < m; i++) {
        float t = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > t) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = t;
    }
}

static float med_small(float *v, int m)
{
    sort_small(v, m);
    return (m % 2) ? v[m / 2] : 0.5f * (v[m / 2 - 1] + v[m / 2]);
}

static duet_status hpss_mask(void *vctx, const duet_audio *mix, float *const *spec, int64_t T64, int F,
                             float *const *mask, duet_err *err)
{
    hpss_ctx *h = vctx;
    int T = (int)T64, half = HPSS_MED_LEN / 2;
    size_t sz = (size_t)T * F;
    float *mag = malloc(sizeof(float) * sz);
    if (!mag) return duet_err_set(err, DUET_ERR_NOMEM, "hpss: out of memory");
    float buf[HPSS_MED_LEN];
    for (int c = 0; c < mix->channels; c++) {
        for (size_t i = 0; i < sz; i++) mag[i] = hypotf(spec[c][2 * i], spec[c][2 * i + 1]);
        for (int t = 0; t < T; t++)
            for (int k = 0; k < F; k++) {
                int m = 0;
                for (int u = t - half; u <= t + half; u++)
                    if (u >= 0 && u < T) buf[m++] = mag[(size_t)u * F + k];
                float H = med_small(buf, m);
                m = 0;
                for (int q = k - half; q <= k + half; q++)
                    if (q >= 0 && q < F) buf[m++] = mag[(size_t)t * F + q];
                float P = med_small(buf, m);
                double h2 = (double)H * H, p2 = (double)P * P;
                double mh = h2 + p2 > 0 ? h2 / (h2 + p2) : 0.5;
                mask[c][(size_t)t * F + k] = (float)(h->want_percussive ? 1.0 - mh : mh);
            }
    }
    free(mag);
    return DUET_OK;
}

static duet_status hpss_run(void *state, const duet_sep_input *in, duet_audio *v, duet_audio *a, duet_err *err)
{
    (void)state;
    memset(v, 0, sizeof *v);
    memset(a, 0, sizeof *a);
    duet_status st = duet_sep_check_input(NULL, in, err);
    if (st) return st;
    const duet_audio *mix = in->mixture;
    int n1 = duet_sep_nfft_for(mix->sample_rate, 0.032), n2 = duet_sep_nfft_for(mix->sample_rate, 0.256);
    duet_audio h1, p1, h2;
    hpss_ctx harm = {0}, perc = {1};
    st = duet_sep_apply_mask(mix, n1, n1 / 4, hpss_mask, &harm, &h1, &p1, err);
    if (st) return st;
    duet_audio_free(&p1);
    st = duet_sep_apply_mask(&h1, n2, n2 / 4, hpss_mask, &perc, v, &h2, err);
    duet_audio_free(&h1);
    if (st) return st;
    duet_audio_free(&h2);
    if (duet_audio_alloc(a, mix->channels, mix->frames, mix->sample_rate)) {
        duet_audio_free(v);
        return duet_err_set(err, DUET_ERR_NOMEM, "hpss: out of memory");
    }
    for (int c = 0; c < mix->channels; c++)
        for (int64_t i = 0; i < mix->frames; i++) a->ch[c][i] = mix->ch[c][i] - v->ch[c][i];
    return DUET_OK;
}

const duet_separator duet_sep_hpss = {"hpss", "two-stage median-filtering HPSS: short then long window (Fitzgerald 2010)",
                                      0, 0, NULL, hpss_run, NULL, NULL, NULL, NULL, NULL, NULL};
