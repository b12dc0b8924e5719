/* features/spectral.c: spectral centroid, bandwidth, roll-off, flatness,
 * contrast, chroma, ZCR and RMS (definitions and constants: spectral.h,
 * after librosa 0.10's feature module). */
#include "spectral.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

float duet_spectral_centroid(const float *mag, const float *freq, int n_bins)
{
    double s = 0, sf = 0;
    for (int k = 0; k < n_bins; k++) {
        s += mag[k];
        sf += (double)mag[k] * freq[k];
    }
    return s > 0 ? (float)(sf / s) : 0.0f;
}

float duet_spectral_bandwidth(const float *mag, const float *freq, int n_bins, float centroid)
{
    double s = 0, acc = 0;
    for (int k = 0; k < n_bins; k++) {
        double d = (double)freq[k] - centroid;
        s += mag[k];
        acc += (double)mag[k] * d * d;
    }
    return s > 0 ? (float)sqrt(acc / s) : 0.0f;
}

float duet_spectral_rolloff(const float *mag, const float *freq, int n_bins, double roll_percent)
{
    double total = 0;
    for (int k = 0; k < n_bins; k++) total += mag[k];
    double thr = roll_percent * total, c = 0;
    for (int k = 0; k < n_bins; k++) {
        c += mag[k];
        if (c >= thr) return freq[k];
    }
    return freq[n_bins - 1];
}

float duet_spectral_flatness(const float *mag, int n_bins, double amin)
{
    /* sum of logs as the log of a running product, renormalised with frexp
     * every 16 factors (one log per frame instead of one per bin; 16 factors of
     * at least 1e-10 stay inside the double range) */
    double s = 0, prod = 1.0;
    long expo = 0;
    for (int k = 0; k < n_bins; k++) {
        double p = (double)mag[k] * mag[k];
        if (!(p > amin)) p = amin;
        s += p;
        prod *= p;
        if ((k & 15) == 15) {
            int e;
            prod = frexp(prod, &e);
            expo += e;
        }
    }
    double slog = log(prod) + (double)expo * 0.69314718055994530942;
    double g = exp(slog / n_bins), a = s / n_bins;
    return (float)(g / a);
}

duet_status duet_contrast_bands_init(duet_contrast_bands *b, int sr, int n_fft, double fmin,
                                     int n_bands, double quantile, duet_err *err)
{
    memset(b, 0, sizeof *b);
    if (n_bands < 1 || n_bands > DUET_CONTRAST_MAX_BANDS || !(fmin > 0) || !(quantile > 0) ||
        !(quantile < 1) || sr <= 0 || n_fft < 4)
        return duet_err_set(err, DUET_ERR_ARG, "spectral contrast: bad parameters");
    double oct[DUET_CONTRAST_MAX_BANDS + 2];
    oct[0] = 0;
    for (int i = 1; i < n_bands + 2; i++) oct[i] = fmin * pow(2.0, i - 1);
    for (int i = 0; i < n_bands + 1; i++)
        if (oct[i] >= 0.5 * sr)
            return duet_err_set(err, DUET_ERR_ARG,
                                "spectral contrast: frequency band exceeds Nyquist (%g Hz at %d Hz)",
                                oct[i], sr);
    int n_bins = n_fft / 2 + 1;
    b->n_bands = n_bands;
    for (int r = 0; r <= n_bands; r++) {
        int lo = -1, hi = -1;
        for (int k = 0; k < n_bins; k++) {
            double f = (double)sr * k / n_fft;
            if (f >= oct[r] && f <= oct[r + 1]) {
                if (lo < 0) lo = k;
                hi = k;
            }
        }
        if (lo < 0)
            return duet_err_set(err, DUET_ERR_ARG, "spectral contrast: empty band %d (n_fft too small)", r);
        int sel_lo = lo, sel_hi = hi; /* the mask, as in librosa */
        if (r > 0 && lo > 0) sel_lo = lo - 1;
        if (r == n_bands) sel_hi = n_bins - 1;
        int n_mask = sel_hi - sel_lo + 1;
        int q = (int)rint(quantile * n_mask);
        if (q < 1) q = 1;
        int used = r < n_bands ? n_mask - 1 : n_mask; /* librosa drops the last bin */
        if (used < 1) used = 1;
        if (q > used) q = used;
        b->first[r] = sel_lo;
        b->count[r] = used;
        b->q[r] = q;
    }
    return DUET_OK;
}

