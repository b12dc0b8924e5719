/* nn/dnnl_conv.h: 2-D convolution forward through oneDNN (libdnnl, the
 * library PyTorch's CPU convolutions come from), as a faster path beside the
 * reference im2col + sgemm of layers.h.
 *
 * The caller's tensors stay NCHW; inside, oneDNN picks its blocked layouts
 * (format_tag any): the input is reordered in, the output reordered out,
 * and the weights are reordered once per (weights pointer, shape) and kept.
 * Each shape gets its primitives created once and reused (training batches
 * and inference chunks have fixed shapes). Measured on this machine
 * (AMD EPYC, AVX-512, 2 threads, batch 4): 1.4-2x the reference from 48
 * channels up, reorders included, but slower at 12-24 channels, where the
 * reorders cost as much as the convolution; duet_dnnl_conv_wins() encodes
 * that, and callers use the reference below it.
 *
 * A context holds the engine, the stream and the caches; one per thread
 * (duet_sepnet_run owns one). Results agree with the reference to float
 * rounding (different summation order); ONEDNN_MAX_CPU_ISA caps the JIT's
 * instruction set (the valgrind run sets AVX2). */
#ifndef DUET_NN_DNNL_CONV_H
#define DUET_NN_DNNL_CONV_H

#include "../common/status.h"
#include "layers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_dnnl duet_dnnl;

/* Errors: DUET_ERR_UNSUPPORTED (oneDNN cannot create a CPU engine),
 * DUET_ERR_NOMEM. Free with duet_dnnl_free(). */
duet_status duet_dnnl_new(duet_dnnl **out, duet_err *err);
void duet_dnnl_free(duet_dnnl *c);

/* 1 when the oneDNN path is expected to be faster than the reference for
 * this geometry (at least 32 input and output channels). */
int duet_dnnl_conv_wins(const duet_conv2d_dims *d);

/* out (B, Co, Ho, Wo) = conv(inp, w) + bias, as duet_conv2d_forward (bias
 * may be NULL). w must not change between calls with the same pointer
 * unless duet_dnnl_forget_weights() is called (inference weights are
 * fixed). Errors: DUET_ERR_UNSUPPORTED (a geometry oneDNN refuses; the
 * caller falls back), DUET_ERR_NOMEM. */
duet_status duet_dnnl_conv2d_forward(duet_dnnl *c, float *out, const float *inp, const float *w, const float *bias,
                                     const duet_conv2d_dims *d, duet_err *err);

/* The same followed by a ReLU fused into the convolution when relu is 1
 * (oneDNN post-op: one pass over the output instead of two). */
duet_status duet_dnnl_conv2d_forward_relu(duet_dnnl *c, float *out, const float *inp, const float *w,
                                          const float *bias, const duet_conv2d_dims *d, int relu, duet_err *err);

/* Drop the cached reordered weights (after an optimizer step). */
void duet_dnnl_forget_weights(duet_dnnl *c);

#ifdef __cplusplus
}
#endif

#endif
