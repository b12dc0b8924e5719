/* separation/stems_io.h: reading separation data sets and estimates.
 *
 * Two layouts (see ../shared/data/sep/README.md):
 * - MIR-1K: a folder of stereo clips (any format libsndfile reads, e.g.
 *   .flac/.wav), LEFT = accompaniment, RIGHT = singing voice; the mixture
 *   is their sum (MIR-1K's equal-gain convention). Stems are mono.
 * - Stem folders (MUSDB style): DIR/<track>/{mixture,vocals,accompaniment}
 *   .{wav,flac,ogg,mp3}, or MUSDB's four stems {vocals,drums,bass,other}
 *   (accompaniment = drums + bass + other); the mixture is optional (then the sum of the two
 *   stems). All present files must share rate, channels and length.
 * Estimates are read from a stem-folder tree, DIR/<track>/{vocals,
 * accompaniment}.{wav,flac}, which is what `duet separate -o DIR` writes. */
#ifndef DUET_SEPARATION_STEMS_IO_H
#define DUET_SEPARATION_STEMS_IO_H

#include "../audio/audio.h"
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum duet_stems_layout { DUET_STEMS_MIR1K = 0, DUET_STEMS_FOLDERS = 1 } duet_stems_layout;

typedef struct duet_track_ref {
    char name[256];   /* track name: file name without extension, or folder name */
    char path[4096];  /* the clip file (MIR-1K) or the track folder */
} duet_track_ref;

/* Tracks found in a folder, sorted by name. Owns `tracks`. */
typedef struct duet_track_list {
    duet_stems_layout layout;
    int n;
    duet_track_ref *tracks;
} duet_track_list;

/* Scan `dir`: sub-folders holding a vocals.* file make a stem-folder data
 * set, otherwise every audio file (.flac .wav .ogg .mp3) is a MIR-1K clip.
 * `patterns` (may be NULL) keeps only tracks whose name matches one of the
 * comma-separated shell patterns (fnmatch), e.g. "bobon_*,fdps_*".
 * Errors: DUET_ERR_IO (not a readable folder), DUET_ERR_EMPTY (no tracks,
 * or none matching), DUET_ERR_NOMEM. */
duet_status duet_stems_scan(const char *dir, const char *patterns, duet_track_list *out, duet_err *err);
void duet_track_list_free(duet_track_list *l);

/* The reference stems of one track (each owned; free with duet_stems_free). */
typedef struct duet_stems {
    duet_audio mixture, vocals, accompaniment;
} duet_stems;

/* Load track i. Errors: DUET_ERR_NOTFOUND (a missing stem file),
 * DUET_ERR_FORMAT (a MIR-1K clip that is not stereo; unreadable audio),
 * DUET_ERR_SHAPE (stems of different rate, channels or length),
 * DUET_ERR_NAN, DUET_ERR_IO, DUET_ERR_NOMEM. Messages name the file. */
duet_status duet_stems_load(const duet_track_list *l, int i, duet_stems *out, duet_err *err);
void duet_stems_free(duet_stems *s);

/* Load DIR/<track>/vocals.* and accompaniment.* (wav, flac, ogg, mp3).
 * Errors as duet_stems_load. */
duet_status duet_stems_load_estimates(const char *dir, const char *track, duet_audio *vocals,
                                      duet_audio *accompaniment, duet_err *err);

/* Find DIR/<base>.{wav,flac,ogg,mp3}: 0 and the path in out, or -1. */
int duet_stems_find_file(const char *dir, const char *base, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif

#endif
