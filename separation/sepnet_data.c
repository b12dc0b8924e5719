/* separation/sepnet_data.c: stem data loading and chunk augmentation for
 * training the separation network (see sepnet_data.h). */
#define _DEFAULT_SOURCE
#include "sepnet_data.h"

#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audio/audio.h"
#include "sepnet_corpus.h"

static int has_ext(const char *name, const char *const *exts)
{
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (int i = 0; exts[i]; i++)
        if (strcasecmp(dot + 1, exts[i]) == 0) return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

duet_status duet_sepnet_list_dir(const char *dir, const char *const *exts, char ***out, int *n_out, duet_err *err)
{
    *out = NULL;
    *n_out = 0;
    DIR *d = opendir(dir);
    if (!d) return duet_err_set(err, DUET_ERR_IO, "%s: cannot open folder", dir);
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || (exts && !has_ext(e->d_name, exts))) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0 || (exts ? !S_ISREG(sb.st_mode) : !S_ISDIR(sb.st_mode))) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn) goto nomem;
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (!names[n]) goto nomem;
        n++;
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, cmp_str);
    *out = names;
    *n_out = n;
    return DUET_OK;
nomem:
    closedir(d);
    duet_sepnet_list_free(names, n);
    return duet_err_set(err, DUET_ERR_NOMEM, "out of memory listing %s", dir);
}

void duet_sepnet_list_free(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

duet_status duet_sepnet_read_at_rate(const char *path, int rate, duet_audio *a, duet_err *err)
{
    duet_audio raw = {0};
    duet_status st = duet_audio_read(path, NULL, &raw, NULL, err);
    if (st) {
        if (err) { /* name the clip: the caller only knows the folder */
            char m[sizeof err->msg];
            snprintf(m, sizeof m, "%s", duet_err_msg(err, st));
            duet_err_set(err, st, "%s: %s", path, m);
        }
        return st;
    }
    if (raw.sample_rate == rate) {
        *a = raw;
        return DUET_OK;
    }
    st = duet_audio_resample(&raw, rate, DUET_RESAMPLE_HIGH, a, err);
    duet_audio_free(&raw);
    return st;
}

int duet_sepnet_in_list(const char *name, const char *list)
{
    if (!list || !*list) return 0;
    size_t n = strlen(name);
    const char *p = list;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0) return 1;
        if (!c) break;
        p = c + 1;
    }
    return 0;
}

static duet_status push_clip(duet_sepnet_dataset *ds, int *cap, const duet_sepnet_clip *c)
{
    if (ds->n_clips == *cap) {
        int nc = *cap ? 2 * *cap : 64;
        duet_sepnet_clip *p = realloc(ds->clips, (size_t)nc * sizeof *p);
        if (!p) return DUET_ERR_NOMEM;
        ds->clips = p;
        *cap = nc;
    }
    ds->clips[ds->n_clips++] = *c;
    return DUET_OK;
}

duet_status duet_sepnet_load_mir1k(const char *dir, int rate, const char *val_singers,
                              duet_sepnet_dataset *train, duet_sepnet_dataset *val, duet_err *err)
{
    static const char *const exts[] = {"wav", "flac", NULL};
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    train->sample_rate = val->sample_rate = rate;
    char **names;
    int n;
    duet_status st = duet_sepnet_list_dir(dir, exts, &names, &n, err);
    if (st) return st;
    if (n == 0) {
        duet_sepnet_list_free(names, n);
        return duet_err_set(err, DUET_ERR_EMPTY, "%s: no .wav or .flac clips", dir);
    }
    int cap_t = 0, cap_v = 0;
    char path[4096];
    for (int i = 0; i < n && !st; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        duet_audio a = {0};
        st = duet_sepnet_read_at_rate(path, rate, &a, err);
        if (st) break;
        if (a.channels != 2) {
            duet_audio_free(&a);
            st = duet_err_set(err, DUET_ERR_FORMAT,
                              "%s: expected stereo (left accompaniment, right voice), found %d channel(s)",
                              path, a.channels);
            break;
        }
        duet_sepnet_clip c;
        memset(&c, 0, sizeof c);
        snprintf(c.name, sizeof c.name, "%s", names[i]);
        char *dot = strrchr(c.name, '.');
        if (dot) *dot = '\0';
        size_t sl = strcspn(c.name, "_");
        if (sl >= sizeof c.singer) sl = sizeof c.singer - 1;
        memcpy(c.singer, c.name, sl);
        c.singer[sl] = '\0';
        c.n = a.frames;
        c.acc = malloc((size_t)(a.frames ? a.frames : 1) * sizeof(float));
        c.voc = malloc((size_t)(a.frames ? a.frames : 1) * sizeof(float));
        if (!c.acc || !c.voc) {
            free(c.acc);
            free(c.voc);
            duet_audio_free(&a);
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory loading %s", path);
            break;
        }
        memcpy(c.acc, a.ch[0], (size_t)a.frames * sizeof(float));
        memcpy(c.voc, a.ch[1], (size_t)a.frames * sizeof(float));
        duet_audio_free(&a);
        duet_sepnet_dataset *ds = duet_sepnet_in_list(c.singer, val_singers) ? val : train;
        if (push_clip(ds, ds == val ? &cap_v : &cap_t, &c)) {
            free(c.acc);
            free(c.voc);
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            break;
        }
        ds->seconds += (double)c.n / rate;
    }
    duet_sepnet_list_free(names, n);
    if (!st && train->n_clips == 0)
        st = duet_err_set(err, DUET_ERR_EMPTY, "%s: every clip is from a validation singer", dir);
    if (st) {
        duet_sepnet_dataset_free(train);
        duet_sepnet_dataset_free(val);
    }
    return st;
}

