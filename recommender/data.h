/* recommender/data.h: recommendation data sets in compact CSR form, and
 * strict loaders for the formats duet reads:
 *
 *   - generic interactions TSV   `user<TAB>item[<TAB>weight]`
 *   - item attributes TSV        `item<TAB>key<TAB>value`      (token "key=value")
 *   - item numeric features TSV  header `item f1 f2 ...`, then one row per item
 *   - HetRec 2011 Last.fm-2k     user_artists.dat, artists.dat, tags.dat,
 *                                user_taggedartists.dat, user_friends.dat
 *   - Spotify per-artist TSV     hetrec_artist_spotify_features.tsv
 *   - KGCN knowledge graph       item_index2entity_id.txt + kg.txt
 *   - NCF files                  PREFIX.train.rating, .test.rating, .test.negative
 *
 * Common rules (all loaders): lines may end in LF or CRLF; fields are
 * separated by single tabs; empty lines and (for the generic TSVs) lines
 * starting with '#' are skipped; every malformed line is an error
 * DUET_ERR_FORMAT whose message names the file and the 1-based line number.
 *
 * A last line without a final newline is read like any other. A file that
 * holds no data row (empty, or only blank/comment lines) is DUET_ERR_EMPTY.
 *
 * Interactions: a weight must be a finite number > 0 (negative, zero, NaN and
 * Inf weights are errors with the line number); a missing weight means 1.
 * Duplicates: in the generic interactions TSV a (user, item) pair that occurs
 * on several lines is SUMMED into one interaction (rows are events: "u i" twice
 * is two plays, weight 2), and the number of rows merged away is counted in
 * ds->n_merged. In HetRec user_artists.dat and NCF train.rating (one row per
 * pair by construction) a repeated pair is an error naming both lines. Users
 * and items are the distinct ids of the interactions file, numbered densely
 * in order of first appearance; ids are opaque strings (a 30-digit "id" is
 * just a string).
 *
 * Side files: the item ids index the union of the interactions and the
 * generic side files. An item that only the item attributes TSV or the
 * item features TSV names is appended as a COLD item (no interactions: an
 * empty column of ui; recommended through its attributes by the models that
 * read them), counted in ds->n_cold_items. Rows of the HetRec tag/friend
 * files, the Spotify file and the KG about an unknown item or user, and user
 * rows of any side file, are skipped and counted in ds->n_skipped (the
 * HetRec catalogue is artists.dat). Repeated attribute rows add up (a token's
 * weight is its count); a repeated feature row is an error.
 *
 * Limits (duet_rec_limits, checked BEFORE the memory is allocated): the longest
 * line, the number of lines per file, the number of distinct users / items /
 * tokens (and for NCF the largest integer id + 1), and the number of cells of
 * a dense table implied by the input (items x features, NCF users x
 * negatives). Going over one is DUET_ERR_RANGE naming the file (and line). The
 * functions without a `lim` argument use duet_rec_limits_default(); the data set
 * keeps the limits it was loaded with for the side files added later. */
#ifndef DUET_RECOMMENDER_DATA_H
#define DUET_RECOMMENDER_DATA_H

#include <stdint.h>
#include <stdio.h>
#include "../common/rng.h"
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Compressed sparse rows. indices are sorted within each row and unique. */
typedef struct duet_rec_csr {
    int32_t n_rows, n_cols;
    int64_t nnz;
    int64_t *indptr;  /* (n_rows + 1) */
    int32_t *indices; /* (nnz) column of each entry */
    float *values;    /* (nnz) weight of each entry */
} duet_rec_csr;

/* A (row, col, value) triple; `line` is the source line (for errors; 0 if none). */
typedef struct duet_rec_triple {
    int32_t row, col;
    float val;
    int64_t line;
} duet_rec_triple;

/* Build a CSR from triples (the array is sorted in place). dup_mode 0: a
 * repeated (row, col) is DUET_ERR_FORMAT naming both lines and `what`;
 * dup_mode 1: repeated values are summed. Every row must be < n_rows and
 * col < n_cols (else DUET_ERR_INTERNAL). On success *out owns its arrays
 * (free with duet_rec_csr_free). Errors: NOMEM, FORMAT, INTERNAL. */
duet_status duet_rec_csr_from_triples(duet_rec_csr *out, int32_t n_rows, int32_t n_cols, duet_rec_triple *t,
                                      int64_t n, int dup_mode, const char *what, duet_err *err);
