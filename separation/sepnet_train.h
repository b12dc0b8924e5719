/* separation/sepnet_train.h: training the separation network in C.
 *
 * Each step draws `batch` random chunks of `frames` STFT frames from the
 * training set (with remix / gain / silence augmentation, sepnet_data.h),
 * computes the mixture features, predicts masks, and minimises the L1 loss
 * between the masked mixture magnitudes and the true vocal and
 * accompaniment magnitudes (both stems), with Adam, gradient clipping and
 * reduce-on-plateau on the validation loss. A checkpoint (weights, Adam
 * moments, step, RNG state, schedule state, best validation) is written
 * atomically every `ckpt_every` steps and resuming from it continues
 * bit-exactly with one thread. The best model on validation (vocal SDR gain)
 * is saved to `out`; training stops early after `patience` evaluations
 * without improvement. */
#ifndef DUET_SEPARATION_SEPNET_TRAIN_H
#define DUET_SEPARATION_SEPNET_TRAIN_H

#include <stdint.h>

#include "../common/status.h"
#include "sepnet.h"
#include "sepnet_data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_sepnet_train_opts {
    duet_sepnet_config cfg;      /* architecture for a new run (ignored when resuming) */
    const char *out;        /* best model (safetensors) */
    const char *ckpt;       /* checkpoint path (written), NULL = out + ".ckpt" */
    const char *resume;     /* checkpoint to resume from, or NULL */
    int64_t steps;          /* total steps (a resumed run continues to this) */
    int batch, frames;      /* chunks per step, STFT frames per chunk */
    float lr, weight_decay, clip;
    int eval_every, ckpt_every, patience;
    int val_clips;          /* validation clips used (0 = all) */
    uint64_t seed;
    int progress;           /* 1 = progress lines on stderr */
    int log_every;          /* steps between progress lines */
    const char *train_data; /* description of the data, saved as the model's
                               "train_data" metadata; NULL = none */
} duet_sepnet_train_opts;

/* Defaults: batch 4, frames 128, lr 1e-3, wd 0, clip 5, eval every 250,
 * checkpoint every 50, patience 8, 24 validation clips, seed 1, 20000 steps,
 * progress every 10 steps. */
duet_sepnet_train_opts duet_sepnet_train_opts_default(void);

/* Train on `train`, validating on `val` (may be empty: then no early
 * stopping and the last model is saved). Errors: DUET_ERR_IO (checkpoint or
 * output not writable), DUET_ERR_FORMAT (bad checkpoint), DUET_ERR_NAN
 * (training diverged), DUET_ERR_NOMEM. */
duet_status duet_sepnet_train(const duet_sepnet_train_opts *o, const duet_sepnet_dataset *train,
                         const duet_sepnet_dataset *val, duet_err *err);

/* Validation figures of model m on the first n clips of ds (n = 0: all),
 * spread over the set: MDX whole-clip SDR (dB) of the vocal and
 * accompaniment estimates (mask, inverse STFT with the mixture's phase,
 * accompaniment = mixture - vocals), the vocal SDR gain over the mixture,
 * each a mean over clips, and the mean L1 error of the masked vocal
 * magnitude. Stereo clips (ds->channels 2) go through a stereo model
 * jointly, through a mono model one channel at a time.
 * Errors: DUET_ERR_ARG (stereo model, mono clips), DUET_ERR_NOMEM. */
typedef struct duet_sepnet_val_result {
    double voc_gain, voc_sdr, acc_sdr, loss;
} duet_sepnet_val_result;

duet_status duet_sepnet_validate(const sepnet *m, const duet_sepnet_dataset *ds, int n, duet_sepnet_val_result *res,
                            duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
