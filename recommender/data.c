/* recommender/data.c: CSR helpers, id maps, line reading and the loaders of
 * recommender/data.h for interactions, attributes, features and the Spotify
 * file (HetRec and KGCN: data_hetrec.c; NCF files: data_ncf.c). */
#include "data.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_impl.h"
#include "../common/strmap.h"
/* ------------------------------------------------------------------ CSR */

static int triple_cmp(const void *a, const void *b)
{
    const duet_rec_triple *x = a, *y = b;
    if (x->row != y->row) return x->row < y->row ? -1 : 1;
    if (x->col != y->col) return x->col < y->col ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

duet_status duet_rec_csr_from_triples(duet_rec_csr *out, int32_t n_rows, int32_t n_cols, duet_rec_triple *t,
                                      int64_t n, int dup_mode, const char *what, duet_err *err)
{
    memset(out, 0, sizeof *out);
    for (int64_t k = 0; k < n; k++)
        if (t[k].row < 0 || t[k].row >= n_rows || t[k].col < 0 || t[k].col >= n_cols)
            return duet_err_set(err, DUET_ERR_INTERNAL, "triple out of range");
    if (n > 1) qsort(t, (size_t)n, sizeof *t, triple_cmp);
    int64_t m = 0; /* unique count after merging */
    for (int64_t k = 0; k < n; k++) {
        if (m > 0 && t[m - 1].row == t[k].row && t[m - 1].col == t[k].col) {
            if (dup_mode == 0)
                return duet_err_set(err, DUET_ERR_FORMAT, "%s: lines %lld and %lld repeat the same pair",
                                    what ? what : "input", (long long)t[m - 1].line, (long long)t[k].line);
            t[m - 1].val += t[k].val;
        } else {
            t[m++] = t[k];
        }
    }
    out->indptr = calloc((size_t)n_rows + 1, sizeof *out->indptr);
    out->indices = malloc((size_t)(m ? m : 1) * sizeof *out->indices);
    out->values = malloc((size_t)(m ? m : 1) * sizeof *out->values);
    if (!out->indptr || !out->indices || !out->values) {
        duet_rec_csr_free(out);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory building a %d x %d matrix", n_rows, n_cols);
    }
    out->n_rows = n_rows;
    out->n_cols = n_cols;
    out->nnz = m;
    for (int64_t k = 0; k < m; k++) {
        out->indptr[t[k].row + 1]++;
        out->indices[k] = t[k].col;
        out->values[k] = t[k].val;
    }
    for (int32_t r = 0; r < n_rows; r++) out->indptr[r + 1] += out->indptr[r];
    return DUET_OK;
}

duet_status duet_rec_csr_transpose(const duet_rec_csr *a, duet_rec_csr *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    out->indptr = calloc((size_t)a->n_cols + 1, sizeof *out->indptr);
    out->indices = malloc((size_t)(a->nnz ? a->nnz : 1) * sizeof *out->indices);
    out->values = malloc((size_t)(a->nnz ? a->nnz : 1) * sizeof *out->values);
    int64_t *pos = malloc(((size_t)a->n_cols + 1) * sizeof *pos);
    if (!out->indptr || !out->indices || !out->values || !pos) {
        free(pos);
        duet_rec_csr_free(out);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory transposing a matrix");
    }
    out->n_rows = a->n_cols;
    out->n_cols = a->n_rows;
    out->nnz = a->nnz;
    for (int64_t k = 0; k < a->nnz; k++) out->indptr[a->indices[k] + 1]++;
    for (int32_t c = 0; c < a->n_cols; c++) out->indptr[c + 1] += out->indptr[c];
    memcpy(pos, out->indptr, ((size_t)a->n_cols + 1) * sizeof *pos);
    for (int32_t r = 0; r < a->n_rows; r++)
        for (int64_t k = a->indptr[r]; k < a->indptr[r + 1]; k++) {
            int64_t p = pos[a->indices[k]]++;
            out->indices[p] = r;
            out->values[p] = a->values[k];
        }
    free(pos);
    return DUET_OK;
}

duet_status duet_rec_csr_copy(const duet_rec_csr *a, duet_rec_csr *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    out->indptr = malloc(((size_t)a->n_rows + 1) * sizeof *out->indptr);
    out->indices = malloc((size_t)(a->nnz ? a->nnz : 1) * sizeof *out->indices);
    out->values = malloc((size_t)(a->nnz ? a->nnz : 1) * sizeof *out->values);
    if (!out->indptr || !out->indices || !out->values) {
        duet_rec_csr_free(out);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory copying a matrix");
    }
    out->n_rows = a->n_rows;
    out->n_cols = a->n_cols;
    out->nnz = a->nnz;
    memcpy(out->indptr, a->indptr, ((size_t)a->n_rows + 1) * sizeof *out->indptr);
    if (a->nnz) {
        memcpy(out->indices, a->indices, (size_t)a->nnz * sizeof *out->indices);
        memcpy(out->values, a->values, (size_t)a->nnz * sizeof *out->values);
    }
    return DUET_OK;
}

int32_t duet_rec_draw_negative(duet_rng *r, const duet_rec_csr *a, int32_t u, const int32_t *pool, int32_t n_pool)
{
    int32_t j;
    if (pool)
        do j = pool[duet_rng_below(r, (uint64_t)n_pool)];
        while (duet_rec_csr_has(a, u, j));
    else
        do j = (int32_t)duet_rng_below(r, (uint64_t)a->n_cols);
        while (duet_rec_csr_has(a, u, j));
    return j;
}

int duet_rec_csr_has(const duet_rec_csr *a, int32_t row, int32_t col)
{
    if (row < 0 || row >= a->n_rows) return 0;
    int64_t lo = a->indptr[row], hi = a->indptr[row + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a->indices[mid] == col) return 1;
        if (a->indices[mid] < col) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

void duet_rec_csr_free(duet_rec_csr *a)
{
    if (!a) return;
    free(a->indptr);
    free(a->indices);
    free(a->values);
    memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------- string maps */

typedef struct strvec {
    char **v;
    int32_t n, cap;
} strvec;

typedef struct duet_rec_maps {
    duet_strmap users, items, tokens;
    duet_rec_limits lim;
} duet_rec_maps;

/* Index of `key`, adding it (to map and to the id array *arr of size *n) if
 * new. -1 on out of memory, -2 when a new key would make more than max. */
static int32_t intern(duet_strmap *m, char ***arr, int32_t *n, int32_t *cap, const char *key, int32_t max)
{
    int32_t v = duet_strmap_get(m, key);
    if (v >= 0) return v;
    if (*n >= max) return -2;
    if (*n >= *cap) {
        int32_t nc = *cap ? (*cap > max / 2 ? max : *cap * 2) : (max < 256 ? max : 256);
        char **na = realloc(*arr, (size_t)nc * sizeof *na);
        if (!na) return -1;
        *arr = na;
        *cap = nc;
    }
    char *copy = strdup(key);
    if (!copy) return -1;
    if (duet_strmap_put(m, copy, *n) != 0) {
        free(copy);
        return -1;
    }
    (*arr)[*n] = copy;
    return (*n)++;
}

/* ------------------------------------------------------ line reading */

duet_rec_limits duet_rec_limits_default(void)
{
    duet_rec_limits l;
    l.max_line = 1 << 20;
    l.max_lines = (int64_t)1 << 28;
    l.max_ids = 1 << 24;
    l.max_cells = (int64_t)1 << 28;
    return l;
}

/* Limits with every field <= 0 replaced by its default. */
static duet_rec_limits limits_or_default(const duet_rec_limits *lim)
{
    duet_rec_limits d = duet_rec_limits_default();
    if (!lim) return d;
    duet_rec_limits l = *lim;
    if (l.max_line <= 0) l.max_line = d.max_line;
    if (l.max_lines <= 0) l.max_lines = d.max_lines;
    if (l.max_ids <= 0) l.max_ids = d.max_ids;
    if (l.max_cells <= 0) l.max_cells = d.max_cells;
    return l;
}


duet_status duet_rec_data_lr_open(linereader *lr, const char *path, const duet_rec_limits *lim, duet_err *err)
{
    memset(lr, 0, sizeof *lr);
    lr->path = path;
    lr->lim = limits_or_default(lim);
    lr->f = fopen(path, "rb");
    if (!lr->f) return duet_err_set(err, DUET_ERR_IO, "%s: %s", path, strerror(errno));
    lr->owned = 1;
    return DUET_OK;
}

/* Read from a stream the caller owns. */
duet_status duet_rec_data_lr_attach(linereader *lr, FILE *f, const char *name, const duet_rec_limits *lim,
                                    duet_err *err)
{
    memset(lr, 0, sizeof *lr);
    lr->path = name ? name : "input";
    lr->lim = limits_or_default(lim);
    lr->f = f;
    if (!f) return duet_err_set(err, DUET_ERR_ARG, "%s: no stream", lr->path);
    return DUET_OK;
}

void duet_rec_data_lr_close(linereader *lr)
{
    if (lr->f && lr->owned) fclose(lr->f);
    free(lr->buf);
    lr->f = NULL;
    lr->buf = NULL;
}

/* Next line without its LF / CRLF (a last line without LF counts): 1 = got
 * a line, 0 = end of file, -1 = error (err and lr->st set). The buffer never
 * grows beyond lim.max_line + 1 bytes: a longer line is refused before it is
 * read into memory. */
int duet_rec_data_lr_next(linereader *lr, duet_err *err)
{
    size_t n = 0;
    int c = EOF;
    if (lr->line >= lr->lim.max_lines) {
        c = getc_unlocked(lr->f);
        if (c == EOF && !ferror(lr->f)) return 0;
        lr->st = duet_err_set(err, DUET_ERR_RANGE, "%s: more than %lld lines", lr->path, (long long)lr->lim.max_lines);
        return -1;
    }
    for (;;) {
        c = getc_unlocked(lr->f);
        if (c == EOF || c == '\n') break;
        if (c == '\0') {
            lr->st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: NUL byte in a text line (binary file?)", lr->path,
                                  (long long)lr->line + 1);
            return -1;
        }
        if (n + 1 >= lr->cap) {
            if ((int64_t)n >= lr->lim.max_line) {
                lr->st = duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: line longer than %lld bytes", lr->path,
                                      (long long)lr->line + 1, (long long)lr->lim.max_line);
                return -1;
            }
            size_t nc = lr->cap ? lr->cap * 2 : 256;
            if ((int64_t)nc > lr->lim.max_line + 1) nc = (size_t)lr->lim.max_line + 1;
            if (nc < n + 2) nc = n + 2;
            char *nb = realloc(lr->buf, nc);
            if (!nb) {
                lr->st = duet_err_set(err, DUET_ERR_NOMEM, "%s: out of memory reading a line", lr->path);
                return -1;
            }
            lr->buf = nb;
            lr->cap = nc;
        }
        lr->buf[n++] = (char)c;
    }
    if (c == EOF) {
        if (ferror(lr->f)) {
            lr->st = duet_err_set(err, DUET_ERR_IO, "%s: read error: %s", lr->path, strerror(errno ? errno : EIO));
            return -1;
        }
        if (n == 0) return 0;
    }
    if (!lr->buf) { /* an empty line before anything was allocated */
        lr->buf = malloc(16);
        if (!lr->buf) {
            lr->st = duet_err_set(err, DUET_ERR_NOMEM, "%s: out of memory reading a line", lr->path);
            return -1;
        }
        lr->cap = 16;
    }
    lr->line++;
    if (n > 0 && lr->buf[n - 1] == '\r') n--;
    lr->buf[n] = '\0';
    return 1;
}

/* Split `s` at tabs in place into at most max fields; returns the number of
 * fields (max + 1 when there are more). */
int duet_rec_data_split_tabs(char *s, char **f, int max)
{
    int n = 0;
    for (;;) {
        if (n == max) return max + 1;
        f[n++] = s;
        char *t = strchr(s, '\t');
        if (!t) return n;
        *t = '\0';
        s = t + 1;
    }
}

int duet_rec_data_parse_float(const char *s, double *out)
{
    char *end;
    if (!*s) return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end) return -1;
    *out = v;
    return 0;
}

