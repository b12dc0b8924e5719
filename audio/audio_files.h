/* audio/audio_files.h: the audio files of a folder, for commands that take
 * folders as inputs (`duet separate DIR`, `duet features DIR`, `duet info
 * DIR`). A file counts as audio when its extension names an audio format
 * (common/pathfmt.h: .wav .flac .ogg .opus .mp3 .aiff ...); hidden entries
 * (names starting with '.') are skipped. */
#ifndef DUET_AUDIO_AUDIO_FILES_H
#define DUET_AUDIO_AUDIO_FILES_H

#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A list of files: path[i] is root/rel[i]; both owned by the list. */
typedef struct duet_file_list {
    int n;
    char **path;
    char **rel; /* relative to the folder given, e.g. "live/b.flac" */
} duet_file_list;

/* Append the audio files under `dir` to *list (zeroed by the caller before
 * the first call), in C sort order per folder, subfolders (to a depth of 64)
 * when recursive. Errors: DUET_ERR_IO (a folder cannot be read, named),
 * DUET_ERR_NOMEM, DUET_ERR_RANGE (more than 10^6 files). */
duet_status duet_find_audio_files(const char *dir, int recursive, duet_file_list *list, duet_err *err);
void duet_file_list_free(duet_file_list *list);

#ifdef __cplusplus
}
#endif

#endif
