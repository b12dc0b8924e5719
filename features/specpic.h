/* features/specpic.h: a log-mel spectrogram picture of arbitrarily long
 * audio in bounded memory (for `duet separate --spectrogram`).
 *
 * Up to 8 panels (e.g. mixture, vocals, accompaniment) are fed the same
 * number of frames in any block sizes. Each panel mixes its channels to
 * mono, runs a streaming STFT at the audio's own rate (periodic Hann, n_fft
 * the power of two nearest 2048/22050 s, i.e. librosa's 2048 at 22.05 kHz,
 * hop n_fft / 4), takes a 128-band Slaney mel of |X|^2 (0 Hz .. rate/2) and
 * averages the mel power of consecutive frames into at most 1600 columns:
 * when the columns fill up, neighbouring pairs are merged and each column
 * covers twice as many frames, so memory stays at 1600 x 128 values per
 * panel whatever the length (between 800 and 1600 columns for long audio,
 * one column per frame for short audio). The picture is drawn by
 * duet_png_spectrogram (features/png.h) with the column averages in dB. */
#ifndef DUET_FEATURES_SPECPIC_H
#define DUET_FEATURES_SPECPIC_H

#include <stdint.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_specpic duet_specpic;

/* n_panels 1..8, channels 1..1024, sample_rate > 0. Free with
 * duet_specpic_free. Errors: DUET_ERR_ARG, DUET_ERR_NOMEM, DUET_ERR_INTERNAL. */
duet_status duet_specpic_new(int n_panels, int channels, int sample_rate, duet_specpic **out, duet_err *err);

/* Feed n frames of planar audio ch[c][0..n) to panel p. Errors: DUET_ERR_ARG, DUET_ERR_NOMEM. */
duet_status duet_specpic_feed(duet_specpic *sp, int p, const float *const *ch, int64_t n, duet_err *err);

/* Finish every panel and write the PNG atomically; titles: n_panels
 * strings (not owned). Errors: DUET_ERR_ARG (nothing fed), those of
 * duet_png_spectrogram. */
duet_status duet_specpic_write(duet_specpic *sp, const char *path, const char *const *titles, duet_err *err);

void duet_specpic_free(duet_specpic *sp);

#ifdef __cplusplus
}
#endif

#endif
