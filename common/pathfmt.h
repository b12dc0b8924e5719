/* common/pathfmt.h: the file format a path's extension names, and path
 * joining.
 *
 * Used to refuse writing one format under another format's name (WAV data
 * in "x.mp3", PNG data in "x.jpg"). Only extensions of well-known formats
 * are recognised; a path with no extension or an unknown one names nothing
 * (devices such as /dev/null, FIFOs, "out.bin" are not second-guessed). */
#ifndef DUET_COMMON_PATHFMT_H
#define DUET_COMMON_PATHFMT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Canonical lower-case name of the format the extension of `path` names
 * ("wav", "flac", "ogg", "opus", "mp3", "aiff", "au", "caf", "w64", "m4a",
 * "aac", "wma", "png", "jpeg", "gif", "bmp", "tiff", "webp", "svg", "pdf",
 * "json", "csv", "tsv", "txt", "safetensors"), matched case-insensitively
 * ("X.WAVE" -> "wav", "y.oga" -> "ogg", "z.jpg" -> "jpeg"); NULL when the
 * last path component has no extension or an unknown one. Static string. */
const char *duet_path_format(const char *path);

/* 1 when the name returned by duet_path_format is an audio format. */
int duet_format_is_audio(const char *name);

/* "dir/name" as a new string (the caller frees it), or NULL when out of
 * memory. */
char *duet_path_join(const char *dir, const char *name);

/* a followed by b as a new string ("lastfm" + ".train.rating"; the caller
 * frees it), or NULL when out of memory. */
char *duet_str_concat(const char *a, const char *b);

#ifdef __cplusplus
}
#endif

#endif
