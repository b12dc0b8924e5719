/* audio/audio_files.c: audio files of a folder (audio_files.h). */
#define _DEFAULT_SOURCE
#include "audio_files.h"
#include "../common/pathfmt.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILES 1000000

void duet_file_list_free(duet_file_list *l)
{
    if (!l) return;
    for (int i = 0; i < l->n; i++) {
        free(l->path[i]);
        free(l->rel[i]);
    }
    free(l->path);
    free(l->rel);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static duet_status add(duet_file_list *l, const char *path, const char *rel, duet_err *err)
{
    if (l->n >= MAX_FILES) return duet_err_set(err, DUET_ERR_RANGE, "more than %d audio files", MAX_FILES);
    if ((l->n & (l->n - 1)) == 0) { /* grow at powers of two */
        int cap = l->n ? 2 * l->n : 1;
        char **p = realloc(l->path, sizeof *p * (size_t)cap), **r = p ? realloc(l->rel, sizeof *r * (size_t)cap) : NULL;
        if (p) l->path = p;
        if (!p || !r) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        l->rel = r;
    }
    l->path[l->n] = strdup(path);
    l->rel[l->n] = strdup(rel);
    if (!l->path[l->n] || !l->rel[l->n]) {
        free(l->path[l->n]);
        free(l->rel[l->n]);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    l->n++;
    return DUET_OK;
}

static duet_status scan(const char *root, const char *rel, int recursive, int depth, duet_file_list *l, duet_err *err)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d) return duet_err_set(err, DUET_ERR_IO, "%s: cannot read the folder: %s", dir, strerror(errno));
    char **names = NULL;
    int n = 0, cap = 0;
    duet_status st = DUET_OK;
    struct dirent *e;
    while (!st && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, sizeof *nn * (size_t)cap);
            if (!nn) {
                st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        else n++;
    }
    closedir(d);
    if (n > 1) qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n && !st; i++) {
        char path[4096], sub[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
        struct stat sb;
        if (stat(path, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) {
            if (recursive && depth < 64) st = scan(root, sub, recursive, depth + 1, l, err);
        } else if (duet_format_is_audio(duet_path_format(names[i]))) {
            st = add(l, path, sub, err);
        }
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return st;
}

duet_status duet_find_audio_files(const char *dir, int recursive, duet_file_list *list, duet_err *err)
{
    if (!dir || !dir[0] || !list) return duet_err_set(err, DUET_ERR_ARG, "no folder given");
    char root[4096];
    snprintf(root, sizeof root, "%s", dir);
    size_t L = strlen(root);
    while (L > 1 && root[L - 1] == '/') root[--L] = 0;
    return scan(root, "", recursive, 0, list, err);
}
