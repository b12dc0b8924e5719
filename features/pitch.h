/* features/pitch.h: fundamental frequency by YIN (de Cheveigné & Kawahara
 * 2002), following librosa 0.10's `yin` exactly: centred zero-padded frames
 * of frame_length samples every hop, integration window W = frame_length/2,
 * difference function d(tau) = sum_{j=1..W} (y_j - y_{j+tau})^2 computed
 * through energies and an FFT autocorrelation (terms below 1e-6 set to 0),
 * cumulative-mean normalisation, the first local minimum of the normalised
 * difference below `threshold` (else the global minimum) among periods
 * floor(sr/fmax) .. min(ceil(sr/fmin), frame_length - W - 1), refined by
 * parabolic interpolation; f0 = sr / period.
 * duet adds one output librosa's yin lacks: `trough[t]` = 1 when the frame
 * had a minimum below the threshold (the YIN voicing criterion). */
#ifndef DUET_FEATURES_PITCH_H
#define DUET_FEATURES_PITCH_H

#include <stdint.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_yin duet_yin;

/* Make a YIN estimator (FFT plans and scratch). Plans are made inside
 * `omp critical(duet_fftw_planner)`, so estimators may be created from any
 * OpenMP thread; one estimator is used by one thread at a time.
 * *out must be freed with duet_yin_free().
 * Errors: DUET_ERR_ARG (sr <= 0, fmin/fmax outside (0, sr/2), fmin >= fmax,
 * frame_length < 8 or odd, hop < 1, max period too long for the frame),
 * DUET_ERR_NOMEM. */
duet_status duet_yin_new(int sr, double fmin, double fmax, int frame_length, int hop,
                         double threshold, duet_yin **out, duet_err *err);
void duet_yin_free(duet_yin *y);

/* Frames produced for n samples: 1 + n / hop. */
int64_t duet_yin_n_frames(const duet_yin *y, int64_t n);

/* Estimate f0 (Hz) for every frame of x[0..n) into f0[0..n_frames);
 * trough (may be NULL) receives the voicing flags. Non-finite samples give
 * DUET_ERR_NAN. */
duet_status duet_yin_run(duet_yin *y, const float *x, int64_t n, float *f0, unsigned char *trough,
                         duet_err *err);

/* As duet_yin_run, but frames with active[t] == 0 are skipped (f0 0, no
 * trough); active has duet_yin_n_frames(y, n) entries (NULL = all). */
duet_status duet_yin_run_gated(duet_yin *y, const float *x, int64_t n, const unsigned char *active, float *f0,
                               unsigned char *trough, duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
