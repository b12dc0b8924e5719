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
    return duet_spectral_rolloff_total(mag, freq, n_bins, roll_percent, total);
}

float duet_spectral_rolloff_total(const float *mag, const float *freq, int n_bins, double roll_percent,
                                  double total)
{
    double thr = roll_percent * total, c = 0;
    for (int k = 0; k < n_bins; k++) {
        c += mag[k];
        if (c >= thr) return freq[k];
    }
    return freq[n_bins - 1];
}

void duet_spectral_stats(const float *mag, const float *freq, int n_bins, double amin, float *centroid,
                         float *bandwidth, float *flatness, double *total)
{
    double s = 0, sf = 0, sff = 0, sp = 0, prod = 1.0;
    long expo = 0;
    for (int k = 0; k < n_bins; k++) {
        double m = mag[k], f = freq[k], p = m * m;
        s += m;
        sf += m * f;
        sff += m * f * f;
        if (!(p > amin)) p = amin;
        sp += p;
        prod *= p;
        if ((k & 15) == 15) {
            int e;
            prod = frexp(prod, &e);
            expo += e;
        }
    }
    double c = s > 0 ? sf / s : 0;
    double var = s > 0 ? sff / s - c * c : 0;
    *centroid = (float)c;
    *bandwidth = (float)sqrt(var > 0 ? var : 0);
    double slog = log(prod) + (double)expo * 0.69314718055994530942;
    *flatness = (float)(exp(slog / n_bins) / (sp / n_bins));
    if (total) *total = s;
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

/* Sum of the q smallest (sign = 1) or q largest (sign = -1) of x[0..n),
 * kept in a small sorted buffer (q is rint(0.02 * band size): 1..9 at n_fft
 * 2048). Spectra mostly fall with frequency, so the smallest are searched
 * from the top of the band down and the largest from the bottom up: then
 * nearly every value is rejected by one comparison. */
static double band_sum_extreme(const float *x, int n, int q, int sign, float *buf)
{
    int step = sign > 0 ? -1 : 1;
    int i = sign > 0 ? n - 1 : 0, filled = 0;
    for (int c = 0; c < n; c++, i += step) {
        float v = sign > 0 ? x[i] : -x[i]; /* keep the q smallest of v */
        if (filled < q) {
            int j = filled++;
            while (j > 0 && buf[j - 1] > v) {
                buf[j] = buf[j - 1];
                j--;
            }
            buf[j] = v;
        } else if (v < buf[q - 1]) {
            int j = q - 1;
            while (j > 0 && buf[j - 1] > v) {
                buf[j] = buf[j - 1];
                j--;
            }
            buf[j] = v;
        }
    }
    double sum = 0;
    for (int k = 0; k < q; k++) sum += buf[k];
    return sign > 0 ? sum : -sum;
}

void duet_contrast_frame(const duet_contrast_bands *b, const float *mag, float *peak,
                         float *valley, float *scratch)
{
    for (int r = 0; r <= b->n_bands; r++) {
        int n = b->count[r], q = b->q[r];
        const float *x = mag + b->first[r];
        if (q == 1) { /* the narrow low bands: plain min and max */
            float lo = x[0], hi = x[0];
            for (int i = 1; i < n; i++) {
                lo = x[i] < lo ? x[i] : lo;
                hi = x[i] > hi ? x[i] : hi;
            }
            valley[r] = lo;
            peak[r] = hi;
            continue;
        }
        valley[r] = (float)(band_sum_extreme(x, n, q, 1, scratch) / q);
        peak[r] = (float)(band_sum_extreme(x, n, q, -1, scratch) / q);
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

/* Sums of 4-ish consecutive hop blocks: frames of 2048 every 512 centred
 * start on a block boundary, so each frame is the sum of frame_length/hop
 * whole blocks. Returns 1 when that layout applies and blk (n_blocks) was
 * filled by fill(). */
static int block_layout(int64_t n, int frame_length, int hop, int64_t *n_blocks)
{
    if (frame_length % hop || (frame_length / 2) % hop) return 0;
    *n_blocks = (n + hop - 1) / hop;
    return 1;
}

static inline int zc_neg(float v) { return (fabsf(v) > 1e-10f) && v < 0; }

/* Frame t's ZCR the slow way (edge-padded frames). */
static float zcr_direct(const float *x, int64_t n, int frame_length, int64_t start)
{
    int cnt = 0, prev = 0;
    for (int j = 0; j < frame_length; j++) {
        int neg = zc_neg(padded_at(x, n, start + j, 1)); /* signbit after zeroing tiny values */
        if (j > 0 && neg != prev) cnt++;
        prev = neg;
    }
    return (float)cnt / (float)frame_length;
}

void duet_zcr(const float *x, int64_t n, int frame_length, int hop, float *out)
{
    int64_t nf = duet_frames_centered(n, hop), half = frame_length / 2, nb = 0;
    /* crossings c(i) between samples i-1 and i, summed per hop block */
    int *blk = NULL;
    if (block_layout(n, frame_length, hop, &nb) && nb > 0) blk = malloc(sizeof(int) * (size_t)nb);
    if (blk) {
        for (int64_t b = 0; b < nb; b++) {
            int64_t a = b * hop, e = a + hop < n ? a + hop : n;
            int cnt = 0, prev = a > 0 ? zc_neg(x[a - 1]) : zc_neg(x[0]);
            for (int64_t i = a; i < e; i++) {
                int neg = zc_neg(x[i]);
                cnt += neg != prev;
                prev = neg;
            }
            blk[b] = cnt;
        }
    }
    int per = frame_length / hop;
    for (int64_t t = 0; t < nf; t++) {
        int64_t start = t * hop - half;
        if (blk && start >= 0 && start + frame_length <= n) {
            int64_t b0 = start / hop;
            int cnt = 0;
            for (int k = 0; k < per; k++) cnt += blk[b0 + k];
            /* the frame counts crossings into samples start+1 .. start+L-1 */
            if (start > 0) cnt -= zc_neg(x[start]) != zc_neg(x[start - 1]);
            out[t] = (float)cnt / (float)frame_length;
        } else {
            out[t] = zcr_direct(x, n, frame_length, start);
        }
    }
    free(blk);
}

void duet_rms(const float *x, int64_t n, int frame_length, int hop, float *out)
{
    int64_t nf = duet_frames_centered(n, hop), half = frame_length / 2, nb = 0;
    double *blk = NULL;
    if (block_layout(n, frame_length, hop, &nb) && nb > 0) blk = malloc(sizeof(double) * (size_t)nb);
    if (blk)
        for (int64_t b = 0; b < nb; b++) {
            int64_t a = b * hop, e = a + hop < n ? a + hop : n;
            double s = 0;
            for (int64_t i = a; i < e; i++) s += (double)x[i] * x[i];
            blk[b] = s;
        }
    int per = frame_length / hop;
    for (int64_t t = 0; t < nf; t++) {
        int64_t start = t * hop - half;
        double s = 0;
        if (blk) {
            int64_t b0 = start / hop - (start < 0 && start % hop ? 1 : 0);
            for (int k = 0; k < per; k++) {
                int64_t b = b0 + k;
                if (b >= 0 && b < nb) s += blk[b];
            }
        } else {
            int64_t a = start < 0 ? 0 : start, b = start + frame_length;
            if (b > n) b = n;
            for (int64_t i = a; i < b; i++) s += (double)x[i] * x[i];
        }
        out[t] = (float)sqrt(s / frame_length);
    }
    free(blk);
}
