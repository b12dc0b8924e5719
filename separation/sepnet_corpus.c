/* separation/sepnet_corpus.c: the stereo multitrack training corpus and its
 * on-the-fly remixing (see sepnet_corpus.h). */
#define _DEFAULT_SOURCE
#include "sepnet_corpus.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audio/audio.h"
#include "stems_io.h"

typedef struct sn_track {
    float *x;      /* stereo: 2 n planar; mono: n */
    int64_t n;
    int stereo;
    float gain;    /* loudness normalisation (1 for musdb stems) */
} sn_track;

typedef struct sn_pool {
    sn_track *t;
    int n, cap;
    int n_real;    /* the first n_real tracks are musdb stems (song i = track i) */
} sn_pool;

struct duet_sepnet_corpus {
    sn_pool pool[SEPNET_KINDS];
    int n_songs;   /* training songs: pool[k].t[i], i < n_songs, are song i's stems */
};

static const char *const kind_name[SEPNET_KINDS] = {"vocals", "drums", "bass", "other"};

duet_sepnet_corpus_opts duet_sepnet_corpus_opts_default(void)
{
    duet_sepnet_corpus_opts o;
    memset(&o, 0, sizeof o);
    o.sample_rate = 44100;
    o.val_every = 6;
    return o;
}

duet_sepnet_corpus_aug duet_sepnet_corpus_aug_default(void)
{
    duet_sepnet_corpus_aug a;
    a.p_coherent = 0.3f;
    a.p_real[SEPNET_VOCALS] = 0.7f;
    a.p_real[SEPNET_DRUMS] = 0.6f;
    a.p_real[SEPNET_BASS] = 1.0f;
    a.p_real[SEPNET_OTHER] = 0.5f;
    a.p_silent = 0.05f;
    a.p_keep[SEPNET_VOCALS] = 1.0f;
    a.p_keep[SEPNET_DRUMS] = 0.9f;
    a.p_keep[SEPNET_BASS] = 0.85f;
    a.p_keep[SEPNET_OTHER] = 0.95f;
    a.gain_lo = 0.25f;
    a.gain_hi = 1.25f;
    a.p_swap = 0.5f;
    a.p_flip = 0.5f;
    return a;
}

/* ------------------------------------------------------------- loading */

static const char *const audio_exts[] = {"wav", "flac", "ogg", "mp3", NULL};

/* A track from decoded audio: channel < 0 = stereo from the first two
 * channels (mono audio: a mono track), else that channel alone (mono). */
static duet_status track_from(const duet_audio *a, int channel, const char *path, sn_track *t, duet_err *err)
{
    memset(t, 0, sizeof *t);
    t->n = a->frames;
    t->gain = 1.0f;
    t->stereo = channel < 0 && a->channels >= 2;
    size_t n = (size_t)a->frames;
    t->x = malloc((size_t)(t->stereo ? 2 : 1) * (n ? n : 1) * sizeof(float));
    if (!t->x) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory loading %s", path);
    if (t->stereo) {
        memcpy(t->x, a->ch[0], n * sizeof(float));
        memcpy(t->x + n, a->ch[1], n * sizeof(float));
    } else {
        memcpy(t->x, a->ch[channel < 0 ? 0 : channel], n * sizeof(float));
    }
    return DUET_OK;
}

/* Decode path at `rate` into a track (stereo files, and the first two
 * channels of more, give a stereo track; mono files a mono one). */
static duet_status read_track(const char *path, int rate, sn_track *t, duet_err *err)
{
    duet_audio a = {0};
    duet_status st = duet_sepnet_read_at_rate(path, rate, &a, err);
    if (!st) st = track_from(&a, -1, path, t, err);
    duet_audio_free(&a);
    return st;
}

static duet_status pool_push(sn_pool *p, const sn_track *t, duet_err *err)
{
    if (p->n == p->cap) {
        int nc = p->cap ? 2 * p->cap : 64;
        sn_track *q = realloc(p->t, (size_t)nc * sizeof *q);
        if (!q) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        p->t = q;
        p->cap = nc;
    }
    p->t[p->n++] = *t;
    return DUET_OK;
}

static double track_rms(const sn_track *t)
{
    size_t len = (size_t)(t->stereo ? 2 : 1) * (size_t)t->n;
    double s = 0;
    for (size_t i = 0; i < len; i++) s += (double)t->x[i] * t->x[i];
    return len ? sqrt(s / (double)len) : 0.0;
}