/* Transpose (n_cols x n_rows). Errors: NOMEM. */
duet_status duet_rec_csr_transpose(const duet_rec_csr *a, duet_rec_csr *out, duet_err *err);
/* Deep copy. Errors: NOMEM. */
duet_status duet_rec_csr_copy(const duet_rec_csr *a, duet_rec_csr *out, duet_err *err);
/* 1 if (row, col) is stored (binary search). */
int duet_rec_csr_has(const duet_rec_csr *a, int32_t row, int32_t col);
/* A sampled negative: an item drawn uniformly from pool[0..n_pool) (from
 * 0 .. a->n_cols - 1 when pool is NULL) that row u of a does not hold,
 * redrawn until it is one (one duet_rng_below per draw). The caller makes
 * sure one exists (the row holds fewer than all of them); otherwise this
 * does not return. */
int32_t duet_rec_draw_negative(duet_rng *r, const duet_rec_csr *a, int32_t u, const int32_t *pool, int32_t n_pool);
/* Free the arrays and zero the struct (NULL and zeroed structs are fine). */
void duet_rec_csr_free(duet_rec_csr *a);

/* A loaded data set. Everything is owned by the struct; free with
 * duet_rec_dataset_free(). Optional parts are empty (NULL / 0) when not loaded. */
typedef struct duet_rec_dataset {
    int32_t n_users, n_items;
    char **user_ids;   /* (n_users) external ids as in the files */
    char **item_ids;   /* (n_items) */
    char **item_names; /* (n_items) display names or NULL entries; array may be NULL */
    duet_rec_csr ui;        /* (n_users x n_items) raw interaction weights */

    /* Sparse attribute tokens ("tag:rock", "kg:music.artist.origin=123",
     * "genre=jazz") shared by items and users. */
    int32_t n_tokens;
    char **tokens;     /* (n_tokens) UTF-8 */
    duet_rec_csr item_attr; /* (n_items x n_tokens) counts; n_rows==0 when absent */
    duet_rec_csr user_attr; /* (n_users x n_tokens) counts (HetRec: tags a user applied) */
    duet_rec_csr friends;   /* (n_users x n_users) 1 per friend pair; may be empty */

    /* Dense numeric item features (e.g. Spotify audio averages). */
    int32_t n_feats;
    char **feat_names; /* (n_feats) */
    float *item_feats; /* (n_items x n_feats) row-major; 0 where absent */
    uint8_t *has_feats;/* (n_items) 1 when the item has a feature row */

    int64_t n_skipped; /* side-file rows skipped because the id is unknown */
    void *maps_;       /* private id and token maps (and the limits) */
    int64_t n_merged;  /* interaction rows summed into an earlier row (duplicates) */
    int32_t n_cold_items; /* items added by a side file (attributes, features) without interactions */
    char *spotify_file;   /* set by duet_rec_dataset_open: the Spotify features file and */
    char *kg_dir;         /* the KGCN folder it loaded (given or found), else NULL */
} duet_rec_dataset;

/* Safety caps of the loaders (see the top of this file). */
typedef struct duet_rec_limits {
    int64_t max_line;  /* bytes per line, CR included, LF not (default 1 MiB) */
    int64_t max_lines; /* lines per file (default 2^28) */
    int32_t max_ids;   /* distinct users, items or tokens; NCF: largest id + 1;
                          HetRec tag and KG entity ids (default 2^24) */
    int64_t max_cells; /* cells of a dense table sized by the input: n_items x
                          n_feats, NCF n_users x n_negatives (default 2^28) */
} duet_rec_limits;

/* The default limits. */
duet_rec_limits duet_rec_limits_default(void);

/* Load a generic interactions TSV into a new data set (*out owned by the
 * caller; NULL on error). Weights must lie in [1.2e-38, 3e38] so that they
 * stay positive normal floats. Errors: IO (open/read), FORMAT (malformed
 * line, bad or non-positive weight: with line numbers), NAN (NaN/Inf
 * weight), EMPTY (no interactions), RANGE (a limit; summed duplicates over
 * 3.4e38), NOMEM. */
duet_status duet_rec_load_interactions_tsv(const char *path, duet_rec_dataset **out, duet_err *err);

