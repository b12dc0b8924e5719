/* separation/sepnet_corpus.h: the stereo, full-band training corpus of the
 * separation network (v2): Western multitrack stems remixed on the fly.
 *
 * Sources, all held in memory at the model's rate as stereo:
 * - musdb7 (../shared/data/sep/musdb7/train/<song>/{vocals,drums,bass,other}.*):
 *   four stems per song; songs are split into training and validation BY
 *   SONG (every `val_every`-th song in sorted name order, or the songs named
 *   in `val_songs`);
 * - MIR-1K clips (optional; mono, resampled from 16 kHz): the voice goes to
 *   the vocal pool, the karaoke accompaniment to the "other" pool;
 * - instrumentals and rendered backing tracks (optional folders of audio
 *   files with no voice, e.g. scripts/render_backing.py's harm/ and drums/):
 *   added to the "other" or the "drums" pool.
 * Extra (non-musdb) tracks are scaled to the median RMS of the musdb stems
 * of their kind, so that a rendered piano is as loud as a real "other" stem.
 *
 * A training chunk is either a coherent excerpt of one musdb song (all four
 * stems at the same offset, probability p_coherent) or a remix: vocals,
 * drums, bass and other each from a random track of its pool (musdb stems
 * with probability p_real, else an extra track) at its own offset, each
 * present with its own probability. Every stem gets a random gain
 * (gain_lo..gain_hi), a random left/right swap, and mono tracks a random
 * stereo placement (vocals near the centre); the whole mix flips polarity
 * with probability 1/2; vocals are silenced with probability p_silent.
 * All randomness comes from the caller's duet_rng: the same seed gives the
 * same chunks. */
#ifndef DUET_SEPARATION_SEPNET_CORPUS_H
#define DUET_SEPARATION_SEPNET_CORPUS_H

#include <stdint.h>

#include "../common/rng.h"
#include "../common/status.h"
#include "sepnet_data.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SEPNET_VOCALS = 0, SEPNET_DRUMS = 1, SEPNET_BASS = 2, SEPNET_OTHER = 3, SEPNET_KINDS = 4 };

typedef struct duet_sepnet_corpus_opts {
    int sample_rate;            /* model rate (Hz) */
    const char *musdb;          /* folder of song folders (required) */
    int val_every;              /* every N-th song (sorted) is held out; 0 = none */
    int val_offset;             /* ... starting at this index (0..N-1) */
    const char *val_songs;      /* comma-separated song names held out instead (NULL = use val_every) */
    const char *mir1k;          /* MIR-1K folder or NULL */
    const char *mir1k_val;      /* MIR-1K singers left out (comma-separated, NULL = none) */
    const char *other_dirs[8];  /* folders added to the "other" pool (NULL-terminated or 8) */
    const char *drum_dirs[8];   /* folders added to the "drums" pool */
    float max_minutes_extra;    /* cap per extra folder in minutes (0 = no cap) */
} duet_sepnet_corpus_opts;

/* Defaults: 44100 Hz, val_every 6, offset 0, nothing else set. */
duet_sepnet_corpus_opts duet_sepnet_corpus_opts_default(void);

typedef struct duet_sepnet_corpus_aug {
    float p_coherent;           /* a whole musdb excerpt (default 0.3) */
    float p_real[SEPNET_KINDS]; /* musdb track rather than an extra one (0.7 vocals, 0.6 drums, 1 bass, 0.5 other) */
    float p_keep[SEPNET_KINDS]; /* stem present in a remix (vocals 1 - p_silent, drums 0.9, bass 0.85, other 0.95) */
    float p_silent;             /* vocals silenced (0.05) */
    float gain_lo, gain_hi;     /* per-stem gain (0.25 .. 1.25) */
    float p_swap;               /* left/right swap per stem (0.5) */
    float p_flip;               /* polarity flip of the whole mix (0.5) */
} duet_sepnet_corpus_aug;

duet_sepnet_corpus_aug duet_sepnet_corpus_aug_default(void);

/* Load the corpus: *train becomes a stereo dataset (channels 2) that draws
 * chunks from the corpus (duet_sepnet_draw_chunk), whose `clips` are the
 * training songs (vocals and accompaniment = drums + bass + other), and
 * *val a stereo dataset of the held-out songs' whole excerpts (unit gains),
 * used by duet_sepnet_validate. Both are freed with duet_sepnet_dataset_free.
 * Errors: DUET_ERR_IO (folder unreadable), DUET_ERR_EMPTY (no songs, or
 * every song held out), DUET_ERR_FORMAT (a song folder missing a stem, named
 * in err), decoding errors (named), DUET_ERR_NOMEM. Extra folders that do
 * not exist are an error; empty ones add nothing. */
duet_status duet_sepnet_corpus_load(const duet_sepnet_corpus_opts *o, duet_sepnet_dataset *train, duet_sepnet_dataset *val,
                               duet_err *err);

/* Draw one augmented stereo chunk of n frames from a corpus dataset:
 * voc[2 n], acc[2 n] planar (left then right), caller-owned. aug NULL =
 * defaults. */
void duet_sepnet_corpus_draw(const duet_sepnet_dataset *ds, const duet_sepnet_corpus_aug *aug, duet_rng *rng, int64_t n,
                        float *voc, float *acc);

/* Tracks per pool (for reports): n[k] tracks, sec[k] seconds. */
void duet_sepnet_corpus_stats(const duet_sepnet_dataset *ds, int n[SEPNET_KINDS], double sec[SEPNET_KINDS]);

/* Frees the corpus part of a dataset (called by duet_sepnet_dataset_free). */
void duet_sepnet_corpus_free(struct duet_sepnet_corpus *c);

#ifdef __cplusplus
}
#endif

#endif
