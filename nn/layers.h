/* nn/layers.h: neural-network layers as forward/backward pairs over raw
 * float buffers (llm.c habit), NCHW layout, row-major.
 *
 * Conventions for every function here:
 * - Arguments: outputs first, then caches (written by forward, read by
 *   backward), then const inputs (weights, activations), then sizes.
 * - Every pointer carries its shape in a comment.
 * - Forward OVERWRITES its outputs. Backward ACCUMULATES (+=) into every
 *   gradient it is given (input gradients and parameter gradients alike), so
 *   zero them first (duet_params_zero_grad, memset) and sum branches freely.
 *   Gradient pointers documented "may be NULL" are skipped when NULL.
 * - Buffers of a forward/backward call must not overlap unless stated
 *   (activations allow out == inp where noted).
 * - No allocation, no errors: sizes are the caller's contract and are
 *   checked with DUET_CHECK where cheap. Weights are never written by
 *   forward (except BatchNorm running statistics in training mode), so one
 *   set of weights can serve several threads with separate activations.
 * - Threads: outer loops use OpenMP when duet_nn_workers() > 1 (see gemm.h).
 *   Results do not depend on the thread count except where a layer reduces
 *   parameter gradients across batch items (conv, attention), which is then
 *   deterministic for a fixed thread count. */
#ifndef DUET_NN_LAYERS_H
#define DUET_NN_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- Conv2d */

/* Geometry of a 2-D convolution (groups = 1), PyTorch semantics:
 * Ho = (H + 2 ph - dh (kh - 1) - 1) / sh + 1, likewise Wo. */
typedef struct duet_conv2d_dims {
    int B, Ci, H, W;   /* input (B, Ci, H, W) */
    int Co, kh, kw;    /* weight (Co, Ci, kh, kw) */
    int sh, sw, ph, pw, dh, dw; /* stride, zero padding, dilation */
    int Ho, Wo;        /* output (B, Co, Ho, Wo); set by duet_conv2d_dims_make */
} duet_conv2d_dims;

/* Fill dims for a square kernel k, stride s, padding p, dilation dil.
 * Returns 0, or -1 when the output would be empty or a size is non-positive. */
int duet_conv2d_dims_make(duet_conv2d_dims *d, int B, int Ci, int H, int W, int Co, int k, int s,
                          int p, int dil);
/* The same with separate height/width values (for time/frequency kernels). */
int duet_conv2d_dims_make2(duet_conv2d_dims *d, int B, int Ci, int H, int W, int Co, int kh,
                           int kw, int sh, int sw, int ph, int pw, int dh, int dw);

/* Scratch floats that forward and backward need to run with `workers`
 * parallel batch items (pass duet_nn_workers(); with fewer floats the layer
 * uses fewer workers, at least the amount for 1 worker is required). */
size_t duet_conv2d_work_floats(const duet_conv2d_dims *d, int workers);

/* Multiply-adds of one forward pass (for GFLOP/s: 2 * this). */
double duet_conv2d_macs(const duet_conv2d_dims *d);

/* out (B, Co, Ho, Wo) = conv(inp (B, Ci, H, W), w (Co, Ci, kh, kw)) + bias (Co)
 * (bias may be NULL). Through im2col + one sgemm per batch item; 1x1
 * stride-1 unpadded kernels skip im2col. work: duet_conv2d_work_floats(). */
void duet_conv2d_forward(float *out, float *work, size_t work_floats, const float *inp,
                         const float *w, const float *bias, const duet_conv2d_dims *d);

/* Accumulates dinp (B, Ci, H, W) (may be NULL), dw (Co, Ci, kh, kw) and
 * dbias (Co) (may be NULL) from dout (B, Co, Ho, Wo). */
void duet_conv2d_backward(float *dinp, float *dw, float *dbias, float *work, size_t work_floats,
                          const float *dout, const float *inp, const float *w,
                          const duet_conv2d_dims *d);

/* ------------------------------------------------------------ BatchNorm2d */

/* Training mode: out (B, C, HW) = (inp - mean) * invstd * gamma (C) + beta (C)
 * with batch statistics (biased variance); caches mean (C), invstd (C)
 * = 1/sqrt(var + eps). When run_mean/run_var (C) are not NULL they are
 * updated in place: r = (1 - momentum) r + momentum * batch (unbiased
 * variance for run_var), as PyTorch (momentum 0.1, eps 1e-5). out == inp allowed. */
void duet_bn2d_forward_train(float *out, float *mean, float *invstd, float *run_mean,
                             float *run_var, const float *inp, const float *gamma,
                             const float *beta, int B, int C, int HW, float momentum, float eps);
/* Evaluation mode with running statistics. out == inp allowed. */
void duet_bn2d_forward_eval(float *out, const float *inp, const float *gamma, const float *beta,
                            const float *run_mean, const float *run_var, int B, int C, int HW,
                            float eps);
/* Backward of the training mode. Accumulates dinp (B, C, HW), dgamma (C),
 * dbeta (C) (each may be NULL). inp is the forward input (not its output). */