/* A weight stored as a float stays finite and > 0: normal floats only
 * (1e-139 would round to 0, 1e-40 to a subnormal). */
int duet_rec_data_weight_ok(double w)
{
    return isfinite(w) && w >= FLT_MIN && w <= 3e38;
}

int duet_rec_data_parse_id(const char *s, long *out)
{
    char *end;
    if (!*s || *s == '-' || *s == '+') return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0) return -1;
    *out = v;
    return 0;
}


int duet_rec_data_tv_push(tripvec *v, int32_t r, int32_t c, float val, int64_t line)
{
    if (v->n == v->cap) {
        int64_t nc = v->cap ? v->cap * 2 : 256;
        duet_rec_triple *nt = realloc(v->t, (size_t)nc * sizeof *nt);
        if (!nt) return -1;
        v->t = nt;
        v->cap = nc;
    }
    v->t[v->n++] = (duet_rec_triple){r, c, val, line};
    return 0;
}

/* ------------------------------------------------------- the data set */

typedef struct ds_build {
    int32_t ucap, icap, tcap;
} ds_build;

static duet_rec_maps *maps_of(duet_rec_dataset *ds) { return (duet_rec_maps *)ds->maps_; }

duet_status duet_rec_data_ds_new(duet_rec_dataset **out, const duet_rec_limits *lim, duet_err *err)
{
    duet_rec_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    ds->maps_ = calloc(1, sizeof(duet_rec_maps));
    if (!ds->maps_) {
        free(ds);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    maps_of(ds)->lim = limits_or_default(lim);
    *out = ds;
    return DUET_OK;
}

void duet_rec_dataset_free(duet_rec_dataset *ds)
{
    if (!ds) return;
    for (int32_t i = 0; i < ds->n_users; i++) free(ds->user_ids[i]);
    for (int32_t i = 0; i < ds->n_items; i++) {
        free(ds->item_ids[i]);
        if (ds->item_names) free(ds->item_names[i]);
    }
    for (int32_t i = 0; i < ds->n_tokens; i++) free(ds->tokens[i]);
    for (int32_t i = 0; i < ds->n_feats; i++) free(ds->feat_names[i]);
    free(ds->user_ids);
    free(ds->item_ids);
    free(ds->item_names);
    free(ds->tokens);
    free(ds->feat_names);
    free(ds->item_feats);
    free(ds->has_feats);
    free(ds->spotify_file);
    free(ds->kg_dir);
    duet_rec_csr_free(&ds->ui);
    duet_rec_csr_free(&ds->item_attr);
    duet_rec_csr_free(&ds->user_attr);
    duet_rec_csr_free(&ds->friends);
    duet_rec_maps *m = maps_of(ds);
    if (m) {
        duet_strmap_free(&m->users);
        duet_strmap_free(&m->items);
        duet_strmap_free(&m->tokens);
        free(m);
    }
    free(ds);
}

int32_t duet_rec_dataset_find_item(const duet_rec_dataset *ds, const char *id)
{
    return duet_strmap_get(&((const duet_rec_maps *)ds->maps_)->items, id);
}

int32_t duet_rec_dataset_find_user(const duet_rec_dataset *ds, const char *id)
{
    return duet_strmap_get(&((const duet_rec_maps *)ds->maps_)->users, id);
}

const duet_rec_limits *duet_rec_data_ds_limits(duet_rec_dataset *ds) { return &maps_of(ds)->lim; }

/* Token index, interning a new token; -1 out of memory, -2 over max_ids. */
int32_t duet_rec_data_ds_token(duet_rec_dataset *ds, int32_t *tcap, const char *tok)
{
    return intern(&maps_of(ds)->tokens, &ds->tokens, &ds->n_tokens, tcap, tok, duet_rec_data_ds_limits(ds)->max_ids);
}


/* A new item `id` that appears only in a side file: appended as a COLD item
 * (no interactions; ui, item_attr, item_names, item_feats grow by one
 * column / row). Returns its index, -1 out of memory, -2 over max_ids, -3
 * when n_items x n_feats would pass max_cells. */
static int32_t ds_add_item(duet_rec_dataset *ds, int32_t *icap, const char *id)
{
    duet_rec_maps *m = maps_of(ds);
    int32_t old = ds->n_items;
    if (ds->n_feats > 0 && (int64_t)(old + 1) * ds->n_feats > m->lim.max_cells) return -3;
    if (ds->item_names) {
        char **nn = realloc(ds->item_names, (size_t)(old + 1) * sizeof *nn);
        if (!nn) return -1;
        ds->item_names = nn;
        nn[old] = NULL;
    }
    if (ds->item_attr.n_rows > 0) {
        int64_t *np = realloc(ds->item_attr.indptr, (size_t)(old + 2) * sizeof *np);
        if (!np) return -1;
        ds->item_attr.indptr = np;
        np[old + 1] = np[old];
    }
    if (ds->n_feats > 0) {
        float *nf = realloc(ds->item_feats, (size_t)(old + 1) * (size_t)ds->n_feats * sizeof *nf);
        if (!nf) return -1;
        ds->item_feats = nf;
        memset(nf + (size_t)old * (size_t)ds->n_feats, 0, (size_t)ds->n_feats * sizeof *nf);
        uint8_t *nh = realloc(ds->has_feats, (size_t)old + 1);
        if (!nh) return -1;
        ds->has_feats = nh;
        nh[old] = 0;
    }
    if (*icap < old) *icap = old;
    int32_t i = intern(&m->items, &ds->item_ids, &ds->n_items, icap, id, m->lim.max_ids);
    if (i < 0) return i;
    if (ds->item_attr.n_rows > 0) ds->item_attr.n_rows = ds->n_items;
    ds->ui.n_cols = ds->n_items;
    ds->n_cold_items++;
    return i;
}

/* The error for a failed intern/rec_data_ds_token (-1 or -2). */
duet_status duet_rec_data_intern_error(const linereader *lr, int32_t code, const char *what, int32_t max, duet_err *err)
{
    if (code == -3)
        return duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: a new item would make items x features more than the "
                            "cell limit", lr->path, (long long)lr->line);
    if (code == -2)
        return duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: more than %d distinct %s", lr->path, (long long)lr->line,
                            max, what);
    return duet_err_set(err, DUET_ERR_NOMEM, "%s: out of memory", lr->path);
}

