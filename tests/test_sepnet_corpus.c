/* tests/test_sepnet_corpus.c: the stereo musdb-style training corpus
 * (separation/sepnet_corpus.h) on a synthetic multitrack folder written to
 * a temporary directory: seven songs whose stems are constants that name
 * the song and the stem (left = +v, right = v/2), so every drawn chunk can
 * be traced back to its songs.
 * - songs are held out by song (every 3rd in sorted order, or by name);
 *   validation excerpts are the whole songs with vocals and accompaniment =
 *   drums + bass + other;
 * - draws are deterministic given the seed and differ across seeds;
 * - a coherent draw with unit gains and no swap/flip is one training song's
 *   excerpt, never a held-out song; remixes take each stem from the pools;
 *   a left/right swap moves the v/2 channel to the left; p_silent 1 silences
 *   the vocals;
 * - a song folder with a missing stem is DUET_ERR_FORMAT naming it; a missing
 *   extra folder is an error. */
#include "check.h"
#include "../audio/audio.h"
#include "../separation/sepnet_corpus.h"
#include "../separation/sepnet_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RATE 8000
#define SONG_N 4000
static char dir[64];
static const char *const kinds[4] = {"vocals", "drums", "bass", "other"};

/* the value of stem k of song i (left channel) */
static float stem_value(int i, int k) { return 0.01f * (float)(i + 1) + 0.1f * (float)k + 0.05f; }

static void write_song(const char *root, int i, int skip_kind)
{
    char p[256];
    snprintf(p, sizeof p, "%s/song%d", root, i);
    mkdir(p, 0755);
    for (int k = 0; k < 4; k++) {
        if (k == skip_kind) continue;
        duet_audio a;
        REQUIRE(duet_audio_alloc(&a, 2, SONG_N, RATE) == DUET_OK);
        for (int64_t t = 0; t < SONG_N; t++) {
            a.ch[0][t] = stem_value(i, k);
            a.ch[1][t] = 0.5f * stem_value(i, k);
        }
        snprintf(p, sizeof p, "%s/song%d/%s.wav", root, i, kinds[k]);
        REQUIRE(duet_audio_write(p, &a, DUET_FILE_WAV_FLOAT, NULL) == DUET_OK);
        duet_audio_free(&a);
    }
}

static duet_sepnet_corpus_opts opts(const char *root)
{
    duet_sepnet_corpus_opts o = duet_sepnet_corpus_opts_default();
    o.sample_rate = RATE;
    o.musdb = root;
    o.val_every = 3;
    return o;
}

/* which song a left-channel vocal value belongs to, -1 if none */
static int song_of_vocal(float v)
{
    for (int i = 0; i < 7; i++)
        if (fabsf(v - stem_value(i, 0)) < 1e-5f) return i;
    return -1;
}

static void test_split_by_song(void)
{
    char root[128];
    snprintf(root, sizeof root, "%s/musdb", dir);
    duet_sepnet_corpus_opts o = opts(root);
    duet_sepnet_dataset tr, va;
    duet_err err = {0};
    REQUIRE(duet_sepnet_corpus_load(&o, &tr, &va, &err) == DUET_OK);
    CHECK_MSG(tr.n_clips == 4 && va.n_clips == 3, "train %d, validation %d songs", tr.n_clips, va.n_clips);
    CHECK(tr.channels == 2 && va.channels == 2 && tr.sample_rate == RATE);
    static const char *const held[3] = {"song0", "song3", "song6"};
    for (int c = 0; c < va.n_clips && c < 3; c++) {
        CHECK_MSG(strcmp(va.clips[c].name, held[c]) == 0, "held out %s, want %s", va.clips[c].name, held[c]);
        const duet_sepnet_clip *cl = &va.clips[c];
        int i = cl->name[4] - '0';
        float acc = stem_value(i, 1) + stem_value(i, 2) + stem_value(i, 3);
        CHECK_NEAR(cl->voc[10], stem_value(i, 0), 1e-5);
        CHECK_NEAR(cl->voc[cl->n + 10], 0.5f * stem_value(i, 0), 1e-5);
        CHECK_NEAR(cl->acc[10], acc, 1e-4);
        CHECK(cl->n == SONG_N);
    }
    for (int c = 0; c < tr.n_clips; c++)
        CHECK_MSG(strcmp(tr.clips[c].name, "song0") && strcmp(tr.clips[c].name, "song3") &&
                      strcmp(tr.clips[c].name, "song6"),
                  "held-out song %s in training", tr.clips[c].name);
    duet_sepnet_dataset_free(&tr);
    duet_sepnet_dataset_free(&va);
    o.val_songs = "song2,song5";
    REQUIRE(duet_sepnet_corpus_load(&o, &tr, &va, &err) == DUET_OK);
    CHECK_MSG(tr.n_clips == 5 && va.n_clips == 2 && strcmp(va.clips[0].name, "song2") == 0,
              "--val-songs: train %d, validation %d", tr.n_clips, va.n_clips);
    duet_sepnet_dataset_free(&tr);
    duet_sepnet_dataset_free(&va);
}

