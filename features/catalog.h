/* features/catalog.h: describing a whole catalog of songs into one TSV,
 * resumably, in parallel, with failures recorded per row.
 *
 * LIST: a TSV with one song per line, `item_id<TAB>path`; blank lines and
 * lines starting with '#' are skipped, as is a first line `item_id<TAB>path`
 * or `item<TAB>path`. Relative paths are taken relative to LIST's folder.
 * Item ids must be unique and non-empty.
 *
 * OUTPUT: a TSV whose header is `item<TAB>f1<TAB>...<TAB>fN<TAB>error` (the
 * names of describe.h) and one row per song: the item id, the values (%.9g;
 * never NaN), and an empty error field; a song that could not be described
 * gets empty value fields and a one-line message in `error` (tabs and
 * newlines replaced by spaces).
 *
 * Crash safety and resumption: a new output gets its header through
 * atomic_file.h (temporary + rename). Rows are then appended by one write(2)
 * each on an O_APPEND descriptor, followed by fsync, under a lock, so a killed
 * run leaves only whole rows (a process kill cannot split one write to a
 * regular file; after a power loss a torn last line is possible and is cut
 * off when the file is reopened). Reopening checks that the header is the
 * same feature set, cuts any incomplete last line, and treats every item that
 * has a row (described or failed) as done: a re-run only processes the rest.
 * A row whose error field is not empty records a failure; a run with
 * retry_failed (`duet features --retry-failed`) first removes the failure
 * rows of the items it selects (LIST, shard) by rewriting the output through
 * atomic_file.h (a kill during the rewrite leaves the old file, a kill after
 * it leaves those items pending), then describes exactly those items again.
 * Rows appear in completion order (with -j > 1 not the order of LIST);
 * readers key on the item id.
 *
 * Sharding: --shard i/N keeps items whose FNV-1a 64-bit hash of the id is
 * i-1 mod N (1 <= i <= N), stable under reordering or extending LIST. */
#ifndef DUET_FEATURES_CATALOG_H
#define DUET_FEATURES_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include "../audio/audio.h"
#include "../common/status.h"
#include "describe.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_catalog_item {
    char *id;   /* owned by the catalog */
    char *path; /* owned by the catalog; resolved against LIST's folder */
} duet_catalog_item;

typedef struct duet_catalog {
    size_t n;
    duet_catalog_item *items;
} duet_catalog;

/* Read LIST into *out (zeroed first); free with duet_catalog_free.
 * Errors: DUET_ERR_IO (cannot read), DUET_ERR_FORMAT (a line without a tab,
 * an empty id or path, a duplicate id: message names the line),
 * DUET_ERR_NOMEM. An empty list is valid (n = 0). */
duet_status duet_catalog_read(const char *list_path, duet_catalog *out, duet_err *err);
void duet_catalog_free(duet_catalog *c);

/* 1 when item `id` belongs to shard i of n (1 <= i <= n). */
int duet_catalog_in_shard(const char *id, int shard_i, int shard_n);

/* An append-only output TSV. */
typedef struct duet_catalog_out duet_catalog_out;

/* Open (creating with `names` as header, or resuming) the output at path.
 * Errors: DUET_ERR_IO, DUET_ERR_FORMAT (an existing file with a different
 * header), DUET_ERR_NOMEM. Free with duet_catalog_out_close. */
duet_status duet_catalog_out_open(const char *path, const duet_feature_set *names, duet_catalog_out **out,
                                  duet_err *err);
void duet_catalog_out_close(duet_catalog_out *o);

/* 1 when the output already holds a row for id. */
int duet_catalog_out_has(const duet_catalog_out *o, const char *id);
/* 1 when the output's row for id is a failure row (non-empty error field). */
int duet_catalog_out_failed(const duet_catalog_out *o, const char *id);
/* Rows found when the output was opened (less those removed by a
 * retry_failed run), and how many of them are failure rows. */
size_t duet_catalog_out_n_existing(const duet_catalog_out *o);
size_t duet_catalog_out_n_failed(const duet_catalog_out *o);

/* Format one row (with its newline) into a new string *row (free()).
 * fs = NULL or error != NULL makes a failure row. Errors: DUET_ERR_NOMEM,
 * DUET_ERR_SHAPE (fs does not have the header's feature count). */
duet_status duet_catalog_format_row(const duet_catalog_out *o, const char *id, const duet_feature_set *fs,
                                    const char *error, char **row, duet_err *err);

