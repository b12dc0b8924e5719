/* features/mel.c: Slaney mel filterbank, power_to_db and DCT-II (see mel.h;
 * constants from librosa's hz_to_mel: f_sp = 200/3, 1 kHz break, log step
 * log(6.4)/27). */
#include "mel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MEL_F_SP (200.0 / 3.0)
#define MEL_MIN_LOG_HZ 1000.0
#define MEL_MIN_LOG_MEL (MEL_MIN_LOG_HZ / MEL_F_SP)

static double mel_logstep(void) { return log(6.4) / 27.0; }

double duet_hz_to_mel(double hz)
{
    if (hz >= MEL_MIN_LOG_HZ) return MEL_MIN_LOG_MEL + log(hz / MEL_MIN_LOG_HZ) / mel_logstep();
    return hz / MEL_F_SP;
}

double duet_mel_to_hz(double mel)
{
    if (mel >= MEL_MIN_LOG_MEL) return MEL_MIN_LOG_HZ * exp(mel_logstep() * (mel - MEL_MIN_LOG_MEL));
    return MEL_F_SP * mel;
}

struct duet_melfb {
    int n_mels, n_bins;
    int *first;      /* first non-zero bin of band m */
    int *count;      /* number of bins from first */
    size_t *offset;  /* start of band m's weights in w */
    float *w;
    double *center;  /* n_mels centre frequencies */
};

void duet_melfb_free(duet_melfb *fb)
{
    if (!fb) return;
    free(fb->first);
    free(fb->count);
    free(fb->offset);
    free(fb->w);
    free(fb->center);
    free(fb);
}

duet_status duet_melfb_new(int sr, int n_fft, int n_mels, double fmin, double fmax,
                           duet_melfb **out, duet_err *err)
{
    *out = NULL;
    if (sr <= 0 || n_fft < 2 || n_mels < 1 || n_mels > 4096)
        return duet_err_set(err, DUET_ERR_ARG, "mel filterbank: bad sizes (sr %d, n_fft %d, n_mels %d)",
                            sr, n_fft, n_mels);
    if (fmax <= 0) fmax = sr / 2.0;
    if (!(fmin >= 0) || !(fmax > fmin) || fmax > sr / 2.0 + 1e-9)
        return duet_err_set(err, DUET_ERR_ARG, "mel filterbank: bad range [%g, %g] Hz at %d Hz", fmin,
                            fmax, sr);
    int n_bins = n_fft / 2 + 1;
    duet_melfb *fb = calloc(1, sizeof *fb);
    double *edges = malloc((size_t)(n_mels + 2) * sizeof *edges);
    float *dense = malloc((size_t)n_mels * n_bins * sizeof *dense);
    if (!fb || !edges || !dense) goto nomem;
    fb->n_mels = n_mels;
    fb->n_bins = n_bins;
    fb->first = calloc((size_t)n_mels, sizeof *fb->first);
    fb->count = calloc((size_t)n_mels, sizeof *fb->count);
    fb->offset = calloc((size_t)n_mels, sizeof *fb->offset);
    fb->center = calloc((size_t)n_mels, sizeof *fb->center);
    if (!fb->first || !fb->count || !fb->offset || !fb->center) goto nomem;

    double mlo = duet_hz_to_mel(fmin), mhi = duet_hz_to_mel(fmax);
    for (int i = 0; i < n_mels + 2; i++)
        edges[i] = duet_mel_to_hz(mlo + (mhi - mlo) * (double)i / (double)(n_mels + 1));
    size_t total = 0;
    for (int m = 0; m < n_mels; m++) {
        double lo = edges[m], c = edges[m + 1], hi = edges[m + 2];
        double enorm = 2.0 / (hi - lo);
        fb->center[m] = c;
        int first = -1, last = -1;
        for (int k = 0; k < n_bins; k++) {
            double f = (double)sr * k / n_fft;
            double lower = (f - lo) / (c - lo);
            double upper = (hi - f) / (hi - c);
            double v = lower < upper ? lower : upper;
            if (v < 0) v = 0;
            dense[(size_t)m * n_bins + k] = (float)(v * enorm);
            if (v > 0) {
                if (first < 0) first = k;
                last = k;
            }
        }
        if (first < 0) first = last = 0; /* empty band (too narrow): one zero weight */
        fb->first[m] = first;
        fb->count[m] = last - first + 1;
        total += (size_t)fb->count[m];
    }
    fb->w = malloc(total * sizeof *fb->w);
    if (!fb->w) goto nomem;
    size_t off = 0;
    for (int m = 0; m < n_mels; m++) {
        fb->offset[m] = off;
        memcpy(fb->w + off, dense + (size_t)m * n_bins + fb->first[m], (size_t)fb->count[m] * sizeof(float));
        off += (size_t)fb->count[m];
    }
    free(edges);
    free(dense);
    *out = fb;
    return DUET_OK;
nomem:
    free(edges);
    free(dense);
    duet_melfb_free(fb);
    return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
}

int duet_melfb_n_mels(const duet_melfb *fb) { return fb->n_mels; }
int duet_melfb_n_bins(const duet_melfb *fb) { return fb->n_bins; }
double duet_melfb_center_hz(const duet_melfb *fb, int m) { return fb->center[m]; }

void duet_melfb_apply(const duet_melfb *fb, const float *spec, float *mel)
{
    for (int m = 0; m < fb->n_mels; m++) {
        const float *w = fb->w + fb->offset[m];
        const float *s = spec + fb->first[m];
        float acc = 0.0f;
        for (int k = 0; k < fb->count[m]; k++) acc += w[k] * s[k];
        mel[m] = acc;
    }
}

void duet_melfb_dense(const duet_melfb *fb, float *w)
{
    memset(w, 0, (size_t)fb->n_mels * fb->n_bins * sizeof *w);
    for (int m = 0; m < fb->n_mels; m++)
        memcpy(w + (size_t)m * fb->n_bins + fb->first[m], fb->w + fb->offset[m],
               (size_t)fb->count[m] * sizeof *w);
}

void duet_power_to_db(float *x, size_t n, double ref, double amin, double top_db)
{
    const float ref_db = (float)(10.0 * log10(fabs(ref) > amin ? fabs(ref) : amin)), a = (float)amin;
    float mx = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        if (!(v > a)) v = a; /* also maps NaN to amin */
        float db = 10.0f * log10f(v) - ref_db;
        x[i] = db;
        if (db > mx) mx = db;
    }
    if (top_db > 0 && n > 0) {
        float floor_db = (float)(mx - top_db);
        for (size_t i = 0; i < n; i++)
            if (x[i] < floor_db) x[i] = floor_db;
    }
}

void duet_dct2_ortho_matrix(int n_out, int n_in, float *m)
{
    double s0 = sqrt(1.0 / n_in), s = sqrt(2.0 / n_in);
    for (int k = 0; k < n_out; k++)
        for (int j = 0; j < n_in; j++)
            m[(size_t)k * n_in + j] =
                (float)((k == 0 ? s0 : s) * cos(3.14159265358979323846 * k * (2.0 * j + 1.0) / (2.0 * n_in)));
}