/* One pass over a band keeping the q smallest and q largest values in
 * small sorted buffers (q is rint(0.02 * band size): 1..9 at n_fft 2048, so
 * almost every value is rejected by one comparison). */
static void band_extremes(const float *x, int n, int q, float *lo, float *hi, double *sum_lo, double *sum_hi)
{
    int nl = 0, nh = 0;
    for (int i = 0; i < n; i++) {
        float v = x[i];
        if (nl < q || v < lo[nl - 1]) { /* lo ascending */
            int j = nl < q ? nl++ : q - 1;
            while (j > 0 && lo[j - 1] > v) {
                lo[j] = lo[j - 1];
                j--;
            }
            lo[j] = v;
        }
        if (nh < q || v > hi[nh - 1]) { /* hi descending */
            int j = nh < q ? nh++ : q - 1;
            while (j > 0 && hi[j - 1] < v) {
                hi[j] = hi[j - 1];
                j--;
            }
            hi[j] = v;
        }
    }
    double sl = 0, sh = 0;
    for (int i = 0; i < q; i++) {
        sl += lo[i];
        sh += hi[i];
    }
    *sum_lo = sl;
    *sum_hi = sh;
}

void duet_contrast_frame(const duet_contrast_bands *b, const float *mag, float *peak,
                         float *valley, float *scratch)
{
    for (int r = 0; r <= b->n_bands; r++) {
        int n = b->count[r], q = b->q[r];
        double sv, sp;
        band_extremes(mag + b->first[r], n, q, scratch, scratch + q, &sv, &sp);
        valley[r] = (float)(sv / q);
        peak[r] = (float)(sp / q);
    }
}