/* Read interactions rows from an open reader into ds (users/items interned).
 * nf_min..nf_max fields per line; `comments` skips '#' lines; dup_mode as
 * duet_rec_csr_from_triples (1: repeated pairs summed, counted in ds->n_merged). */
duet_status duet_rec_data_read_interactions(linereader *lr, duet_rec_dataset *ds, int comments, int nf_min, int nf_max,
                                     int dup_mode, duet_err *err)
{
    duet_rec_maps *m = maps_of(ds);
    tripvec tv = {0};
    int32_t ucap = 0, icap = 0;
    duet_status st = DUET_OK;
    int r;
    char *f[8];
    while ((r = duet_rec_data_lr_next(lr, err)) == 1) {
        char *s = lr->buf;
        if (!*s || (comments && *s == '#')) continue;
        int nf = duet_rec_data_split_tabs(s, f, nf_max);
        if (nf < nf_min || nf > nf_max) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected %d to %d tab-separated fields, got %s%d",
                              lr->path, (long long)lr->line, nf_min, nf_max, nf > nf_max ? "more than " : "",
                              nf > nf_max ? nf_max : nf);
            goto done;
        }
        if (!*f[0] || !*f[1]) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: empty user or item id", lr->path, (long long)lr->line);
            goto done;
        }
        double w = 1.0;
        if (nf >= 3) {
            if (duet_rec_data_parse_float(f[2], &w) != 0) {
                st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: weight '%s' is not a number", lr->path,
                                  (long long)lr->line, f[2]);
                goto done;
            }
            if (!duet_rec_data_weight_ok(w)) {
                st = duet_err_set(err, isfinite(w) ? DUET_ERR_FORMAT : DUET_ERR_NAN,
                                  "%s:%lld: weight %s must be a finite number > 0 (from 1.2e-38 to 3e38)", lr->path,
                                  (long long)lr->line, f[2]);
                goto done;
            }
        }
        int32_t u = intern(&m->users, &ds->user_ids, &ds->n_users, &ucap, f[0], m->lim.max_ids);
        if (u < 0) {
            st = duet_rec_data_intern_error(lr, u, "users", m->lim.max_ids, err);
            goto done;
        }
        int32_t i = intern(&m->items, &ds->item_ids, &ds->n_items, &icap, f[1], m->lim.max_ids);
        if (i < 0) {
            st = duet_rec_data_intern_error(lr, i, "items", m->lim.max_ids, err);
            goto done;
        }
        if (duet_rec_data_tv_push(&tv, u, i, (float)w, lr->line) != 0) {
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory reading %s", lr->path);
            goto done;
        }
    }
    if (r < 0) {
        st = lr->st;
        goto done;
    }
    if (tv.n == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "%s: no interactions", lr->path);
        goto done;
    }
    st = duet_rec_csr_from_triples(&ds->ui, ds->n_users, ds->n_items, tv.t, tv.n, dup_mode, lr->path, err);
    if (st) goto done;
    ds->n_merged = tv.n - ds->ui.nnz;
    for (int32_t u = 0; u < ds->n_users; u++) /* summed duplicates can overflow a float */
        for (int64_t q = ds->ui.indptr[u]; q < ds->ui.indptr[u + 1]; q++)
            if (!isfinite(ds->ui.values[q])) {
                st = duet_err_set(err, DUET_ERR_RANGE, "%s: the repeated rows of user '%s' and item '%s' sum to "
                                  "more than 3.4e38", lr->path, ds->user_ids[u], ds->item_ids[ds->ui.indices[q]]);
                goto done;
            }
