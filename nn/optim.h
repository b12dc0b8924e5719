/* nn/optim.h: Adam and AdamW over a parameter block (tensor.h), gradient
 * clipping by global norm, and learning-rate schedules.
 *
 * Adam follows torch.optim.Adam (Kingma & Ba 2015, with bias correction;
 * weight_decay adds wd * p to the gradient); AdamW follows torch.optim.AdamW
 * (Loshchilov & Hutter 2019: p *= 1 - lr wd before the Adam update).
 * Tensors flagged DUET_PARAM_BUFFER are never updated; DUET_PARAM_NO_DECAY
 * tensors get no weight decay. The moments live in the block's m and v. */
#ifndef DUET_NN_OPTIM_H
#define DUET_NN_OPTIM_H

#include <stdint.h>

#include "../common/status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_adam {
    float beta1, beta2, eps, weight_decay;
    int decoupled;   /* 1 = AdamW, 0 = Adam (L2 in the gradient) */
    int64_t t;       /* steps taken so far (checkpointed) */
} duet_adam;

/* Defaults: beta1 0.9, beta2 0.999, eps 1e-8, the given weight decay, t 0. */
duet_adam duet_adam_default(float weight_decay, int decoupled);

/* One update with learning rate lr: t += 1, then every trainable tensor is
 * updated from p->grad (not zeroed here). Errors: DUET_ERR_ARG (training
 * blocks missing), DUET_ERR_NAN (a non-finite gradient: nothing is updated;
 * the message names the tensor). */
duet_status duet_adam_step(duet_adam *opt, duet_params *p, float lr, duet_err *err);

/* Sparse ("lazy") Adam for embedding tables, like torch.optim.SparseAdam:
 * update only the listed rows of the 2-D tensor number `index` from their
 * gradient rows, leaving other rows and their moments untouched. Flag such
 * tensors DUET_PARAM_SPARSE (duet_adam_step then skips them) and call this
 * after duet_adam_step, which advances opt->t used for bias correction.
 * rows must be unique (a repeated row would be updated twice) and inside
 * the table (checked). */
void duet_adam_update_rows(const duet_adam *opt, duet_params *p, size_t index, const int32_t *rows,
                           size_t n, float lr);

/* Global L2 norm of all trainable gradients (double accumulation). When
 * max_norm > 0 and the norm exceeds it, grads are scaled by
 * max_norm / (norm + 1e-6) (torch.nn.utils.clip_grad_norm_). Returns the
 * norm before clipping. */
double duet_clip_grad_norm(duet_params *p, double max_norm);

/* Schedules: learning rate at 0-based step `step`. */
/* base * gamma^(step / step_size) (StepLR). */
float duet_lr_step(float base, int64_t step, int64_t step_size, float gamma);
/* Linear warm-up over `warmup` steps, then cosine from base to min_lr at
 * `total` (held at min_lr after). */
float duet_lr_cosine(float base, float min_lr, int64_t step, int64_t warmup, int64_t total);

/* Reduce-on-plateau (torch ReduceLROnPlateau, mode "min", relative
 * threshold): plain data, checkpointable. */
typedef struct duet_plateau {
    float lr, factor, min_lr, threshold;
    int patience, cooldown;
    double best;
    int bad, cooldown_left;
} duet_plateau;
duet_plateau duet_plateau_make(float lr, float factor, int patience, float min_lr);
/* Report a validation metric (lower is better); returns the learning rate to
 * use from now on. */
float duet_plateau_update(duet_plateau *pl, double metric);

#ifdef __cplusplus
}
#endif

#endif
