/* recommender/data_ncf.c: the NCF-format loader (data.h). */
#include "data.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_impl.h"
#include "../common/pathfmt.h"

/* --------------------------------------------------------------- NCF */

#define NCF_MAX_NEG 10000

void duet_rec_ncf_free(duet_rec_ncf *d)
{
    if (!d) return;
    duet_rec_csr_free(&d->train);
    free(d->test_item);
    free(d->negatives);
    free(d);
}

/* The three files from lr[0] (train), lr[1] (test), lr[2] (negatives); the
 * readers are closed by the caller. f holds NCF_MAX_NEG + 2 field pointers. */
static duet_status ncf_read(linereader *lr, char **f, duet_rec_ncf **out, duet_err *err)
{
    const duet_rec_limits *lim = &lr[0].lim;
    const char *ptr = lr[0].path, *pte = lr[1].path, *pne = lr[2].path;
    tripvec tv = {0}, tests = {0}; /* train rows; test pairs (row user, col item) */
    int64_t *test_line = NULL; /* (n_users) test.rating line of each user's test pair, 0 if none */
    int32_t *order = NULL;     /* (test lines) user of each test.rating line, in file order */
    int64_t n_test = 0, neg_lines = 0;
    long max_u = -1, max_i = -1;
    duet_rec_ncf *d = NULL;
    duet_status st = DUET_OK;
    int r;

    /* train.rating: u i weight [timestamp] */
    while ((r = duet_rec_data_lr_next(&lr[0], err)) == 1) {
        if (!lr[0].buf[0]) continue;
        long u, i;
        double w;
        int nf = duet_rec_data_split_tabs(lr[0].buf, f, 4);
        if (nf < 3 || nf > 4 || duet_rec_data_parse_id(f[0], &u) != 0 || duet_rec_data_parse_id(f[1], &i) != 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `user<TAB>item<TAB>weight[<TAB>time]` with "
                              "non-negative integer ids", ptr, (long long)lr[0].line);
            goto done;
        }
        if (u >= lim->max_ids || i >= lim->max_ids) {
            st = duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: id %ld is over the limit %d", ptr, (long long)lr[0].line,
                              u > i ? u : i, lim->max_ids - 1);
            goto done;
        }
        if (duet_rec_data_parse_float(f[2], &w) != 0 || !duet_rec_data_weight_ok(w)) {
            st = duet_err_set(err, DUET_ERR_FORMAT,
                              "%s:%lld: weight '%s' must be a finite number > 0 (from 1.2e-38 to 3e38)", ptr,
                              (long long)lr[0].line, f[2]);
            goto done;
        }
        if (u > max_u) max_u = u;
        if (i > max_i) max_i = i;
        if (duet_rec_data_tv_push(&tv, (int32_t)u, (int32_t)i, (float)w, lr[0].line) != 0) goto nomem;
    }
    if (r < 0) {
        st = lr[0].st;
        goto done;
    }
    if (tv.n == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "%s: no rows", ptr);
        goto done;
    }
    /* test.rating: u i [anything], one line per test user; ids may be new
     * (users and items that appear only in the test files are cold) */
    while ((r = duet_rec_data_lr_next(&lr[1], err)) == 1) {
        if (!lr[1].buf[0]) continue;
        long u, i;
        int nf = duet_rec_data_split_tabs(lr[1].buf, f, 4);
        if (nf < 2 || nf > 4 || duet_rec_data_parse_id(f[0], &u) != 0 || duet_rec_data_parse_id(f[1], &i) != 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `user<TAB>item[<TAB>...]` with non-negative "
                              "integer ids", pte, (long long)lr[1].line);
            goto done;
        }
        if (u >= lim->max_ids || i >= lim->max_ids) {
            st = duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: id %ld is over the limit %d", pte, (long long)lr[1].line,
                              u > i ? u : i, lim->max_ids - 1);
            goto done;
        }
        if (u > max_u) max_u = u;
        if (i > max_i) max_i = i;
        if (duet_rec_data_tv_push(&tests, (int32_t)u, (int32_t)i, 1.0f, lr[1].line) != 0) goto nomem;
    }
    if (r < 0) {
        st = lr[1].st;
        goto done;
    }
    if (tests.n == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "%s: no rows", pte);
        goto done;
    }
    d = calloc(1, sizeof *d);
    if (!d) goto nomem;
    d->n_users = (int32_t)max_u + 1;
    test_line = calloc((size_t)d->n_users, sizeof *test_line);
    d->test_item = malloc((size_t)d->n_users * sizeof *d->test_item);
    order = malloc((size_t)tests.n * sizeof *order);
    if (!test_line || !d->test_item || !order) goto nomem;
    for (int32_t u = 0; u < d->n_users; u++) d->test_item[u] = -1;
    for (int64_t k = 0; k < tests.n; k++) {
        int32_t u = tests.t[k].row;
        if (test_line[u]) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: user %ld has a second test item (first on line %lld)",
                              pte, (long long)tests.t[k].line, (long)u, (long long)test_line[u]);
            goto done;
        }
        test_line[u] = tests.t[k].line;
        d->test_item[u] = tests.t[k].col;
        order[n_test++] = u;
    }

    /* test.negative: (u,i)<TAB>n1<TAB>...; line k matches test.rating's k-th row */
    d->n_neg = -1;
    while ((r = duet_rec_data_lr_next(&lr[2], err)) == 1) {
        if (!lr[2].buf[0]) continue;
        int nf = duet_rec_data_split_tabs(lr[2].buf, f, NCF_MAX_NEG + 1);
        long u, i;
        char *s = f[0], *comma = strchr(s, ',');
        size_t len = strlen(s);
        if (nf > NCF_MAX_NEG + 1) {
            st = duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: more than %d negatives", pne, (long long)lr[2].line,
                              NCF_MAX_NEG);
            goto done;
        }
        if (nf < 2 || s[0] != '(' || !comma || len < 5 || s[len - 1] != ')') {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `(user,item)<TAB>negatives...`", pne,
                              (long long)lr[2].line);
            goto done;
        }
        s[len - 1] = '\0';
        *comma = '\0';
        if (duet_rec_data_parse_id(s + 1, &u) != 0 || duet_rec_data_parse_id(comma + 1, &i) != 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: bad (user,item) pair", pne, (long long)lr[2].line);
            goto done;
        }
        if (d->n_neg < 0) {
            d->n_neg = nf - 1;
            if ((int64_t)d->n_users * d->n_neg > lim->max_cells) {
                st = duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: %d users x %d negatives is more than the limit of "
                                  "%lld cells", pne, (long long)lr[2].line, d->n_users, d->n_neg,
                                  (long long)lim->max_cells);
                goto done;
            }
            d->negatives = malloc((size_t)d->n_users * (size_t)d->n_neg * sizeof *d->negatives);
            if (!d->negatives) goto nomem;
            for (size_t k = 0; k < (size_t)d->n_users * (size_t)d->n_neg; k++) d->negatives[k] = -1;
        }
        if (nf - 1 != d->n_neg) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: %d negatives, earlier lines have %d", pne,
                              (long long)lr[2].line, nf - 1, d->n_neg);
            goto done;
        }
        if (neg_lines >= n_test || order[neg_lines] != u || d->test_item[u] != i) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: pair (%ld,%ld) does not match %s", pne,
                              (long long)lr[2].line, u, i, neg_lines >= n_test ? "any line of" : "the test pair in");
            if (err && neg_lines < n_test) {
                size_t n = strlen(err->msg);
                snprintf(err->msg + n, sizeof err->msg - n, " %s:%lld", pte, (long long)test_line[order[neg_lines]]);
            } else if (err) {
                size_t n = strlen(err->msg);
                snprintf(err->msg + n, sizeof err->msg - n, " %s (it has %lld)", pte, (long long)n_test);
            }
            goto done;
        }
        int32_t *row = d->negatives + (size_t)u * (size_t)d->n_neg;
        for (int k = 0; k < d->n_neg; k++) {
            long j;
            if (duet_rec_data_parse_id(f[k + 1], &j) != 0) {
                st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: negative %d '%s' is not an item id", pne,
                                  (long long)lr[2].line, k + 1, f[k + 1]);
                goto done;
            }
            if (j >= lim->max_ids) {
                st = duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: negative %d: id %ld is over the limit %d", pne,
                                  (long long)lr[2].line, k + 1, j, lim->max_ids - 1);
                goto done;
            }
            if (j > max_i) max_i = j;
            row[k] = (int32_t)j;
        }
        neg_lines++;
    }
    if (r < 0) {
        st = lr[2].st;
        goto done;
    }
    if (neg_lines == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "%s: no rows", pne);
        goto done;
    }
    if (neg_lines != n_test) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "%s: %lld lines, but %s has %lld", pne, (long long)neg_lines, pte,
                          (long long)n_test);
        goto done;
    }
    d->n_items = (int32_t)max_i + 1;
    st = duet_rec_csr_from_triples(&d->train, d->n_users, d->n_items, tv.t, tv.n, 0, ptr, err);
    if (st) goto done;
    {
        /* cold: users with a test row and no training row; items of the test
         * files without a training interaction */
        uint8_t *mark = calloc((size_t)d->n_items, 1);
        if (!mark) goto nomem;
        for (int64_t q = 0; q < d->train.nnz; q++) mark[d->train.indices[q]] = 1;
        for (int32_t u = 0; u < d->n_users; u++) {
            if (d->test_item[u] < 0) continue;
            if (d->train.indptr[u + 1] == d->train.indptr[u]) d->n_cold_users++;
            int32_t it = d->test_item[u];
            if (!mark[it]) d->n_cold_items++, mark[it] = 2;
            for (int32_t k = 0; k < d->n_neg; k++) {
                int32_t j = d->negatives[(size_t)u * (size_t)d->n_neg + (size_t)k];
                if (j >= 0 && !mark[j]) d->n_cold_items++, mark[j] = 2;
            }
        }
        free(mark);
    }
    *out = d;
    d = NULL;
    goto done;