done:
    free(tv.t);
    return st;
}

/* Interactions from lr (opened by the caller, closed here). */
static duet_status load_interactions(linereader *lr, duet_status open_st, const duet_rec_limits *lim,
                                     duet_rec_dataset **out, duet_err *err)
{
    duet_rec_dataset *ds = NULL;
    duet_status st = open_st;
    if (!st) st = duet_rec_data_ds_new(&ds, lim, err);
    if (!st) st = duet_rec_data_read_interactions(lr, ds, 1, 2, 3, 1, err);
    duet_rec_data_lr_close(lr);
    if (st) {
        duet_rec_dataset_free(ds);
        return st;
    }
    *out = ds;
    return DUET_OK;
}

duet_status duet_rec_load_interactions_tsv_ex(const char *path, const duet_rec_limits *lim, duet_rec_dataset **out,
                                              duet_err *err)
{
    *out = NULL;
    linereader lr;
    duet_status st = duet_rec_data_lr_open(&lr, path, lim, err);
    return load_interactions(&lr, st, lim, out, err);
}

duet_status duet_rec_load_interactions_tsv(const char *path, duet_rec_dataset **out, duet_err *err)
{
    return duet_rec_load_interactions_tsv_ex(path, NULL, out, err);
}

duet_status duet_rec_load_interactions_file(FILE *f, const char *name, const duet_rec_limits *lim,
                                            duet_rec_dataset **out, duet_err *err)
{
    *out = NULL;
    linereader lr;
    duet_status st = duet_rec_data_lr_attach(&lr, f, name, lim, err);
    return load_interactions(&lr, st, lim, out, err);
}

