/* nn/safetensors_write.c: the safetensors writer of safetensors.h (format and
 * reader in safetensors.c): tensors and metadata collected in memory, then
 * one header in the reference serializer's order (tensors by descending
 * dtype rank, then name; "__metadata__" first with its keys sorted by bytes;
 * compact JSON padded with spaces to a multiple of 8) and the data, into a
 * buffer or an atomic file. */
#include "safetensors.h"

#include "json.h"
#include "../common/atomic_file.h"
#include "safetensors_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Writer                                                              */

typedef struct st_wt {
    char *name;
    duet_st_dtype dtype;
    int ndim;
    int64_t shape[DUET_ST_MAX_DIMS];
    size_t nbytes;
    unsigned char *data;
} st_wt;

struct duet_st_writer {
    st_wt *t;
    size_t n, cap;
    st_kv *meta; /* in insertion order; sorted when written */
    size_t mn, mcap;
};

duet_status duet_st_writer_new(duet_st_writer **out, duet_err *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? DUET_OK : duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
}

void duet_st_writer_free(duet_st_writer *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    for (size_t i = 0; i < w->mn; i++) {
        free(w->meta[i].key);
        free(w->meta[i].val);
    }
    free(w->t);
    free(w->meta);
    free(w);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

duet_status duet_st_writer_add(duet_st_writer *w, const char *name, duet_st_dtype dtype, int ndim,
                               const int64_t *shape, const void *data, duet_err *err)
{
    char shown[SHOW_CAP];
    if (!w || !name) return duet_err_set(err, DUET_ERR_ARG, "NULL writer or tensor name");
    if (!name[0]) return duet_err_set(err, DUET_ERR_ARG, "empty tensor name");
    duet_st_show_name(name, shown);
    if (!duet_json_utf8_valid(name, strlen(name)))
        return duet_err_set(err, DUET_ERR_ARG, "tensor name \"%s\" is not valid UTF-8", shown);
    if (strcmp(name, "__metadata__") == 0)
        return duet_err_set(err, DUET_ERR_ARG, "\"__metadata__\" is reserved and cannot name a tensor");
    if ((unsigned)dtype >= N_DTYPES)
        return duet_err_set(err, DUET_ERR_ARG, "tensor \"%s\": invalid dtype %d", shown, (int)dtype);
    if (ndim < 0 || ndim > DUET_ST_MAX_DIMS || (ndim > 0 && !shape))
        return duet_err_set(err, DUET_ERR_ARG, "tensor \"%s\": bad ndim %d (0..%d)", shown, ndim,
                            DUET_ST_MAX_DIMS);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return duet_err_set(err, DUET_ERR_ARG, "tensor \"%s\": negative dimension %lld", shown,
                                (long long)shape[i]);
        if (shape[i] == 0) numel = 0;
    }
    for (int i = 0; numel && i < ndim; i++) {
        if (numel > INT64_MAX / shape[i])
            return duet_err_set(err, DUET_ERR_RANGE, "tensor \"%s\": element count overflows", shown);
        numel *= shape[i];
    }
    size_t esz = duet_st_dtype_info[dtype].size;
    if ((uint64_t)numel > SIZE_MAX / esz)
        return duet_err_set(err, DUET_ERR_RANGE, "tensor \"%s\": byte size overflows", shown);
    size_t nbytes = (size_t)numel * esz;
    if (nbytes && !data) return duet_err_set(err, DUET_ERR_ARG, "tensor \"%s\": NULL data", shown);
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return duet_err_set(err, DUET_ERR_ARG, "duplicate tensor name \"%s\"", shown);
    if (!duet_st_grow((void **)&w->t, &w->cap, w->n + 1, sizeof *w->t))
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    st_wt *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    t->name = dup_str(name);
    t->data = malloc(nbytes ? nbytes : 1);
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    if (nbytes) memcpy(t->data, data, nbytes);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->nbytes = nbytes;
    w->n++;
    return DUET_OK;
}

duet_status duet_st_writer_meta(duet_st_writer *w, const char *key, const char *value, duet_err *err)
{
    if (!w || !key || !value) return duet_err_set(err, DUET_ERR_ARG, "NULL writer, key or value");
    if (!duet_json_utf8_valid(key, strlen(key)) || !duet_json_utf8_valid(value, strlen(value)))
        return duet_err_set(err, DUET_ERR_ARG, "metadata key or value is not valid UTF-8");
    char *v = dup_str(value);
    if (!v) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < w->mn; i++)
        if (strcmp(w->meta[i].key, key) == 0) {
            free(w->meta[i].val);
            w->meta[i].val = v;
            return DUET_OK;
        }
    char *k = dup_str(key);
    if (!k || !duet_st_grow((void **)&w->meta, &w->mcap, w->mn + 1, sizeof *w->meta)) {
        free(k);
        free(v);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    w->meta[w->mn].key = k;
    w->meta[w->mn].val = v;
    w->mn++;
    return DUET_OK;
}

/* A growable byte buffer for the header. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (!duet_st_grow((void **)&b->p, &b->cap, b->n + n + 1, 1)) {
        b->oom = 1;
        return;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_quoted(sbuf *b, const char *s)
{
    size_t n = strlen(s), q = duet_json_quote(NULL, s, n);
    if (b->oom) return;
    if (!duet_st_grow((void **)&b->p, &b->cap, b->n + q + 1, 1)) {
        b->oom = 1;
        return;
    }
    duet_json_quote(b->p + b->n, s, n);
    b->n += q;
}

/* Writer order: descending reference dtype rank, then name (bytes). */
typedef struct wt_ref {
    const st_wt *t;
} wt_ref;

