/* separation/stems_io.c: MIR-1K and stem-folder readers (see stems_io.h). */
#define _DEFAULT_SOURCE
#include "stems_io.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const audio_ext[] = {".wav", ".flac", ".ogg", ".mp3", ".WAV", ".FLAC"};

static int has_audio_ext(const char *name, size_t *stem_len)
{
    size_t l = strlen(name);
    for (size_t i = 0; i < sizeof audio_ext / sizeof audio_ext[0]; i++) {
        size_t e = strlen(audio_ext[i]);
        if (l > e && strcmp(name + l - e, audio_ext[i]) == 0) {
            if (stem_len) *stem_len = l - e;
            return 1;
        }
    }
    return 0;
}

int duet_stems_find_file(const char *dir, const char *base, char *out, size_t out_size)
{
    struct stat sb;
    for (size_t i = 0; i < 4; i++) {
        int k = snprintf(out, out_size, "%s/%s%s", dir, base, audio_ext[i]);
        if (k < 0 || (size_t)k >= out_size) return -1;
        if (stat(out, &sb) == 0 && S_ISREG(sb.st_mode)) return 0;
    }
    return -1;
}

static int matches(const char *name, const char *patterns)
{
    if (!patterns || !*patterns) return 1;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", patterns);
    char *save = NULL;
    for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
        if (fnmatch(p, name, 0) == 0) return 1;
    return 0;
}

static int cmp_track(const void *a, const void *b)
{
    return strcmp(((const duet_track_ref *)a)->name, ((const duet_track_ref *)b)->name);
}

duet_status duet_stems_scan(const char *dir, const char *patterns, duet_track_list *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) return duet_err_set(err, DUET_ERR_IO, "%s: %s", dir, strerror(errno));
    int cap = 0, nf = 0, nd = 0;
    duet_track_ref *files = NULL, *dirs = NULL;
    int capd = 0;
    struct dirent *e;
    duet_status st = DUET_OK;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        struct stat sb;
        if (stat(path, &sb) != 0) continue;
        size_t sl = 0;
        if (S_ISDIR(sb.st_mode)) {
            char probe[4096];
            if (duet_stems_find_file(path, "vocals", probe, sizeof probe) != 0) continue;
            if (!matches(e->d_name, patterns)) continue;
            if (nd == capd) {
                capd = capd ? capd * 2 : 64;
                duet_track_ref *nt = realloc(dirs, sizeof *nt * (size_t)capd);
                if (!nt) {
                    st = DUET_ERR_NOMEM;
                    break;
                }
                dirs = nt;
            }
            snprintf(dirs[nd].name, sizeof dirs[nd].name, "%s", e->d_name);
            snprintf(dirs[nd].path, sizeof dirs[nd].path, "%s", path);
            nd++;
        } else if (S_ISREG(sb.st_mode) && has_audio_ext(e->d_name, &sl)) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(sl < 255 ? sl : 255), e->d_name);
            if (!matches(name, patterns)) continue;
            if (nf == cap) {
                cap = cap ? cap * 2 : 256;
                duet_track_ref *nt = realloc(files, sizeof *nt * (size_t)cap);
                if (!nt) {
                    st = DUET_ERR_NOMEM;
                    break;
                }
                files = nt;
            }
            snprintf(files[nf].name, sizeof files[nf].name, "%s", name);
            snprintf(files[nf].path, sizeof files[nf].path, "%s", path);
            nf++;
        }
    }
    closedir(d);
    if (st) {
        free(files);
        free(dirs);
        return duet_err_set(err, st, "%s: out of memory", dir);
    }
    if (nd > 0) {
        free(files);
        out->layout = DUET_STEMS_FOLDERS;
        out->n = nd;
        out->tracks = dirs;
    } else {
        free(dirs);
        out->layout = DUET_STEMS_MIR1K;
        out->n = nf;
        out->tracks = files;
    }
    if (out->n == 0) {
        free(out->tracks);
        memset(out, 0, sizeof *out);
        return duet_err_set(err, DUET_ERR_EMPTY, "%s: no tracks%s (expected MIR-1K clips or <track>/vocals.wav folders)", dir,
                            patterns ? " matching the pattern" : "");
    }
    qsort(out->tracks, (size_t)out->n, sizeof *out->tracks, cmp_track);
    return DUET_OK;
}

void duet_track_list_free(duet_track_list *l)
{
    if (!l) return;
    free(l->tracks);
    memset(l, 0, sizeof *l);
}

void duet_stems_free(duet_stems *s)
{
    if (!s) return;
    duet_audio_free(&s->mixture);
    duet_audio_free(&s->vocals);
    duet_audio_free(&s->accompaniment);
}

static duet_status read_file(const char *path, duet_audio *a, duet_err *err)
{
    duet_err e2 = {0};
    duet_status st = duet_audio_read(path, NULL, a, NULL, &e2);
    if (st) return duet_err_set(err, st, "%s: %s", path, duet_err_msg(&e2, st));
    if (a->frames == 0) {
        duet_audio_free(a);
        return duet_err_set(err, DUET_ERR_EMPTY, "%s: no samples", path);
    }
    return DUET_OK;
}

