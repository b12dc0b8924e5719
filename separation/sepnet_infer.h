/* separation/sepnet_infer.h: separating songs with a trained sepnet.
 *
 * Per channel: resample to the model's rate, STFT, features, masks from the
 * network over a fixed grid of overlapping chunks (chunk_frames frames, hop
 * chunk_frames / 2, starting at -chunk_frames / 2, sin^2 cross-fade weights
 * that sum to one), so every frame gets a seamless mask whatever the song's
 * length. The vocal mask is then applied to the STFT of the ORIGINAL signal
 * at its own rate (n_fft the power of two nearest the model's window
 * duration, hop n_fft / 4; the model's own STFT when the rates are equal):
 * model bins are interpolated linearly in time and frequency; bins above the
 * model's band (above n_freq bins of the model, e.g. 8 kHz for a 16 kHz
 * model) get the mean vocal mask of the model's top quarter band in that
 * frame. Vocals are the inverse STFT of the masked mixture with the
 * mixture's phase; the accompaniment is the mixture minus the vocals, so the
 * two stems sum to the input exactly (up to float rounding). Output keeps the
 * input's rate, channel count and exact length.
 *
 * Wiener post-filter (wiener_iters = N > 0): N iterations of the multichannel
 * Wiener expectation-maximisation of norbert / Open-Unmix (Nugraha, Liutkus
 * and Vincent 2016) on the input-rate STFT, sources vocals and accompaniment
 * initialised as mask * X and (1 - mask) * X: per iteration the power
 * spectral densities v_j(t, f) (mean over channels of |y_j|^2) and spatial
 * covariances R_j(f) (sum_t y_j y_j^H / sum_t v_j) are re-estimated and
 * y_j = v_j R_j (sum_i v_i R_i + sqrt(eps) I)^-1 x, eps = 1e-10 on the
 * window's mixture scaled to a peak of 10 (as norbert). Like Open-Unmix
 * (wiener_win_len) the statistics are local: windows of 256 input frames at
 * hop 128, cross-faded with sin^2 weights. For mono input R_j = 1 and one
 * iteration is the power-ratio mask of the current estimates. The vocals
 * are the Wiener estimate; the accompaniment stays mixture - vocals (the two
 * Wiener gains sum to the identity up to the sqrt(eps) regularisation, so
 * this is the Wiener accompaniment up to that term, and the sum identity
 * still holds).
 *
 * Two implementations of the same computation:
 * - duet_sepnet_stream_* (and duet_sepnet_separate, built on it): bounded memory for
 *   any length: the input is fed in blocks, the resampler, STFTs, chunk
 *   network passes, Wiener windows and inverse STFT all run incrementally;
 *   memory is O(chunk + Wiener window + block), independent of the length.
 * - duet_sepnet_separate_reference: the whole song in memory (whole-signal
 *   resampling, STFT, mask grid and inverse); O(length) memory, kept as the
 *   reference the streaming result is tested against. */
#ifndef DUET_SEPARATION_SEPNET_INFER_H
#define DUET_SEPARATION_SEPNET_INFER_H

#include <stdint.h>

