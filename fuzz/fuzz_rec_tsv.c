/* fuzz/fuzz_rec_tsv.c: libFuzzer target for the recommender's TSV loaders
 * (recommender/data.h): interactions TSV, item attributes TSV, item features
 * TSV and the Spotify-joined features TSV.
 *
 * The input is split at the byte 0x1E (ASCII record separator) into up to
 * four parts, read through in-memory streams (fmemopen) by
 *   part 0: duet_rec_load_interactions_file   (the data set)
 *   part 1: duet_rec_load_item_attrs_file     (when present and part 0 loaded)
 *   part 2: duet_rec_load_item_features_file  (generic: id column 0, features from 1)
 *   part 3: duet_rec_load_item_features_file  (Spotify rules: features from column 3)
 * with small limits (lines of 4 KiB, 4096 ids, 2^20 dense cells) so that
 * the caps are reached by small inputs and every execution stays fast.
 *
 * Besides "no crash, no leak, no undefined behaviour" it checks, and aborts
 * when a property fails:
 *  - a rejected input gives a status, *out == NULL (for the data set), and a
 *    one-line message that names the file;
 *  - an accepted data set is consistent: CSR rows sorted, unique, in range,
 *    weights finite and > 0, every user and item has an interaction, the id
 *    arrays and the id maps agree, n_merged >= 0;
 *  - after an attribute load (accepted or not) the attribute matrix is a
 *    valid CSR as wide as the token table, counts >= 1;
 *  - accepted features are finite, has_feats is 0/1 and items without a row
 *    are all zero. */
