/* recommender/data.c: CSR helpers, id maps and the strict loaders declared in
 * recommender/data.h (formats: HetRec 2011 readme, KGCN and NCF repositories). */
#include "data.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ CSR */

static int triple_cmp(const void *a, const void *b)
{
    const rec_triple *x = a, *y = b;
    if (x->row != y->row) return x->row < y->row ? -1 : 1;
    if (x->col != y->col) return x->col < y->col ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

duet_status rec_csr_from_triples(rec_csr *out, int32_t n_rows, int32_t n_cols, rec_triple *t,
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
        rec_csr_free(out);
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

duet_status rec_csr_transpose(const rec_csr *a, rec_csr *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    out->indptr = calloc((size_t)a->n_cols + 1, sizeof *out->indptr);
    out->indices = malloc((size_t)(a->nnz ? a->nnz : 1) * sizeof *out->indices);
    out->values = malloc((size_t)(a->nnz ? a->nnz : 1) * sizeof *out->values);
    int64_t *pos = malloc(((size_t)a->n_cols + 1) * sizeof *pos);
    if (!out->indptr || !out->indices || !out->values || !pos) {
        free(pos);
        rec_csr_free(out);
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

duet_status rec_csr_copy(const rec_csr *a, rec_csr *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    out->indptr = malloc(((size_t)a->n_rows + 1) * sizeof *out->indptr);
    out->indices = malloc((size_t)(a->nnz ? a->nnz : 1) * sizeof *out->indices);
    out->values = malloc((size_t)(a->nnz ? a->nnz : 1) * sizeof *out->values);
    if (!out->indptr || !out->indices || !out->values) {
        rec_csr_free(out);
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

int rec_csr_has(const rec_csr *a, int32_t row, int32_t col)
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

void rec_csr_free(rec_csr *a)
{
    if (!a) return;
    free(a->indptr);
    free(a->indices);
    free(a->values);
    memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------- string maps */

typedef struct strmap {
    char **keys;   /* (cap) borrowed from the id / token arrays, or NULL */
    int32_t *vals; /* (cap) */
    size_t cap, n;
} strmap;

typedef struct strvec {
    char **v;
    int32_t n, cap;
} strvec;

typedef struct rec_maps {
    strmap users, items, tokens;
    rec_limits lim;
} rec_maps;

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int32_t strmap_get(const strmap *m, const char *key)
{
    if (!m->cap) return -1;
    size_t i = (size_t)(str_hash(key) & (m->cap - 1));
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

static int strmap_grow(strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    char **nk = calloc(ncap, sizeof *nk);
    int32_t *nv = malloc(ncap * sizeof *nv);
    if (!nk || !nv) {
        free(nk);
        free(nv);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t j = (size_t)(str_hash(m->keys[i]) & (ncap - 1));
            while (nk[j]) j = (j + 1) & (ncap - 1);
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
        }
    free(m->keys);
    free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return 0;
}

/* Add key (borrowed: it must outlive the map). */
static int strmap_put(strmap *m, char *key, int32_t val)
{
    if ((m->n + 1) * 2 > m->cap && strmap_grow(m) != 0) return -1;
    size_t i = (size_t)(str_hash(key) & (m->cap - 1));
    while (m->keys[i]) i = (i + 1) & (m->cap - 1);
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    return 0;
}

static void strmap_free(strmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* Index of `key`, adding it (to map and to the id array *arr of size *n) if
 * new. -1 on out of memory, -2 when a new key would make more than max. */
static int32_t intern(strmap *m, char ***arr, int32_t *n, int32_t *cap, const char *key, int32_t max)
{
    int32_t v = strmap_get(m, key);
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
    if (strmap_put(m, copy, *n) != 0) {
        free(copy);
        return -1;
    }
    (*arr)[*n] = copy;
    return (*n)++;
}

/* ------------------------------------------------------ line reading */

rec_limits rec_limits_default(void)
{
    rec_limits l;
    l.max_line = 1 << 20;
    l.max_lines = (int64_t)1 << 28;
    l.max_ids = 1 << 24;
    l.max_cells = (int64_t)1 << 28;
    return l;
}

/* Limits with every field <= 0 replaced by its default. */
static rec_limits limits_or_default(const rec_limits *lim)
{
    rec_limits d = rec_limits_default();
    if (!lim) return d;
    rec_limits l = *lim;
    if (l.max_line <= 0) l.max_line = d.max_line;
    if (l.max_lines <= 0) l.max_lines = d.max_lines;
    if (l.max_ids <= 0) l.max_ids = d.max_ids;
    if (l.max_cells <= 0) l.max_cells = d.max_cells;
    return l;
}

typedef struct linereader {
    FILE *f;
    int owned;        /* fclose on lr_close */
    const char *path; /* name in messages */
    char *buf;
    size_t cap;
    int64_t line;
    duet_status st;   /* status of the last failure of lr_next */
    rec_limits lim;
} linereader;

static duet_status lr_open(linereader *lr, const char *path, const rec_limits *lim, duet_err *err)
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
static duet_status lr_attach(linereader *lr, FILE *f, const char *name, const rec_limits *lim, duet_err *err)
{
    memset(lr, 0, sizeof *lr);
    lr->path = name ? name : "input";
    lr->lim = limits_or_default(lim);
    lr->f = f;
    if (!f) return duet_err_set(err, DUET_ERR_ARG, "%s: no stream", lr->path);
    return DUET_OK;
}

static void lr_close(linereader *lr)
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
static int lr_next(linereader *lr, duet_err *err)
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
static int split_tabs(char *s, char **f, int max)
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

static int parse_float(const char *s, double *out)
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
static int weight_ok(double w)
{
    return isfinite(w) && w >= FLT_MIN && w <= 3e38;
}

static int parse_id(const char *s, long *out)
{
    char *end;
    if (!*s || *s == '-' || *s == '+') return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0) return -1;
    *out = v;
    return 0;
}

typedef struct tripvec {
    rec_triple *t;
    int64_t n, cap;
} tripvec;

static int tv_push(tripvec *v, int32_t r, int32_t c, float val, int64_t line)
{
    if (v->n == v->cap) {
        int64_t nc = v->cap ? v->cap * 2 : 256;
        rec_triple *nt = realloc(v->t, (size_t)nc * sizeof *nt);
        if (!nt) return -1;
        v->t = nt;
        v->cap = nc;
    }
    v->t[v->n++] = (rec_triple){r, c, val, line};
    return 0;
}

/* ------------------------------------------------------- the data set */

typedef struct ds_build {
    int32_t ucap, icap, tcap;
} ds_build;

static rec_maps *maps_of(rec_dataset *ds) { return (rec_maps *)ds->maps_; }

static duet_status ds_new(rec_dataset **out, const rec_limits *lim, duet_err *err)
{
    rec_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    ds->maps_ = calloc(1, sizeof(rec_maps));
    if (!ds->maps_) {
        free(ds);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    maps_of(ds)->lim = limits_or_default(lim);
    *out = ds;
    return DUET_OK;
}

void rec_dataset_free(rec_dataset *ds)
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
    rec_csr_free(&ds->ui);
    rec_csr_free(&ds->item_attr);
    rec_csr_free(&ds->user_attr);
    rec_csr_free(&ds->friends);
    rec_maps *m = maps_of(ds);
    if (m) {
        strmap_free(&m->users);
        strmap_free(&m->items);
        strmap_free(&m->tokens);
        free(m);
    }
    free(ds);
}

int32_t rec_dataset_find_item(const rec_dataset *ds, const char *id)
{
    return strmap_get(&((const rec_maps *)ds->maps_)->items, id);
}

int32_t rec_dataset_find_user(const rec_dataset *ds, const char *id)
{
    return strmap_get(&((const rec_maps *)ds->maps_)->users, id);
}

static const rec_limits *ds_limits(rec_dataset *ds) { return &maps_of(ds)->lim; }

/* Token index, interning a new token; -1 out of memory, -2 over max_ids. */
static int32_t ds_token(rec_dataset *ds, int32_t *tcap, const char *tok)
{
    return intern(&maps_of(ds)->tokens, &ds->tokens, &ds->n_tokens, tcap, tok, ds_limits(ds)->max_ids);
}


/* A new item `id` that appears only in a side file: appended as a COLD item
 * (no interactions; ui, item_attr, item_names, item_feats grow by one
 * column / row). Returns its index, -1 out of memory, -2 over max_ids, -3
 * when n_items x n_feats would pass max_cells. */
static int32_t ds_add_item(rec_dataset *ds, int32_t *icap, const char *id)
{
    rec_maps *m = maps_of(ds);
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

/* The error for a failed intern/ds_token (-1 or -2). */
static duet_status intern_error(const linereader *lr, int32_t code, const char *what, int32_t max, duet_err *err)
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
 * rec_csr_from_triples (1: repeated pairs summed, counted in ds->n_merged). */
static duet_status read_interactions(linereader *lr, rec_dataset *ds, int comments, int nf_min, int nf_max,
                                     int dup_mode, duet_err *err)
{
    rec_maps *m = maps_of(ds);
    tripvec tv = {0};
    int32_t ucap = 0, icap = 0;
    duet_status st = DUET_OK;
    int r;
    char *f[8];
    while ((r = lr_next(lr, err)) == 1) {
        char *s = lr->buf;
        if (!*s || (comments && *s == '#')) continue;
        int nf = split_tabs(s, f, nf_max);
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
            if (parse_float(f[2], &w) != 0) {
                st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: weight '%s' is not a number", lr->path,
                                  (long long)lr->line, f[2]);
                goto done;
            }
            if (!weight_ok(w)) {
                st = duet_err_set(err, isfinite(w) ? DUET_ERR_FORMAT : DUET_ERR_NAN,
                                  "%s:%lld: weight %s must be a finite number > 0 (from 1.2e-38 to 3e38)", lr->path,
                                  (long long)lr->line, f[2]);
                goto done;
            }
        }
        int32_t u = intern(&m->users, &ds->user_ids, &ds->n_users, &ucap, f[0], m->lim.max_ids);
        if (u < 0) {
            st = intern_error(lr, u, "users", m->lim.max_ids, err);
            goto done;
        }
        int32_t i = intern(&m->items, &ds->item_ids, &ds->n_items, &icap, f[1], m->lim.max_ids);
        if (i < 0) {
            st = intern_error(lr, i, "items", m->lim.max_ids, err);
            goto done;
        }
        if (tv_push(&tv, u, i, (float)w, lr->line) != 0) {
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
    st = rec_csr_from_triples(&ds->ui, ds->n_users, ds->n_items, tv.t, tv.n, dup_mode, lr->path, err);
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
static duet_status load_interactions(linereader *lr, duet_status open_st, const rec_limits *lim, rec_dataset **out,
                                     duet_err *err)
{
    rec_dataset *ds = NULL;
    duet_status st = open_st;
    if (!st) st = ds_new(&ds, lim, err);
    if (!st) st = read_interactions(lr, ds, 1, 2, 3, 1, err);
    lr_close(lr);
    if (st) {
        rec_dataset_free(ds);
        return st;
    }
    *out = ds;
    return DUET_OK;
}

duet_status rec_load_interactions_tsv_ex(const char *path, const rec_limits *lim, rec_dataset **out,
                                         duet_err *err)
{
    *out = NULL;
    linereader lr;
    duet_status st = lr_open(&lr, path, lim, err);
    return load_interactions(&lr, st, lim, out, err);
}

duet_status rec_load_interactions_tsv(const char *path, rec_dataset **out, duet_err *err)
{
    return rec_load_interactions_tsv_ex(path, NULL, out, err);
}

duet_status rec_load_interactions_file(FILE *f, const char *name, const rec_limits *lim, rec_dataset **out,
                                       duet_err *err)
{
    *out = NULL;
    linereader lr;
    duet_status st = lr_attach(&lr, f, name, lim, err);
    return load_interactions(&lr, st, lim, out, err);
}

/* Merge new (row, token) triples into an attribute CSR (counts add up). */
static duet_status merge_attr(rec_csr *a, int32_t n_rows, int32_t n_tokens, tripvec *tv, duet_err *err)
{
    for (int32_t r = 0; r < a->n_rows; r++)
        for (int64_t k = a->indptr[r]; k < a->indptr[r + 1]; k++)
            if (tv_push(tv, r, a->indices[k], a->values[k], 0) != 0)
                return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    rec_csr fresh;
    duet_status st = rec_csr_from_triples(&fresh, n_rows, n_tokens > 0 ? n_tokens : 1, tv->t, tv->n, 1, NULL, err);
    if (st) return st;
    rec_csr_free(a);
    *a = fresh;
    return DUET_OK;
}

/* Widen the token dimension of the other attribute matrix after new tokens. */
static void fix_token_cols(rec_dataset *ds)
{
    if (ds->item_attr.n_rows) ds->item_attr.n_cols = ds->n_tokens;
    if (ds->user_attr.n_rows) ds->user_attr.n_cols = ds->n_tokens;
}

/* Attribute rows from lr (closed here). */
static duet_status load_attrs(rec_dataset *ds, linereader *lrp, duet_status open_st, duet_err *err)
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
    while ((r = lr_next(&lr, err)) == 1) {
        if (!lr.buf[0] || lr.buf[0] == '#') continue;
        rows++;
        int nf = split_tabs(lr.buf, f, 3);
        if (nf != 3 || !*f[0] || !*f[1] || !*f[2]) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `item<TAB>key<TAB>value` (3 non-empty fields)",
                              path, (long long)lr.line);
            goto done;
        }
        int32_t i = rec_dataset_find_item(ds, f[0]);
        if (i < 0) i = ds_add_item(ds, &icap, f[0]); /* an item only this file names: cold */
        if (i < 0) {
            st = intern_error(&lr, i, "items", ds_limits(ds)->max_ids, err);
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
        int32_t t = ds_token(ds, &tcap, tok);
        if (t < 0) {
            st = intern_error(&lr, t, "tokens", ds_limits(ds)->max_ids, err);
            goto done;
        }
        if (tv_push(&tv, i, t, 1.0f, lr.line) != 0) goto nomem;
    }
    if (r < 0) {
        st = lr.st;
        goto done;
    }
    if (rows == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "%s: no attribute rows", path);
        goto done;
    }
    fix_token_cols(ds);
    st = merge_attr(&ds->item_attr, ds->n_items, ds->n_tokens, &tv, err);
    goto done;
nomem:
    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory reading %s", path);
done:
    fix_token_cols(ds); /* tokens added before an error stay valid columns */
    free(tok);
    free(tv.t);
    lr_close(&lr);
    return st;
}

duet_status rec_load_item_attrs_tsv(rec_dataset *ds, const char *path, duet_err *err)
{
    linereader lr;
    duet_status st = lr_open(&lr, path, ds_limits(ds), err);
    return load_attrs(ds, &lr, st, err);
}

duet_status rec_load_item_attrs_file(rec_dataset *ds, FILE *f, const char *name, duet_err *err)
{
    linereader lr;
    duet_status st = lr_attach(&lr, f, name, ds_limits(ds), err);
    return load_attrs(ds, &lr, st, err);
}

#define MAX_FEAT_COLS 4096

/* Feature rows from lr (closed here). */
static duet_status load_features(rec_dataset *ds, linereader *lrp, duet_status open_st, int id_col, int first_col,
                                 int skip_bad, duet_err *err)
{
    linereader lr = *lrp;
    const char *path = lr.path;
    duet_status st = open_st;
    if (!st && (id_col < 0 || first_col < 0 || id_col >= first_col))
        st = duet_err_set(err, DUET_ERR_ARG, "feature columns: id column must come before the first feature");
    if (st) {
        lr_close(&lr);
        return st;
    }
    char **f = malloc((MAX_FEAT_COLS + 1) * sizeof *f);
    char **names = NULL;
    float *feats = NULL;
    uint8_t *has = NULL;
    int nh = 0, nfe = 0, r;
    int32_t icap = ds->n_items;
    if (!f) goto nomem;
    while ((r = lr_next(&lr, err)) == 1 && !lr.buf[0]) {
    }
    if (r < 0) {
        st = lr.st;
        goto done;
    }
    if (r == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "%s: empty file (expected a header row)", path);
        goto done;
    }
    nh = split_tabs(lr.buf, f, MAX_FEAT_COLS);
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
    if ((int64_t)ds->n_items * nfe > ds_limits(ds)->max_cells) {
        st = duet_err_set(err, DUET_ERR_RANGE, "%s: %d items x %d features is more than the limit of %lld cells", path,
                          ds->n_items, nfe, (long long)ds_limits(ds)->max_cells);
        goto done;
    }
    names = calloc((size_t)nfe, sizeof *names);
    feats = calloc((size_t)(ds->n_items ? ds->n_items : 1) * (size_t)nfe, sizeof *feats);
    has = calloc((size_t)(ds->n_items ? ds->n_items : 1), 1);
    if (!names || !feats || !has) goto nomem;
    for (int c = 0; c < nfe; c++)
        if (!(names[c] = strdup(f[first_col + c]))) goto nomem;
    int64_t rows = 0, data_rows = 0;
    while ((r = lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        data_rows++;
        int nf = split_tabs(lr.buf, f, MAX_FEAT_COLS);
        if (nf != nh) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: %d fields, the header has %d", path, (long long)lr.line,
                              nf > MAX_FEAT_COLS ? MAX_FEAT_COLS : nf, nh);
            goto done;
        }
        if (err_col >= 0 && f[err_col][0]) {
            ds->n_skipped++;
            continue;
        }
        int32_t i = rec_dataset_find_item(ds, f[id_col]);
        double v[1];
        if (skip_bad) {
            int bad = 0;
            for (int c = 0; c < nfe && !bad; c++) bad = parse_float(f[first_col + c], v) != 0;
            if (bad) {
                ds->n_skipped++;
                continue;
            }
        }
        if (i < 0 && !skip_bad) {
            /* an item only this file names: a cold item (the Spotify file keeps skipping) */
            if ((int64_t)(ds->n_items + 1) * nfe > ds_limits(ds)->max_cells) i = -3;
            else i = ds_add_item(ds, &icap, f[id_col]);
            if (i < 0) {
                st = intern_error(&lr, i, "items", ds_limits(ds)->max_ids, err);
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
            if (parse_float(f[first_col + c], v) != 0) {
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
    lr_close(&lr);
    return st;
}

duet_status rec_load_item_features_tsv(rec_dataset *ds, const char *path, int id_col, int first_col,
                                       duet_err *err)
{
    linereader lr;
    duet_status st = lr_open(&lr, path, ds_limits(ds), err);
    return load_features(ds, &lr, st, id_col, first_col, 0, err);
}

duet_status rec_load_item_features_file(rec_dataset *ds, FILE *f, const char *name, int id_col, int first_col,
                                        int spotify, duet_err *err)
{
    linereader lr;
    duet_status st = lr_attach(&lr, f, name, ds_limits(ds), err);
    return load_features(ds, &lr, st, id_col, first_col, spotify ? 1 : 0, err);
}

duet_status rec_load_spotify_tsv(rec_dataset *ds, const char *path, duet_err *err)
{
    linereader lr;
    duet_status st = lr_open(&lr, path, ds_limits(ds), err);
    return load_features(ds, &lr, st, 0, 3, 1, err);
}

/* ------------------------------------------------------------ HetRec */

static duet_status expect_header(linereader *lr, const char *header, duet_err *err)
{
    int r = lr_next(lr, err);
    if (r < 0) return lr->st;
    if (r == 0) return duet_err_set(err, DUET_ERR_EMPTY, "%s: empty file", lr->path);
    if (strcmp(lr->buf, header) != 0)
        return duet_err_set(err, DUET_ERR_FORMAT, "%s:1: expected the header '%s'", lr->path, header);
    return DUET_OK;
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* ISO-8859-1 to UTF-8 (each byte >= 0x80 becomes two bytes). Caller frees. */
static char *latin1_to_utf8(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) n += *p >= 0x80 ? 2 : 1;
    char *o = malloc(n + 1), *q = o;
    if (!o) return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80) *q++ = (char)*p;
        else {
            *q++ = (char)(0xC0 | (*p >> 6));
            *q++ = (char)(0x80 | (*p & 0x3F));
        }
    }
    *q = '\0';
    return o;
}

static duet_status hetrec_artists(rec_dataset *ds, const char *dir, duet_err *err)
{
    char *p = path_join(dir, "artists.dat");
    if (!p) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    linereader lr;
    duet_status st = lr_open(&lr, p, ds_limits(ds), err);
    if (!st) st = expect_header(&lr, "id\tname\turl\tpictureURL", err);
    if (!st && !(ds->item_names = calloc((size_t)ds->n_items, sizeof *ds->item_names)))
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    int r = 1;
    char *f[5];
    while (!st && (r = lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        int nf = split_tabs(lr.buf, f, 4);
        if (nf < 2 || nf > 4) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected id, name, url, pictureURL", p,
                              (long long)lr.line);
            break;
        }
        int32_t i = rec_dataset_find_item(ds, f[0]);
        if (i < 0) {
            ds->n_skipped++;
            continue;
        }
        free(ds->item_names[i]);
        if (!(ds->item_names[i] = strdup(f[1]))) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    if (!st && r < 0) st = lr.st;
    lr_close(&lr);
    free(p);
    return st;
}

static duet_status hetrec_tags(rec_dataset *ds, const char *dir, duet_err *err)
{
    char *p1 = path_join(dir, "tags.dat"), *p2 = path_join(dir, "user_taggedartists.dat");
    char **tagtok = NULL; /* tag id -> token index as (int32) via array */
    int32_t *tag_index = NULL;
    long max_tag = -1;
    tripvec ti = {0}, tu = {0};
    int32_t tcap = ds->n_tokens;
    duet_status st = DUET_OK;
    linereader lr = {0};
    char *f[8];
    int r = 1;
    (void)tagtok;
    if (!p1 || !p2) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* tags.dat: tag ids up to a few tens of thousands; index by id. */
    st = lr_open(&lr, p1, ds_limits(ds), err);
    if (!st) st = expect_header(&lr, "tagID\ttagValue", err);
    size_t tcap_ids = 0;
    while (!st && (r = lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        long id;
        int nf = split_tabs(lr.buf, f, 2);
        if (nf != 2 || parse_id(f[0], &id) != 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `tagID<TAB>tagValue`", p1, (long long)lr.line);
            break;
        }
        if (id >= ds_limits(ds)->max_ids) {
            st = duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: tag id %ld is over the limit %d", p1, (long long)lr.line,
                              id, ds_limits(ds)->max_ids);
            break;
        }
        if ((size_t)id >= tcap_ids) {
            size_t nc = (size_t)id * 2 + 64;
            if (nc > (size_t)ds_limits(ds)->max_ids) nc = (size_t)ds_limits(ds)->max_ids;
            int32_t *n2 = realloc(tag_index, nc * sizeof *n2);
            if (!n2) {
                st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                break;
            }
            for (size_t k = tcap_ids; k < nc; k++) n2[k] = -1;
            tag_index = n2;
            tcap_ids = nc;
        }
        if (tag_index[id] >= 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: tag id %ld repeated", p1, (long long)lr.line, id);
            break;
        }
        char *u8 = latin1_to_utf8(f[1]);
        char *tok = u8 ? malloc(strlen(u8) + 5) : NULL;
        if (tok) sprintf(tok, "tag:%s", u8);
        int32_t t = tok ? ds_token(ds, &tcap, tok) : -1;
        free(u8);
        free(tok);
        if (t < 0) {
            st = intern_error(&lr, t, "tokens", ds_limits(ds)->max_ids, err);
            break;
        }
        tag_index[id] = t;
        if (id > max_tag) max_tag = id;
    }
    if (!st && r < 0) st = lr.st;
    lr_close(&lr);
    if (st) goto done;
    st = lr_open(&lr, p2, ds_limits(ds), err);
    if (!st) st = expect_header(&lr, "userID\tartistID\ttagID\tday\tmonth\tyear", err);
    while (!st && (r = lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        long tag;
        int nf = split_tabs(lr.buf, f, 6);
        if (nf != 6 || parse_id(f[2], &tag) != 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected 6 fields userID artistID tagID day month year",
                              p2, (long long)lr.line);
            break;
        }
        if (tag > max_tag || tag_index[tag] < 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: tag id %ld is not in tags.dat", p2, (long long)lr.line,
                              tag);
            break;
        }
        int32_t u = rec_dataset_find_user(ds, f[0]), i = rec_dataset_find_item(ds, f[1]);
        if (i < 0 && u < 0) {
            ds->n_skipped++;
            continue;
        }
        if ((i >= 0 && tv_push(&ti, i, tag_index[tag], 1.0f, lr.line) != 0) ||
            (u >= 0 && tv_push(&tu, u, tag_index[tag], 1.0f, lr.line) != 0)) {
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            break;
        }
        if (i < 0 || u < 0) ds->n_skipped++;
    }
    if (!st && r < 0) st = lr.st;
    lr_close(&lr);
    if (st) goto done;
    fix_token_cols(ds);
    st = merge_attr(&ds->item_attr, ds->n_items, ds->n_tokens, &ti, err);
    if (!st) st = merge_attr(&ds->user_attr, ds->n_users, ds->n_tokens, &tu, err);
    fix_token_cols(ds);
done:
    lr_close(&lr);
    free(ti.t);
    free(tu.t);
    free(tag_index);
    free(p1);
    free(p2);
    return st;
}

static duet_status hetrec_friends(rec_dataset *ds, const char *dir, duet_err *err)
{
    char *p = path_join(dir, "user_friends.dat");
    if (!p) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    linereader lr;
    tripvec tv = {0};
    duet_status st = lr_open(&lr, p, ds_limits(ds), err);
    if (!st) st = expect_header(&lr, "userID\tfriendID", err);
    int r = 1;
    char *f[3];
    while (!st && (r = lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        if (split_tabs(lr.buf, f, 2) != 2) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `userID<TAB>friendID`", p, (long long)lr.line);
            break;
        }
        int32_t a = rec_dataset_find_user(ds, f[0]), b = rec_dataset_find_user(ds, f[1]);
        if (a < 0 || b < 0) {
            ds->n_skipped++;
            continue;
        }
        if (tv_push(&tv, a, b, 1.0f, lr.line) != 0) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    if (!st && r < 0) st = lr.st;
    if (!st) st = rec_csr_from_triples(&ds->friends, ds->n_users, ds->n_users, tv.t, tv.n, 1, p, err);
    if (!st)
        for (int64_t k = 0; k < ds->friends.nnz; k++) ds->friends.values[k] = 1.0f;
    lr_close(&lr);
    free(tv.t);
    free(p);
    return st;
}

duet_status rec_load_hetrec(const char *dir, rec_dataset **out, duet_err *err)
{
    *out = NULL;
    rec_dataset *ds;
    duet_status st = ds_new(&ds, NULL, err);
    if (st) return st;
    char *p = path_join(dir, "user_artists.dat");
    linereader lr;
    if (!p) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    if (!st) {
        st = lr_open(&lr, p, ds_limits(ds), err);
        if (!st) {
            st = expect_header(&lr, "userID\tartistID\tweight", err);
            if (!st) st = read_interactions(&lr, ds, 0, 3, 3, 0, err);
            lr_close(&lr);
        }
    }
    free(p);
    if (!st) st = hetrec_artists(ds, dir, err);
    if (!st) st = hetrec_tags(ds, dir, err);
    if (!st) st = hetrec_friends(ds, dir, err);
    if (st) {
        rec_dataset_free(ds);
        return st;
    }
    *out = ds;
    return DUET_OK;
}

duet_status rec_load_kgcn(rec_dataset *ds, const char *dir, duet_err *err)
{
    char *p1 = path_join(dir, "item_index2entity_id.txt"), *p2 = path_join(dir, "kg.txt");
    int32_t *ent_item = NULL; /* entity -> item or -1 */
    size_t ent_cap = 0;
    tripvec tv = {0};
    int32_t tcap = ds->n_tokens;
    linereader lr = {0};
    duet_status st = DUET_OK;
    char *f[4], tok[512];
    int r = 1;
    if (!p1 || !p2) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        goto done;
    }
    st = lr_open(&lr, p1, ds_limits(ds), err);
    while (!st && (r = lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        long e;
        if (split_tabs(lr.buf, f, 2) != 2 || parse_id(f[1], &e) != 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `item<TAB>entity-index`", p1, (long long)lr.line);
            break;
        }
        if (e >= ds_limits(ds)->max_ids) {
            st = duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: entity index %ld is over the limit %d", p1,
                              (long long)lr.line, e, ds_limits(ds)->max_ids);
            break;
        }
        if ((size_t)e >= ent_cap) {
            size_t nc = (size_t)e * 2 + 64;
            if (nc > (size_t)ds_limits(ds)->max_ids) nc = (size_t)ds_limits(ds)->max_ids;
            int32_t *n2 = realloc(ent_item, nc * sizeof *n2);
            if (!n2) {
                st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                break;
            }
            for (size_t k = ent_cap; k < nc; k++) n2[k] = -1;
            ent_item = n2;
            ent_cap = nc;
        }
        int32_t i = rec_dataset_find_item(ds, f[0]);
        if (i < 0) ds->n_skipped++;
        else if (ent_item[e] >= 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: entity %ld mapped twice", p1, (long long)lr.line, e);
            break;
        } else ent_item[e] = i;
    }
    if (!st && r < 0) st = lr.st;
    lr_close(&lr);
    if (st) goto done;
    st = lr_open(&lr, p2, ds_limits(ds), err);
    while (!st && (r = lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        long h, t;
        if (split_tabs(lr.buf, f, 3) != 3 || parse_id(f[0], &h) != 0 || parse_id(f[2], &t) != 0 || !*f[1] ||
            strlen(f[1]) > 400) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `head<TAB>relation<TAB>tail`", p2,
                              (long long)lr.line);
            break;
        }
        int32_t ih = (size_t)h < ent_cap ? ent_item[h] : -1, it = (size_t)t < ent_cap ? ent_item[t] : -1;
        if (ih < 0 && it < 0) continue; /* a relation between two non-item entities */
        if (ih >= 0) {
            snprintf(tok, sizeof tok, "kg:%s=%ld", f[1], t);
            int32_t k = ds_token(ds, &tcap, tok);
            if (k == -2) goto toomany;
            if (k < 0 || tv_push(&tv, ih, k, 1.0f, lr.line) != 0) goto nomem;
        }
        if (it >= 0) {
            snprintf(tok, sizeof tok, "kg:~%s=%ld", f[1], h);
            int32_t k = ds_token(ds, &tcap, tok);
            if (k == -2) goto toomany;
            if (k < 0 || tv_push(&tv, it, k, 1.0f, lr.line) != 0) goto nomem;
        }
    }
    if (!st && r < 0) st = lr.st;
    if (st) goto done;
    fix_token_cols(ds);
    st = merge_attr(&ds->item_attr, ds->n_items, ds->n_tokens, &tv, err);
    goto done;
toomany:
    st = intern_error(&lr, -2, "tokens", ds_limits(ds)->max_ids, err);
    goto done;
nomem:
    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
done:
    fix_token_cols(ds);
    lr_close(&lr);
    free(tv.t);
    free(ent_item);
    free(p1);
    free(p2);
    return st;
}

/* --------------------------------------------------------------- NCF */

#define NCF_MAX_NEG 10000

void rec_ncf_free(rec_ncf *d)
{
    if (!d) return;
    rec_csr_free(&d->train);
    free(d->test_item);
    free(d->negatives);
    free(d);
}

static char *path_cat(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s%s", a, b);
    return p;
}

/* The three files from lr[0] (train), lr[1] (test), lr[2] (negatives); the
 * readers are closed by the caller. f holds NCF_MAX_NEG + 2 field pointers. */
static duet_status ncf_read(linereader *lr, char **f, rec_ncf **out, duet_err *err)
{
    const rec_limits *lim = &lr[0].lim;
    const char *ptr = lr[0].path, *pte = lr[1].path, *pne = lr[2].path;
    tripvec tv = {0}, tests = {0}; /* train rows; test pairs (row user, col item) */
    int64_t *test_line = NULL; /* (n_users) test.rating line of each user's test pair, 0 if none */
    int32_t *order = NULL;     /* (test lines) user of each test.rating line, in file order */
    int64_t n_test = 0, neg_lines = 0;
    long max_u = -1, max_i = -1;
    rec_ncf *d = NULL;
    duet_status st = DUET_OK;
    int r;

    /* train.rating: u i weight [timestamp] */
    while ((r = lr_next(&lr[0], err)) == 1) {
        if (!lr[0].buf[0]) continue;
        long u, i;
        double w;
        int nf = split_tabs(lr[0].buf, f, 4);
        if (nf < 3 || nf > 4 || parse_id(f[0], &u) != 0 || parse_id(f[1], &i) != 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `user<TAB>item<TAB>weight[<TAB>time]` with "
                              "non-negative integer ids", ptr, (long long)lr[0].line);
            goto done;
        }
        if (u >= lim->max_ids || i >= lim->max_ids) {
            st = duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: id %ld is over the limit %d", ptr, (long long)lr[0].line,
                              u > i ? u : i, lim->max_ids - 1);
            goto done;
        }
        if (parse_float(f[2], &w) != 0 || !weight_ok(w)) {
            st = duet_err_set(err, DUET_ERR_FORMAT,
                              "%s:%lld: weight '%s' must be a finite number > 0 (from 1.2e-38 to 3e38)", ptr,
                              (long long)lr[0].line, f[2]);
            goto done;
        }
        if (u > max_u) max_u = u;
        if (i > max_i) max_i = i;
        if (tv_push(&tv, (int32_t)u, (int32_t)i, (float)w, lr[0].line) != 0) goto nomem;
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
    while ((r = lr_next(&lr[1], err)) == 1) {
        if (!lr[1].buf[0]) continue;
        long u, i;
        int nf = split_tabs(lr[1].buf, f, 4);
        if (nf < 2 || nf > 4 || parse_id(f[0], &u) != 0 || parse_id(f[1], &i) != 0) {
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
        if (tv_push(&tests, (int32_t)u, (int32_t)i, 1.0f, lr[1].line) != 0) goto nomem;
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
    while ((r = lr_next(&lr[2], err)) == 1) {
        if (!lr[2].buf[0]) continue;
        int nf = split_tabs(lr[2].buf, f, NCF_MAX_NEG + 1);
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
        if (parse_id(s + 1, &u) != 0 || parse_id(comma + 1, &i) != 0) {
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
            if (parse_id(f[k + 1], &j) != 0) {
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
    st = rec_csr_from_triples(&d->train, d->n_users, d->n_items, tv.t, tv.n, 0, ptr, err);
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
    rec_ncf_free(d);
    free(tv.t);
    free(tests.t);
    free(test_line);
    free(order);
    return st;
}

static const char *const ncf_suffix[3] = {".train.rating", ".test.rating", ".test.negative"};

/* Open (files != NULL: attach) the three readers and read them. */
static duet_status ncf_load(const char *prefix, FILE **files, const rec_limits *lim, rec_ncf **out, duet_err *err)
{
    *out = NULL;
    if (!prefix) prefix = "";
    char *names[3] = {NULL, NULL, NULL};
    linereader lr[3];
    memset(lr, 0, sizeof lr);
    char **f = malloc((NCF_MAX_NEG + 2) * sizeof *f);
    duet_status st = DUET_OK;
    for (int k = 0; k < 3; k++) names[k] = path_cat(prefix, ncf_suffix[k]);
    if (!f || !names[0] || !names[1] || !names[2])
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory reading %s", prefix);
    for (int k = 0; k < 3 && !st; k++)
        st = files ? lr_attach(&lr[k], files[k], names[k], lim, err) : lr_open(&lr[k], names[k], lim, err);
    if (!st) st = ncf_read(lr, f, out, err);
    for (int k = 0; k < 3; k++) {
        lr_close(&lr[k]);
        free(names[k]);
    }
    free(f);
    return st;
}

duet_status rec_load_ncf_ex(const char *prefix, const rec_limits *lim, rec_ncf **out, duet_err *err)
{
    return ncf_load(prefix, NULL, lim, out, err);
}

duet_status rec_load_ncf(const char *prefix, rec_ncf **out, duet_err *err)
{
    return ncf_load(prefix, NULL, NULL, out, err);
}

duet_status rec_load_ncf_files(FILE *train, FILE *test, FILE *negative, const char *prefix, const rec_limits *lim,
                               rec_ncf **out, duet_err *err)
{
    FILE *files[3] = {train, test, negative};
    return ncf_load(prefix, files, lim, out, err);
}
