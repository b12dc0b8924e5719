/* audio/mp3.h: MP3 decoding through libmpg123 (private to audio/).
 *
 * libsndfile decodes MP3 through libmpg123 too, but leaves the library's
 * notes on ("Note: Illegal Audio-MPEG-Header ...", "Note: Trying to
 * resync..."), which reach stderr before duet's own error line. Here the
 * decoder runs with MPG123_QUIET, gapless decoding (LAME/Xing encoder delay
 * and padding trimmed, so a file starts at its first real sample) and float
 * output. */
#ifndef DUET_AUDIO_MP3_H
#define DUET_AUDIO_MP3_H

#include <stddef.h>
#include <stdint.h>

#include "../common/status.h"

typedef struct duet_mp3 duet_mp3;

/* 1 when the first bytes b[0..n) look like an MP3 stream (an ID3v2 tag or
 * an MPEG audio frame header of layer I-III). */
int duet_mp3_sniff(const unsigned char *b, size_t n);

/* Decode the MP3 open on fd (not closed by duet_mp3_close; the caller owns
 * it). channels, rate: the stream's; frames: exact length after a scan (0
 * when unknown). Errors: DUET_ERR_FORMAT (not decodable, with mpg123's
 * text), DUET_ERR_NOMEM. */
duet_status duet_mp3_open_fd(int fd, duet_mp3 **out, int *channels, int *rate, int64_t *frames,
                             duet_err *err);

/* Up to max_frames interleaved float frames into inter; *got == 0 at the end.
 * Errors: DUET_ERR_FORMAT (corrupt data that cannot be resynchronised, or a
 * format change mid-stream). */
duet_status duet_mp3_read(duet_mp3 *m, float *inter, int64_t max_frames, int64_t *got, duet_err *err);

void duet_mp3_close(duet_mp3 *m);

#endif
