/* features/loudness.h: EBU R128 integrated loudness (ITU-R BS.1770-4 gating)
 * and loudness range (EBU Tech 3342), measured by libebur128.
 *
 * Channel map: 1 channel = dual mono (counted twice, so a mono file reads
 * like the same signal on both channels of a stereo file); 2 = L R; 3 = L R
 * C; 5 = L R C Ls Rs; 6 = L R C LFE Ls Rs (WAV/FLAC 5.1 order, LFE not
 * counted); 4 and more than 6: the first two channels as L R and the rest
 * counted as surround-weighted (+1.5 dB) channels, except that channel 3 of
 * 6 is the LFE. Defined values: a signal with no gated block (silence, or
 * shorter than 400 ms) reads DUET_LOUDNESS_FLOOR LUFS and range 0. */
#ifndef DUET_FEATURES_LOUDNESS_H
#define DUET_FEATURES_LOUDNESS_H

#include "../audio/audio.h"
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_LOUDNESS_FLOOR (-70.0)

/* Integrated loudness (LUFS) and loudness range (LU) of all of `a` at its own
 * rate. Either output pointer may be NULL. Errors: DUET_ERR_ARG (no channels,
 * rate outside 8 kHz .. 2.8 MHz), DUET_ERR_NOMEM, DUET_ERR_INTERNAL (libebur128
 * failure). */
duet_status duet_loudness(const duet_audio *a, double *lufs, double *lra, duet_err *err);

/* Same for planar channels given as pointers (n_ch channels of n frames). */
duet_status duet_loudness_planar(const float *const *ch, int n_ch, int64_t n, int sample_rate,
                                 double *lufs, double *lra, duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