/* A stereo clip (planar) of a song: vocals and the sum of the others. */
static duet_status add_clip(duet_sepnet_dataset *ds, const char *name, const sn_track st[SEPNET_KINDS], duet_err *err)
{
    int64_t n = st[0].n;
    for (int k = 1; k < SEPNET_KINDS; k++)
        if (st[k].n < n) n = st[k].n;
    duet_sepnet_clip c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    c.n = n;
    c.voc = malloc((size_t)(2 * n + 1) * sizeof(float));
    c.acc = calloc((size_t)(2 * n + 1), sizeof(float));
    duet_sepnet_clip *q = realloc(ds->clips, (size_t)(ds->n_clips + 1) * sizeof *q);
    if (q) ds->clips = q;
    if (!c.voc || !c.acc || !q) {
        free(c.voc);
        free(c.acc);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    for (int ch = 0; ch < 2; ch++) {
        const float *v = st[0].x + (st[0].stereo ? (size_t)ch * st[0].n : 0);
        memcpy(c.voc + (size_t)ch * n, v, (size_t)n * sizeof(float));
        for (int k = 1; k < SEPNET_KINDS; k++) {
            const float *s = st[k].x + (st[k].stereo ? (size_t)ch * st[k].n : 0);
            for (int64_t i = 0; i < n; i++) c.acc[(size_t)ch * n + i] += s[i];
        }
    }
    ds->clips[ds->n_clips++] = c;
    ds->seconds += (double)n / ds->sample_rate;
    return DUET_OK;
}

static duet_status load_musdb(const duet_sepnet_corpus_opts *o, struct duet_sepnet_corpus *cp, duet_sepnet_dataset *train,
                              duet_sepnet_dataset *val, duet_err *err)
{
    char **songs;
    int n;
    duet_status st = duet_sepnet_list_dir(o->musdb, NULL, &songs, &n, err);
    if (st) return st;
    if (n == 0) {
        duet_sepnet_list_free(songs, n);
        return duet_err_set(err, DUET_ERR_EMPTY, "%s: no song folders", o->musdb);
    }
    char path[4096];
    for (int i = 0; i < n && !st; i++) {
        int held = o->val_songs ? duet_sepnet_in_list(songs[i], o->val_songs)
                                : (o->val_every > 0 && i % o->val_every == o->val_offset % o->val_every);
        sn_track t[SEPNET_KINDS];
        memset(t, 0, sizeof t);
        for (int k = 0; k < SEPNET_KINDS && !st; k++) {
            char song_dir[4096];
            snprintf(song_dir, sizeof song_dir, "%s/%s", o->musdb, songs[i]);
            if (duet_stems_find_file(song_dir, kind_name[k], path, sizeof path) != 0) {
                st = duet_err_set(err, DUET_ERR_FORMAT, "%s: no %s stem (.wav, .flac, .ogg or .mp3)", song_dir,
                                  kind_name[k]);
                break;
            }
            st = read_track(path, o->sample_rate, &t[k], err);
        }
        if (!st) st = add_clip(held ? val : train, songs[i], t, err);
        if (!st && !held) {
            for (int k = 0; k < SEPNET_KINDS && !st; k++) {
                st = pool_push(&cp->pool[k], &t[k], err);
                if (!st) t[k].x = NULL; /* owned by the pool */
            }
            if (!st) cp->n_songs++;
        }
        for (int k = 0; k < SEPNET_KINDS; k++) free(t[k].x);
    }
    duet_sepnet_list_free(songs, n);
    if (!st && cp->n_songs == 0) st = duet_err_set(err, DUET_ERR_EMPTY, "%s: every song is held out", o->musdb);
    for (int k = 0; k < SEPNET_KINDS; k++) cp->pool[k].n_real = cp->n_songs;
    return st;
}

/* Extra tracks of one folder into pool k, at most max_sec seconds (0 = all). */
static duet_status load_extra(const char *dir, int rate, double max_sec, sn_pool *p, duet_err *err)
{
    char **names;
    int n;
    duet_status st = duet_sepnet_list_dir(dir, audio_exts, &names, &n, err);
    if (st) return st;
    char path[4096];
    double sec = 0;
    for (int i = 0; i < n && !st && (max_sec <= 0 || sec < max_sec); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        sn_track t;
        st = read_track(path, rate, &t, err);
        if (st) break;
        if (t.n < rate / 2) { /* too short to matter */
            free(t.x);
            continue;
        }
        sec += (double)t.n / rate;
        st = pool_push(p, &t, err);
        if (st) free(t.x);
    }
    duet_sepnet_list_free(names, n);
    return st;
}

static duet_status load_mir1k(const duet_sepnet_corpus_opts *o, struct duet_sepnet_corpus *cp, duet_err *err)
{
    char **names;
    int n;
    duet_status st = duet_sepnet_list_dir(o->mir1k, audio_exts, &names, &n, err);
    if (st) return st;
    char path[4096];
    for (int i = 0; i < n && !st; i++) {
        char singer[64];
        size_t sl = strcspn(names[i], "_");
        if (sl >= sizeof singer) sl = sizeof singer - 1;
        memcpy(singer, names[i], sl);
        singer[sl] = 0;
        if (duet_sepnet_in_list(singer, o->mir1k_val)) continue;
        snprintf(path, sizeof path, "%s/%s", o->mir1k, names[i]);
        /* MIR-1K: left accompaniment, right voice; decoded once */
        duet_audio clip = {0};
        sn_track v = {0}, a = {0};
        st = duet_sepnet_read_at_rate(path, o->sample_rate, &clip, err);
        if (!st && clip.channels != 2)
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s: a MIR-1K clip must be stereo, found %d channel(s)", path,
                              clip.channels);
        if (!st) st = track_from(&clip, 1, path, &v, err);
        if (!st) st = track_from(&clip, 0, path, &a, err);
        duet_audio_free(&clip);
        if (st) {
            free(v.x);
            free(a.x);
            break;
        }
        st = pool_push(&cp->pool[SEPNET_VOCALS], &v, err);
        if (st) {
            free(v.x);
            free(a.x);
            break;
        }
        st = pool_push(&cp->pool[SEPNET_OTHER], &a, err);
        if (st) free(a.x);
    }
    duet_sepnet_list_free(names, n);
    return st;
}