/* As duet_rec_load_interactions_tsv, with limits (NULL: the defaults), which the
 * data set keeps for side files loaded later. */
duet_status duet_rec_load_interactions_tsv_ex(const char *path, const duet_rec_limits *lim, duet_rec_dataset **out,
                                              duet_err *err);
/* As duet_rec_load_interactions_tsv_ex from an open stream (read to its end, not
 * closed; `name` names it in messages). */
duet_status duet_rec_load_interactions_file(FILE *f, const char *name, const duet_rec_limits *lim,
                                            duet_rec_dataset **out, duet_err *err);

/* Add item attributes `item<TAB>key<TAB>value` as tokens "key=value"
 * (weight 1 per row, repeats add up). Replaces nothing: tokens accumulate
 * with any already loaded; all three fields must be non-empty. Errors: IO,
 * FORMAT (line number), EMPTY (no attribute row), RANGE (a limit), NOMEM.
 * After an error the tokens read so far stay in ds->tokens (the attribute
 * matrix keeps its rows and is as wide as the token table). */
duet_status duet_rec_load_item_attrs_tsv(duet_rec_dataset *ds, const char *path, duet_err *err);

/* As duet_rec_load_item_attrs_tsv from an open stream (not closed). */
duet_status duet_rec_load_item_attrs_file(duet_rec_dataset *ds, FILE *f, const char *name, duet_err *err);

/* Load dense item features from a TSV with a header row. Column id_col holds
 * the item id; columns from first_col to the end are numbers (every row must
 * have as many fields as the header; NaN/Inf are errors). Generic files use
 * id_col 0, first_col 1; the Spotify file uses id_col 0, first_col 3.
 * Replaces features loaded before (kept on error). Errors: IO, FORMAT, NAN,
 * EMPTY (no header, or a header and no row), RANGE (more than 4096 columns,
 * items x features over lim.max_cells, a line over lim.max_line), NOMEM. */
duet_status duet_rec_load_item_features_tsv(duet_rec_dataset *ds, const char *path, int id_col,
                                            int first_col, duet_err *err);
/* As duet_rec_load_item_features_tsv from an open stream (not closed); spotify = 1
 * applies the rules of duet_rec_load_spotify_tsv (unparsable rows skipped). */
duet_status duet_rec_load_item_features_file(duet_rec_dataset *ds, FILE *f, const char *name, int id_col, int first_col,
                                             int spotify, duet_err *err);

/* The HetRec-joined Spotify file (hetrec_artist_spotify_features.tsv:
 * hetrec_artistID, hetrec_name, spotify_artists, then 14 numbers). As
 * duet_rec_load_item_features_tsv(ds, path, 0, 3), except that rows whose numeric
 * fields do not parse are skipped and counted in n_skipped (4 rows of the
 * shipped file have tabs inside the artist-name field and so lose two
 * numbers). Errors: IO, FORMAT (wrong field count), NAN, EMPTY, NOMEM. */
duet_status duet_rec_load_spotify_tsv(duet_rec_dataset *ds, const char *path, duet_err *err);

/* Load HetRec 2011 Last.fm-2k from `dir`: interactions from user_artists.dat
 * (play counts), names from artists.dat, item tag tokens "tag:<name>" (count
 * of assignments, tags.dat converted from ISO-8859-1 to UTF-8) and user tag
 * tokens from user_taggedartists.dat, and friends from user_friends.dat.
 * Errors: IO, FORMAT (file and line), EMPTY, NOMEM. */
duet_status duet_rec_load_hetrec(const char *dir, duet_rec_dataset **out, duet_err *err);

/* Add KGCN knowledge-graph tokens from `dir` (item_index2entity_id.txt maps
 * an item id to an entity index; kg.txt holds `head relation tail`): an
 * item that is a head gets "kg:<relation>=<tail>", one that is a tail gets
 * "kg:~<relation>=<head>". Errors: IO, FORMAT, NOMEM. */
duet_status duet_rec_load_kgcn(duet_rec_dataset *ds, const char *dir, duet_err *err);

/* Where a data set comes from, for duet_rec_dataset_open: exactly one of
 * `interactions` and `hetrec`, and any of the side files (NULL = none). */
