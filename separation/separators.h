/* separation/separators.h: the separators behind `duet separate --method
 * NAME` and the rows of `duet eval-sep`, selected by name from one table.
 *
 * A separator turns a mixture into two stems, vocals and accompaniment,
 * each with the mixture's sample rate, channel count and exact length.
 * Built in:
 *   mixture      the floor: each stem is half the mixture (a 0.5 mask, so
 *                vocals + accompaniment == mixture; every BSSEval ratio
 *                and SI-SDR is scale-invariant, so this scores exactly as
 *                "the mixture as the estimate": NSDR = 0).
 *   oracle-irm   ideal ratio mask |V| / (|V| + |A|) from the references.
 *   oracle-irm2  power ratio mask |V|^2 / (|V|^2 + |A|^2) (SiSEC's IRM2).
 *   oracle-ibm   binary mask |V| > |A|.
 *   repet-sim    REPET-SIM (Rafii and Pardo, ISMIR 2012), see repet.c.
 *   hpss         two-stage median-filtering HPSS (Fitzgerald 2010), see hpss.c.
 * The oracle masks need the reference stems (evaluation only). Every
 * built-in method is a mask on the mixture's STFT; the vocals are the
 * inverse STFT of the masked mixture and the accompaniment is the mixture
 * minus the vocals, so the two stems sum to the mixture exactly (to float
 * rounding). Masked STFTs use a periodic Hann window, n_fft = the power of
 * two nearest 64 ms (1024 at 16 kHz, 4096 at 44.1 kHz), hop n_fft / 4,
 * unless a method says otherwise.
 *
 * Adding a separator (e.g. the network): define a `const duet_separator`
 * in its own .c file and add one line DUET_SEPARATOR(symbol) to
 * separation/separators.def; the table order is the order of `duet
 * separate --help`, and duet_separator_default() returns the entry with
 * the highest default_rank (the network should use a rank above 1). */
#ifndef DUET_SEPARATION_SEPARATORS_H
#define DUET_SEPARATION_SEPARATORS_H

#include <stdint.h>

#include "../audio/audio.h"
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options a separator may read (all optional). */
typedef struct duet_sep_config {
    const char *model_path;  /* a model file; NULL = the model built into the library */
    int wiener_iters;        /* --wiener N; 0 = off */
    int verbose;             /* 1 = the separator may describe itself in err-free logs (unused by built-ins) */
} duet_sep_config;

/* One separation job. The references are needed only by separators with
 * needs_references set; they must then have the mixture's rate, channel
 * count and length. Nothing is owned. */
typedef struct duet_sep_input {
    const duet_audio *mixture;
    const duet_audio *ref_vocals;
    const duet_audio *ref_accompaniment;
} duet_sep_input;

typedef struct duet_separator {
    const char *name;        /* as typed after --method */
    const char *summary;     /* one line for --help */
    int needs_references;    /* 1 = oracle (evaluation only) */
    int default_rank;        /* highest rank is `duet separate`'s default */
    /* Load what the method needs once (weights ...). May be NULL (no state).
     * On success *state (may stay NULL) is released by close(). */
    duet_status (*open)(const duet_sep_config *cfg, void **state, duet_err *err);
    /* Separate in->mixture into *vocals and *accompaniment (allocated here;
     * the caller frees them with duet_audio_free). Must be safe to call
     * from several threads at once with the same state. On error both
     * outputs are left empty. */
    duet_status (*run)(void *state, const duet_sep_input *in, duet_audio *vocals, duet_audio *accompaniment,
                       duet_err *err);
    void (*close)(void *state); /* may be NULL */
    /* Optional streaming, pull style (all five or none). stream_new makes
     * a stream for channels x sample_rate audio; feed pushes input,
     * finish says there is no more; get pulls up to max frames of the
     * mixture and both stems that are ready (*got 0: none yet, or after
     * finish the end). A stream serves one thread; several streams may
     * share the state. Methods without these get the generic stream of
     * duet_sep_stream_new, which holds the song and calls run at finish. */
    duet_status (*stream_new)(void *state, int channels, int sample_rate, void **stream, duet_err *err);
    duet_status (*stream_feed)(void *stream, const float *const *ch, int64_t n, duet_err *err);
    duet_status (*stream_finish)(void *stream, duet_err *err);
    duet_status (*stream_get)(void *stream, float *const *mix, float *const *voc, float *const *acc, int64_t max,
                              int64_t *got, duet_err *err);
    void (*stream_free)(void *stream);
} duet_separator;