/* Append one formatted row: one write + fsync. Thread-safe (internal
 * OpenMP lock). A short write (disk full) is undone by truncating back.
 * Errors: DUET_ERR_IO. */
duet_status duet_catalog_out_append(duet_catalog_out *o, const char *id, const char *row, duet_err *err);

/* Optional separation for the stems path: fill *voc and *acc (same rate,
 * channels, length as mix) or return an error. Called from worker threads. */
typedef duet_status (*duet_separate_fn)(void *user, const duet_audio *mix, duet_audio *voc, duet_audio *acc,
                                        duet_err *err);

/* Progress callback: called under the output lock after each item. */
typedef void (*duet_catalog_progress_fn)(void *user, size_t done, size_t total, size_t failed);

typedef struct duet_catalog_opts {
    int jobs;                    /* worker threads (>= 1) */
    int shard_i, shard_n;        /* 1/1 = everything */
    duet_separate_fn separate;   /* NULL: mixture only */
    void *separate_user;
    duet_catalog_progress_fn progress; /* may be NULL */
    void *progress_user;
    int retry_failed;            /* 1: describe again the selected items whose
                                  * row in the output is a failure row */
} duet_catalog_opts;

typedef struct duet_catalog_stats {
    size_t selected;      /* items in this shard */
    size_t skipped;       /* already in the output (not described again) */
    size_t skipped_failed; /* of those, items whose row is a failure row */
    size_t retried;       /* failure rows removed to describe their items again */
    size_t described;     /* rows written with values */
    size_t failed;        /* rows written with an error */
} duet_catalog_stats;

/* Describe every pending item of c (in this shard, not yet in o; with
 * opts->retry_failed also those whose row in o is a failure row, which is
 * removed first) and append its row. A song that fails (unreadable, corrupt,
 * NaN, empty) gets an error row and the run goes on; only output I/O errors
 * stop it (DUET_ERR_IO) — rows written before stay valid. Items of this
 * shard that end the run with a failure row: stats->failed +
 * stats->skipped_failed. Errors: DUET_ERR_IO, DUET_ERR_NOMEM, DUET_ERR_ARG
 * (bad options). */
duet_status duet_catalog_run(const duet_catalog *c, duet_catalog_out *o, const duet_catalog_opts *opts,
                             duet_catalog_stats *stats, duet_err *err);

/* Describe one file (decode with NaN rejection, optional separation).
 * d: a describer for the calling thread. Errors: those of duet_audio_read,
 * the separator and duet_describe. */
duet_status duet_describe_file(duet_describer *d, const char *path, duet_separate_fn separate, void *sep_user,
                               duet_feature_set *fs, duet_err *err);

/* Merging the outputs of sharded catalog runs (`duet features --merge`). */
typedef struct duet_catalog_merge_stats {
    size_t parts;       /* files read */
    size_t rows;        /* rows written */
    size_t failed;      /* failure rows among them */
    size_t missing;     /* catalog items with no row in any part (0 without a catalog) */
    size_t duplicates;  /* ids with rows in more than one place */
} duet_catalog_merge_stats;

/* Called once per problem found: kind "missing", "failed" or "duplicate",
 * the item id, and (failed: the error text; duplicate: the second file). */
typedef void (*duet_catalog_merge_report)(void *user, const char *kind, const char *id, const char *detail);

/* Merge the catalog outputs parts[0..n_parts) (each as written by
 * duet_catalog_run: same header, one row per item) into out_path
 * (atomically): rows in catalog order when cat is given (then every item
 * must appear, rows for ids outside the catalog are an error), else sorted
 * by id. Failure rows are kept (so --retry-failed can redo them) and
 * reported. Nothing is written when the parts disagree on the header, a
 * part ends in an incomplete line (a shard that did not finish), or an id
 * appears twice. Returns DUET_OK when the output was written, even with
 * missing or failed items: the caller decides the exit status from *stats.
 * Errors: DUET_ERR_IO, DUET_ERR_FORMAT (header mismatch, torn line,
 * duplicate id, an id outside the catalog: named), DUET_ERR_NOMEM. */
duet_status duet_catalog_merge(const char *const *parts, int n_parts, const duet_catalog *cat, const char *out_path,
                               duet_catalog_merge_report report, void *user, duet_catalog_merge_stats *stats,
                               duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