/* Scale the extra tracks of every pool to the median RMS of its musdb stems. */
static void normalise_extras(struct duet_sepnet_corpus *cp)
{
    for (int k = 0; k < SEPNET_KINDS; k++) {
        sn_pool *p = &cp->pool[k];
        if (p->n_real == 0 || p->n == p->n_real) continue;
        double *r = malloc((size_t)p->n_real * sizeof *r);
        if (!r) continue;
        int m = 0;
        for (int i = 0; i < p->n_real; i++) {
            double v = track_rms(&p->t[i]);
            if (v > 1e-5) r[m++] = v;
        }
        for (int i = 1; i < m; i++) /* insertion sort: n_real is small */
            for (int j = i; j > 0 && r[j - 1] > r[j]; j--) {
                double tmp = r[j];
                r[j] = r[j - 1];
                r[j - 1] = tmp;
            }
        double target = m ? r[m / 2] : 0.05;
        free(r);
        for (int i = p->n_real; i < p->n; i++) {
            double v = track_rms(&p->t[i]);
            p->t[i].gain = v > 1e-6 ? (float)(target / v) : 0.0f;
        }
    }
}

duet_status duet_sepnet_corpus_load(const duet_sepnet_corpus_opts *o, duet_sepnet_dataset *train, duet_sepnet_dataset *val,
                               duet_err *err)
{
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (!o || !o->musdb) return duet_err_set(err, DUET_ERR_ARG, "no musdb folder given");
    train->sample_rate = val->sample_rate = o->sample_rate;
    train->channels = val->channels = 2;
    struct duet_sepnet_corpus *cp = calloc(1, sizeof *cp);
    if (!cp) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    train->corpus = cp;
    duet_status st = load_musdb(o, cp, train, val, err);
    if (!st && o->mir1k) st = load_mir1k(o, cp, err);
    double cap = o->max_minutes_extra > 0 ? 60.0 * o->max_minutes_extra : 0;
    for (int i = 0; i < 8 && !st && o->other_dirs[i]; i++)
        st = load_extra(o->other_dirs[i], o->sample_rate, cap, &cp->pool[SEPNET_OTHER], err);
    for (int i = 0; i < 8 && !st && o->drum_dirs[i]; i++)
        st = load_extra(o->drum_dirs[i], o->sample_rate, cap, &cp->pool[SEPNET_DRUMS], err);
    if (st) {
        duet_sepnet_dataset_free(train);
        duet_sepnet_dataset_free(val);
        return st;
    }
    normalise_extras(cp);
    return DUET_OK;
}

void duet_sepnet_corpus_free(struct duet_sepnet_corpus *c)
{
    if (!c) return;
    for (int k = 0; k < SEPNET_KINDS; k++) {
        for (int i = 0; i < c->pool[k].n; i++) free(c->pool[k].t[i].x);
        free(c->pool[k].t);
    }
    free(c);
}

void duet_sepnet_corpus_stats(const duet_sepnet_dataset *ds, int n[SEPNET_KINDS], double sec[SEPNET_KINDS])
{
    for (int k = 0; k < SEPNET_KINDS; k++) {
        n[k] = 0;
        sec[k] = 0;
        if (!ds->corpus) continue;
        const sn_pool *p = &ds->corpus->pool[k];
        n[k] = p->n;
        for (int i = 0; i < p->n; i++) sec[k] += (double)p->t[i].n / ds->sample_rate;
    }
}