static int cmp_wt(const void *a, const void *b)
{
    const st_wt *x = ((const wt_ref *)a)->t, *y = ((const wt_ref *)b)->t;
    int rx = duet_st_dtype_info[x->dtype].rank, ry = duet_st_dtype_info[y->dtype].rank;
    if (rx != ry) return rx > ry ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Build the padded header (8-byte length + JSON + spaces) and the tensor
 * order. *hdr and *order are malloc'd. */
static duet_status build_header(const duet_st_writer *w, char **hdr, size_t *hlen, wt_ref **order,
                                uint64_t *data_len, duet_err *err)
{
    *hdr = NULL;
    *order = NULL;
    sbuf b = {0};
    wt_ref *ord = malloc((w->n ? w->n : 1) * sizeof *ord);
    st_kv *mk = malloc((w->mn ? w->mn : 1) * sizeof *mk);
    if (!ord || !mk) {
        free(ord);
        free(mk);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < w->n; i++) ord[i].t = &w->t[i];
    if (w->n > 1) qsort(ord, w->n, sizeof *ord, cmp_wt);
    if (w->mn) memcpy(mk, w->meta, w->mn * sizeof *mk);
    if (w->mn > 1) qsort(mk, w->mn, sizeof *mk, duet_st_cmp_kv);

    sb_put(&b, "\0\0\0\0\0\0\0\0{", 9);
    if (w->mn) {
        sb_str(&b, "\"__metadata__\":{");
        for (size_t i = 0; i < w->mn; i++) {
            if (i) sb_str(&b, ",");
            sb_quoted(&b, mk[i].key);
            sb_str(&b, ":");
            sb_quoted(&b, mk[i].val);
        }
        sb_str(&b, "}");
        if (w->n) sb_str(&b, ",");
    }
    free(mk);
    uint64_t off = 0;
    char num[64];
    for (size_t i = 0; i < w->n; i++) {
        const st_wt *t = ord[i].t;
        if (i) sb_str(&b, ",");
        sb_quoted(&b, t->name);
        sb_str(&b, ":{\"dtype\":\"");
        sb_str(&b, duet_st_dtype_info[t->dtype].name);
        sb_str(&b, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)t->shape[d]);
            sb_str(&b, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                 (unsigned long long)(off + t->nbytes));
        sb_str(&b, num);
        off += t->nbytes;
    }
    sb_str(&b, "}");
    while ((b.n - 8) % 8) sb_str(&b, " ");
    if (b.oom) {
        free(b.p);
        free(ord);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    uint64_t n = b.n - 8;
    if (n > DUET_ST_MAX_HEADER) {
        free(b.p);
        free(ord);
        return duet_err_set(err, DUET_ERR_RANGE, "header of %llu bytes exceeds the cap of %u",
                            (unsigned long long)n, (unsigned)DUET_ST_MAX_HEADER);
    }
    for (int i = 0; i < 8; i++) b.p[i] = (char)(unsigned char)(n >> (8 * i));
    *hdr = b.p;
    *hlen = b.n;
    *order = ord;
    *data_len = off;
    return DUET_OK;
}

duet_status duet_st_writer_serialize(const duet_st_writer *w, void **buf, size_t *len, duet_err *err)
{
    *buf = NULL;
    *len = 0;
    if (!w) return duet_err_set(err, DUET_ERR_ARG, "NULL writer");
    char *hdr;
    size_t hlen;
    wt_ref *ord;
    uint64_t dlen;
    duet_status st = build_header(w, &hdr, &hlen, &ord, &dlen, err);
    if (st) return st;
    if (dlen > SIZE_MAX - hlen) {
        free(hdr);
        free(ord);
        return duet_err_set(err, DUET_ERR_RANGE, "file too large for memory");
    }
    unsigned char *out = malloc(hlen + (size_t)dlen);
    if (!out) {
        free(hdr);
        free(ord);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    memcpy(out, hdr, hlen);
    size_t o = hlen;
    for (size_t i = 0; i < w->n; i++) {
        if (ord[i].t->nbytes) memcpy(out + o, ord[i].t->data, ord[i].t->nbytes);
        o += ord[i].t->nbytes;
    }
    free(hdr);
    free(ord);
    *buf = out;
    *len = o;
    return DUET_OK;
}

duet_status duet_st_writer_save(const duet_st_writer *w, const char *path, duet_err *err)
{
    if (!w) return duet_err_set(err, DUET_ERR_ARG, "NULL writer");
    char *hdr;
    size_t hlen;
    wt_ref *ord;
    uint64_t dlen;
    duet_status st = build_header(w, &hdr, &hlen, &ord, &dlen, err);
    if (st) return st;
    duet_atomic_file *af;
    if ((st = duet_atomic_open(path, &af, err))) {
        free(hdr);
        free(ord);
        return st;
    }
    FILE *fp = duet_atomic_fp(af);
    int ok = fwrite(hdr, 1, hlen, fp) == hlen;
    for (size_t i = 0; ok && i < w->n; i++)
        if (ord[i].t->nbytes) ok = fwrite(ord[i].t->data, 1, ord[i].t->nbytes, fp) == ord[i].t->nbytes;
    free(hdr);
    free(ord);
    if (!ok) {
        int e = errno;
        duet_atomic_abort(af);
        return duet_err_set(err, DUET_ERR_IO, "cannot write: %s", strerror(e));
    }
    return duet_atomic_commit(af, err);
}