/* Merge new (row, token) triples into an attribute CSR (counts add up). */
duet_status duet_rec_data_merge_attr(duet_rec_csr *a, int32_t n_rows, int32_t n_tokens, tripvec *tv, duet_err *err)
{
    for (int32_t r = 0; r < a->n_rows; r++)
        for (int64_t k = a->indptr[r]; k < a->indptr[r + 1]; k++)
            if (duet_rec_data_tv_push(tv, r, a->indices[k], a->values[k], 0) != 0)
                return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    duet_rec_csr fresh;
    duet_status st = duet_rec_csr_from_triples(&fresh, n_rows, n_tokens > 0 ? n_tokens : 1, tv->t, tv->n, 1, NULL, err);
    if (st) return st;
    duet_rec_csr_free(a);
    *a = fresh;
    return DUET_OK;
}

/* Widen the token dimension of the other attribute matrix after new tokens. */
void duet_rec_data_fix_token_cols(duet_rec_dataset *ds)
{
    if (ds->item_attr.n_rows) ds->item_attr.n_cols = ds->n_tokens;
    if (ds->user_attr.n_rows) ds->user_attr.n_cols = ds->n_tokens;
}

/* Attribute rows from lr (closed here). */
static duet_status load_attrs(duet_rec_dataset *ds, linereader *lrp, duet_status open_st, duet_err *err)
{
    linereader lr = *lrp;
    const char *path = lr.path;
    duet_status st = open_st;
    tripvec tv = {0};
    int32_t tcap = ds->n_tokens;
    int32_t icap = ds->n_items;
    char *f[4], *tok = NULL;
    size_t tokcap = 0;
    int64_t rows = 0;
    int r;
    if (st) goto done;
    while ((r = duet_rec_data_lr_next(&lr, err)) == 1) {
        if (!lr.buf[0] || lr.buf[0] == '#') continue;
        rows++;
        int nf = duet_rec_data_split_tabs(lr.buf, f, 3);
        if (nf != 3 || !*f[0] || !*f[1] || !*f[2]) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `item<TAB>key<TAB>value` (3 non-empty fields)",
                              path, (long long)lr.line);
            goto done;
        }
        int32_t i = duet_rec_dataset_find_item(ds, f[0]);
        if (i < 0) i = ds_add_item(ds, &icap, f[0]); /* an item only this file names: cold */
        if (i < 0) {
            st = duet_rec_data_intern_error(&lr, i, "items", duet_rec_data_ds_limits(ds)->max_ids, err);
            goto done;
        }
        size_t need = strlen(f[1]) + strlen(f[2]) + 2;
        if (need > tokcap) {
            char *nt = realloc(tok, need);
            if (!nt) goto nomem;
            tok = nt;
            tokcap = need;
        }
        snprintf(tok, need, "%s=%s", f[1], f[2]);
        int32_t t = duet_rec_data_ds_token(ds, &tcap, tok);
        if (t < 0) {
            st = duet_rec_data_intern_error(&lr, t, "tokens", duet_rec_data_ds_limits(ds)->max_ids, err);
            goto done;
        }
        if (duet_rec_data_tv_push(&tv, i, t, 1.0f, lr.line) != 0) goto nomem;
    }
    if (r < 0) {
        st = lr.st;
        goto done;
    }
    if (rows == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "%s: no attribute rows", path);
        goto done;
    }
    duet_rec_data_fix_token_cols(ds);
    st = duet_rec_data_merge_attr(&ds->item_attr, ds->n_items, ds->n_tokens, &tv, err);
    goto done;