nomem:
    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory reading %s", ptr);
done:
    duet_rec_ncf_free(d);
    free(tv.t);
    free(tests.t);
    free(test_line);
    free(order);
    return st;
}

static const char *const ncf_suffix[3] = {".train.rating", ".test.rating", ".test.negative"};

/* Open (files != NULL: attach) the three readers and read them. */
static duet_status ncf_load(const char *prefix, FILE **files, const duet_rec_limits *lim, duet_rec_ncf **out,
                            duet_err *err)
{
    *out = NULL;
    if (!prefix) prefix = "";
    char *names[3] = {NULL, NULL, NULL};
    linereader lr[3];
    memset(lr, 0, sizeof lr);
    char **f = malloc((NCF_MAX_NEG + 2) * sizeof *f);
    duet_status st = DUET_OK;
    for (int k = 0; k < 3; k++) names[k] = duet_str_concat(prefix, ncf_suffix[k]);
    if (!f || !names[0] || !names[1] || !names[2])
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory reading %s", prefix);
    for (int k = 0; k < 3 && !st; k++)
        st = files ? duet_rec_data_lr_attach(&lr[k], files[k], names[k], lim, err) : duet_rec_data_lr_open(&lr[k], names[k], lim, err);
    if (!st) st = ncf_read(lr, f, out, err);
    for (int k = 0; k < 3; k++) {
        duet_rec_data_lr_close(&lr[k]);
        free(names[k]);
    }
    free(f);
    return st;
}

duet_status duet_rec_load_ncf_ex(const char *prefix, const duet_rec_limits *lim, duet_rec_ncf **out, duet_err *err)
{
    return ncf_load(prefix, NULL, lim, out, err);
}

duet_status duet_rec_load_ncf(const char *prefix, duet_rec_ncf **out, duet_err *err)
{
    return ncf_load(prefix, NULL, NULL, out, err);
}

duet_status duet_rec_load_ncf_files(FILE *train, FILE *test, FILE *negative, const char *prefix,
                                    const duet_rec_limits *lim, duet_rec_ncf **out, duet_err *err)
{
    FILE *files[3] = {train, test, negative};
    return ncf_load(prefix, files, lim, out, err);
}

