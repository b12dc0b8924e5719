/* features/png.h: log-mel spectrogram pictures (PNG through libpng).
 *
 * One or more panels stacked vertically, each with a title, a frequency
 * axis (mel-spaced rows, ticks labelled in Hz), a time axis in seconds and a
 * shared colour scale: the loudest cell of all panels is white-yellow, 80 dB
 * below it and quieter is black (a magma-like ramp). Text uses a built-in
 * 5x7 bitmap font, so no font files are needed. Written atomically
 * (common/atomic_file.h). */
#ifndef DUET_FEATURES_PNG_H
#define DUET_FEATURES_PNG_H

#include <stdint.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_spec_panel {
    const char *title;     /* e.g. "mix"; not owned */
    const float *mel_db;   /* (n_frames, n_mels) frame-major dB values; not owned */
    int64_t n_frames;
    int n_mels;
    double seconds_per_frame; /* hop / sample rate */
    double fmin, fmax;        /* mel band range in Hz (Slaney scale) */
} duet_spec_panel;

/* Draw n_panels (1..8) panels into a PNG at path. width: plot width in
 * pixels (0 = one column per frame, between 400 and 1600); height: plot
 * height per panel (0 = 256). Errors: DUET_ERR_ARG (no panels, empty
 * panel, absurd sizes), DUET_ERR_IO (cannot write), DUET_ERR_NOMEM,
 * DUET_ERR_INTERNAL (libpng failure). */
duet_status duet_png_spectrogram(const char *path, const duet_spec_panel *panels, int n_panels, int width,
                                 int height, duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
