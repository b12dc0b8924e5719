/* recommender/split.c: seeded per-user and cold-item splits (see split.h). */
#include "split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/rng.h"

/* Build a CSR with the entries of `ui` whose flag equals `want`. */
static duet_status select_entries(const duet_rec_csr *ui, const uint8_t *flag, int want, duet_rec_csr *out,
                                  duet_err *err)
{
    memset(out, 0, sizeof *out);
    int64_t n = 0;
    for (int64_t k = 0; k < ui->nnz; k++) n += flag[k] == want;
    out->indptr = calloc((size_t)ui->n_rows + 1, sizeof *out->indptr);
    out->indices = malloc((size_t)(n ? n : 1) * sizeof *out->indices);
    out->values = malloc((size_t)(n ? n : 1) * sizeof *out->values);
    if (!out->indptr || !out->indices || !out->values) {
        duet_rec_csr_free(out);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory splitting interactions");
    }
    out->n_rows = ui->n_rows;
    out->n_cols = ui->n_cols;
    int64_t p = 0;
    for (int32_t u = 0; u < ui->n_rows; u++) {
        for (int64_t k = ui->indptr[u]; k < ui->indptr[u + 1]; k++)
            if (flag[k] == want) {
                out->indices[p] = ui->indices[k];
                out->values[p++] = ui->values[k];
            }
        out->indptr[u + 1] = p;
    }
    out->nnz = p;
    return DUET_OK;
}

static duet_status split_by_flag(const duet_rec_csr *ui, const uint8_t *flag, duet_rec_csr *train, duet_rec_csr *test,
                                 duet_err *err)
{
    duet_status st = select_entries(ui, flag, 0, train, err);
    if (st) return st;
    st = select_entries(ui, flag, 1, test, err);
    if (st) duet_rec_csr_free(train);
    return st;
}

duet_status duet_rec_split_users(const duet_rec_csr *ui, double test_frac, int min_inter, uint64_t seed,
                                 duet_rec_csr *train, duet_rec_csr *test, duet_err *err)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!(test_frac > 0 && test_frac < 1) || min_inter < 2)
        return duet_err_set(err, DUET_ERR_ARG, "split: test fraction must be in (0,1) and min interactions >= 2");
    uint8_t *flag = calloc((size_t)(ui->nnz ? ui->nnz : 1), 1);
    int64_t maxrow = 0;
    for (int32_t u = 0; u < ui->n_rows; u++)
        if (ui->indptr[u + 1] - ui->indptr[u] > maxrow) maxrow = ui->indptr[u + 1] - ui->indptr[u];
    int64_t *perm = malloc((size_t)(maxrow ? maxrow : 1) * sizeof *perm);
    if (!flag || !perm) {
        free(flag);
        free(perm);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory splitting interactions");
    }
    for (int32_t u = 0; u < ui->n_rows; u++) {
        int64_t b = ui->indptr[u], n = ui->indptr[u + 1] - b;
        if (n < min_inter) continue;
        int64_t nt = (int64_t)llround(test_frac * (double)n);
        if (nt < 1) nt = 1;
        if (nt > n - 1) nt = n - 1;
        duet_rng r;
        duet_rng_seed(&r, seed * 0x9E3779B97F4A7C15ULL + (uint64_t)u * 0xD1B54A32D192ED03ULL + 1);
        for (int64_t k = 0; k < n; k++) perm[k] = k;
        for (int64_t k = 0; k < nt; k++) { /* partial Fisher-Yates */
            int64_t j = k + (int64_t)duet_rng_below(&r, (uint64_t)(n - k));
            int64_t t = perm[k];
            perm[k] = perm[j];
            perm[j] = t;
            flag[b + perm[k]] = 1;
        }
    }
    duet_status st = split_by_flag(ui, flag, train, test, err);
    free(flag);
    free(perm);
    return st;
}

duet_status duet_rec_split_cold_items(const duet_rec_csr *ui, double item_frac, uint64_t seed, duet_rec_csr *train,
                                      duet_rec_csr *test, uint8_t *cold, duet_err *err)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!(item_frac > 0 && item_frac < 1))
        return duet_err_set(err, DUET_ERR_ARG, "cold-start split: item fraction must be in (0,1)");
    int32_t ni = ui->n_cols;
    int32_t *active = malloc((size_t)(ni ? ni : 1) * sizeof *active);
    uint8_t *seen = calloc((size_t)(ni ? ni : 1), 1);
    uint8_t *flag = calloc((size_t)(ui->nnz ? ui->nnz : 1), 1);
    if (!active || !seen || !flag) {
        free(active);
        free(seen);
        free(flag);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory splitting items");
    }
    for (int64_t k = 0; k < ui->nnz; k++) seen[ui->indices[k]] = 1;
    int32_t na = 0;
    for (int32_t i = 0; i < ni; i++)
        if (seen[i]) active[na++] = i;
    int32_t nc = (int32_t)llround(item_frac * na);
    duet_status st = DUET_OK;
    if (nc < 1 || nc >= na) {
        st = duet_err_set(err, DUET_ERR_ARG, "cold-start split: %d items are too few to hold out %.0f%%", na,
                          100 * item_frac);
        goto done;
    }
    duet_rng r;
    duet_rng_seed(&r, seed * 0x9E3779B97F4A7C15ULL + 0xC01D);
    memset(cold, 0, (size_t)ni);
    for (int32_t k = 0; k < nc; k++) {
        int32_t j = k + (int32_t)duet_rng_below(&r, (uint64_t)(na - k));
        int32_t t = active[k];
        active[k] = active[j];
        active[j] = t;
        cold[active[k]] = 1;
    }
    for (int64_t k = 0; k < ui->nnz; k++) flag[k] = cold[ui->indices[k]];
    st = split_by_flag(ui, flag, train, test, err);
done:
    free(active);
    free(seen);
    free(flag);
    return st;
}
