/* separation/sepnet_infer_impl.h: internals shared by the whole-song
 * (sepnet_infer.c) and the streaming (sepnet_stream.c) separation of
 * sepnet_infer.h: the chunk grid and its cross-fade, the mask accumulation
 * and the mapping of model-rate masks onto the input-rate STFT. Not
 * installed, not part of the API. */
#ifndef DUET_SEPARATION_SEPNET_INFER_IMPL_H
#define DUET_SEPARATION_SEPNET_INFER_IMPL_H

#include <stdint.h>

#include "../common/status.h"
#include "sepnet.h"

#define INFER_BATCH 2
#define WIENER_WIN 256   /* input-rate frames per Wiener window (hop half of it) */
#define MAX_CH 64

/* sin^2(pi (i + 0.5) / n): windows at hop n/2 sum to one */
void duet_sepnet_fade_weights(float *w, int n);

/* The chunk length *Tc (chunk_frames; 0 = 256), which must be even and a
 * multiple of 2^depth. Errors: DUET_ERR_ARG. */
duet_status duet_sepnet_check_chunk(const duet_sepnet_config *c, int chunk_frames, int *Tc, duet_err *err);

/* Accumulate chunk masks (vocals plane of one item, (F, Tc)) into rows. */
void duet_sepnet_accumulate_chunk(double *row, double *wsum, const float *mv, int F, int Tc, int j, float w);

/* A final mask row (n_bins values) from the accumulated F values. */
void duet_sepnet_finish_mask_row(const double *acc, double wsum, int F, int n_bins, float *out);

/* How model-rate masks map onto the input-rate STFT. */
typedef struct mask_map {
    int same;          /* input rate == model rate: the model's STFT, masks as they are */
    int nfi, hopi;     /* input-rate STFT */
    int nbi, nbm, n_freq;
    double fscale;     /* model bins per input bin */
    double tscale;     /* model frames per input frame */
} mask_map;

/* The map from model c's masks to input rate `rate` (an input-rate STFT of
 * about the model's window length in seconds, a power of two). */
void duet_sepnet_mask_map_init(mask_map *mp, const duet_sepnet_config *c, int rate);

/* Model frames (t0, t1, weight of t1) that input frame t reads; tm = total
 * model frames (INT64_MAX while unknown). */
void duet_sepnet_mask_map_frames(const mask_map *mp, int64_t t, int64_t tm, int64_t *t0, int64_t *t1, double *ft);

/* The last model frame input frame t needs (for readiness). */
int64_t duet_sepnet_mask_map_need(const mask_map *mp, int64_t t);

/* Input-rate vocal mask row g (nbi values) from model rows m0, m1. */
void duet_sepnet_mask_map_row(const mask_map *mp, const float *m0, const float *m1, double ft, float *g);

#endif
