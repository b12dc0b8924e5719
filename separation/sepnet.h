/* separation/sepnet.h: duet's singing-voice separation network.
 *
 * After the source paper (../shared/seed/paper.txt, sections II-III): a
 * convolutional encoder-decoder over the mixture's magnitude spectrogram,
 * with phase-derivative features (instantaneous-frequency deviation and group
 * delay) passed through a feature enhancement module (FEM) and fused with the
 * magnitude; self-attention (SA) in the FEMs and at the bottleneck; a decoder
 * whose up blocks are exactly bilinear interpolation, 3x3 convolution, batch
 * norm, dropout, ReLU, with skip connections. The head predicts two masks
 * (vocals, accompaniment) that sum to one, so the stems sum to the mixture.
 *
 * Layout: NCHW with H = frequency (n_freq bins from 0 Hz) and W = time frames.
 *
 * FEM(C): three branches at scales 1, 1/2, 1/4 (average pool, 3x3 conv + BN +
 * ReLU, bilinear back to full size), aggregated by addition, then a
 * self-attention module (SAGAN, gain initialised to 0), plus the input
 * (residual), so the FEM keeps its input's size and channel count. The
 * full-resolution FEM on the phase branch attends along time only (cost
 * linear in frequency); the bottleneck FEM attends over all positions.
 *
 * Hyper-parameters live in duet_sepnet_config and are stored in the weights'
 * safetensors metadata, never in code constants. */
#ifndef DUET_SEPARATION_SEPNET_H
#define DUET_SEPARATION_SEPNET_H

#include <stdint.h>

#include "../common/rng.h"
#include "../common/status.h"
#include "../nn/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_sepnet_config {
    int sample_rate;  /* rate the model runs at (Hz) */
    int channels;     /* audio channels the network sees jointly: 1 (each channel
                         separated on its own) or 2 (stereo: both channels in,
                         one mask pair per channel out); metadata "channels",
                         absent = 1 */
    int n_fft, hop;   /* STFT (periodic Hann) */
    int n_freq;       /* bins fed to the network (from 0 Hz); divisible by 2^depth */
    int depth;        /* encoder levels (down-samplings) */
    int base;         /* channels at full resolution; level l has base * 2^min(l, 3) */
    int phase_ch;     /* channels of the phase branch; 0 = no phase features */
    int use_fem;      /* 1 = FEMs on the phase branch and at the bottleneck */
    int use_sa;       /* 1 = self-attention inside the FEMs / bottleneck */
    int transposed;   /* 1 = transposed-conv up blocks (ablation), 0 = bilinear */
    float dropout;    /* dropout rate of the up blocks */
} duet_sepnet_config;

/* The configuration of the shipped model: 16 kHz, n_fft 1024, hop 256,
 * 512 bins, depth 4, base 16, 8 phase channels, FEM + SA, bilinear, 0.1. */
duet_sepnet_config duet_sepnet_config_default(void);

/* Checks sizes. Errors: DUET_ERR_ARG with the offending field. */
duet_status duet_sepnet_config_check(const duet_sepnet_config *c, duet_err *err);

/* An immutable model: configuration and parameters. Free with duet_sepnet_free(). */
typedef struct duet_sepnet_arch duet_sepnet_arch; /* layer table (private) */
typedef struct sepnet {
    duet_sepnet_config cfg;
    duet_params *params;
    duet_sepnet_arch *arch;
} sepnet;

/* Create a model with PyTorch-default initialisation from rng.
 * Errors: DUET_ERR_ARG (config), DUET_ERR_NOMEM. */
duet_status duet_sepnet_new(const duet_sepnet_config *cfg, duet_rng *rng, sepnet **out, duet_err *err);
void duet_sepnet_free(sepnet *m);

/* Save weights (and running statistics) with the config in the metadata
 * ("format": "duet-sepnet", "version": "1", one key per config field) plus
 * any extra metadata pairs (extra_kv: n_extra key/value pairs, may be NULL).
 * Atomic. Errors: DUET_ERR_IO, DUET_ERR_NOMEM. */
duet_status duet_sepnet_save(const sepnet *m, const char *path, const char *const *extra_kv, int n_extra,
                        duet_err *err);

