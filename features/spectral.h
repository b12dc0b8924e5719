/* features/spectral.h: frame-wise spectral and time-domain descriptors.
 *
 * Each function follows the librosa 0.10 definition of the same name with
 * its documented defaults (n_fft 2048, hop 512, centred frames):
 * - centroid  = sum_k f_k S_k / sum_k S_k               (S = |X|; 0 for a silent frame)
 * - bandwidth = (sum_k p_k (f_k - centroid)^2)^(1/2), p = S / sum S (p = 2)
 * - rolloff   = lowest f_k with cumsum(S)_k >= 0.85 * sum S (0 for silence)
 * - flatness  = geometric mean / arithmetic mean of max(amin, S^2), amin 1e-10
 *               (silence gives 1, as in librosa)
 * - contrast  = dB(peak) - dB(valley) in n_bands+1 bands: [0, fmin] and
 *               octaves from fmin (fmin 200 Hz, 6 bands), peak/valley = mean
 *               of the top/bottom rint(0.02 * band size) bins (at least 1);
 *               the dB step is power_to_db over all frames (top_db 80)
 * - chroma    = 12-bin chroma filterbank (librosa.filters.chroma: Gaussian
 *               bumps, L2-normalised columns, octave weighting centred at
 *               octave 5 with width 2, rows starting at C) applied to |X|^2,
 *               each frame divided by its maximum. DIFFERENCE from librosa:
 *               tuning is fixed at 0 (A = 440 Hz) instead of estimated.
 * - zcr       = fraction of sign changes per 2048-sample frame (edge-padded
 *               centred frames, |x| <= 1e-10 counts as 0, 0 counts as positive)
 * - rms       = sqrt(mean x^2) per 2048-sample frame (zero-padded centred frames)
 * Magnitude spectra are one frame of n_bins = n_fft/2 + 1 values; freq[k] =
 * k * sr / n_fft. */
#ifndef DUET_FEATURES_SPECTRAL_H
#define DUET_FEATURES_SPECTRAL_H

#include <stddef.h>
#include <stdint.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

float duet_spectral_centroid(const float *mag, const float *freq, int n_bins);
float duet_spectral_bandwidth(const float *mag, const float *freq, int n_bins, float centroid);
float duet_spectral_rolloff(const float *mag, const float *freq, int n_bins, double roll_percent);
/* The same given total = sum of mag (summed in double in bin order). */
float duet_spectral_rolloff_total(const float *mag, const float *freq, int n_bins, double roll_percent,
                                  double total);
float duet_spectral_flatness(const float *mag, int n_bins, double amin);
/* Centroid, bandwidth and flatness in one pass (bandwidth through
 * sum p f^2 - centroid^2, in double); total (may be NULL) receives sum of
 * mag for duet_spectral_rolloff_total. */
void duet_spectral_stats(const float *mag, const float *freq, int n_bins, double amin, float *centroid,
                         float *bandwidth, float *flatness, double *total);

/* Band layout for spectral contrast. */
#define DUET_CONTRAST_MAX_BANDS 16
typedef struct duet_contrast_bands {
    int n_bands;                            /* rows = n_bands + 1 */
    int first[DUET_CONTRAST_MAX_BANDS + 1]; /* first bin used by row b */
    int count[DUET_CONTRAST_MAX_BANDS + 1]; /* bins used by row b */
    int q[DUET_CONTRAST_MAX_BANDS + 1];     /* bins averaged for peak / valley */
} duet_contrast_bands;

/* Lay out the contrast bands. Errors: DUET_ERR_ARG (n_bands outside
 * 1..DUET_CONTRAST_MAX_BANDS, fmin <= 0, quantile outside (0,1), a band edge
 * at or above Nyquist: librosa's "Frequency band exceeds Nyquist"). */
duet_status duet_contrast_bands_init(duet_contrast_bands *b, int sr, int n_fft, double fmin,
                                     int n_bands, double quantile, duet_err *err);

/* Linear peak and valley (n_bands + 1 each) of one magnitude frame. scratch
 * holds n_bins floats. */
void duet_contrast_frame(const duet_contrast_bands *b, const float *mag, float *peak,
                         float *valley, float *scratch);

/* Chroma filterbank (librosa.filters.chroma, tuning 0, ctroct 5, octwidth 2,
 * base C) into w (n_chroma x (n_fft/2+1), row-major, caller-owned).
 * Errors: DUET_ERR_ARG (bad sizes), DUET_ERR_NOMEM. */
duet_status duet_chroma_filters(int sr, int n_fft, int n_chroma, float *w, duet_err *err);

/* One chroma frame from a power frame: c = W p, then c /= max(c) when
 * max(c) > 0 (a silent frame stays 0). */
void duet_chroma_frame(const float *w, int n_chroma, int n_bins, const float *power, float *chroma);

/* Frames produced by the centred time-domain framings: 1 + n / hop. */
int64_t duet_frames_centered(int64_t n, int hop);

/* Zero-crossing rate of x[0..n) into out[0 .. 1 + n/hop). n may be 0
 * (then one frame of 0). */
void duet_zcr(const float *x, int64_t n, int frame_length, int hop, float *out);

/* RMS of x[0..n) into out[0 .. 1 + n/hop). */
void duet_rms(const float *x, int64_t n, int frame_length, int hop, float *out);

#ifdef __cplusplus
}
#endif

#endif
