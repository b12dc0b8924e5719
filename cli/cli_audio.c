/* cli/cli_audio.c: audio output options (see cli_audio.h). */
#include "cli_audio.h"
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cli_parse_format(const char *s, duet_audio_outfmt_req *req)
{
    duet_audio_container c;
    if (!strcmp(s, "wav16")) req->container = DUET_CONT_WAV, req->bits = 16;
    else if (!strcmp(s, "wav32f")) req->container = DUET_CONT_WAV, req->bits = 32;
    else if (!strcmp(s, "flac24")) req->container = DUET_CONT_FLAC, req->bits = 24;
    else if (duet_audio_container_parse(s, &c) == 0) req->container = (int)c;
    else {
        cli_error(NULL, "--format: expected wav, flac, ogg, opus or mp3, got '%s'", s);
        return 2;
    }
    return 0;
}

int cli_parse_bits(const char *s, duet_audio_outfmt_req *req)
{
    if (!strcmp(s, "16")) req->bits = 16;
    else if (!strcmp(s, "24")) req->bits = 24;
    else if (!strcmp(s, "32f") || !strcmp(s, "32") || !strcmp(s, "float")) req->bits = 32;
    else {
        cli_error(NULL, "--bits: expected 16, 24 or 32f, got '%s'", s);
        return 2;
    }
    return 0;
}

int cli_parse_bitrate(const char *s, duet_audio_outfmt_req *req)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end && (*end == 'k' || *end == 'K')) end++;
    if (!end || end == s || *end || v < 6 || v > 1024) {
        cli_error(NULL, "--bitrate: expected kbps from 6 to 1024 (e.g. 192 or 192k), got '%s'", s);
        return 2;
    }
    req->bitrate_kbps = (int)v;
    return 0;
}
