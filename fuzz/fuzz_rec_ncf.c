/* fuzz/fuzz_rec_ncf.c: libFuzzer target for the NCF-format loader
 * (recommender/data.h, duet_rec_load_ncf_files: train.rating, test.rating,
 * test.negative).
 *
 * The input is split at the byte 0x1E (ASCII record separator) into three
 * parts (missing parts are empty; the third takes the rest), each read
 * through an in-memory stream (fmemopen), with small limits (lines of 8
 * KiB, ids below 4096, 2^18 negative cells) so that the caps are reached by
 * small inputs and every execution stays fast.
 *
 * Besides "no crash, no leak, no undefined behaviour" it checks, and aborts
 * when a property fails:
 *  - a rejected input gives *out == NULL and a one-line message naming one of
 *    the three files;
 *  - an accepted data set is consistent: n_users / n_items are 1 + the
 *    largest train ids (both have a training row), the training CSR is
 *    sorted, unique, in range, with finite weights > 0; n_neg >= 1; each
 *    test user has a test item and negatives inside the item range, the
 *    other users have -1 everywhere; at least one user has a test item. */
#include "../recommender/data.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                            \
    do {                                                                                         \
        if (!(c)) {                                                                              \
            fprintf(stderr, "fuzz_rec_ncf: property failed: %s (line %d)\n", #c, __LINE__);      \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* tests/test_rec_fuzz_regress.c includes this file with another entry name
 * to replay fuzz/regress/ and fuzz/corpus/ in `make test`. */
#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
int FUZZ_ENTRY(const uint8_t *data, size_t size);

static void check_ncf(const duet_rec_ncf *d)
{
    FUZZ_CHECK(d->n_users > 0 && d->n_items > 0 && d->n_neg >= 1);
    const duet_rec_csr *a = &d->train;
    FUZZ_CHECK(a->n_rows == d->n_users && a->n_cols == d->n_items);
    FUZZ_CHECK(a->indptr[0] == 0 && a->indptr[d->n_users] == a->nnz && a->nnz > 0);
    int last_item_seen = 0;
    for (int32_t u = 0; u < d->n_users; u++) {
        FUZZ_CHECK(a->indptr[u] <= a->indptr[u + 1]);
        for (int64_t q = a->indptr[u]; q < a->indptr[u + 1]; q++) {
            FUZZ_CHECK(a->indices[q] >= 0 && a->indices[q] < d->n_items);
            FUZZ_CHECK(q == a->indptr[u] || a->indices[q - 1] < a->indices[q]);
            FUZZ_CHECK(isfinite(a->values[q]) && a->values[q] > 0);
            last_item_seen |= a->indices[q] == d->n_items - 1;
        }
    }
    FUZZ_CHECK(a->indptr[d->n_users] > a->indptr[d->n_users - 1] || d->n_cold_users > 0); /* else a test-only user */
    FUZZ_CHECK(last_item_seen || d->n_cold_items > 0);
    int n_test = 0;
    for (int32_t u = 0; u < d->n_users; u++) {
        const int32_t *row = d->negatives + (size_t)u * d->n_neg;
        FUZZ_CHECK(d->test_item[u] >= -1 && d->test_item[u] < d->n_items);
        if (d->test_item[u] >= 0) {
            n_test++;
            for (int k = 0; k < d->n_neg; k++) FUZZ_CHECK(row[k] >= 0 && row[k] < d->n_items);
        } else {
            for (int k = 0; k < d->n_neg; k++) FUZZ_CHECK(row[k] == -1);
        }
    }
    FUZZ_CHECK(n_test > 0);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    const char *part[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};
    int np = 0;
    size_t start = 0;
    for (size_t k = 0; k <= size && np < 3; k++)
        if (k == size || data[k] == 0x1E) {
            part[np] = (const char *)data + start;
            len[np++] = k - start;
            start = k + 1;
        }
    if (np == 3) len[2] = size - (size_t)(part[2] - (const char *)data);

    duet_rec_limits lim = duet_rec_limits_default();
    lim.max_line = 8192;
    lim.max_lines = 100000;
    lim.max_ids = 4096;
    lim.max_cells = 1 << 18;

    static char dummy[1];
    FILE *f[3];
    for (int p = 0; p < 3; p++) {
        f[p] = fmemopen(len[p] ? (void *)part[p] : dummy, len[p], "rb");
        FUZZ_CHECK(f[p] != NULL);
    }
    duet_rec_ncf *d = (duet_rec_ncf *)1;
    duet_err e = {0};
    duet_status st = duet_rec_load_ncf_files(f[0], f[1], f[2], "fz", &lim, &d, &e);
    for (int p = 0; p < 3; p++) fclose(f[p]);
    if (st) {
        FUZZ_CHECK(d == NULL && e.status == st);
        FUZZ_CHECK(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
        if (st != DUET_ERR_NOMEM)
            FUZZ_CHECK(strstr(e.msg, "fz.train.rating") || strstr(e.msg, "fz.test.rating") ||
                       strstr(e.msg, "fz.test.negative"));
        return 0;
    }
    FUZZ_CHECK(d != NULL);
    check_ncf(d);
    duet_rec_ncf_free(d);
    return 0;
}
#undef FUZZ_CHECK
#undef FUZZ_ENTRY