/* ------------------------------------------------------------- drawing */

static float urand(duet_rng *r, float lo, float hi) { return lo + (hi - lo) * duet_rng_uniform(r); }

/* Add gain * track[off .. off + n) to out (planar stereo, 2 n), swapped
 * left/right when swap; a mono track placed with pan angle theta (pi/4 =
 * centre, unit gain there). Past the track's end: nothing added. */
static void add_track(const sn_track *t, int64_t off, int64_t n, float gain, int swap, float theta, float *out)
{
    int64_t m = t->n - off < n ? t->n - off : n;
    if (m <= 0) return;
    for (int ch = 0; ch < 2; ch++) {
        int src_ch = swap ? 1 - ch : ch;
        const float *s;
        float g = gain * t->gain;
        if (t->stereo) {
            s = t->x + (size_t)src_ch * t->n + off;
        } else {
            s = t->x + off;
            g *= 1.41421356f * (ch == 0 ? cosf(theta) : sinf(theta));
        }
        float *d = out + (size_t)ch * n;
        for (int64_t i = 0; i < m; i++) d[i] += g * s[i];
    }
}

static int64_t rand_offset(int64_t len, int64_t n, duet_rng *rng)
{
    return len > n ? (int64_t)duet_rng_below(rng, (uint64_t)(len - n + 1)) : 0;
}

void duet_sepnet_corpus_draw(const duet_sepnet_dataset *ds, const duet_sepnet_corpus_aug *aug_in, duet_rng *rng, int64_t n,
                        float *voc, float *acc)
{
    const struct duet_sepnet_corpus *cp = ds->corpus;
    DUET_CHECK(cp && cp->n_songs > 0);
    duet_sepnet_corpus_aug aug = aug_in ? *aug_in : duet_sepnet_corpus_aug_default();
    memset(voc, 0, (size_t)2 * n * sizeof(float));
    memset(acc, 0, (size_t)2 * n * sizeof(float));
    const float pi4 = 0.78539816f;
    if (duet_rng_uniform(rng) < aug.p_coherent) {
        int s = (int)duet_rng_below(rng, (uint64_t)cp->n_songs);
        int64_t len = cp->pool[0].t[s].n;
        for (int k = 1; k < SEPNET_KINDS; k++)
            if (cp->pool[k].t[s].n < len) len = cp->pool[k].t[s].n;
        int64_t off = rand_offset(len, n, rng);
        int swap = duet_rng_uniform(rng) < aug.p_swap;
        for (int k = 0; k < SEPNET_KINDS; k++) {
            float g = urand(rng, aug.gain_lo, aug.gain_hi);
            if (k == SEPNET_VOCALS && duet_rng_uniform(rng) < aug.p_silent) g = 0.0f;
            add_track(&cp->pool[k].t[s], off, n, g, swap, pi4, k == SEPNET_VOCALS ? voc : acc);
        }
    } else {
        for (int k = 0; k < SEPNET_KINDS; k++) {
            const sn_pool *p = &cp->pool[k];
            float keep = k == SEPNET_VOCALS ? 1.0f - aug.p_silent : aug.p_keep[k];
            /* draw every random number whatever the outcome: fixed stream use */
            float u_keep = duet_rng_uniform(rng), u_real = duet_rng_uniform(rng);
            float g = urand(rng, aug.gain_lo, aug.gain_hi);
            int swap = duet_rng_uniform(rng) < aug.p_swap;
            float theta = k == SEPNET_VOCALS ? urand(rng, pi4 - 0.3f, pi4 + 0.3f) : urand(rng, 0.15f, 2 * pi4 - 0.15f);
            int ti;
            int n_extra = p->n - p->n_real;
            if (n_extra > 0 && (u_real >= aug.p_real[k] || p->n_real == 0))
                ti = p->n_real + (int)duet_rng_below(rng, (uint64_t)n_extra);
            else
                ti = (int)duet_rng_below(rng, (uint64_t)p->n_real);
            const sn_track *t = &p->t[ti];
            int64_t off = rand_offset(t->n, n, rng);
            if (u_keep >= keep) continue;
            add_track(t, off, n, g, swap, theta, k == SEPNET_VOCALS ? voc : acc);
        }
    }
    if (duet_rng_uniform(rng) < aug.p_flip)
        for (int64_t i = 0; i < 2 * n; i++) {
            voc[i] = -voc[i];
            acc[i] = -acc[i];
        }
}
