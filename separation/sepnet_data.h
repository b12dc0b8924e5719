/* separation/sepnet_data.h: training data for the separation network.
 *
 * Loads stem data into memory at the model's sample rate and draws random,
 * augmented training chunks from it:
 * - MIR-1K clips (stereo files, LEFT = accompaniment, RIGHT = voice; see
 *   ../shared/data/sep/README.md), split by singer (the singer is the file
 *   name's prefix before the first '_');
 * - extra instrumentals (any audio; channels averaged) used as alternative
 *   accompaniment for remixing.
 * Augmentation (Uhlich et al. 2017 style remixing): vocals and accompaniment
 * drawn from different songs with probability p_remix, accompaniment taken
 * from the instrumentals with probability p_instr, independent gains in
 * [gain_lo, gain_hi], vocals silenced with probability p_silent so the model
 * learns "no voice". All randomness comes from a caller-owned duet_rng. */
#ifndef DUET_SEPARATION_SEPNET_DATA_H
#define DUET_SEPARATION_SEPNET_DATA_H

#include <stdint.h>
#include "../common/rng.h"
#include "../audio/audio.h"
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_sepnet_clip {
    char name[128];   /* file name without extension */
    char singer[32];  /* MIR-1K singer, "" for instrumentals */
    float *voc;       /* channels x n samples, planar (NULL for instrumentals) */
    float *acc;       /* channels x n samples, planar */
    int64_t n;
} duet_sepnet_clip;

/* A set of clips. Owns every buffer: free with duet_sepnet_dataset_free(). */
typedef struct duet_sepnet_dataset {
    duet_sepnet_clip *clips;
    int n_clips;
    duet_sepnet_clip *instr; /* instrumentals (accompaniment only) */
    int n_instr;
    int sample_rate;
    double seconds;     /* total duration of clips */
    int channels;       /* of every clip: 1 (MIR-1K loaders; 0 also means 1) or 2 (sepnet_corpus.h) */
    struct duet_sepnet_corpus *corpus; /* stereo stem pools (sepnet_corpus.h) or NULL */
} duet_sepnet_dataset;

/* Load every MIR-1K-style clip (*.wav, *.flac) in `dir` at `rate` Hz into
 * `train`, except singers listed in the comma-separated `val_singers` (may
 * be NULL or "") which go to `val`. Files are read in sorted name order.
 * Errors: DUET_ERR_IO (folder unreadable), DUET_ERR_EMPTY (no clips),
 * DUET_ERR_FORMAT (a clip that is not stereo, named in err), decode errors. */
duet_status duet_sepnet_load_mir1k(const char *dir, int rate, const char *val_singers,
                              duet_sepnet_dataset *train, duet_sepnet_dataset *val, duet_err *err);

/* Add every audio file in `dir` (*.wav, *.flac, *.ogg, *.mp3) as an
 * instrumental (mixed to mono, resampled to ds->sample_rate). A missing
 * folder is an error; an empty one adds nothing. */
duet_status duet_sepnet_load_instrumentals(duet_sepnet_dataset *ds, const char *dir, duet_err *err);

void duet_sepnet_dataset_free(duet_sepnet_dataset *ds);

typedef struct duet_sepnet_aug {
    float p_remix;   /* accompaniment from another clip */
    float p_instr;   /* accompaniment from the instrumentals (if any) */
    float p_silent;  /* vocals set to zero */
    float gain_lo, gain_hi;
} duet_sepnet_aug;

/* Defaults: p_remix 0.5, p_instr 0.15, p_silent 0.05, gains 0.25..1.25. */
duet_sepnet_aug duet_sepnet_aug_default(void);

/* Draw one chunk of n samples: voc[n], acc[n] (caller-owned). With aug ==
 * NULL, no augmentation (same clip, unit gains). Clips shorter than n are
 * zero-padded. The dataset must hold at least one clip. For a corpus
 * dataset (ds->corpus set) this is duet_sepnet_corpus_draw with its default
 * augmentation (aug NULL: a coherent excerpt with unit gains): voc and acc
 * then hold 2 n samples (planar stereo). */
void duet_sepnet_draw_chunk(const duet_sepnet_dataset *ds, const duet_sepnet_aug *aug, duet_rng *rng, int64_t n,
                       float *voc, float *acc);

/* ---- loading helpers shared by the separation loaders (sepnet_corpus.c) ---- */

/* Sorted names in `dir` (not starting with '.'): with exts (NULL-terminated
 * extensions, case-insensitive) the regular files having one, with exts NULL
 * the sub-folders. *out and each name are owned by the caller: free with
 * duet_sepnet_list_free. Errors: DUET_ERR_IO (folder unreadable), DUET_ERR_NOMEM. */
duet_status duet_sepnet_list_dir(const char *dir, const char *const *exts, char ***out, int *n_out, duet_err *err);
void duet_sepnet_list_free(char **names, int n);

/* 1 when `name` is one of the comma-separated names of `list` (compared
 * without regard to case; NULL or "" = none), else 0. */
int duet_sepnet_in_list(const char *name, const char *list);

/* Decode `path` and resample it to `rate` Hz into *a (caller frees with
 * duet_audio_free). Errors: the decoder's (naming path) or the resampler's. */
duet_status duet_sepnet_read_at_rate(const char *path, int rate, duet_audio *a, duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