#include "../audio/audio.h"
#include "../common/progress.h"
#include "../common/status.h"
#include "separators.h"
#include "sepnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Vocal mask at the model's rate: spec is a complex STFT made with the
 * model's n_fft/hop (frame-major, audio/stft.h layout) of n_frames frames;
 * mask (n_frames, n_fft/2 + 1) receives the vocal mask in [0, 1] (the
 * accompaniment's is 1 - mask). chunk_frames: multiple of 2^depth, >= 2^depth
 * (0 = 256). run: a run of m (one per thread). Errors: DUET_ERR_ARG, DUET_ERR_NOMEM. */
duet_status duet_sepnet_vocal_mask(const sepnet *m, duet_sepnet_run *run, const float *spec, int64_t n_frames,
                              int chunk_frames, float *mask, duet_err *err);

/* The same for a model of C = m->cfg.channels channels: spec[c] the STFT
 * of audio channel c (all n_frames frames), mask[c] (n_frames, n_fft/2 + 1)
 * its vocal mask; the channels go through the network together.
 * duet_sepnet_vocal_mask is this with C = 1 (DUET_ERR_ARG for a stereo model). */
duet_status duet_sepnet_masks(const sepnet *m, duet_sepnet_run *run, const float *const *spec, int64_t n_frames,
                         int chunk_frames, float *const *mask, duet_err *err);

typedef struct duet_sepnet_sep_opts {
    int chunk_frames;            /* 0 = 256 */
    duet_progress *progress;     /* may be NULL; advanced by input frames done (duet_sepnet_separate) */
    int wiener_iters;            /* 0 = off; see the header comment */
} duet_sepnet_sep_opts;

/* Separate `mix` (any rate, channels, length >= 0) into *voc and *acc (new
 * buffers, same rate/channels/length as mix; free with duet_audio_free)
 * through the streaming separator (blocks of 65536 frames).
 * o may be NULL. Errors: DUET_ERR_ARG, DUET_ERR_NAN, DUET_ERR_NOMEM. */
duet_status duet_sepnet_separate(const sepnet *m, const duet_audio *mix, const duet_sepnet_sep_opts *o,
                            duet_audio *voc, duet_audio *acc, duet_err *err);

/* The same separation computed on the whole song at once (O(length) memory):
 * the reference for tests. Arguments and errors as duet_sepnet_separate. */
duet_status duet_sepnet_separate_reference(const sepnet *m, const duet_audio *mix, const duet_sepnet_sep_opts *o,
                                      duet_audio *voc, duet_audio *acc, duet_err *err);

/* ---- streaming separation ---------------------------------------------- */

/* Output callback: n (> 0) consecutive frames of the mixture, the vocals and
 * the accompaniment, planar (mix[c][0..n) ...), valid only during the call.
 * Frames arrive in order, in total exactly as many as were fed. Return
 * non-zero to abort (the feed/finish call then fails with DUET_ERR_ARG, or
 * with the status the callback stored elsewhere, as the caller likes). */
typedef int (*duet_sepnet_stream_cb)(void *user, const float *const *mix, const float *const *voc,
                                const float *const *acc, int64_t n);

typedef struct duet_sepnet_stream duet_sepnet_stream;

/* A stream separating `channels` (1..64) channels at `sample_rate` Hz with
 * model m (not owned; must outlive the stream). o may be NULL (defaults;
 * o->progress is not used by streams). *out is freed with
 * duet_sepnet_stream_free. Errors: DUET_ERR_ARG (channels, rate, chunk size,
 * wiener_iters < 0), DUET_ERR_NOMEM, DUET_ERR_INTERNAL (FFT plans). */
duet_status duet_sepnet_stream_new(const sepnet *m, int channels, int sample_rate, const duet_sepnet_sep_opts *o,
                              duet_sepnet_stream_cb cb, void *user, duet_sepnet_stream **out, duet_err *err);

/* Feed n >= 0 frames, planar ch[c][0..n) (caller-owned). Output may be
 * delivered through the callback during the call. Errors: DUET_ERR_NAN
 * (non-finite sample; nothing of this block is used), DUET_ERR_ARG (after
 * finish or a failure, callback abort), DUET_ERR_NOMEM. After an error the
 * stream can only be freed. */
duet_status duet_sepnet_stream_feed(duet_sepnet_stream *s, const float *const *ch, int64_t n, duet_err *err);

/* End of input: deliver the remaining output. Errors: as feed. */
duet_status duet_sepnet_stream_finish(duet_sepnet_stream *s, duet_err *err);

/* Frames fed and frames delivered so far. */
int64_t duet_sepnet_stream_frames_in(const duet_sepnet_stream *s);
int64_t duet_sepnet_stream_frames_out(const duet_sepnet_stream *s);

void duet_sepnet_stream_free(duet_sepnet_stream *s);

#ifdef __cplusplus
}
#endif

#endif