/* Load a model saved by duet_sepnet_save. Every tensor's name and shape is
 * validated against the architecture the metadata describes.
 * Errors: DUET_ERR_IO, DUET_ERR_FORMAT (not a duet-sepnet file, unknown
 * version, bad metadata), DUET_ERR_SHAPE / DUET_ERR_NOTFOUND (tensor
 * mismatches, named in err), DUET_ERR_NOMEM. */
duet_status duet_sepnet_load(const char *path, sepnet **out, duet_err *err);

/* The same from a safetensors image in memory (buf is only read during the
 * call; the model owns copies of the weights). Errors as duet_sepnet_load. */
duet_status duet_sepnet_load_buffer(const void *buf, size_t len, sepnet **out, duet_err *err);

/* The model built into libduet (models/sepnet.safetensors when the library
 * was built): the model every separator uses when given no model path.
 * *buf and *len (either may be NULL) receive read-only static data, not
 * owned, valid for the life of the program. Cannot fail. */
void duet_sepnet_builtin(const void **buf, size_t *len);

/* Load the built-in model (a copy the caller frees with duet_sepnet_free).
 * Errors as duet_sepnet_load_buffer (a build with a broken model file). */
duet_status duet_sepnet_load_builtin(sepnet **out, duet_err *err);

/* Per-run state (activations, tape, scratch): one per thread. */
typedef struct duet_sepnet_run duet_sepnet_run;

/* Errors: DUET_ERR_NOMEM. Free with duet_sepnet_run_free(). */
duet_status duet_sepnet_run_new(const sepnet *m, duet_sepnet_run **out, duet_err *err);
void duet_sepnet_run_free(duet_sepnet_run *r);

/* Evaluation passes run their convolutions of 32 or more channels through
 * oneDNN (nn/dnnl_conv.h; faster there) and the rest through the reference
 * engine of nn/layers.h; training passes use the reference. on = 1 forces
 * the reference engine everywhere (for comparisons); a machine or shape
 * oneDNN refuses falls back to it by itself. Results of the two engines
 * agree to float rounding. */
void duet_sepnet_run_set_reference(duet_sepnet_run *r, int on);

/* Forward pass on B items of T frames (T divisible by 2^depth), C =
 * cfg.channels: feat (B, C, 3, n_freq, T): per audio channel, plane 0 the
 * compressed magnitude (duet_sepnet_features), planes 1-2 the phase features.
 * *masks receives a pointer to (B, C, 2, n_freq, T) masks (per audio
 * channel vocals, accompaniment; sum 1), owned by
 * the run and valid until its next forward. train: 1 = batch statistics,
 * dropout from rng (rng may be NULL when train is 0), and a tape for
 * duet_sepnet_backward; 0 = evaluation mode.
 * Errors: DUET_ERR_ARG (T), DUET_ERR_NOMEM. */
duet_status duet_sepnet_forward(duet_sepnet_run *r, const float *feat, int B, int T, int train, duet_rng *rng,
                           const float **masks, duet_err *err);

/* Backward after a training forward: dmasks (B, 2, n_freq, T) is the
 * gradient of the loss with respect to the masks. ACCUMULATES parameter
 * gradients into the model's grad block (enable training first). */
void duet_sepnet_backward(duet_sepnet_run *r, const float *dmasks); /* dmasks shaped as the masks */

/* Model input from a complex STFT (frame-major spec[(t * n_bins + k) * 2 + re/im],
 * as audio/stft.h): feat (3, n_freq, T) for frames t0 .. t0+T-1 of a
 * spectrogram of n_frames frames (frames outside are zeros):
 * channel 0: log1p(|X|); channel 1: instantaneous-frequency deviation
 * (principal value of the phase advance minus 2 pi k hop / n_fft, / pi);
 * channel 2: group delay (principal value of -(phase[k] - phase[k-1]), / pi).
 * The phase features are 0 where |X| is below 1e-6 of the frame's peak. */
void duet_sepnet_features(float *feat, const float *spec, int64_t n_frames, int n_bins, int64_t t0, int T,
                     const duet_sepnet_config *c);

#ifdef __cplusplus
}
#endif

#endif
