/* common/pathfmt.c: extension -> format name, path joining (see pathfmt.h). */
#include "pathfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *ext, *name;
    int audio;
} TABLE[] = {
    {"wav", "wav", 1},   {"wave", "wav", 1},  {"flac", "flac", 1}, {"ogg", "ogg", 1},   {"oga", "ogg", 1},
    {"opus", "opus", 1}, {"mp3", "mp3", 1},   {"aiff", "aiff", 1}, {"aif", "aiff", 1},  {"aifc", "aiff", 1},
    {"au", "au", 1},     {"snd", "au", 1},    {"caf", "caf", 1},   {"w64", "w64", 1},   {"m4a", "m4a", 1},
    {"mp4", "m4a", 1},   {"aac", "aac", 1},   {"wma", "wma", 1},   {"png", "png", 0},   {"jpg", "jpeg", 0},
    {"jpeg", "jpeg", 0}, {"gif", "gif", 0},   {"bmp", "bmp", 0},   {"tif", "tiff", 0},  {"tiff", "tiff", 0},
    {"webp", "webp", 0}, {"svg", "svg", 0},   {"pdf", "pdf", 0},   {"json", "json", 0}, {"csv", "csv", 0},
    {"tsv", "tsv", 0},   {"txt", "txt", 0},   {"safetensors", "safetensors", 0},
};

const char *duet_path_format(const char *path)
{
    if (!path) return NULL;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base || !dot[1]) return NULL;
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        if (!strcasecmp(dot + 1, TABLE[i].ext)) return TABLE[i].name;
    return NULL;
}

int duet_format_is_audio(const char *name)
{
    if (!name) return 0;
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        if (!strcmp(name, TABLE[i].name)) return TABLE[i].audio;
    return 0;
}

char *duet_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *duet_str_concat(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s%s", a, b);
    return p;
}
