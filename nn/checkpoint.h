/* nn/checkpoint.h: model weights and training checkpoints as safetensors.
 *
 * Weights file: one F32 tensor per parameter-block row (its name and shape,
 * BatchNorm running statistics included), metadata "format" plus whatever
 * the caller adds (model hyperparameters).
 * Checkpoint: the weights, plus "adam.m.<name>" and "adam.v.<name>" (F32),
 * "adam.t" and "train.step" (I64, shape [1]), "train.rng" (U64, shape
 * [n, 4]: the caller's generators), metadata format "duet-checkpoint",
 * version "1" and the Adam hyperparameters. Loading restores all of it, so
 * training resumes bit-exactly (same thread count) after a kill. Files are
 * written atomically (nn/safetensors.h). */
#ifndef DUET_NN_CHECKPOINT_H
#define DUET_NN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "../common/rng.h"
#include "../common/status.h"
#include "optim.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A metadata key/value pair (strings copied into the file). */
typedef struct duet_meta_kv {
    const char *key, *value;
} duet_meta_kv;

/* Save the weights of p to path (atomically), with metadata "format" =
 * format (e.g. "duet-sep-model") and n_meta extra pairs. Errors:
 * DUET_ERR_IO (cannot write), DUET_ERR_NOMEM, DUET_ERR_ARG. */
duet_status duet_params_save(const char *path, const duet_params *p, const char *format,
                             const duet_meta_kv *meta, size_t n_meta, duet_err *err);

/* Load every parameter of p by name from path: each must be present as F32
 * with exactly the block's shape; tensors named "adam.*" or "train.*" are
 * ignored (so a checkpoint loads as a model); any other unknown tensor is an
 * error (a different architecture). When format is not NULL, the file's
 * "format" metadata must equal it (a checkpoint's "duet-checkpoint" is
 * accepted too). On any error p is left unchanged. Errors: DUET_ERR_IO,
 * DUET_ERR_FORMAT (bad file, unknown tensor, wrong format tag),
 * DUET_ERR_NOTFOUND (missing tensor), DUET_ERR_SHAPE, DUET_ERR_NOMEM. */
duet_status duet_params_load(const char *path, duet_params *p, const char *format, duet_err *err);

/* Save a training checkpoint: weights, Adam moments and step counter (p's
 * training blocks must exist), the caller's step and n_rng generators.
 * Errors as duet_params_save. */
duet_status duet_checkpoint_save(const char *path, const duet_params *p, const duet_adam *opt,
                                 int64_t step, const duet_rng *rngs, size_t n_rng,
                                 const duet_meta_kv *meta, size_t n_meta, duet_err *err);

/* Restore a checkpoint into p (training blocks are enabled), *opt (t and
 * hyperparameters), *step and rngs[0..n_rng) (the file must hold exactly
 * n_rng generators). Everything is validated before anything is written,
 * so on error p, opt, step and rngs are unchanged. Errors: as
 * duet_params_load, plus DUET_ERR_FORMAT for a non-checkpoint file. */
duet_status duet_checkpoint_load(const char *path, duet_params *p, duet_adam *opt, int64_t *step,
                                 duet_rng *rngs, size_t n_rng, duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