void duet_bn2d_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                        const float *inp, const float *mean, const float *invstd,
                        const float *gamma, int B, int C, int HW);

/* ---------------------------------------------------------------- Dropout */

/* Training: out (n) = inp * keep / (1 - p) with keep ~ Bernoulli(1 - p) drawn
 * from rng in index order (reproducible for a seed); mask (n) caches keep
 * (0/1). p in [0, 1); p == 0 copies. Evaluation mode is the identity (the
 * caller just skips the layer). out == inp allowed. */
void duet_dropout_forward(float *out, uint8_t *mask, const float *inp, size_t n, float p,
                          duet_rng *rng);
void duet_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, size_t n, float p);

/* ------------------------------------------------------------ Activations */
/* Forward: out (n) from inp (n), out == inp allowed. Backward uses the
 * forward OUTPUT, so in-place forward is fine. */
void duet_relu_forward(float *out, const float *inp, size_t n);
void duet_relu_backward(float *dinp, const float *dout, const float *out, size_t n);
/* slope > 0 (PyTorch default 0.01). */
void duet_leaky_relu_forward(float *out, const float *inp, size_t n, float slope);
void duet_leaky_relu_backward(float *dinp, const float *dout, const float *out, size_t n, float slope);
void duet_sigmoid_forward(float *out, const float *inp, size_t n);
void duet_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n);
void duet_tanh_forward(float *out, const float *inp, size_t n);
void duet_tanh_backward(float *dinp, const float *dout, const float *out, size_t n);
/* Softmax over the last axis: out (N, D), inp (N, D). out == inp allowed. */
void duet_softmax_forward(float *out, const float *inp, int N, int D);
void duet_softmax_backward(float *dinp, const float *dout, const float *out, int N, int D);
/* Softmax over channels of NCHW maps (torch.softmax(x, dim=1)), e.g. masks
 * that sum to one: out (B, C, HW), inp (B, C, HW). out == inp allowed. */
void duet_softmax_channels_forward(float *out, const float *inp, int B, int C, int HW);
void duet_softmax_channels_backward(float *dinp, const float *dout, const float *out, int B, int C,
                                    int HW);

/* -------------------------------------------------- Resampling and pooling */

/* Bilinear resize of BC planes inp (BC, H, W) -> out (BC, Ho, Wo) to any
 * output size, PyTorch F.interpolate(mode="bilinear", align_corners=False,
 * size=(Ho, Wo)) semantics (scale = in/out, src = (dst + 0.5) scale - 0.5,
 * clamped at 0). */
void duet_upsample_bilinear_forward(float *out, const float *inp, int BC, int H, int W, int Ho,
                                    int Wo);
void duet_upsample_bilinear_backward(float *dinp, const float *dout, int BC, int H, int W, int Ho,
                                     int Wo);

/* Pooling geometry (PyTorch, floor mode): Ho = (H + 2 ph - kh) / sh + 1. */
typedef struct duet_pool2d_dims {
    int BC, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo;
} duet_pool2d_dims;
/* Returns 0, or -1 for an empty output / bad sizes (padding must be at most
 * half the kernel, as PyTorch requires). */
int duet_pool2d_dims_make(duet_pool2d_dims *d, int BC, int H, int W, int kh, int kw, int sh,
                          int sw, int ph, int pw);
/* Max pool: out (BC, Ho, Wo), argmax cache (BC, Ho, Wo) = flat index h*W+w
 * of the winner in its plane (first maximum on ties; padding is -inf). */
void duet_maxpool2d_forward(float *out, int32_t *argmax, const float *inp, const duet_pool2d_dims *d);
void duet_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax,
                             const duet_pool2d_dims *d);
/* Average pool (count_include_pad = True, PyTorch default). */
void duet_avgpool2d_forward(float *out, const float *inp, const duet_pool2d_dims *d);
void duet_avgpool2d_backward(float *dinp, const float *dout, const duet_pool2d_dims *d);

/* ------------------------------------------------------- Concat, add, sum */

/* Channel concat: out (B, C1 + C2, HW) = [a (B, C1, HW), b (B, C2, HW)]. */
void duet_concat_forward(float *out, const float *a, const float *b, int B, int C1, int C2, int HW);
/* Accumulates da, db (each may be NULL) from dout (B, C1 + C2, HW). */
void duet_concat_backward(float *da, float *db, const float *dout, int B, int C1, int C2, int HW);
/* out (n) = a + b (out may alias a or b). Backward of add is duet_acc twice. */
void duet_add_forward(float *out, const float *a, const float *b, size_t n);
/* dst (n) += src (n). */
void duet_acc(float *dst, const float *src, size_t n);
/* dst (n) += alpha * src (n). */
void duet_axpy(float *dst, float alpha, const float *src, size_t n);

/* ------------------------------------------------------- Self-attention */

