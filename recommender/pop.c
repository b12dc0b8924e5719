/* recommender/pop.c: the popularity baseline: every user gets the items with
 * the most training users (the same list for everyone). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

typedef struct pop_state {
    int32_t n_items;
    float *count; /* (n_items) training users per item */
} pop_state;

static void pop_free(void *s)
{
    pop_state *p = s;
    if (p) free(p->count);
    free(p);
}

duet_status duet_rec_pop_fit(const duet_rec_fit_ctx *ctx, const duet_rec_params *prm, void **state, duet_err *err)
{
    (void)prm;
    pop_state *p = calloc(1, sizeof *p);
    if (p) p->count = calloc((size_t)ctx->train->n_cols + 1, sizeof *p->count);
    if (!p || !p->count) {
        pop_free(p);
        return duet_err_set(err, DUET_ERR_NOMEM, "popularity: out of memory");
    }
    p->n_items = ctx->train->n_cols;
    for (int64_t k = 0; k < ctx->train->nnz; k++) p->count[ctx->train->indices[k]] += 1.0f;
    *state = p;
    return DUET_OK;
}

duet_status duet_rec_pop_score(const void *state, const duet_rec_csr *train, const int32_t *users, int32_t n,
                               float *out, duet_err *err)
{
    (void)train;
    (void)users;
    (void)err;
    const pop_state *p = state;
    for (int32_t b = 0; b < n; b++) memcpy(out + (size_t)b * p->n_items, p->count, (size_t)p->n_items * sizeof *out);
    return DUET_OK;
}

void duet_rec_pop_free(void *s) { pop_free(s); }

/* ------------------------------------------------------------ state file */

#include "state_io.h"

duet_status duet_rec_pop_export(const void *state, duet_st_writer *w, const char *prefix, duet_err *err)
{
    const pop_state *p = state;
    return duet_rec_st_put(w, prefix, "count", DUET_ST_F32, p->n_items, 0, p->count, err);
}

duet_status duet_rec_pop_import(const duet_st_file *f, const char *prefix, void **state, duet_err *err)
{
    const void *c;
    int64_t n;
    duet_status st = duet_rec_st_get(f, prefix, "count", DUET_ST_F32, -1, 0, &c, &n, NULL, err);
    if (st) return st;
    pop_state *p = calloc(1, sizeof *p);
    if (p) p->count = malloc((size_t)(n ? n : 1) * sizeof *p->count);
    if (!p || !p->count) {
        pop_free(p);
        return duet_err_set(err, DUET_ERR_NOMEM, "popularity: out of memory");
    }
    p->n_items = (int32_t)n;
    memcpy(p->count, c, (size_t)n * sizeof *p->count);
    *state = p;
    return DUET_OK;
}