#include "../recommender/data.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                            \
    do {                                                                                         \
        if (!(c)) {                                                                              \
            fprintf(stderr, "fuzz_rec_tsv: property failed: %s (line %d)\n", #c, __LINE__);      \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* tests/test_rec_fuzz_regress.c includes this file with another entry name
 * to replay fuzz/regress/ and fuzz/corpus/ in `make test`. */
#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
int FUZZ_ENTRY(const uint8_t *data, size_t size);

static void check_csr(const duet_rec_csr *a, int32_t rows, int32_t cols, int positive)
{
    FUZZ_CHECK(a->n_rows == rows && a->n_cols == cols);
    FUZZ_CHECK(a->indptr && a->indptr[0] == 0 && a->indptr[rows] == a->nnz);
    for (int32_t r = 0; r < rows; r++) {
        FUZZ_CHECK(a->indptr[r] <= a->indptr[r + 1]);
        for (int64_t q = a->indptr[r]; q < a->indptr[r + 1]; q++) {
            FUZZ_CHECK(a->indices[q] >= 0 && a->indices[q] < cols);
            FUZZ_CHECK(q == a->indptr[r] || a->indices[q - 1] < a->indices[q]);
            FUZZ_CHECK(isfinite(a->values[q]));
            FUZZ_CHECK(positive ? a->values[q] > 0 : a->values[q] >= 1);
        }
    }
}

static void check_error(duet_status st, const duet_err *e, const char *name)
{
    FUZZ_CHECK(st != DUET_OK && e->status == st);
    FUZZ_CHECK(e->msg[0] != '\0' && strchr(e->msg, '\n') == NULL);
    if (st != DUET_ERR_NOMEM) FUZZ_CHECK(strstr(e->msg, name) != NULL);
}

static void check_dataset(const duet_rec_dataset *ds)
{
    FUZZ_CHECK(ds->n_users > 0 && ds->n_items > 0 && ds->n_merged >= 0);
    check_csr(&ds->ui, ds->n_users, ds->n_items, 1);
    for (int32_t u = 0; u < ds->n_users; u++) {
        FUZZ_CHECK(ds->ui.indptr[u + 1] > ds->ui.indptr[u]);
        FUZZ_CHECK(duet_rec_dataset_find_user(ds, ds->user_ids[u]) == u);
    }
    uint8_t *seen = calloc((size_t)ds->n_items, 1);
    FUZZ_CHECK(seen != NULL);
    for (int64_t q = 0; q < ds->ui.nnz; q++) seen[ds->ui.indices[q]] = 1;
    for (int32_t i = 0; i < ds->n_items; i++) {
        FUZZ_CHECK(seen[i] || i >= ds->n_items - ds->n_cold_items); /* side-file-only items are cold */
        FUZZ_CHECK(duet_rec_dataset_find_item(ds, ds->item_ids[i]) == i);
    }
    free(seen);
}

static void check_attrs(const duet_rec_dataset *ds)
{
    if (ds->item_attr.n_rows == 0) return;
    check_csr(&ds->item_attr, ds->n_items, ds->n_tokens, 0);
    for (int32_t t = 0; t < ds->n_tokens; t++) FUZZ_CHECK(ds->tokens[t] && strchr(ds->tokens[t], '='));
}

static void check_feats(const duet_rec_dataset *ds)
{
    FUZZ_CHECK(ds->n_feats > 0 && ds->feat_names && ds->item_feats && ds->has_feats);
    for (int32_t i = 0; i < ds->n_items; i++) {
        FUZZ_CHECK(ds->has_feats[i] <= 1);
        for (int32_t c = 0; c < ds->n_feats; c++) {
            float v = ds->item_feats[(size_t)i * ds->n_feats + c];
            FUZZ_CHECK(isfinite(v));
            if (!ds->has_feats[i]) FUZZ_CHECK(v == 0);
        }
    }
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    const char *part[4] = {NULL, NULL, NULL, NULL};
    size_t len[4] = {0, 0, 0, 0};
    int np = 0;
    size_t start = 0;
    for (size_t k = 0; k <= size && np < 4; k++)
        if (k == size || data[k] == 0x1E) {
            part[np] = (const char *)data + start;
            len[np++] = k - start;
            start = k + 1;
        }
    /* the last part takes the rest, separators included */
    if (np == 4) len[3] = size - (size_t)(part[3] - (const char *)data);

    duet_rec_limits lim = duet_rec_limits_default();
    lim.max_line = 4096;
    lim.max_lines = 100000;
    lim.max_ids = 4096;
    lim.max_cells = 1 << 20;

    static char dummy[1];
    FILE *f = fmemopen(len[0] ? (void *)part[0] : dummy, len[0], "rb");
    FUZZ_CHECK(f != NULL);
    duet_rec_dataset *ds = (duet_rec_dataset *)1;
    duet_err e = {0};
    duet_status st = duet_rec_load_interactions_file(f, "interactions.tsv", &lim, &ds, &e);
    fclose(f);
    if (st) {
        check_error(st, &e, "interactions.tsv");
        FUZZ_CHECK(ds == NULL);
        return 0;
    }
    FUZZ_CHECK(ds != NULL);
    check_dataset(ds);

    static const char *const names[4] = {NULL, "attrs.tsv", "features.tsv", "spotify.tsv"};
    for (int p = 1; p < np; p++) {
        f = fmemopen(len[p] ? (void *)part[p] : dummy, len[p], "rb");
        FUZZ_CHECK(f != NULL);
        duet_err e2 = {0};
        int64_t skipped = ds->n_skipped;
        if (p == 1) st = duet_rec_load_item_attrs_file(ds, f, names[p], &e2);
        else st = duet_rec_load_item_features_file(ds, f, names[p], 0, p == 2 ? 1 : 3, p == 3, &e2);
        fclose(f);
        FUZZ_CHECK(ds->n_skipped >= skipped);
        if (st) check_error(st, &e2, names[p]);
        if (p == 1) check_attrs(ds);
        else if (!st) check_feats(ds);
    }
    check_dataset(ds);
    duet_rec_dataset_free(ds);
    return 0;
}
#undef FUZZ_CHECK
#undef FUZZ_ENTRY
