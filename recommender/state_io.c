/* recommender/state_io.c: tensor helpers and the per-model dispatch of
 * state export/import (see state_io.h). */
#include "state_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fused.h"
#include "incf.h"

static void full_name(char *buf, size_t n, const char *prefix, const char *name)
{
    snprintf(buf, n, "%s%s", prefix ? prefix : "", name);
}

duet_status duet_rec_st_put(duet_st_writer *w, const char *prefix, const char *name, duet_st_dtype dtype, int64_t rows,
                            int64_t cols, const void *data, duet_err *err)
{
    char nm[256];
    full_name(nm, sizeof nm, prefix, name);
    int64_t sh[2] = {rows, cols};
    static const char empty[8] = {0};
    return duet_st_writer_add(w, nm, dtype, cols > 0 ? 2 : 1, sh, rows * (cols > 0 ? cols : 1) != 0 ? data : empty, err);
}

duet_status duet_rec_st_get(const duet_st_file *f, const char *prefix, const char *name, duet_st_dtype dtype,
                            int64_t want_rows, int64_t want_cols, const void **data, int64_t *rows, int64_t *cols,
                            duet_err *err)
{
    char nm[256];
    full_name(nm, sizeof nm, prefix, name);
    const duet_st_tensor *t = duet_st_get(f, nm);
    int nd = want_cols != 0 ? 2 : 1;
    if (!t) return duet_err_set(err, DUET_ERR_FORMAT, "model file: tensor %s is missing", nm);
    if (t->dtype != dtype || t->ndim != nd || (want_rows >= 0 && t->shape[0] != want_rows) ||
        (nd == 2 && want_cols >= 0 && t->shape[1] != want_cols))
        return duet_err_set(err, DUET_ERR_FORMAT, "model file: tensor %s has the wrong type or shape", nm);
    *data = t->data;
    if (rows) *rows = t->shape[0];
    if (cols) *cols = nd == 2 ? t->shape[1] : 0;
    return DUET_OK;
}

duet_status duet_rec_st_put_csr(duet_st_writer *w, const char *prefix, const char *name, const duet_rec_csr *a,
                                duet_err *err)
{
    char nm[200];
    snprintf(nm, sizeof nm, "%s.indptr", name);
    duet_status st = duet_rec_st_put(w, prefix, nm, DUET_ST_I64, a->n_rows + 1, 0, a->indptr, err);
    snprintf(nm, sizeof nm, "%s.indices", name);
    if (!st) st = duet_rec_st_put(w, prefix, nm, DUET_ST_I32, a->nnz, 0, a->indices, err);
    snprintf(nm, sizeof nm, "%s.values", name);
    if (!st) st = duet_rec_st_put(w, prefix, nm, DUET_ST_F32, a->nnz, 0, a->values, err);
    return st;
}

duet_status duet_rec_st_get_csr(const duet_st_file *f, const char *prefix, const char *name, int32_t n_rows,
                                int32_t n_cols, duet_rec_csr *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    char nm[200];
    const void *p, *x, *v;
    int64_t nnz;
    snprintf(nm, sizeof nm, "%s.indptr", name);
    duet_status st = duet_rec_st_get(f, prefix, nm, DUET_ST_I64, (int64_t)n_rows + 1, 0, &p, NULL, NULL, err);
    snprintf(nm, sizeof nm, "%s.indices", name);
    if (!st) st = duet_rec_st_get(f, prefix, nm, DUET_ST_I32, -1, 0, &x, &nnz, NULL, err);
    snprintf(nm, sizeof nm, "%s.values", name);
    if (!st) st = duet_rec_st_get(f, prefix, nm, DUET_ST_F32, nnz, 0, &v, NULL, NULL, err);
    if (st) return st;
    const int64_t *ip = p;
    const int32_t *ix = x;
    const float *vv = v;
    int ok = ip[0] == 0 && ip[n_rows] == nnz;
    for (int32_t r = 0; ok && r < n_rows; r++) {
        ok = ip[r + 1] >= ip[r] && ip[r + 1] <= nnz;
        for (int64_t q = ip[r]; ok && q < ip[r + 1]; q++)
            ok = ix[q] >= 0 && ix[q] < n_cols && (q == ip[r] || ix[q - 1] < ix[q]) && isfinite(vv[q]);
    }
    if (!ok) return duet_err_set(err, DUET_ERR_FORMAT, "model file: matrix %s%s is not a valid sparse matrix",
                                 prefix ? prefix : "", name);
    out->n_rows = n_rows;
    out->n_cols = n_cols;
    out->nnz = nnz;
    out->indptr = malloc((size_t)(n_rows + 1) * sizeof *out->indptr);
    out->indices = malloc((size_t)(nnz ? nnz : 1) * sizeof *out->indices);
    out->values = malloc((size_t)(nnz ? nnz : 1) * sizeof *out->values);
    if (!out->indptr || !out->indices || !out->values) {
        duet_rec_csr_free(out);
        return duet_err_set(err, DUET_ERR_NOMEM, "model file: out of memory");
    }
    memcpy(out->indptr, ip, (size_t)(n_rows + 1) * sizeof *out->indptr);
    memcpy(out->indices, ix, (size_t)nnz * sizeof *out->indices);
    memcpy(out->values, vv, (size_t)nnz * sizeof *out->values);
    return DUET_OK;
}

