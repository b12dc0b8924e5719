/* features/mel.h: Slaney mel filterbank, power-to-dB and the orthonormal
 * DCT-II used for MFCCs.
 *
 * Definitions follow librosa 0.10's documented defaults:
 * - mel scale: Slaney (librosa htk=False): linear below 1 kHz with 200/3 Hz
 *   per mel, logarithmic above with step log(6.4)/27 per mel;
 * - filters: triangles between n_mels+2 mel-spaced edges from fmin to fmax,
 *   evaluated at the FFT bin frequencies k*sr/n_fft, then "slaney" area
 *   normalisation (each triangle scaled by 2/(f[i+2]-f[i]));
 * - power_to_db: 10*log10(max(amin, x)) - 10*log10(max(amin, ref)), floored
 *   at (max over the array - top_db);
 * - DCT-II with norm="ortho" (scipy.fftpack.dct), as librosa.feature.mfcc. */
#ifndef DUET_FEATURES_MEL_H
#define DUET_FEATURES_MEL_H

#include <stddef.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Slaney mel scale (librosa.hz_to_mel / mel_to_hz with htk=False). */
double duet_hz_to_mel(double hz);
double duet_mel_to_hz(double mel);

/* A mel filterbank stored sparsely (each band's non-zero bin range). */
typedef struct duet_melfb duet_melfb;

/* Make an n_mels-band filterbank for an n_fft-point FFT at sample rate sr
 * covering [fmin, fmax] Hz (fmax <= 0 means sr/2). *out must be freed with
 * duet_melfb_free(). Errors: DUET_ERR_ARG (sr <= 0, n_fft < 2, n_mels < 1,
 * fmin < 0, fmin >= fmax, fmax > sr/2), DUET_ERR_NOMEM. */
duet_status duet_melfb_new(int sr, int n_fft, int n_mels, double fmin, double fmax,
                           duet_melfb **out, duet_err *err);
void duet_melfb_free(duet_melfb *fb);

int duet_melfb_n_mels(const duet_melfb *fb);
int duet_melfb_n_bins(const duet_melfb *fb);

/* mel[m] = sum_k W[m][k] * spec[k]; spec has n_bins values (power or
 * magnitude), mel receives n_mels values. */
void duet_melfb_apply(const duet_melfb *fb, const float *spec, float *mel);

/* Write the dense weights W (n_mels x n_bins, row-major) into w. */
void duet_melfb_dense(const duet_melfb *fb, float *w);

/* Centre frequency (Hz) of band m (the middle edge of its triangle). */
double duet_melfb_center_hz(const duet_melfb *fb, int m);

/* librosa.power_to_db in place over x[0..n): see the header comment.
 * top_db <= 0 disables the floor. amin must be > 0. NaN inputs are treated
 * as amin. */
void duet_power_to_db(float *x, size_t n, double ref, double amin, double top_db);

/* Orthonormal DCT-II matrix: m[k * n_in + j] = s_k cos(pi k (2j+1) / (2 n_in)),
 * s_0 = sqrt(1/n_in), s_k = sqrt(2/n_in); k < n_out <= n_in. m holds
 * n_out * n_in floats (caller-owned). */
void duet_dct2_ortho_matrix(int n_out, int n_in, float *m);

#ifdef __cplusplus
}
#endif

#endif