static duet_status same_shape(const duet_audio *a, const char *pa, const duet_audio *b, const char *pb, duet_err *err)
{
    if (a->sample_rate != b->sample_rate || a->channels != b->channels || a->frames != b->frames)
        return duet_err_set(err, DUET_ERR_SHAPE, "%s (%d Hz, %d ch, %lld frames) and %s (%d Hz, %d ch, %lld frames) differ", pa,
                            a->sample_rate, a->channels, (long long)a->frames, pb, b->sample_rate, b->channels,
                            (long long)b->frames);
    return DUET_OK;
}

static duet_status load_pair(const char *dir, duet_audio *v, duet_audio *a, char *pv, char *pa, size_t psz,
                             duet_err *err)
{
    memset(v, 0, sizeof *v);
    memset(a, 0, sizeof *a);
    if (duet_stems_find_file(dir, "vocals", pv, psz) != 0)
        return duet_err_set(err, DUET_ERR_NOTFOUND, "%s: missing stem vocals.{wav,flac,ogg,mp3}", dir);
    duet_status st;
    if (duet_stems_find_file(dir, "accompaniment", pa, psz) != 0) {
        /* MUSDB's four stems: accompaniment = drums + bass + other */
        static const char *const parts[3] = {"drums", "bass", "other"};
        for (int k = 0; k < 3; k++)
            if (duet_stems_find_file(dir, parts[k], pa, psz) != 0)
                return duet_err_set(err, DUET_ERR_NOTFOUND,
                                    "%s: missing stem accompaniment.{wav,flac,ogg,mp3} (or drums, bass and other)", dir);
        st = read_file(pv, v, err);
        for (int k = 0; k < 3 && !st; k++) {
            duet_audio part;
            duet_stems_find_file(dir, parts[k], pa, psz);
            st = read_file(pa, &part, err);
            if (!st) st = same_shape(v, pv, &part, pa, err);
            if (!st && k == 0) {
                *a = part;
                continue;
            }
            if (!st)
                for (int c = 0; c < a->channels; c++)
                    for (int64_t i = 0; i < a->frames; i++) a->ch[c][i] += part.ch[c][i];
            duet_audio_free(&part);
        }
        if (st) {
            duet_audio_free(v);
            duet_audio_free(a);
        }
        return st;
    }
    st = read_file(pv, v, err);
    if (!st) st = read_file(pa, a, err);
    if (!st) st = same_shape(v, pv, a, pa, err);
    if (st) {
        duet_audio_free(v);
        duet_audio_free(a);
    }
    return st;
}

duet_status duet_stems_load(const duet_track_list *l, int i, duet_stems *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    if (!l || i < 0 || i >= l->n) return duet_err_set(err, DUET_ERR_ARG, "no track %d", i);
    const duet_track_ref *t = &l->tracks[i];
    duet_status st;
    if (l->layout == DUET_STEMS_MIR1K) {
        duet_audio clip;
        st = read_file(t->path, &clip, err);
        if (st) return st;
        if (clip.channels != 2) {
            int c = clip.channels;
            duet_audio_free(&clip);
            return duet_err_set(err, DUET_ERR_FORMAT,
                                "%s: a MIR-1K clip must be stereo (left accompaniment, right voice), found %d channel(s)",
                                t->path, c);
        }
        if (duet_audio_alloc(&out->mixture, 1, clip.frames, clip.sample_rate) ||
            duet_audio_alloc(&out->vocals, 1, clip.frames, clip.sample_rate) ||
            duet_audio_alloc(&out->accompaniment, 1, clip.frames, clip.sample_rate)) {
            duet_audio_free(&clip);
            duet_stems_free(out);
            return duet_err_set(err, DUET_ERR_NOMEM, "%s: out of memory", t->path);
        }
        for (int64_t k = 0; k < clip.frames; k++) {
            out->accompaniment.ch[0][k] = clip.ch[0][k];
            out->vocals.ch[0][k] = clip.ch[1][k];
            out->mixture.ch[0][k] = clip.ch[0][k] + clip.ch[1][k];
        }
        duet_audio_free(&clip);
        return DUET_OK;
    }
    char pv[4200], pa[4200], pm[4200];
    st = load_pair(t->path, &out->vocals, &out->accompaniment, pv, pa, sizeof pv, err);
    if (st) return st;
    if (duet_stems_find_file(t->path, "mixture", pm, sizeof pm) == 0) {
        st = read_file(pm, &out->mixture, err);
        if (!st) st = same_shape(&out->mixture, pm, &out->vocals, pv, err);
    } else {
        const duet_audio *v = &out->vocals;
        if (duet_audio_alloc(&out->mixture, v->channels, v->frames, v->sample_rate))
            st = duet_err_set(err, DUET_ERR_NOMEM, "%s: out of memory", t->path);
        else
            for (int c = 0; c < v->channels; c++)
                for (int64_t k = 0; k < v->frames; k++) out->mixture.ch[c][k] = v->ch[c][k] + out->accompaniment.ch[c][k];
    }
    if (st) duet_stems_free(out);
    return st;
}

duet_status duet_stems_load_estimates(const char *dir, const char *track, duet_audio *vocals,
                                      duet_audio *accompaniment, duet_err *err)
{
    char td[4096], pv[4200], pa[4200];
    if (snprintf(td, sizeof td, "%s/%s", dir, track) >= (int)sizeof td)
        return duet_err_set(err, DUET_ERR_ARG, "%s: path too long", dir);
    return load_pair(td, vocals, accompaniment, pv, pa, sizeof pv, err);
}