static void test_draws(void)
{
    char root[128];
    snprintf(root, sizeof root, "%s/musdb", dir);
    duet_sepnet_corpus_opts o = opts(root);
    duet_sepnet_dataset tr, va;
    REQUIRE(duet_sepnet_corpus_load(&o, &tr, &va, NULL) == DUET_OK);
    const int64_t n = 1000;
    float *v1 = malloc(sizeof(float) * 2 * n), *a1 = malloc(sizeof(float) * 2 * n);
    float *v2 = malloc(sizeof(float) * 2 * n), *a2 = malloc(sizeof(float) * 2 * n);
    REQUIRE(v1 && a1 && v2 && a2);
    duet_rng r1, r2;
    /* deterministic; seeds differ */
    duet_rng_seed(&r1, 7);
    duet_rng_seed(&r2, 7);
    int same = 1;
    for (int d = 0; d < 20; d++) {
        duet_sepnet_corpus_draw(&tr, NULL, &r1, n, v1, a1);
        duet_sepnet_corpus_draw(&tr, NULL, &r2, n, v2, a2);
        same &= memcmp(v1, v2, sizeof(float) * 2 * n) == 0 && memcmp(a1, a2, sizeof(float) * 2 * n) == 0;
    }
    CHECK_MSG(same, "same seed, same chunks");
    duet_rng_seed(&r2, 8);
    duet_sepnet_corpus_draw(&tr, NULL, &r2, n, v2, a2);
    CHECK(memcmp(v1, v2, sizeof(float) * 2 * n) != 0 || memcmp(a1, a2, sizeof(float) * 2 * n) != 0);
    /* coherent, unit gains, no swap or flip: one training song, whole */
    duet_sepnet_corpus_aug g = duet_sepnet_corpus_aug_default();
    g.p_coherent = 1;
    g.gain_lo = g.gain_hi = 1;
    g.p_swap = g.p_flip = g.p_silent = 0;
    int seen[7] = {0}, bad = 0;
    for (int d = 0; d < 200; d++) {
        duet_sepnet_corpus_draw(&tr, &g, &r1, n, v1, a1);
        int s = song_of_vocal(v1[n / 2]);
        if (s < 0 || s % 3 == 0) {
            bad++;
            continue;
        }
        seen[s]++;
        float acc = stem_value(s, 1) + stem_value(s, 2) + stem_value(s, 3);
        if (fabsf(a1[n / 2] - acc) > 1e-4f || fabsf(v1[n + n / 2] - 0.5f * v1[n / 2]) > 1e-5f) bad++;
    }
    CHECK_MSG(bad == 0, "%d coherent draws not a training song's excerpt", bad);
    CHECK_MSG(seen[1] && seen[2] && seen[4] && seen[5], "every training song drawn (%d %d %d %d)", seen[1], seen[2],
              seen[4], seen[5]);
    /* remixes: vocals from a training song, left/right swap happens */
    g.p_coherent = 0;
    g.p_swap = 0.5f;
    g.p_keep[0] = 1;
    int swapped = 0, plain = 0;
    bad = 0;
    for (int d = 0; d < 200; d++) {
        duet_sepnet_corpus_draw(&tr, &g, &r1, n, v1, a1);
        float l = v1[n / 2], r = v1[n + n / 2];
        if (song_of_vocal(l) >= 0 && fabsf(r - 0.5f * l) < 1e-5f) plain++;
        else if (song_of_vocal(r) >= 0 && fabsf(l - 0.5f * r) < 1e-5f) swapped++;
        else bad++;
        int s = song_of_vocal(l) >= 0 ? song_of_vocal(l) : song_of_vocal(r);
        if (s >= 0 && s % 3 == 0) bad++;
    }
    CHECK_MSG(bad == 0 && swapped > 40 && plain > 40, "remix vocals: %d plain, %d swapped, %d bad", plain, swapped,
              bad);
    g.p_silent = 1;
    g.p_keep[0] = 0;
    duet_sepnet_corpus_draw(&tr, &g, &r1, n, v1, a1);
    double e = 0;
    for (int64_t t = 0; t < 2 * n; t++) e += fabs(v1[t]);
    CHECK_MSG(e == 0, "silenced vocals, sum |v| = %g", e);
    free(v1);
    free(a1);
    free(v2);
    free(a2);
    duet_sepnet_dataset_free(&tr);
    duet_sepnet_dataset_free(&va);
}