duet_status duet_chroma_filters(int sr, int n_fft, int n_chroma, float *w, duet_err *err)
{
    if (sr <= 0 || n_fft < 4 || n_chroma < 1 || n_chroma > 120)
        return duet_err_set(err, DUET_ERR_ARG, "chroma filters: bad sizes");
    int n_bins = n_fft / 2 + 1;
    /* frqbins over all n_fft bins (librosa builds n_fft columns, keeps n_bins) */
    double *frq = malloc((size_t)n_fft * sizeof *frq);
    double *bw = malloc((size_t)n_fft * sizeof *bw);
    double *full = malloc((size_t)n_chroma * n_fft * sizeof *full);
    if (!frq || !bw || !full) {
        free(frq);
        free(bw);
        free(full);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    const double a440_over_16 = 440.0 / 16.0;
    for (int k = 1; k < n_fft; k++) {
        double f = (double)sr * k / n_fft;
        frq[k] = n_chroma * log2(f / a440_over_16);
    }
    frq[0] = frq[1] - 1.5 * n_chroma;
    for (int k = 0; k < n_fft - 1; k++) {
        double d = frq[k + 1] - frq[k];
        bw[k] = d > 1.0 ? d : 1.0;
    }
    bw[n_fft - 1] = 1.0;
    double half = rint(n_chroma / 2.0);
    for (int c = 0; c < n_chroma; c++)
        for (int k = 0; k < n_fft; k++) {
            double d = frq[k] - c;
            d = fmod(d + half + 10.0 * n_chroma, (double)n_chroma);
            if (d < 0) d += n_chroma;
            d -= half;
            double z = 2.0 * d / bw[k];
            full[(size_t)c * n_fft + k] = exp(-0.5 * z * z);
        }
    for (int k = 0; k < n_fft; k++) {
        double s = 0;
        for (int c = 0; c < n_chroma; c++) s += full[(size_t)c * n_fft + k] * full[(size_t)c * n_fft + k];
        s = sqrt(s);
        double octw = (frq[k] / n_chroma - 5.0) / 2.0;
        double g = exp(-0.5 * octw * octw);
        for (int c = 0; c < n_chroma; c++) {
            double v = s > 0 ? full[(size_t)c * n_fft + k] / s : 0;
            full[(size_t)c * n_fft + k] = v * g;
        }
    }
    int shift = 3 * (n_chroma / 12); /* np.roll(wts, -shift, axis=0): row c <- row c+shift */
    for (int c = 0; c < n_chroma; c++) {
        int src = (c + shift) % n_chroma;
        for (int k = 0; k < n_bins; k++) w[(size_t)c * n_bins + k] = (float)full[(size_t)src * n_fft + k];
    }
    free(frq);
    free(bw);
    free(full);
    return DUET_OK;
}

void duet_chroma_frame(const float *w, int n_chroma, int n_bins, const float *power, float *chroma)
{
    float mx = 0;
    for (int c = 0; c < n_chroma; c++) {
        const float *row = w + (size_t)c * n_bins;
        float part[8] = {0};
        int k = 0;
        for (; k + 8 <= n_bins; k += 8)
            for (int u = 0; u < 8; u++) part[u] += row[k + u] * power[k + u];
        float acc = 0;
        for (; k < n_bins; k++) acc += row[k] * power[k];
        for (int u = 0; u < 8; u++) acc += part[u];
        chroma[c] = acc;
        if (acc > mx) mx = acc;
    }
    if (mx > 0)
        for (int c = 0; c < n_chroma; c++) chroma[c] /= mx;
}

int64_t duet_frames_centered(int64_t n, int hop) { return 1 + n / hop; }

/* Sample i of the centred signal padded by `pad` on each side. edge = 1:
 * replicate the edge samples, else zeros. */
static inline float padded_at(const float *x, int64_t n, int64_t i, int edge)
{
    if (i < 0) return edge && n > 0 ? x[0] : 0.0f;
    if (i >= n) return edge && n > 0 ? x[n - 1] : 0.0f;
    return x[i];
}

void duet_zcr(const float *x, int64_t n, int frame_length, int hop, float *out)
{
    int64_t nf = duet_frames_centered(n, hop), half = frame_length / 2;
    for (int64_t t = 0; t < nf; t++) {
        int64_t start = t * hop - half;
        int cnt = 0;
        if (start >= 0 && start + frame_length <= n) {
            const float *f = x + start;
            int prev = (fabsf(f[0]) > 1e-10f) && f[0] < 0;
            for (int j = 1; j < frame_length; j++) {
                int neg = (fabsf(f[j]) > 1e-10f) && f[j] < 0;
                cnt += neg != prev;
                prev = neg;
            }
        } else {
            int prev = 0;
            for (int j = 0; j < frame_length; j++) {
                float v = padded_at(x, n, start + j, 1);
                int neg = (fabsf(v) > 1e-10f) && v < 0; /* signbit after zeroing tiny values */
                if (j > 0 && neg != prev) cnt++;
                prev = neg;
            }
        }
        out[t] = (float)cnt / (float)frame_length;
    }
}

void duet_rms(const float *x, int64_t n, int frame_length, int hop, float *out)
{
    int64_t nf = duet_frames_centered(n, hop), half = frame_length / 2;
    for (int64_t t = 0; t < nf; t++) {
        int64_t start = t * hop - half, a = start < 0 ? 0 : start, b = start + frame_length;
        if (b > n) b = n;
        double s = 0;
        for (int64_t i = a; i < b; i++) s += (double)x[i] * x[i];
        out[t] = (float)sqrt(s / frame_length);
    }
}