/* SAGAN self-attention (Zhang et al. 2019): q = Wq x + bq, k = Wk x + bk
 * (Cq channels), v = Wv x + bv (C channels), all 1x1; A = softmax_rows(q^T k)
 * over positions; o = v A^T; out = gamma * o + x, with gamma a learnable
 * scalar initialised to 0 (so the block starts as the identity).
 * axis DUET_ATTN_FULL attends over all H*W positions (cost (HW)^2);
 * DUET_ATTN_W attends along the last axis only, separately for every row h
 * (cost H * W^2): use it with time as the last axis. */
enum { DUET_ATTN_FULL = 0, DUET_ATTN_W = 1 };
typedef struct duet_attn_dims {
    int B, C, H, W, Cq, axis;
} duet_attn_dims;

/* Cache floats: q, k (B, Cq, HW), v, o (B, C, HW), attention maps. The cache
 * layout is carved from one buffer of duet_attn_cache_floats(). */
size_t duet_attn_cache_floats(const duet_attn_dims *d);
/* Scratch floats for backward (forward needs none). */
size_t duet_attn_work_floats(const duet_attn_dims *d, int workers);

/* out (B, C, H, W); cache (duet_attn_cache_floats); inp (B, C, H, W);
 * wq, wk (Cq, C); bq, bk (Cq); wv (C, C); bv (C); gamma (1). */
void duet_attn_forward(float *out, float *cache, const float *inp, const float *wq,
                       const float *bq, const float *wk, const float *bk, const float *wv,
                       const float *bv, const float *gamma, const duet_attn_dims *d);
/* Evaluation only (no cache, nothing kept for backward): the same output as
 * duet_attn_forward with scratch `work` of duet_attn_eval_work_floats()
 * floats (q, k, v, o and one attention row or map per worker). */
size_t duet_attn_eval_work_floats(const duet_attn_dims *d, int workers);
void duet_attn_forward_eval(float *out, float *work, size_t work_floats, const float *inp, const float *wq,
                            const float *bq, const float *wk, const float *bk, const float *wv,
                            const float *bv, const float *gamma, const duet_attn_dims *d);
/* Accumulates dinp (may be NULL) and all parameter gradients (same shapes as
 * the parameters). work: duet_attn_work_floats(). */
void duet_attn_backward(float *dinp, float *dwq, float *dbq, float *dwk, float *dbk, float *dwv,
                        float *dbv, float *dgamma, float *work, size_t work_floats,
                        const float *dout, const float *cache, const float *inp, const float *wq,
                        const float *wk, const float *wv, const float *gamma,
                        const duet_attn_dims *d);

/* ------------------------------------------------- Linear, embedding, outer */

/* out (N, O) = inp (N, I) w^T (w: (O, I), PyTorch layout) + bias (O) (may be NULL). */
void duet_linear_forward(float *out, const float *inp, const float *w, const float *bias, int N,
                         int I, int O);
/* Accumulates dinp (N, I) (may be NULL), dw (O, I), dbias (O) (may be NULL). */
void duet_linear_backward(float *dinp, float *dw, float *dbias, const float *dout,
                          const float *inp, const float *w, int N, int I, int O);

/* out (N, D) = table (V, D) rows idx (N); every idx must be in [0, V) (checked). */
void duet_embedding_forward(float *out, const float *table, const int32_t *idx, int N, int D, int V);
/* Accumulates dout rows into dtable (V, D) rows idx (sparse: only those rows
 * are touched; duplicates add up). */
void duet_embedding_backward(float *dtable, const float *dout, const int32_t *idx, int N, int D);

/* Outer product per item: out (N, D, E) with out[n][i][j] = p (N, D)[n][i] * q (N, E)[n][j]. */
void duet_outer_forward(float *out, const float *p, const float *q, int N, int D, int E);
/* Accumulates dp (N, D), dq (N, E) (each may be NULL). */
void duet_outer_backward(float *dp, float *dq, const float *dout, const float *p, const float *q,
                         int N, int D, int E);

/* ----------------------------------------------------------------- Losses */
/* Each returns the mean loss (double accumulation) and, when dpred is not
 * NULL, ACCUMULATES scale * d(loss)/d(pred) into it (scale = 1 normally). */

/* mean |pred - target|; gradient sign(pred - target)/n (0 at equality). */
double duet_loss_l1(float *dpred, const float *pred, const float *target, size_t n, float scale);
/* mean (pred - target)^2. */
double duet_loss_mse(float *dpred, const float *pred, const float *target, size_t n, float scale);
/* mean of BCE(sigmoid(logit), target), numerically stable; target in [0, 1]. */
double duet_loss_bce_logits(float *dlogit, const float *logit, const float *target, size_t n,
                            float scale);
/* BPR: mean -log sigmoid(pos - neg) over n pairs; accumulates into dpos and
 * dneg (each may be NULL). */
double duet_loss_bpr(float *dpos, float *dneg, const float *pos, const float *neg, size_t n,
                     float scale);

#ifdef __cplusplus
}
#endif

#endif