/* MIR-1K clips (left accompaniment, right voice) join the vocal and other
 * pools, validation singers left out; a mono clip is refused. */
static void test_mir1k_pools(void)
{
    char root[128], mk[128], p[256];
    snprintf(root, sizeof root, "%s/musdb", dir);
    snprintf(mk, sizeof mk, "%s/mir1k", dir);
    mkdir(mk, 0755);
    static const char *const names[3] = {"amy_1_01", "amy_1_02", "bobon_1_01"};
    for (int c = 0; c < 3; c++) {
        duet_audio a;
        REQUIRE(duet_audio_alloc(&a, 2, RATE, RATE) == DUET_OK);
        for (int64_t t = 0; t < RATE; t++) {
            a.ch[0][t] = 0.2f; /* accompaniment */
            a.ch[1][t] = 0.3f; /* voice */
        }
        snprintf(p, sizeof p, "%s/%s.wav", mk, names[c]);
        REQUIRE(duet_audio_write(p, &a, DUET_FILE_WAV_FLOAT, NULL) == DUET_OK);
        duet_audio_free(&a);
    }
    duet_sepnet_corpus_opts o = opts(root);
    o.mir1k = mk;
    o.mir1k_val = "bobon";
    duet_sepnet_dataset tr, va;
    duet_err err = {0};
    REQUIRE(duet_sepnet_corpus_load(&o, &tr, &va, &err) == DUET_OK);
    int n[SEPNET_KINDS];
    double sec[SEPNET_KINDS];
    duet_sepnet_corpus_stats(&tr, n, sec);
    CHECK_MSG(n[SEPNET_VOCALS] == 4 + 2 && n[SEPNET_OTHER] == 4 + 2 && n[SEPNET_DRUMS] == 4 && n[SEPNET_BASS] == 4,
              "pools %d %d %d %d", n[0], n[1], n[2], n[3]);
    duet_sepnet_dataset_free(&tr);
    duet_sepnet_dataset_free(&va);
    duet_audio m;
    REQUIRE(duet_audio_alloc(&m, 1, RATE, RATE) == DUET_OK);
    snprintf(p, sizeof p, "%s/amy_2_01.wav", mk);
    REQUIRE(duet_audio_write(p, &m, DUET_FILE_WAV_FLOAT, NULL) == DUET_OK);
    duet_audio_free(&m);
    duet_status st = duet_sepnet_corpus_load(&o, &tr, &va, &err);
    CHECK_MSG(st == DUET_ERR_FORMAT && strstr(err.msg, "amy_2_01"), "mono MIR-1K clip: %d %s", st, err.msg);
}

static void test_errors(void)
{
    char root[128];
    snprintf(root, sizeof root, "%s/broken", dir);
    mkdir(root, 0755);
    write_song(root, 0, -1);
    write_song(root, 1, 2); /* no bass */
    duet_sepnet_corpus_opts o = opts(root);
    duet_sepnet_dataset tr, va;
    duet_err err = {0};
    duet_status st = duet_sepnet_corpus_load(&o, &tr, &va, &err);
    CHECK_MSG(st == DUET_ERR_FORMAT && strstr(err.msg, "song1") && strstr(err.msg, "bass"), "missing stem: %d %s", st,
              err.msg);
    snprintf(root, sizeof root, "%s/musdb", dir);
    o = opts(root);
    o.other_dirs[0] = "/nonexistent/duet/backing";
    st = duet_sepnet_corpus_load(&o, &tr, &va, &err);
    CHECK_MSG(st != DUET_OK && strstr(err.msg, "/nonexistent/duet/backing"), "missing extra folder: %d %s", st,
              err.msg);
    o = opts("/nonexistent/duet/musdb");
    CHECK(duet_sepnet_corpus_load(&o, &tr, &va, &err) != DUET_OK);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/duet_corpus_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    char root[128];
    snprintf(root, sizeof root, "%s/musdb", dir);
    mkdir(root, 0755);
    for (int i = 0; i < 7; i++) write_song(root, i, -1);
    RUN(test_split_by_song);
    RUN(test_draws);
    RUN(test_mir1k_pools);
    RUN(test_errors);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    return check_summary();
}
