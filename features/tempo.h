/* features/tempo.h: onset strength, global tempo and onset detection from
 * an onset envelope (librosa 0.10 definitions and defaults):
 * - onset strength: spectral flux on the dB mel spectrogram (power_to_db,
 *   ref 1, top_db 80): env[t] = mean_m max(0, S[t][m] - S[t-1][m]), shifted
 *   right by `shift` frames (librosa: lag + n_fft / (2 hop) = 3 for 2048/512)
 *   with zeros in front, trimmed to the number of spectrogram frames;
 * - tempo: tempogram = per-frame autocorrelation of the envelope in 8 s
 *   periodic-Hann windows (centred; envelope padded by a linear ramp to 0),
 *   each normalised by its lag-0 value, averaged over frames; the tempo is
 *   argmax over lags of log1p(1e6 * tg) - 0.5 (log2(bpm) - log2(120))^2,
 *   with lags above 320 BPM excluded; bpm(lag) = 60 sr / (hop lag).
 *   DIFFERENCE: an all-zero envelope (silence) gives tempo 0, where librosa
 *   would return the prior's peak (117.5 BPM);
 * - onsets: librosa.onset.onset_detect peak picking on the envelope scaled to
 *   [0, 1]: pre_max 30 ms, post_max 1 frame, pre_avg 100 ms, post_avg 100 ms
 *   + 1 frame, wait 30 ms (all floor(t sr / hop)), delta 0.07; windows are
 *   truncated at the edges. */
#ifndef DUET_FEATURES_TEMPO_H
#define DUET_FEATURES_TEMPO_H

#include <stdint.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* env[0..n_frames) from mel_db (n_frames x n_mels, frame-major). */
void duet_onset_strength(const float *mel_db, int64_t n_frames, int n_mels, int shift, float *env);

/* Global tempo in BPM of env[0..n) (n >= 0) for frames every hop samples at
 * sr. start_bpm 120, std_bpm 1, ac_size 8 s, max_tempo 320 are librosa's
 * defaults. Errors: DUET_ERR_ARG (bad parameters), DUET_ERR_NOMEM. */
duet_status duet_tempo(const float *env, int64_t n, int sr, int hop, double start_bpm,
                       double std_bpm, double ac_size, double max_tempo, double *bpm,
                       duet_err *err);

/* Onset frames of env[0..n): returns how many there are, and writes up to
 * cap of them to onsets (onsets may be NULL). Returns -1 when out of memory. */
int64_t duet_onset_detect(const float *env, int64_t n, int sr, int hop, int64_t *onsets,
                          int64_t cap);

#ifdef __cplusplus
}
#endif

#endif
