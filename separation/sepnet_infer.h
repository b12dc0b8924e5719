/* separation/sepnet_infer.h: separating songs with a trained sepnet.
 *
 * Per channel: resample to the model's rate, STFT, features, masks from the
 * network over a fixed grid of overlapping chunks (chunk_frames frames, hop
 * chunk_frames / 2, sin^2 cross-fade weights that sum to one), so every frame
 * gets a seamless mask whatever the song's length. The vocal mask is then
 * applied to the STFT of the ORIGINAL signal at its own rate: model bins are
 * interpolated linearly in time and frequency; bins above the model's band
 * (above n_freq bins of the model, e.g. 8 kHz for a 16 kHz model) get the
 * mean vocal mask of the model's top quarter band in that frame. Vocals are
 * the inverse STFT of the masked mixture with the mixture's phase; the
 * accompaniment is the mixture minus the vocals, so the two stems sum to the
 * input exactly (up to float rounding). Output keeps the input's rate,
 * channel count and exact length. */
#ifndef DUET_SEPARATION_SEPNET_INFER_H
#define DUET_SEPARATION_SEPNET_INFER_H

#include <stdint.h>

#include "../audio/audio.h"
#include "../common/progress.h"
#include "../common/status.h"
#include "sepnet.h"

/* Vocal mask at the model's rate: spec is a complex STFT made with the
 * model's n_fft/hop (frame-major, audio/stft.h layout) of n_frames frames;
 * mask (n_frames, n_fft/2 + 1) receives the vocal mask in [0, 1] (the
 * accompaniment's is 1 - mask). chunk_frames: multiple of 2^depth, >= 2^depth
 * (0 = 256). run: a run of m (one per thread). Errors: DUET_ERR_ARG, DUET_ERR_NOMEM. */
duet_status sepnet_vocal_mask(const sepnet *m, sepnet_run *run, const float *spec, int64_t n_frames,
                              int chunk_frames, float *mask, duet_err *err);

typedef struct sepnet_sep_opts {
    int chunk_frames;            /* 0 = 256 */
    duet_progress *progress;     /* may be NULL; advanced by input frames done */
} sepnet_sep_opts;

/* Separate `mix` (any rate, channels, length >= 0) into *voc and *acc (new
 * buffers, same rate/channels/length as mix; free with duet_audio_free).
 * o may be NULL. Errors: DUET_ERR_ARG, DUET_ERR_NOMEM. */
duet_status sepnet_separate(const sepnet *m, const duet_audio *mix, const sepnet_sep_opts *o,
                            duet_audio *voc, duet_audio *acc, duet_err *err);

#endif