duet_status duet_sepnet_load_instrumentals(duet_sepnet_dataset *ds, const char *dir, duet_err *err)
{
    static const char *const exts[] = {"wav", "flac", "ogg", "mp3", NULL};
    char **names;
    int n;
    duet_status st = duet_sepnet_list_dir(dir, exts, &names, &n, err);
    if (st) return st;
    char path[4096];
    for (int i = 0; i < n && !st; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        duet_audio a = {0}, mono = {0};
        st = duet_sepnet_read_at_rate(path, ds->sample_rate, &a, err);
        if (st) break;
        st = duet_audio_to_mono(&a, &mono, err);
        duet_audio_free(&a);
        if (st) break;
        duet_sepnet_clip *p = realloc(ds->instr, (size_t)(ds->n_instr + 1) * sizeof *p);
        if (!p) {
            duet_audio_free(&mono);
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            break;
        }
        ds->instr = p;
        duet_sepnet_clip *c = &ds->instr[ds->n_instr];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", names[i]);
        c->n = mono.frames;
        c->acc = malloc((size_t)(mono.frames ? mono.frames : 1) * sizeof(float));
        if (!c->acc) {
            duet_audio_free(&mono);
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            break;
        }
        memcpy(c->acc, mono.ch[0], (size_t)mono.frames * sizeof(float));
        duet_audio_free(&mono);
        ds->n_instr++;
    }
    duet_sepnet_list_free(names, n);
    return st;
}

void duet_sepnet_dataset_free(duet_sepnet_dataset *ds)
{
    if (!ds) return;
    for (int i = 0; i < ds->n_clips; i++) {
        free(ds->clips[i].voc);
        free(ds->clips[i].acc);
    }
    for (int i = 0; i < ds->n_instr; i++) free(ds->instr[i].acc);
    free(ds->clips);
    free(ds->instr);
    duet_sepnet_corpus_free(ds->corpus);
    memset(ds, 0, sizeof *ds);
}

duet_sepnet_aug duet_sepnet_aug_default(void)
{
    duet_sepnet_aug a = {0.5f, 0.15f, 0.05f, 0.25f, 1.25f};
    return a;
}

static int64_t rand_offset(int64_t len, int64_t n, duet_rng *rng)
{
    return len > n ? (int64_t)duet_rng_below(rng, (uint64_t)(len - n + 1)) : 0;
}

/* Copy n samples of gain * src[off..len) into dst (zero-padded). */
static void take(const float *src, int64_t len, int64_t off, int64_t n, float gain, float *dst)
{
    int64_t m = len - off < n ? len - off : n;
    for (int64_t i = 0; i < m; i++) dst[i] = gain * src[off + i];
    for (int64_t i = m; i < n; i++) dst[i] = 0.0f;
}

void duet_sepnet_draw_chunk(const duet_sepnet_dataset *ds, const duet_sepnet_aug *aug, duet_rng *rng, int64_t n,
                       float *voc, float *acc)
{
    DUET_CHECK(ds->n_clips > 0);
    if (ds->corpus) {
        duet_sepnet_corpus_aug ca = duet_sepnet_corpus_aug_default();
        if (!aug) {
            ca.p_coherent = 1.0f;
            ca.gain_lo = ca.gain_hi = 1.0f;
            ca.p_silent = 0.0f;
            ca.p_swap = ca.p_flip = -1.0f; /* never */
        }
        duet_sepnet_corpus_draw(ds, &ca, rng, n, voc, acc);
        return;
    }
    int vi = (int)duet_rng_below(rng, (uint64_t)ds->n_clips);
    const duet_sepnet_clip *vc = &ds->clips[vi];
    if (!aug) {
        int64_t off = vc->n > n ? (int64_t)duet_rng_below(rng, (uint64_t)(vc->n - n + 1)) : 0;
        int64_t m = vc->n - off < n ? vc->n - off : n;
        for (int64_t i = 0; i < n; i++) {
            voc[i] = i < m ? vc->voc[off + i] : 0.0f;
            acc[i] = i < m ? vc->acc[off + i] : 0.0f;
        }
        return;
    }
    float gv = aug->gain_lo + (aug->gain_hi - aug->gain_lo) * duet_rng_uniform(rng);
    float ga = aug->gain_lo + (aug->gain_hi - aug->gain_lo) * duet_rng_uniform(rng);
    if (duet_rng_uniform(rng) < aug->p_silent) gv = 0.0f;
    int64_t voff = rand_offset(vc->n, n, rng);
    take(vc->voc, vc->n, voff, n, gv, voc);
    float u = duet_rng_uniform(rng);
    const duet_sepnet_clip *ac = vc;
    if (ds->n_instr > 0 && u < aug->p_instr)
        ac = &ds->instr[duet_rng_below(rng, (uint64_t)ds->n_instr)];
    else if (u < aug->p_instr + aug->p_remix)
        ac = &ds->clips[duet_rng_below(rng, (uint64_t)ds->n_clips)];
    /* the clip's own accompaniment stays aligned with its voice */
    int64_t aoff = ac == vc ? voff : rand_offset(ac->n, n, rng);
    take(ac->acc, ac->n, aoff, n, ga, acc);
}