nomem:
    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory reading %s", path);
done:
    duet_rec_data_fix_token_cols(ds); /* tokens added before an error stay valid columns */
    free(tok);
    free(tv.t);
    duet_rec_data_lr_close(&lr);
    return st;
}

duet_status duet_rec_load_item_attrs_tsv(duet_rec_dataset *ds, const char *path, duet_err *err)
{
    linereader lr;
    duet_status st = duet_rec_data_lr_open(&lr, path, duet_rec_data_ds_limits(ds), err);
    return load_attrs(ds, &lr, st, err);
}

duet_status duet_rec_load_item_attrs_file(duet_rec_dataset *ds, FILE *f, const char *name, duet_err *err)
{
    linereader lr;
    duet_status st = duet_rec_data_lr_attach(&lr, f, name, duet_rec_data_ds_limits(ds), err);
    return load_attrs(ds, &lr, st, err);
}

#define MAX_FEAT_COLS 4096

/* Feature rows from lr (closed here). */
static duet_status load_features(duet_rec_dataset *ds, linereader *lrp, duet_status open_st, int id_col, int first_col,
                                 int skip_bad, duet_err *err)
{
    linereader lr = *lrp;
    const char *path = lr.path;
    duet_status st = open_st;
    if (!st && (id_col < 0 || first_col < 0 || id_col >= first_col))
        st = duet_err_set(err, DUET_ERR_ARG, "feature columns: id column must come before the first feature");
    if (st) {
        duet_rec_data_lr_close(&lr);
        return st;
    }
    char **f = malloc((MAX_FEAT_COLS + 1) * sizeof *f);
    char **names = NULL;
    float *feats = NULL;
    uint8_t *has = NULL;
    int nh = 0, nfe = 0, r;
    int32_t icap = ds->n_items;
    if (!f) goto nomem;
    while ((r = duet_rec_data_lr_next(&lr, err)) == 1 && !lr.buf[0]) {
    }
    if (r < 0) {
        st = lr.st;
        goto done;
    }
    if (r == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "%s: empty file (expected a header row)", path);
        goto done;
    }
    nh = duet_rec_data_split_tabs(lr.buf, f, MAX_FEAT_COLS);
    if (nh > MAX_FEAT_COLS) {
        st = duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: more than %d columns", path, (long long)lr.line,
                          MAX_FEAT_COLS);
        goto done;
    }
    if (nh <= first_col) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: header has %d columns, need at least %d", path,
                          (long long)lr.line, nh, first_col + 1);
        goto done;
    }
    nfe = nh - first_col;
    /* `duet features --catalog` output ends with an `error` column, empty
     * when the song was described; rows with an error carry no values and
     * are skipped (counted in n_skipped) */
    int err_col = (nfe > 1 && !strcmp(f[nh - 1], "error")) ? nh - 1 : -1;
    if (err_col >= 0) nfe--;
    if ((int64_t)ds->n_items * nfe > duet_rec_data_ds_limits(ds)->max_cells) {
        st = duet_err_set(err, DUET_ERR_RANGE, "%s: %d items x %d features is more than the limit of %lld cells", path,
                          ds->n_items, nfe, (long long)duet_rec_data_ds_limits(ds)->max_cells);
        goto done;
    }
    names = calloc((size_t)nfe, sizeof *names);
    feats = calloc((size_t)(ds->n_items ? ds->n_items : 1) * (size_t)nfe, sizeof *feats);
    has = calloc((size_t)(ds->n_items ? ds->n_items : 1), 1);
    if (!names || !feats || !has) goto nomem;
    for (int c = 0; c < nfe; c++)
        if (!(names[c] = strdup(f[first_col + c]))) goto nomem;
    int64_t rows = 0, data_rows = 0;
    while ((r = duet_rec_data_lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        data_rows++;
        int nf = duet_rec_data_split_tabs(lr.buf, f, MAX_FEAT_COLS);
        if (nf != nh) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: %d fields, the header has %d", path, (long long)lr.line,
                              nf > MAX_FEAT_COLS ? MAX_FEAT_COLS : nf, nh);
            goto done;
        }
        if (err_col >= 0 && f[err_col][0]) {
            ds->n_skipped++;
            continue;
        }
        int32_t i = duet_rec_dataset_find_item(ds, f[id_col]);
        double v[1];
        if (skip_bad) {
            int bad = 0;
            for (int c = 0; c < nfe && !bad; c++) bad = duet_rec_data_parse_float(f[first_col + c], v) != 0;
            if (bad) {
                ds->n_skipped++;
                continue;
            }
        }
        if (i < 0 && !skip_bad) {
            /* an item only this file names: a cold item (the Spotify file keeps skipping) */
            if ((int64_t)(ds->n_items + 1) * nfe > duet_rec_data_ds_limits(ds)->max_cells) i = -3;
            else i = ds_add_item(ds, &icap, f[id_col]);
            if (i < 0) {
                st = duet_rec_data_intern_error(&lr, i, "items", duet_rec_data_ds_limits(ds)->max_ids, err);
                goto done;
            }
            float *nf2 = realloc(feats, (size_t)ds->n_items * (size_t)nfe * sizeof *nf2);
            if (!nf2) goto nomem;
            feats = nf2;
            memset(feats + (size_t)i * (size_t)nfe, 0, (size_t)nfe * sizeof *feats);
            uint8_t *nh2 = realloc(has, (size_t)ds->n_items);
            if (!nh2) goto nomem;
            has = nh2;
            has[i] = 0;
        }
        for (int c = 0; c < nfe; c++) {
            if (duet_rec_data_parse_float(f[first_col + c], v) != 0) {
                st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: column %d: '%s' is not a number", path,
                                  (long long)lr.line, first_col + c + 1, f[first_col + c]);
                goto done;
            }
            if (!isfinite(v[0]) || fabs(v[0]) > 3e38) {
                st = duet_err_set(err, DUET_ERR_NAN, "%s:%lld: column %d: non-finite value '%s'", path,
                                  (long long)lr.line, first_col + c + 1, f[first_col + c]);
                goto done;
            }
            if (i >= 0) feats[(size_t)i * (size_t)nfe + (size_t)c] = (float)v[0];
        }
        if (i < 0) {
            ds->n_skipped++;
            continue;
        }
        if (has[i]) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: item '%s' has a second feature row", path,
                              (long long)lr.line, f[id_col]);
            goto done;
        }
        has[i] = 1;
        rows++;
    }
    if (r < 0) {
        st = lr.st;
        goto done;
    }
    (void)rows;
    if (data_rows == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "%s: a header but no feature rows", path);
        goto done;
    }
    for (int32_t c = 0; c < ds->n_feats; c++) free(ds->feat_names[c]);
    free(ds->feat_names);
    free(ds->item_feats);
    free(ds->has_feats);
    ds->n_feats = nfe;
    ds->feat_names = names;
    ds->item_feats = feats;
    ds->has_feats = has;
    names = NULL;
    feats = NULL;
    has = NULL;
    goto done;