/* ------------------------------------------------------------ dispatch */

typedef struct state_fmt {
    const char *prefix; /* model names starting with this */
    int exact;          /* 1: the whole name */
    duet_status (*exp)(const void *, duet_st_writer *, const char *, duet_err *);
    duet_status (*imp)(const duet_st_file *, const char *, void **, duet_err *);
} state_fmt;

static duet_status incf_exp(const void *s, duet_st_writer *w, const char *p, duet_err *e)
{
    return duet_rec_incf_export(s, w, p, e);
}
static duet_status incf_imp(const duet_st_file *f, const char *p, void **s, duet_err *e)
{
    duet_rec_incf *m = NULL;
    duet_status st = duet_rec_incf_import(f, p, &m, e);
    *s = m;
    return st;
}
static duet_status fused_exp(const void *s, duet_st_writer *w, const char *p, duet_err *e)
{
    return duet_rec_fused_export(s, w, p, e);
}
static duet_status fused_imp(const duet_st_file *f, const char *p, void **s, duet_err *e)
{
    duet_rec_fused *m = NULL;
    duet_status st = duet_rec_fused_import(f, p, &m, e);
    *s = m;
    return st;
}

static const state_fmt fmts[] = {
    {"popularity", 1, duet_rec_pop_export, duet_rec_pop_import},
    {"user-knn", 0, duet_rec_knn_export, duet_rec_knn_import},
    {"item-knn", 1, duet_rec_knn_export, duet_rec_knn_import},
    {"bpr-mf", 1, duet_rec_factors_export, duet_rec_factors_import},
    {"ials", 1, duet_rec_factors_export, duet_rec_factors_import},
    {"ease", 1, duet_rec_ease_export, duet_rec_ease_import},
    {"content", 1, duet_rec_content_export, duet_rec_content_import},
    {"neumf", 1, duet_rec_neumf_export, duet_rec_neumf_import},
    {"improved-ncf-deep", 0, incf_exp, incf_imp},
    {"improved-ncf", 0, fused_exp, fused_imp},
};

static const state_fmt *fmt_of(const duet_rec_model_def *m)
{
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        size_t l = strlen(fmts[k].prefix);
        if (fmts[k].exact ? !strcmp(m->name, fmts[k].prefix) : !strncmp(m->name, fmts[k].prefix, l)) return &fmts[k];
    }
    return NULL;
}

duet_status duet_rec_state_export(const duet_rec_model_def *m, const void *state, duet_st_writer *w, const char *prefix,
                                  duet_err *err)
{
    const state_fmt *f = fmt_of(m);
    if (!f) return duet_err_set(err, DUET_ERR_UNSUPPORTED, "%s: no model file format", m->name);
    return f->exp(state, w, prefix, err);
}

duet_status duet_rec_state_import(const duet_rec_model_def *m, const duet_st_file *file, const char *prefix,
                                  void **state, duet_err *err)
{
    *state = NULL;
    const state_fmt *f = fmt_of(m);
    if (!f) return duet_err_set(err, DUET_ERR_UNSUPPORTED, "%s: no model file format", m->name);
    return f->imp(file, prefix, state, err);
}

void duet_rec_free_lines(char **s, int32_t n)
{
    if (!s) return;
    for (int32_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

/* n strings joined by '\n' (NULL entries: the index for ids, empty for names). */
char *duet_rec_join_lines(const char *const *s, int32_t n, int names)
{
    size_t len = 1;
    char num[24];
    for (int32_t i = 0; i < n; i++) {
        if (s && s[i]) len += strlen(s[i]) + 1;
        else len += (size_t)snprintf(num, sizeof num, "%d", (int)i) + 1;
    }
    char *o = malloc(len), *p = o;
    if (!o) return NULL;
    for (int32_t i = 0; i < n; i++) {
        const char *v = s && s[i] ? s[i] : NULL;
        if (!v) {
            if (names) num[0] = 0;
            else snprintf(num, sizeof num, "%d", (int)i);
            v = num;
        }
        for (; *v; v++) *p++ = (*v == '\n' || *v == '\r' || *v == '\t') ? ' ' : *v;
        *p++ = '\n';
    }
    *p = 0;
    return o;
}

char **duet_rec_split_lines(const char *s, int32_t n)
{
    char **o = calloc((size_t)(n ? n : 1), sizeof *o);
    if (!o) return NULL;
    for (int32_t i = 0; i < n; i++) {
        const char *e = s ? strchr(s, '\n') : NULL;
        if (!e || !(o[i] = strndup(s, (size_t)(e - s)))) {
            duet_rec_free_lines(o, n);
            return NULL;
        }
        s = e + 1;
    }
    if (s && *s) {
        duet_rec_free_lines(o, n);
        return NULL;
    }
    return o;
}
