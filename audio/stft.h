/* audio/stft.h: short-time Fourier transform and its inverse (fftw3f).
 *
 * Conventions (same as torch.stft(center=True, pad_mode="constant",
 * normalized=False, onesided=True) with a periodic Hann window by default):
 * - frame t covers input samples [t*hop - n_fft/2, t*hop + n_fft/2), zeros
 *   outside the signal; n_frames = 1 + frames / hop (integer division).
 * - X[t][k] = sum_n w[n] x[t*hop - n_fft/2 + n] e^{-2 pi i k n / n_fft},
 *   k = 0 .. n_fft/2 (n_bins = n_fft/2 + 1); no scaling.
 * - The inverse is the weighted overlap-add least-squares inverse
 *   (divide by sum of squared windows), trimmed to the requested length.
 * Spectra are stored frame-major: spec[(t * n_bins + k) * 2 + {0: re, 1: im}].
 * Plans are made once per duet_stft and reused; one duet_stft must not be
 * used by two threads at once (make one per thread). The whole-signal calls
 * split long inputs over OpenMP threads themselves (bit-identical results).
 * Streams keep their own work buffers and only read their duet_stft's plans
 * and window, so several streams on one duet_stft may run in different
 * threads (as long as nobody calls duet_stft_forward/inverse on it meanwhile).
 *
 * Thread safety of plan creation: fftw's planner is not thread-safe.
 * duet_stft_new and duet_stft_free run their planner calls inside
 * `#pragma omp critical(duet_fftw_planner)`, so they may be called from
 * any threads at once; other code in the same process that makes or destroys
 * fftwf plans concurrently must use the same named critical section (or call
 * fftwf_make_planner_thread_safe() from libfftw3f_threads once at start-up). */
#ifndef DUET_AUDIO_STFT_H
#define DUET_AUDIO_STFT_H

#include <stdint.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum duet_window { DUET_WIN_HANN = 0, DUET_WIN_SQRT_HANN = 1 } duet_window;

typedef struct duet_stft duet_stft;

/* Make an STFT of size n_fft (even, >= 4) and hop (1 .. n_fft), periodic
 * window. *out must be freed with duet_stft_free(). Errors: DUET_ERR_ARG
 * (bad sizes, or hop too large for perfect reconstruction: hop must be
 * <= n_fft/2, which guarantees every sample lies where some frame's window is
 * > 0), DUET_ERR_NOMEM, DUET_ERR_INTERNAL (fftw cannot plan). */
duet_status duet_stft_new(int n_fft, int hop, duet_window win, duet_stft **out, duet_err *err);
void duet_stft_free(duet_stft *s);

int duet_stft_n_fft(const duet_stft *s);
int duet_stft_hop(const duet_stft *s);
int duet_stft_n_bins(const duet_stft *s);
/* Frames produced for a signal of n samples: 1 + n / hop. */
int64_t duet_stft_n_frames(const duet_stft *s, int64_t n);
/* The analysis window (n_fft floats, owned by s). */
const float *duet_stft_window(const duet_stft *s);

/* Whole-signal transform of x[0..n) (n >= 0) into spec, which must hold
 * duet_stft_n_frames(s, n) * n_bins * 2 floats (caller-owned).
 * Errors: DUET_ERR_ARG (NULL buffers, n < 0), DUET_ERR_NOMEM. */
duet_status duet_stft_forward(duet_stft *s, const float *x, int64_t n, float *spec, duet_err *err);

/* Inverse of a whole spectrogram with n_frames frames into y[0..n)
 * (normally n_frames = duet_stft_n_frames(s, n)). Output samples that no
 * frame reaches (only when n_frames is smaller) are 0. Only the real parts of
 * the DC and Nyquist bins are used, as in torch.istft. Errors: DUET_ERR_ARG
 * (NULL buffers, negative sizes), DUET_ERR_NOMEM. */
duet_status duet_stft_inverse(duet_stft *s, const float *spec, int64_t n_frames, float *y, int64_t n,
                              duet_err *err);

/* Streaming forward transform: feed samples in any chunk sizes and get the
 * same frames as duet_stft_forward on the concatenation, in bounded memory.
 * The callback receives each complete frame (n_bins * 2 floats) in order;
 * return non-zero from it to abort (the feed call then returns DUET_ERR_ARG).
 * The stream object owns a copy of nothing but its ring buffer. */
typedef int (*duet_stft_frame_cb)(void *user, int64_t t, const float *frame);
typedef struct duet_stft_stream duet_stft_stream;
duet_status duet_stft_stream_new(duet_stft *s, duet_stft_frame_cb cb, void *user,
                                 duet_stft_stream **out, duet_err *err);
duet_status duet_stft_stream_feed(duet_stft_stream *st, const float *x, int64_t n, duet_err *err);
/* Flush the last frames (right padding). */
duet_status duet_stft_stream_finish(duet_stft_stream *st, duet_err *err);
void duet_stft_stream_free(duet_stft_stream *st);

/* Streaming inverse: push frames in order, receive finished output samples
 * through the callback (called with consecutive chunks, total exactly
 * `n_out` samples after finish). */
typedef int (*duet_istft_out_cb)(void *user, const float *y, int64_t n);
typedef struct duet_istft_stream duet_istft_stream;
duet_status duet_istft_stream_new(duet_stft *s, int64_t n_out, duet_istft_out_cb cb, void *user,
                                  duet_istft_stream **out, duet_err *err);
duet_status duet_istft_stream_push(duet_istft_stream *st, const float *frame, duet_err *err);
duet_status duet_istft_stream_finish(duet_istft_stream *st, duet_err *err);
void duet_istft_stream_free(duet_istft_stream *st);

#ifdef __cplusplus
}
#endif

#endif
