/* features/tempo.c: onset strength, tempogram-based tempo and onset peak
 * picking (see tempo.h; after librosa 0.10's onset_strength, tempo and
 * onset_detect with their default parameters). */
#include "tempo.h"

#include <fftw3.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TEMPO_PI 3.14159265358979323846

void duet_onset_strength(const float *mel_db, int64_t n_frames, int n_mels, int shift, float *env)
{
    for (int64_t t = 0; t < n_frames; t++) {
        int64_t j = t - shift; /* raw flux index: frames j -> j+1 */
        if (j < 0 || j + 1 >= n_frames) {
            env[t] = 0.0f;
            continue;
        }
        const float *a = mel_db + (size_t)j * n_mels, *b = a + n_mels;
        double s = 0;
        for (int m = 0; m < n_mels; m++) {
            float d = b[m] - a[m];
            if (d > 0) s += d;
        }
        env[t] = (float)(s / n_mels);
    }
}

duet_status duet_tempo(const float *env, int64_t n, int sr, int hop, double start_bpm,
                       double std_bpm, double ac_size, double max_tempo, double *bpm,
                       duet_err *err)
{
    *bpm = 0;
    if (sr <= 0 || hop <= 0 || !(start_bpm > 0) || !(std_bpm > 0) || !(ac_size > 0))
        return duet_err_set(err, DUET_ERR_ARG, "tempo: bad parameters");
    int any = 0;
    for (int64_t i = 0; i < n; i++)
        if (env[i] != 0) {
            any = 1;
            break;
        }
    if (!any) return DUET_OK; /* silence: tempo 0 (see tempo.h) */
    int w = (int)floor(floor(ac_size * sr) / hop);
    if (w < 2) return duet_err_set(err, DUET_ERR_ARG, "tempo: autocorrelation window too short");
    int half = w / 2;
    int nfft = 1;
    while (nfft < 2 * w - 1) nfft *= 2;
    size_t np = (size_t)n + 2 * (size_t)half;
    float *pad = malloc(np * sizeof *pad), *win = malloc((size_t)w * sizeof *win);
    float *buf = fftwf_malloc(sizeof(float) * (size_t)nfft);
    fftwf_complex *spec = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(nfft / 2 + 1));
    double *tg = calloc((size_t)w, sizeof *tg);
    fftwf_plan fwd = NULL, inv = NULL;
    if (pad && win && buf && spec && tg) {
#pragma omp critical(duet_fftw_planner)
        {
            fwd = fftwf_plan_dft_r2c_1d(nfft, buf, spec, FFTW_ESTIMATE);
            inv = fftwf_plan_dft_c2r_1d(nfft, spec, buf, FFTW_ESTIMATE);
        }
    }
    duet_status st = DUET_OK;
    if (!pad || !win || !buf || !spec || !tg) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    else if (!fwd || !inv) st = duet_err_set(err, DUET_ERR_INTERNAL, "tempo: FFT planning failed");
    if (st != DUET_OK) goto done;
    /* numpy linear_ramp padding to end value 0 */
    for (int i = 0; i < half; i++) {
        pad[i] = (float)((double)env[0] * i / half);
        pad[(size_t)half + n + i] = (float)((double)env[n - 1] * (half - 1 - i) / half);
    }
    memcpy(pad + half, env, (size_t)n * sizeof *pad);
    for (int i = 0; i < w; i++) win[i] = (float)(0.5 - 0.5 * cos(2.0 * TEMPO_PI * i / w));
    /* per frame: autocorrelation through |FFT|^2 (zero-padded to nfft >=
     * 2w - 1, so no circular wrap), normalised by its lag-0 value */
    for (int64_t t = 0; t < n; t++) {
        const float *src = pad + t;
        for (int i = 0; i < w; i++) buf[i] = src[i] * win[i];
        memset(buf + w, 0, sizeof(float) * (size_t)(nfft - w));
        fftwf_execute_dft_r2c(fwd, buf, spec);
        for (int k = 0; k <= nfft / 2; k++) {
            float re = spec[k][0], im = spec[k][1];
            spec[k][0] = re * re + im * im;
            spec[k][1] = 0;
        }
        fftwf_execute_dft_c2r(inv, spec, buf);
        double a0 = buf[0];
        if (!(a0 > 1e-30 * nfft)) continue; /* an all-zero frame contributes zeros */
        for (int lag = 0; lag < w; lag++) tg[lag] += buf[lag] / a0;
    }
    int best = -1;
    double best_v = -INFINITY;
    for (int lag = 1; lag < w; lag++) {
        double b = 60.0 * sr / ((double)hop * lag);
        if (max_tempo > 0 && !(b < max_tempo)) continue;
        double lp = (log2(b) - log2(start_bpm)) / std_bpm;
        double v = log1p(1e6 * (tg[lag] / (double)n)) - 0.5 * lp * lp;
        if (v > best_v) {
            best_v = v;
            best = lag;
        }
    }
    if (best > 0) *bpm = 60.0 * sr / ((double)hop * best);
done:
    if (fwd || inv) {
#pragma omp critical(duet_fftw_planner)
        {
            if (fwd) fftwf_destroy_plan(fwd);
            if (inv) fftwf_destroy_plan(inv);
        }
    }
    free(pad);
    free(win);
    fftwf_free(buf);
    fftwf_free(spec);
    free(tg);
    return st;
}

int64_t duet_onset_detect(const float *env, int64_t n, int sr, int hop, int64_t *onsets,
                          int64_t cap)
{
    if (n <= 0) return 0;
    float mn = env[0], mx = env[0];
    int any = 0;
    for (int64_t i = 0; i < n; i++) {
        if (env[i] < mn) mn = env[i];
        if (env[i] > mx) mx = env[i];
        if (env[i] != 0) any = 1;
    }
    if (!any) return 0;
    float *x = malloc((size_t)n * sizeof *x);
    double *cs = malloc(((size_t)n + 1) * sizeof *cs);
    if (!x || !cs) {
        free(x);
        free(cs);
        return -1;
    }
    float scale = (mx - mn) + FLT_MIN;
    for (int64_t i = 0; i < n; i++) x[i] = (env[i] - mn) / scale;
    cs[0] = 0;
    for (int64_t i = 0; i < n; i++) cs[i + 1] = cs[i] + x[i];
    int64_t pre_max = (int64_t)ceil(floor(0.03 * sr / hop));
    int64_t post_max = (int64_t)ceil(floor(0.0 * sr / hop) + 1);
    int64_t pre_avg = (int64_t)ceil(floor(0.10 * sr / hop));
    int64_t post_avg = (int64_t)ceil(floor(0.10 * sr / hop) + 1);
    int64_t wait = (int64_t)ceil(floor(0.03 * sr / hop));
    const double delta = 0.07;
    int64_t count = 0, last = INT64_MIN / 2;
    for (int64_t i = 0; i < n; i++) {
        int64_t a = i - pre_max < 0 ? 0 : i - pre_max, b = i + post_max > n ? n : i + post_max;
        float m = x[a];
        for (int64_t j = a + 1; j < b; j++)
            if (x[j] > m) m = x[j];
        if (x[i] != m || !(x[i] > 0)) continue;
        a = i - pre_avg < 0 ? 0 : i - pre_avg;
        b = i + post_avg > n ? n : i + post_avg;
        double avg = (cs[b] - cs[a]) / (double)(b - a);
        if (!((double)x[i] >= avg + delta)) continue;
        if (i > last + wait) {
            if (onsets && count < cap) onsets[count] = i;
            count++;
            last = i;
        }
    }
    free(x);
    free(cs);
    return count;
}