nomem:
    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory reading %s", path);
done:
    if (names)
        for (int c = 0; c < nfe; c++) free(names[c]);
    free(names);
    free(feats);
    free(has);
    free(f);
    duet_rec_data_lr_close(&lr);
    return st;
}

duet_status duet_rec_load_item_features_tsv(duet_rec_dataset *ds, const char *path, int id_col, int first_col,
                                            duet_err *err)
{
    linereader lr;
    duet_status st = duet_rec_data_lr_open(&lr, path, duet_rec_data_ds_limits(ds), err);
    return load_features(ds, &lr, st, id_col, first_col, 0, err);
}

duet_status duet_rec_load_item_features_file(duet_rec_dataset *ds, FILE *f, const char *name, int id_col, int first_col,
                                             int spotify, duet_err *err)
{
    linereader lr;
    duet_status st = duet_rec_data_lr_attach(&lr, f, name, duet_rec_data_ds_limits(ds), err);
    return load_features(ds, &lr, st, id_col, first_col, spotify ? 1 : 0, err);
}

duet_status duet_rec_load_spotify_tsv(duet_rec_dataset *ds, const char *path, duet_err *err)
{
    linereader lr;
    duet_status st = duet_rec_data_lr_open(&lr, path, duet_rec_data_ds_limits(ds), err);
    return load_features(ds, &lr, st, 0, 3, 1, err);
}