/* One streaming interface over every separator: the method's own stream
 * when it has one (bounded memory), else the whole-song fallback. Planar
 * buffers ch[c][0..n) are the caller's. Errors: DUET_ERR_ARG (channels,
 * rate, use after finish, a method that needs references), DUET_ERR_NOMEM,
 * the method's own; at finish of the fallback also duet_sep_check_input's.
 * Free with duet_sep_stream_free(). */
typedef struct duet_sep_stream duet_sep_stream;
duet_status duet_sep_stream_new(const duet_separator *sep, void *state, int channels, int sample_rate,
                                duet_sep_stream **out, duet_err *err);
duet_status duet_sep_stream_feed(duet_sep_stream *s, const float *const *ch, int64_t n, duet_err *err);
duet_status duet_sep_stream_finish(duet_sep_stream *s, duet_err *err);
duet_status duet_sep_stream_get(duet_sep_stream *s, float *const *mix, float *const *voc, float *const *acc,
                                int64_t max, int64_t *got, duet_err *err);
/* 1 when the method streams natively (memory bounded), 0 for the fallback. */
int duet_sep_stream_native(const duet_sep_stream *s);
/* Input frames fed so far. */
int64_t duet_sep_stream_frames_in(const duet_sep_stream *s);
void duet_sep_stream_free(duet_sep_stream *s);

/* The separator called `name`, or NULL. */
const duet_separator *duet_separator_find(const char *name);
/* The i-th separator of the table (0-based), NULL past the end. */
const duet_separator *duet_separator_at(int i);
/* The default of `duet separate` (highest default_rank). */
const duet_separator *duet_separator_default(void);

/* Convenience: open, run once, close. Checks the input (non-empty mixture,
 * references present and matching when needed, finite samples).
 * Errors: DUET_ERR_ARG (missing/mismatched references), DUET_ERR_EMPTY
 * (0-frame mixture), DUET_ERR_NAN, plus the separator's own. */
duet_status duet_separate_once(const duet_separator *sep, const duet_sep_config *cfg, const duet_sep_input *in,
                               duet_audio *vocals, duet_audio *accompaniment, duet_err *err);

/* Check a job against what `sep` needs (as duet_separate_once). */
duet_status duet_sep_check_input(const duet_separator *sep, const duet_sep_input *in, duet_err *err);

/* ---- helpers shared by mask-based separators (separation/ internal) ---- */

/* n_fft: the power of two nearest `seconds` at `rate` (at least 64). */
int duet_sep_nfft_for(int rate, double seconds);

/* A vocal mask per channel: mask[c][t * n_bins + k] in [0, 1] over the
 * mixture spectra spec[c] (frame-major, interleaved re/im as audio/stft.h),
 * n_frames x n_bins. Return non-zero status to abort. */
typedef duet_status (*duet_sep_mask_fn)(void *ctx, const duet_audio *mix, float *const *spec, int64_t n_frames,
                                        int n_bins, float *const *mask, duet_err *err);

/* STFT every channel of the mixture (n_fft, hop, periodic Hann), let `fn`
 * fill the vocal masks, and write vocals = ISTFT(mask * X) and
 * accompaniment = mixture - vocals. Errors: DUET_ERR_NOMEM, the STFT's and
 * fn's errors. */
duet_status duet_sep_apply_mask(const duet_audio *mix, int n_fft, int hop, duet_sep_mask_fn fn, void *ctx,
                                duet_audio *vocals, duet_audio *accompaniment, duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
