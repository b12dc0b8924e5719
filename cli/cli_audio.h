/* cli/cli_audio.h: the audio output options shared by `separate` and
 * `resample` (-f/--format, --bits, --bitrate). Parsers print one error line
 * and return 2 (the usage exit status), or return 0. */
#ifndef DUET_CLI_AUDIO_H
#define DUET_CLI_AUDIO_H

#include "../audio/audio.h"

/* wav | flac | ogg | opus | mp3 (also the old names wav16, wav32f, flac24,
 * which set the bits too). */
int cli_parse_format(const char *s, duet_audio_outfmt_req *req);
/* 16 | 24 | 32f (32 means 32f: duet writes float, not 32-bit integers). */
int cli_parse_bits(const char *s, duet_audio_outfmt_req *req);
/* kbps, "192" or "192k". */
int cli_parse_bitrate(const char *s, duet_audio_outfmt_req *req);

/* The help lines of the three options (shared wording). */
#define CLI_AUDIO_FORMAT_HELP \
    "  -f, --format FMT     wav, flac, ogg (Vorbis), opus or mp3; default: from the\n" \
    "                       output name's extension, WAV when it has none. A name\n" \
    "                       whose extension names another format is refused unless\n" \
    "                       -f forces the format\n" \
    "      --bits B         PCM precision for wav/flac: 16, 24 or 32f (float, wav\n" \
    "                       only); default: the input's (16-bit for 16-bit and lossy\n" \
    "                       inputs, 24 for 24-bit, 32f for float); samples beyond\n" \
    "                       [-1, 1] are clipped (never wrapped) and counted\n" \
    "      --bitrate K      lossy target in kbps for the whole stream (e.g. 192 or\n" \
    "                       192k; default: mp3 320 CBR, ogg ~192 VBR, opus 96 per\n" \
    "                       channel); opus is written at 48 kHz (resampled)\n"

/* Inputs as given, with each folder replaced by its audio files
 * (audio/audio_files.h; recursive: subfolders too). On success *out holds
 * *n_out paths owned by the caller (free each, then the array) and 0 is
 * returned; a folder that cannot be read or holds no audio file gets one
 * error line and 1. "-" stays as it is. */
int cli_expand_inputs(int n, char *const *args, int recursive, char ***out, int *n_out);
void cli_free_inputs(char **v, int n);

#endif
