/* cli/cli_audio.c: audio output options (see cli_audio.h). */
#include "cli_audio.h"
#include "cli.h"
#include "../audio/audio_files.h"

#include <sys/stat.h>

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

int cli_expand_inputs(int n, char *const *args, int recursive, char ***out, int *n_out)
{
    *out = NULL;
    *n_out = 0;
    char **v = NULL;
    int m = 0, cap = 0, rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        struct stat sb;
        duet_file_list fl = {0};
        const char *one[1] = {args[i]};
        const char *const *src = one;
        int k = 1;
        if (strcmp(args[i], "-") && stat(args[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            duet_err err = {0};
            duet_status st = duet_find_audio_files(args[i], recursive, &fl, &err);
            if (st) {
                cli_error(NULL, "%s", duet_err_msg(&err, st));
                rc = 1;
                break;
            }
            if (fl.n == 0) {
                cli_error(args[i], "is a directory with no audio files%s", recursive ? "" : " (-r searches its subfolders)");
                rc = 1;
                break;
            }
            src = (const char *const *)fl.path;
            k = fl.n;
        }
        for (int j = 0; j < k && rc == 0; j++) {
            if (m == cap) {
                cap = cap ? 2 * cap : 16;
                char **nv = realloc(v, sizeof *nv * (size_t)cap);
                if (!nv) {
                    rc = 1;
                    break;
                }
                v = nv;
            }
            if (!(v[m] = strdup(src[j]))) rc = 1;
            else m++;
        }
        duet_file_list_free(&fl);
    }
    if (rc) {
        cli_free_inputs(v, m);
        return rc;
    }
    *out = v;
    *n_out = m;
    return 0;
}

void cli_free_inputs(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}
