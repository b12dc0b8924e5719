/* separation/separate_file.h: one call that separates an audio file into
 * its stem files, the use-case behind `duet separate`.
 *
 * The trained model streams (decode, separate and encode block by block, in
 * memory that does not grow with the song); other methods, and the model
 * with test-time shifts, hold the whole song. The stems are written to
 * temporaries and committed only when both are complete: vocals first, and
 * if the accompaniment then fails the new vocals are removed again, so a
 * failure, a cancel (the caller's flag, e.g. raised by SIGINT) or a full
 * disk leaves neither a stem nor a temporary behind. Nothing here knows
 * about pictures: a caller that wants one (the CLI's --spectrogram) passes
 * hooks that see every block and write their file before the stems commit. */
#ifndef DUET_SEPARATION_SEPARATE_FILE_H
#define DUET_SEPARATION_SEPARATE_FILE_H

#include <signal.h>
#include <stdint.h>

#include "../audio/audio.h"
#include "../common/status.h"
#include "separators.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caller hooks (all optional; user is passed back). */
typedef struct duet_separate_hooks {
    void *user;
    /* Once the input is open, before the first block: its channels and rate. */
    duet_status (*start)(void *user, int channels, int sample_rate, duet_err *err);
    /* Every block of audio as it is separated: planar mixture, vocals and
     * accompaniment, n frames each, the input's channels and rate. A
     * non-zero status aborts the job (nothing is committed). */
    duet_status (*block)(void *user, const float *const *mix, const float *const *voc, const float *const *acc,
                         int64_t n, duet_err *err);
    /* After the last block, before the stems are committed: write the
     * hook's own output. A non-zero status aborts the job. */
    duet_status (*finish)(void *user, duet_err *err);
    /* Remove what finish wrote (called when committing the stems fails). */
    void (*undo)(void *user);
    /* Frames of input processed so far and the declared total (0 unknown). */
    void (*progress)(void *user, int64_t done, int64_t total);
} duet_separate_hooks;

typedef struct duet_separate_opts {
    const duet_separator *sep;  /* required */
    void *state;                /* from sep->open (may be NULL for stateless methods) */
    int wiener_iters;           /* the model's Wiener post-filter when streaming (0 = off) */
    duet_audio_outfmt_req format; /* container -1 = from each output name (WAV without one);
                                     bits 0 = keep the input's precision */
    int shifts;                 /* >= 2: average this many separations of the input delayed by
                                   random offsets in [0, max_shift) (Demucs' --shifts); 0/1 = once */
    double max_shift_seconds;   /* 0 = 0.5 s */
    uint64_t seed;              /* the offsets' RNG seed */
    const volatile sig_atomic_t *cancel; /* non-zero = stop (checked every block); may be NULL */
    const duet_read_opts *read; /* decoder options; NULL = defaults */
    duet_separate_hooks hooks;
} duet_separate_opts;

/* Defaults: everything 0/NULL except format.container = -1 and shifts = 1. */
void duet_separate_opts_default(duet_separate_opts *o);

typedef struct duet_separate_result {
    int channels, sample_rate;  /* of the input (and of the stems, Opus excepted) */
    int64_t frames;             /* stem length (= the input's) */
    double seconds;             /* wall time */
    int streamed;               /* 1 = the streaming path ran */
    duet_audio_outfmt format[2];/* what each stem was written as */
    int64_t clipped[2];         /* samples clipped per stem */
    int failed;                 /* on error: -1 the input, 0 the vocals, 1 the accompaniment, 2 a hook */
} duet_separate_result;

/* Separate in_path ("-" = standard input) into out_paths[0] (vocals) and
 * out_paths[1] (accompaniment); either may be NULL (that stem is not
 * written) or "-" (standard output); their folders must exist. res (may be
 * NULL) is filled in every case. Errors: the reader's (DUET_ERR_IO,
 * DUET_ERR_FORMAT, DUET_ERR_NAN, DUET_ERR_RANGE), DUET_ERR_EMPTY (no
 * samples), DUET_ERR_ARG (options, an output name whose extension names
 * another format), DUET_ERR_CANCELLED, the writer's and the separator's. */
duet_status duet_separate_file(const char *in_path, const char *const out_paths[2], const duet_separate_opts *o,
                               duet_separate_result *res, duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
