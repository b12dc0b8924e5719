/* features/pitch.c: YIN f0 estimation (see pitch.h), one FFT
 * autocorrelation per frame through fftw3f. */
#include "pitch.h"

#include <float.h>
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct duet_yin {
    int sr, n, win, hop, min_p, max_p;
    double threshold;
    float *buf;              /* n real samples (FFT input) */
    fftwf_complex *fa, *fb;  /* n/2+1 spectra */
    fftwf_plan fwd, inv;     /* buf -> fa, fa -> buf */
    float *frame;            /* n samples */
    double *d, *cmnd;        /* max_p + 1 */
};

void duet_yin_free(duet_yin *y)
{
    if (!y) return;
#pragma omp critical(duet_fftw_planner)
    {
        if (y->fwd) fftwf_destroy_plan(y->fwd);
        if (y->inv) fftwf_destroy_plan(y->inv);
    }
    fftwf_free(y->buf);
    fftwf_free(y->fa);
    fftwf_free(y->fb);
    free(y->frame);
    free(y->d);
    free(y->cmnd);
    free(y);
}

duet_status duet_yin_new(int sr, double fmin, double fmax, int frame_length, int hop,
                         double threshold, duet_yin **out, duet_err *err)
{
    *out = NULL;
    if (sr <= 0 || !(fmin > 0) || !(fmax > fmin) || fmax > sr / 2.0 || frame_length < 8 ||
        frame_length % 2 || hop < 1)
        return duet_err_set(err, DUET_ERR_ARG, "yin: bad parameters (fmin %g, fmax %g, frame %d, hop %d)",
                            fmin, fmax, frame_length, hop);
    int win = frame_length / 2;
    int min_p = (int)floor(sr / fmax);
    int max_p = (int)ceil(sr / fmin);
    if (max_p > frame_length - win - 1) max_p = frame_length - win - 1;
    if (min_p < 1 || max_p < min_p + 2)
        return duet_err_set(err, DUET_ERR_ARG, "yin: period range [%d, %d] too small for frame %d", min_p,
                            max_p, frame_length);
    duet_yin *y = calloc(1, sizeof *y);
    if (!y) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    y->sr = sr;
    y->n = frame_length;
    y->win = win;
    y->hop = hop;
    y->min_p = min_p;
    y->max_p = max_p;
    y->threshold = threshold;
    int nb = frame_length / 2 + 1;
    y->buf = fftwf_malloc(sizeof(float) * (size_t)frame_length);
    y->fa = fftwf_malloc(sizeof(fftwf_complex) * (size_t)nb);
    y->fb = fftwf_malloc(sizeof(fftwf_complex) * (size_t)nb);
    y->frame = malloc(sizeof(float) * (size_t)frame_length);
    y->d = malloc(sizeof(double) * (size_t)(max_p + 1));
    y->cmnd = malloc(sizeof(double) * (size_t)(max_p + 1));
    if (!y->buf || !y->fa || !y->fb || !y->frame || !y->d || !y->cmnd) {
        duet_yin_free(y);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    /* FFTW's planner is not thread-safe: serialise with the audio layer's
     * critical section of the same name. */
#pragma omp critical(duet_fftw_planner)
    {
        y->fwd = fftwf_plan_dft_r2c_1d(frame_length, y->buf, y->fa, FFTW_ESTIMATE);
        y->inv = fftwf_plan_dft_c2r_1d(frame_length, y->fa, y->buf, FFTW_ESTIMATE);
    }
    if (!y->fwd || !y->inv) {
        duet_yin_free(y);
        return duet_err_set(err, DUET_ERR_INTERNAL, "yin: FFT planning failed");
    }
    *out = y;
    return DUET_OK;
}

int64_t duet_yin_n_frames(const duet_yin *y, int64_t n) { return 1 + n / y->hop; }

/* One frame: returns f0 and sets *has_trough. */
static float yin_frame(duet_yin *y, int *has_trough)
{
    const int n = y->n, W = y->win, min_p = y->min_p, max_p = y->max_p;
    const float *fr = y->frame;
    /* a = rfft(frame); b = rfft(frame[W], frame[W-1], ..., frame[1], 0...) */
    memcpy(y->buf, fr, sizeof(float) * (size_t)n);
    fftwf_execute_dft_r2c(y->fwd, y->buf, y->fa);
    memset(y->buf, 0, sizeof(float) * (size_t)n);
    for (int k = 0; k < W; k++) y->buf[k] = fr[W - k];
    fftwf_execute_dft_r2c(y->fwd, y->buf, y->fb);
    int nb = n / 2 + 1;
    for (int k = 0; k < nb; k++) {
        float ar = y->fa[k][0], ai = y->fa[k][1], br = y->fb[k][0], bi = y->fb[k][1];
        y->fa[k][0] = ar * br - ai * bi;
        y->fa[k][1] = ar * bi + ai * br;
    }
    fftwf_execute_dft_c2r(y->inv, y->fa, y->buf);
    /* energies: e(tau) = sum_{j=tau+1}^{tau+W} y_j^2 */
    double e0 = 0;
    for (int j = 1; j <= W; j++) e0 += (double)fr[j] * fr[j];
    double e = e0;
    double *d = y->d;
    for (int tau = 0; tau <= max_p; tau++) {
        if (tau > 0) e += (double)fr[tau + W] * fr[tau + W] - (double)fr[tau] * fr[tau];
        double acf = y->buf[W + tau] / (double)n;
        if (fabs(acf) < 1e-6) acf = 0;
        double et = fabs(e) < 1e-6 ? 0 : e, e0t = fabs(e0) < 1e-6 ? 0 : e0;
        d[tau] = e0t + et - 2.0 * acf;
    }
    /* cumulative mean normalised difference over [min_p, max_p] */
    double cum = 0;
    double *c = y->cmnd;
    for (int tau = 1; tau <= max_p; tau++) {
        cum += d[tau];
        if (tau >= min_p) c[tau] = d[tau] / (cum / tau + DBL_MIN);
    }
    int L = max_p - min_p + 1;
    const double *v = c + min_p;
    int first = -1, gmin = 0;
    for (int i = 0; i < L; i++) {
        if (v[i] < v[gmin]) gmin = i;
        if (first < 0 && v[i] < y->threshold) {
            int trough;
            if (i == 0) trough = v[0] < v[1];
            else if (i == L - 1) trough = v[i] < v[i - 1];
            else trough = v[i] < v[i - 1] && v[i] <= v[i + 1];
            if (trough) first = i;
        }
    }
    *has_trough = first >= 0;
    int idx = first >= 0 ? first : gmin;
    double shift = 0;
    if (idx > 0 && idx < L - 1) {
        double a = v[idx + 1] + v[idx - 1] - 2 * v[idx];
        double b = (v[idx + 1] - v[idx - 1]) / 2;
        if (fabs(b) < fabs(a)) shift = -b / a;
    }
    return (float)(y->sr / (min_p + idx + shift));
}

duet_status duet_yin_run(duet_yin *y, const float *x, int64_t n, float *f0, unsigned char *trough,
                         duet_err *err)
{
    return duet_yin_run_gated(y, x, n, NULL, f0, trough, err);
}

duet_status duet_yin_run_gated(duet_yin *y, const float *x, int64_t n, const unsigned char *active, float *f0,
                               unsigned char *trough, duet_err *err)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return duet_err_set(err, DUET_ERR_NAN, "yin: non-finite sample at %lld", (long long)i);
    int64_t nf = duet_yin_n_frames(y, n), half = y->n / 2;
    for (int64_t t = 0; t < nf; t++) {
        if (active && !active[t]) {
            f0[t] = 0;
            if (trough) trough[t] = 0;
            continue;
        }
        int64_t start = t * y->hop - half;
        for (int j = 0; j < y->n; j++) {
            int64_t i = start + j;
            y->frame[j] = (i >= 0 && i < n) ? x[i] : 0.0f;
        }
        int has;
        f0[t] = yin_frame(y, &has);
        if (trough) trough[t] = (unsigned char)has;
    }
    return DUET_OK;
}