typedef struct duet_rec_sources {
    const char *interactions;  /* interactions TSV (duet_rec_load_interactions_tsv) */
    const char *hetrec;        /* HetRec 2011 Last.fm-2k folder (duet_rec_load_hetrec) */
    const char *item_attrs;    /* item attribute tokens TSV (duet_rec_load_item_attrs_tsv) */
    const char *item_features; /* numeric item features TSV, id in column 0, values from 1 */
    const char *spotify;       /* HetRec-joined Spotify features (duet_rec_load_spotify_tsv) */
    const char *kg;            /* KGCN folder (duet_rec_load_kgcn) */
    int no_side;               /* 0: with `hetrec`, a side file not given is taken from the
                                * sibling folders when present:
                                * DIR/../spotify-artist-features/hetrec_artist_spotify_features.tsv
                                * and DIR/../kgcn-music; 1: only what is given */
} duet_rec_sources;

/* Open a data set from its sources: the interactions, then the item
 * attributes, the KG tokens, the item features and the Spotify features, in
 * that order. *out is owned by the caller (duet_rec_dataset_free) and NULL on
 * error; (*out)->spotify_file and ->kg_dir say which of those two were
 * loaded. Errors: DUET_ERR_ARG (not exactly one of interactions and hetrec,
 * a NULL argument), and those of the loaders, whose messages name the file. */
duet_status duet_rec_dataset_open(const duet_rec_sources *src, duet_rec_dataset **out, duet_err *err);

/* Free everything (NULL is ignored). */
void duet_rec_dataset_free(duet_rec_dataset *ds);

/* Index of an external item/user id, or -1. */
int32_t duet_rec_dataset_find_item(const duet_rec_dataset *ds, const char *id);
int32_t duet_rec_dataset_find_user(const duet_rec_dataset *ds, const char *id);

/* The NCF leave-one-out format (He et al. 2017): user and item ids are
 * non-negative integers used as indices directly. The id space is the union
 * of the three files: 1 + the largest user (item) id of train.rating,
 * test.rating and test.negative. Users and items that appear only in the
 * test files (real splits have them: DeepCF's AMusic.test.rating names items
 * with no training row) are legal and COLD: they have no training
 * interaction; n_cold_users / n_cold_items count those named by the test
 * files, for the caller to report. How models score cold items:
 * recommender/README.md (through attributes where a model has them, else
 * the constant REC_COLD_SCORE, ranked by the seeded tie-break). */
typedef struct duet_rec_ncf {
    int32_t n_users, n_items;  /* 1 + largest user / item id of the three files */
    duet_rec_csr train;             /* (n_users x n_items) weights (column 3) */
    int32_t *test_item;        /* (n_users) held-out item or -1 */
    int32_t n_neg;             /* negatives per test user (99 in the standard files) */
    int32_t *negatives;        /* (n_users x n_neg); rows of users without a test are -1 */
    int32_t n_cold_users;      /* test users without a training row */
    int32_t n_cold_items;      /* distinct test or negative items without a training interaction */
} duet_rec_ncf;

/* Read PREFIX.train.rating (`u i weight [timestamp]`, weight > 0),
 * PREFIX.test.rating (one line per test user, `u i [...]`, at most one per
 * user) and PREFIX.test.negative (`(u,i)<TAB>n1<TAB>...`, the same number of
 * negatives on every line, the pair matching the test.rating line of u).
 * *out is caller-owned (free with duet_rec_ncf_free). Errors: IO, FORMAT
 * (file:line), RANGE (id >= 2^24, over a limit),
 * EMPTY (a file without rows), NOMEM. */
duet_status duet_rec_load_ncf(const char *prefix, duet_rec_ncf **out, duet_err *err);
/* As duet_rec_load_ncf with limits (NULL: the defaults; RANGE when an id, the
 * number of negatives x users, a line or the line count is over them). */
duet_status duet_rec_load_ncf_ex(const char *prefix, const duet_rec_limits *lim, duet_rec_ncf **out, duet_err *err);
/* As duet_rec_load_ncf_ex from three open streams (read, not closed); messages
 * name them PREFIX.train.rating, PREFIX.test.rating, PREFIX.test.negative. */
duet_status duet_rec_load_ncf_files(FILE *train, FILE *test, FILE *negative, const char *prefix,
                                    const duet_rec_limits *lim, duet_rec_ncf **out, duet_err *err);
void duet_rec_ncf_free(duet_rec_ncf *d);

#ifdef __cplusplus
}
#endif

#endif
