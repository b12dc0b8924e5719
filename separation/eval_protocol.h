/* separation/eval_protocol.h: the evaluation protocol behind `duet
 * eval-sep`: every method (a separator, or estimates read from a folder)
 * on every track of a reference list, tracks in parallel, and the summary
 * the table reports (medians over tracks of SDR / SIR / SAR / SI-SDR /
 * museval v4 SDR, length-weighted GNSDR / GSIR / GSAR). The caller prints. */
#ifndef DUET_SEPARATION_EVAL_PROTOCOL_H
#define DUET_SEPARATION_EVAL_PROTOCOL_H

#include "../common/status.h"
#include "sep_eval.h"
#include "separators.h"
#include "stems_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One row group of the table. sep NULL = estimates read from est_dir
 * (DIR/<track>/{vocals,accompaniment}.wav). state: from sep->open. */
typedef struct duet_eval_method {
    const char *name;
    const duet_separator *sep;
    void *state;
    const char *est_dir;
} duet_eval_method;

/* Called once per (track, method) as it finishes, serialised (never two at
 * once): st is DUET_OK with ev filled, or the failure with err. */
typedef void (*duet_eval_track_cb)(void *user, const duet_track_list *tl, int track, const duet_eval_method *m,
                                   duet_status st, const duet_err *err, const duet_track_eval *ev, double sep_seconds,
                                   double eval_seconds);

typedef struct duet_eval_opts {
    int jobs;                     /* tracks in parallel (>= 1) */
    duet_eval_track_cb on_track;  /* may be NULL */
    void (*progress)(void *user, int done, int total); /* serialised; may be NULL */
    void *user;
} duet_eval_opts;

/* Everything measured: ev[m][t] is valid where ok[m][t] is 1. */
typedef struct duet_eval_results {
    int n_methods, n_tracks;
    duet_track_eval **ev;
    int **ok;
    int failed;                   /* (track, method) pairs that failed, plus tracks that did not load */
    double seconds;
} duet_eval_results;

/* Run the protocol. Per-track failures are counted (and reported through
 * on_track), not fatal. Errors: DUET_ERR_ARG, DUET_ERR_NOMEM. Free *out with
 * duet_eval_results_free() (also after an error). */
duet_status duet_eval_run(const duet_track_list *tl, const duet_eval_method *methods, int n_methods,
                          const duet_eval_opts *o, duet_eval_results *out, duet_err *err);
void duet_eval_results_free(duet_eval_results *r);

typedef struct duet_eval_summary {
    int n, undef;                 /* tracks with a finite SDR; tracks with an undefined value */
    double sdr, sir, sar, si_sdr, v4_sdr; /* medians over tracks (NaN when none) */
    double gnsdr, gsir, gsar;     /* length-weighted means */
} duet_eval_summary;

/* The summary of method m, stem j (0 vocals, 1 accompaniment). */
duet_eval_summary duet_eval_summarize(const duet_eval_results *r, int m, int j);

/* Median of the finite values of x[0..n) (NaN when none); *count (may be
 * NULL) receives how many were finite. */
double duet_median_finite(const double *x, int n, int *count);

#ifdef __cplusplus
}
#endif

#endif
