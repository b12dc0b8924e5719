/* nn/safetensors.c: the safetensors reader of safetensors.h, the dtype table
 * and the message helpers (the writer is safetensors_write.c).
 *
 * Format (huggingface/safetensors, safetensors/src/tensor.rs and
 * https://huggingface.co/docs/safetensors): u64 little-endian header length
 * N, N bytes of UTF-8 JSON, then the data area. The reference reader caps N
 * at 100 MB, requires the tensors, sorted by data offsets, to tile the data
 * area exactly from 0 to its end, and end - begin == numel * dtype size. The
 * reference writer sorts tensors by descending dtype (BOOL < U8 < I8 < I16 <
 * F16 < BF16 < I32 < U32 < F32 < F64 < I64 < U64 in its enum order), then by
 * name, writes compact JSON with "__metadata__" first, and pads the header
 * with spaces to a multiple of 8 so every tensor is aligned.
 *
 * Choices made here (see safetensors.h): the reader is at least as strict as
 * the reference one (full coverage of the data area, no gaps, no overlap, no
 * trailing bytes; header must start with '{'; only JSON whitespace after the
 * closing '}'), and copies each tensor to its own 64-byte-aligned slot, so
 * data pointers are aligned whatever the file's offsets. The writer produces
 * the same bytes as the reference serializer (metadata keys sorted by bytes,
 * which is one of the orders the reference may produce from its hash map). */
#include "safetensors.h"

#include "json.h"
#include "../common/limits.h"
#include "safetensors_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLOT_ALIGN 64

const duet_st_dtype_desc duet_st_dtype_info[N_DTYPES] = {
    [DUET_ST_F32] = {"F32", 4, 11},  [DUET_ST_F64] = {"F64", 8, 12},
    [DUET_ST_F16] = {"F16", 2, 7},   [DUET_ST_BF16] = {"BF16", 2, 8},
    [DUET_ST_I64] = {"I64", 8, 13},  [DUET_ST_I32] = {"I32", 4, 9},
    [DUET_ST_I16] = {"I16", 2, 5},   [DUET_ST_I8] = {"I8", 1, 2},
    [DUET_ST_U8] = {"U8", 1, 1},     [DUET_ST_U64] = {"U64", 8, 14},
    [DUET_ST_U32] = {"U32", 4, 10},  [DUET_ST_BOOL] = {"BOOL", 1, 0},
};

/* Names the format defines but duet does not handle. */
static const char *const other_dtypes[] = {"U16", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4",
                                           "F6_E2M3", "F6_E3M2", "C64", NULL};

size_t duet_st_dtype_size(duet_st_dtype t)
{
    return (unsigned)t < N_DTYPES ? duet_st_dtype_info[t].size : 0;
}

const char *duet_st_dtype_name(duet_st_dtype t)
{
    return (unsigned)t < N_DTYPES ? duet_st_dtype_info[t].name : "?";
}

/* ------------------------------------------------------------------ */
/* Helpers for messages                                                */

/* A printable, bounded copy of a name for error messages: control bytes
 * become '?', long names are cut (at a UTF-8 boundary) with "...". */
const char *duet_st_show_name(const char *name, char buf[SHOW_CAP])
{
    size_t n = strlen(name), cut = n;
    int dots = 0;
    if (n > SHOW_CAP - 4) {
        cut = SHOW_CAP - 4;
        while (cut > 0 && ((unsigned char)name[cut] & 0xc0) == 0x80) cut--;
        dots = 1;
    }
    for (size_t i = 0; i < cut; i++) {
        unsigned char c = (unsigned char)name[i];
        buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (dots) {
        memcpy(buf + cut, "...", 3);
        cut += 3;
    }
    buf[cut] = '\0';
    return buf;
}

static void fmt_shape(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t o = 0;
    o += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? "," : "", (long long)shape[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

/* Prefix the message already in err with `tensor "name": `. */
static duet_status prefix_tensor(duet_err *err, duet_status st, const char *name)
{
    if (!err) return st;
    char shown[SHOW_CAP], msg[sizeof err->msg];
    memcpy(msg, err->msg, sizeof msg);
    return duet_err_set(err, st, "tensor \"%s\": %s", duet_st_show_name(name, shown), msg);
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */


int duet_st_cmp_kv(const void *a, const void *b)
{
    return strcmp(((const st_kv *)a)->key, ((const st_kv *)b)->key);
}

typedef struct st_rec {
    duet_st_tensor t;      /* t.name owned (char *) */
    uint64_t begin, end;   /* data_offsets */
    size_t at;             /* file offset of the tensor's entry, for messages */
} st_rec;

struct duet_st_file {
    st_rec *rec;           /* sorted by data offsets (begin, end, name) */
    size_t count, cap;
    size_t *by_name;       /* indices into rec sorted by name */
    st_kv *meta;           /* metadata, sorted by key */
    size_t mcount, mcap;
    unsigned char *blob;   /* tensor data, each in a 64-byte aligned slot */
};

void duet_st_free(duet_st_file *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->count; i++) free((char *)f->rec[i].t.name);
    for (size_t i = 0; i < f->mcount; i++) {
        free(f->meta[i].key);
        free(f->meta[i].val);
    }
    free(f->rec);
    free(f->by_name);
    free(f->meta);
    free(f->blob);
    free(f);
}

int duet_st_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap * 2 : 8;
    while (nc < need) nc *= 2;
    if (nc > SIZE_MAX / elem) return 0;
    void *q = realloc(*p, nc * elem);
    if (!q) return 0;
    *p = q;
    *cap = nc;
    return 1;
}

static duet_status parse_metadata(duet_json *j, duet_st_file *f, duet_err *err)
{
    duet_status st = duet_json_expect(j, '{', "'{' opening __metadata__", err);
    if (st) return st;
    if (duet_json_accept(j, '}')) return DUET_OK;
    for (;;) {
        char *key = NULL, *val = NULL;
        if ((st = duet_json_string(j, &key, NULL, err))) goto fail;
        if ((st = duet_json_expect(j, ':', "':' after a __metadata__ key", err))) goto fail;
        if (duet_json_peek(j) != '"') {
            char shown[SHOW_CAP];
            st = duet_err_set(err, DUET_ERR_FORMAT,
                              "__metadata__ value of \"%s\" at byte %zu is not a string "
                              "(metadata must map strings to strings)",
                              duet_st_show_name(key, shown), j->base + j->pos);
            goto fail;
        }
        if ((st = duet_json_string(j, &val, NULL, err))) goto fail;
        if (!duet_st_grow((void **)&f->meta, &f->mcap, f->mcount + 1, sizeof *f->meta)) goto nomem;
        f->meta[f->mcount].key = key;
        f->meta[f->mcount].val = val;
        f->mcount++;
        if (duet_json_accept(j, ',')) continue;
        return duet_json_expect(j, '}', "',' or '}' in __metadata__", err);
    nomem:
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    fail:
        free(key);
        free(val);
        return st;
    }
}

static int dtype_lookup(const char *s, duet_st_dtype *out)
{
    for (int i = 0; i < N_DTYPES; i++)
        if (strcmp(s, duet_st_dtype_info[i].name) == 0) {
            *out = (duet_st_dtype)i;
            return 1;
        }
    return 0;
}

/* Parse one tensor entry {"dtype":..,"shape":[..],"data_offsets":[b,e]}
 * (keys in any order, each exactly once, nothing else) and check it against
 * the data area of data_len bytes. */
static duet_status parse_tensor(duet_json *j, st_rec *r, uint64_t data_len, duet_err *err)
{
    duet_status st = duet_json_expect(j, '{', "'{' opening the tensor entry", err);
    if (st) return st;
    int have_dtype = 0, have_shape = 0, have_offsets = 0;
    if (!duet_json_accept(j, '}')) {
        for (;;) {
            char *key = NULL;
            size_t at = j->base + j->pos;
            if ((st = duet_json_string(j, &key, NULL, err))) return st;
            if ((st = duet_json_expect(j, ':', "':' after a key", err))) {
                free(key);
                return st;
            }
            if (strcmp(key, "dtype") == 0) {
                free(key);
                if (have_dtype++)
                    return duet_err_set(err, DUET_ERR_FORMAT, "duplicate key \"dtype\" at byte %zu", at);
                char *name = NULL;
                size_t nat = j->base + j->pos;
                if ((st = duet_json_string(j, &name, NULL, err))) return st;
                if (!dtype_lookup(name, &r->t.dtype)) {
                    int known = 0;
                    for (int i = 0; other_dtypes[i]; i++)
                        if (strcmp(name, other_dtypes[i]) == 0) known = 1;
                    char shown[SHOW_CAP];
                    st = duet_err_set(err, known ? DUET_ERR_UNSUPPORTED : DUET_ERR_FORMAT,
                                      "%s dtype \"%s\" at byte %zu",
                                      known ? "unsupported" : "unknown", duet_st_show_name(name, shown), nat);
                    free(name);
                    return st;
                }
                free(name);
            } else if (strcmp(key, "shape") == 0) {
                free(key);
                if (have_shape++)
                    return duet_err_set(err, DUET_ERR_FORMAT, "duplicate key \"shape\" at byte %zu", at);
                if ((st = duet_json_expect(j, '[', "'[' opening the shape", err))) return st;
                r->t.ndim = 0;
                if (!duet_json_accept(j, ']')) {
                    for (;;) {
                        uint64_t d;
                        if (r->t.ndim == DUET_ST_MAX_DIMS)
                            return duet_err_set(err, DUET_ERR_RANGE,
                                                "shape at byte %zu has more than %d dimensions", at,
                                                DUET_ST_MAX_DIMS);
                        if ((st = duet_json_uint(j, (uint64_t)INT64_MAX, &d, err))) return st;
                        r->t.shape[r->t.ndim++] = (int64_t)d;
                        if (duet_json_accept(j, ',')) continue;
                        if ((st = duet_json_expect(j, ']', "',' or ']' in the shape", err))) return st;
                        break;
                    }
                }
            } else if (strcmp(key, "data_offsets") == 0) {
                free(key);
                if (have_offsets++)
                    return duet_err_set(err, DUET_ERR_FORMAT,
                                        "duplicate key \"data_offsets\" at byte %zu", at);
                if ((st = duet_json_expect(j, '[', "'[' opening data_offsets", err))) return st;
                if ((st = duet_json_uint(j, UINT64_MAX, &r->begin, err))) return st;
                if ((st = duet_json_expect(j, ',', "',' between the two data_offsets", err))) return st;
                if ((st = duet_json_uint(j, UINT64_MAX, &r->end, err))) return st;
                if ((st = duet_json_expect(j, ']', "']' closing data_offsets (exactly 2 numbers)", err)))
                    return st;
            } else {
                char shown[SHOW_CAP];
                st = duet_err_set(err, DUET_ERR_FORMAT,
                                  "unknown key \"%s\" at byte %zu (allowed: dtype, shape, data_offsets)",
                                  duet_st_show_name(key, shown), at);
                free(key);
                return st;
            }
            if (duet_json_accept(j, ',')) continue;
            if ((st = duet_json_expect(j, '}', "',' or '}' in the tensor entry", err))) return st;
            break;
        }
    }
    if (!have_dtype || !have_shape || !have_offsets)
        return duet_err_set(err, DUET_ERR_FORMAT, "entry at byte %zu lacks \"%s\"", r->at,
                            !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");

    /* numel with overflow checks; any zero dimension makes it 0 */
    int64_t numel = 1;
    int zero = 0;
    for (int i = 0; i < r->t.ndim; i++)
        if (r->t.shape[i] == 0) zero = 1;
    char sh[200];
    if (!zero) {
        for (int i = 0; i < r->t.ndim; i++) {
            if (numel > INT64_MAX / r->t.shape[i]) {
                fmt_shape(sh, sizeof sh, r->t.ndim, r->t.shape);
                return duet_err_set(err, DUET_ERR_RANGE, "shape %s: element count overflows", sh);
            }
            numel *= r->t.shape[i];
        }
    } else {
        numel = 0;
    }
    size_t esz = duet_st_dtype_info[r->t.dtype].size;
    if ((uint64_t)numel > UINT64_MAX / esz || (uint64_t)numel * esz > SIZE_MAX) {
        fmt_shape(sh, sizeof sh, r->t.ndim, r->t.shape);
        return duet_err_set(err, DUET_ERR_RANGE, "shape %s of %s: byte size overflows", sh,
                            duet_st_dtype_info[r->t.dtype].name);
    }
    uint64_t need = (uint64_t)numel * esz;
    /* refused before its slot is allocated (common/limits.h) */
    int64_t cap = duet_max_tensor_bytes();
    if (need > (uint64_t)cap) {
        fmt_shape(sh, sizeof sh, r->t.ndim, r->t.shape);
        return duet_err_set(err, DUET_ERR_RANGE,
                            "%s shape %s needs %llu bytes, over the cap of %lld bytes (DUET_MAX_TENSOR_BYTES)",
                            duet_st_dtype_info[r->t.dtype].name, sh, (unsigned long long)need, (long long)cap);
    }
    r->t.numel = numel;
    r->t.nbytes = (size_t)need;
    if (r->end < r->begin)
        return duet_err_set(err, DUET_ERR_FORMAT, "data_offsets [%llu,%llu]: end is before begin",
                            (unsigned long long)r->begin, (unsigned long long)r->end);
    if (r->end > data_len)
        return duet_err_set(err, DUET_ERR_FORMAT,
                            "data_offsets [%llu,%llu] run past the end of the data area (%llu bytes)",
                            (unsigned long long)r->begin, (unsigned long long)r->end,
                            (unsigned long long)data_len);
    if (r->end - r->begin != need) {
        fmt_shape(sh, sizeof sh, r->t.ndim, r->t.shape);
        return duet_err_set(err, DUET_ERR_FORMAT,
                            "data_offsets [%llu,%llu] hold %llu bytes but %s shape %s needs %llu",
                            (unsigned long long)r->begin, (unsigned long long)r->end,
                            (unsigned long long)(r->end - r->begin), duet_st_dtype_info[r->t.dtype].name, sh,
                            (unsigned long long)need);
    }
    return DUET_OK;
}

/* qsort comparators (no global state: they only look at their arguments) */
static int cmp_rec_offsets(const void *a, const void *b)
{
    const st_rec *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->t.name, y->t.name);
}

typedef struct name_ix {
    const char *name;
    size_t ix;
} name_ix;

static int cmp_name_ix(const void *a, const void *b)
{
    const name_ix *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return x->ix < y->ix ? -1 : x->ix > y->ix;
}

/* Parse and validate the JSON header hdr[0..n) of a file whose data area has
 * data_len bytes. On success *out has every tensor's slot allocated in its
 * blob; the caller copies the data in. */
static duet_status parse_header(const unsigned char *hdr, size_t n, uint64_t data_len,
                                duet_st_file **out, duet_err *err)
{
    *out = NULL;
    if (n == 0) return duet_err_set(err, DUET_ERR_FORMAT, "header is empty (length 0)");
    if (hdr[0] != '{')
        return duet_err_set(err, DUET_ERR_FORMAT, "header does not start with '{' (byte 8 is 0x%02x)",
                            hdr[0]);
    duet_st_file *f = calloc(1, sizeof *f);
    if (!f) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    duet_json j;
    duet_json_init(&j, hdr, n, 8);
    duet_status st = duet_json_expect(&j, '{', "'{'", err);
    int have_meta = 0;
    name_ix *ix = NULL;
    if (st) goto fail;
    if (!duet_json_accept(&j, '}')) {
        for (;;) {
            char *name = NULL;
            size_t at = j.base + j.pos;
            if ((st = duet_json_string(&j, &name, NULL, err))) goto fail;
            if ((st = duet_json_expect(&j, ':', "':' after a tensor name", err))) {
                free(name);
                goto fail;
            }
            if (strcmp(name, "__metadata__") == 0) {
                free(name);
                if (have_meta++) {
                    st = duet_err_set(err, DUET_ERR_FORMAT, "duplicate \"__metadata__\" at byte %zu", at);
                    goto fail;
                }
                if ((st = parse_metadata(&j, f, err))) goto fail;
            } else {
                if (!name[0]) {
                    free(name);
                    st = duet_err_set(err, DUET_ERR_FORMAT, "empty tensor name at byte %zu", at);
                    goto fail;
                }
                if (!duet_st_grow((void **)&f->rec, &f->cap, f->count + 1, sizeof(st_rec))) {
                    free(name);
                    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                    goto fail;
                }
                st_rec *r = &f->rec[f->count++];
                memset(r, 0, sizeof *r);
                r->t.name = name;
                r->at = at;
                if ((st = parse_tensor(&j, r, data_len, err))) {
                    prefix_tensor(err, st, name);
                    goto fail;
                }
            }
            if (duet_json_accept(&j, ',')) continue;
            if ((st = duet_json_expect(&j, '}', "',' or '}' after a header entry", err))) goto fail;
            break;
        }
    }
    duet_json_ws(&j);
    if (j.pos != n) {
        st = duet_err_set(err, DUET_ERR_FORMAT,
                          "unexpected byte 0x%02x at byte %zu after the header's closing '}' "
                          "(only space padding may follow)",
                          hdr[j.pos], j.base + j.pos);
        goto fail;
    }

    /* duplicate tensor names; then the by-name index */
    if (f->count) {
        ix = malloc(f->count * sizeof *ix);
        f->by_name = malloc(f->count * sizeof *f->by_name);
        if (!ix || !f->by_name) {
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < f->count; i++) {
            ix[i].name = f->rec[i].t.name;
            ix[i].ix = i;
        }
        if (f->count > 1) qsort(ix, f->count, sizeof *ix, cmp_name_ix);
        for (size_t i = 1; i < f->count; i++)
            if (strcmp(ix[i - 1].name, ix[i].name) == 0) {
                char shown[SHOW_CAP];
                st = duet_err_set(err, DUET_ERR_FORMAT,
                                  "duplicate tensor name \"%s\" (at bytes %zu and %zu)",
                                  duet_st_show_name(ix[i].name, shown), f->rec[ix[i - 1].ix].at,
                                  f->rec[ix[i].ix].at);
                goto fail;
            }
    }
    /* duplicate metadata keys; sorted by key for lookup */
    if (f->mcount > 1) qsort(f->meta, f->mcount, sizeof *f->meta, duet_st_cmp_kv);
    for (size_t i = 1; i < f->mcount; i++)
        if (strcmp(f->meta[i - 1].key, f->meta[i].key) == 0) {
            char shown[SHOW_CAP];
            st = duet_err_set(err, DUET_ERR_FORMAT, "duplicate __metadata__ key \"%s\"",
                              duet_st_show_name(f->meta[i].key, shown));
            goto fail;
        }

    /* tile the data area: sorted by offsets, each tensor starts where the
     * previous ended, the last ends at the end of the file */
    if (f->count > 1) qsort(f->rec, f->count, sizeof *f->rec, cmp_rec_offsets);
    uint64_t cursor = 0;
    for (size_t i = 0; i < f->count; i++) {
        st_rec *r = &f->rec[i];
        if (r->begin != cursor) {
            char s1[SHOW_CAP], s2[SHOW_CAP];
            if (r->begin < cursor)
                st = duet_err_set(err, DUET_ERR_FORMAT,
                                  "tensor \"%s\": data_offsets [%llu,%llu] overlap tensor \"%s\"",
                                  duet_st_show_name(r->t.name, s1), (unsigned long long)r->begin,
                                  (unsigned long long)r->end, duet_st_show_name(f->rec[i - 1].t.name, s2));
            else
                st = duet_err_set(err, DUET_ERR_FORMAT,
                                  "tensor \"%s\": gap of %llu unused bytes before its data_offsets "
                                  "[%llu,%llu] (the data area must be fully covered)",
                                  duet_st_show_name(r->t.name, s1), (unsigned long long)(r->begin - cursor),
                                  (unsigned long long)r->begin, (unsigned long long)r->end);
            goto fail;
        }
        cursor = r->end;
    }
    if (cursor != data_len) {
        st = duet_err_set(err, DUET_ERR_FORMAT,
                          "%llu bytes at the end of the data area belong to no tensor "
                          "(data area %llu bytes, tensors cover %llu)",
                          (unsigned long long)(data_len - cursor), (unsigned long long)data_len,
                          (unsigned long long)cursor);
        goto fail;
    }
    /* by-name index (rec was re-sorted: rebuild from names) */
    if (f->count) {
        for (size_t i = 0; i < f->count; i++) {
            ix[i].name = f->rec[i].t.name;
            ix[i].ix = i;
        }
        if (f->count > 1) qsort(ix, f->count, sizeof *ix, cmp_name_ix);
        for (size_t i = 0; i < f->count; i++) f->by_name[i] = ix[i].ix;
    }
    free(ix);
    ix = NULL;

    /* aligned slots: sizes are bounded by data_len (checked above) */
    size_t total = 0;
    for (size_t i = 0; i < f->count; i++) {
        size_t slot = (f->rec[i].t.nbytes + SLOT_ALIGN - 1) / SLOT_ALIGN * SLOT_ALIGN;
        if (slot < f->rec[i].t.nbytes || total > SIZE_MAX - slot - SLOT_ALIGN) {
            st = duet_err_set(err, DUET_ERR_RANGE, "tensor data too large");
            goto fail;
        }
        total += slot;
    }
    f->blob = aligned_alloc(SLOT_ALIGN, total ? total : SLOT_ALIGN);
    if (!f->blob) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory (%zu bytes of tensor data)", total);
        goto fail;
    }
    size_t off = 0;
    for (size_t i = 0; i < f->count; i++) {
        f->rec[i].t.data = f->blob + off;
        off += (f->rec[i].t.nbytes + SLOT_ALIGN - 1) / SLOT_ALIGN * SLOT_ALIGN;
    }
    *out = f;
    return DUET_OK;
fail:
    free(ix);
    duet_st_free(f);
    return st;
}

static uint64_t le64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

/* Check the 8-byte header length against the cap and the total size. */
static duet_status check_prefix(const unsigned char *b8, uint64_t total, uint64_t *n, duet_err *err)
{
    *n = le64(b8);
    if (*n > DUET_ST_MAX_HEADER)
        return duet_err_set(err, DUET_ERR_RANGE, "header length %llu exceeds the cap of %u bytes",
                            (unsigned long long)*n, (unsigned)DUET_ST_MAX_HEADER);
    if (*n > total - 8)
        return duet_err_set(err, DUET_ERR_FORMAT,
                            "header length %llu runs past the end of the file (%llu bytes)",
                            (unsigned long long)*n, (unsigned long long)total);
    return DUET_OK;
}

static duet_status check_size(uint64_t total, duet_err *err)
{
    if (total == 0) return duet_err_set(err, DUET_ERR_FORMAT, "empty file (0 bytes)");
    if (total < 8)
        return duet_err_set(err, DUET_ERR_FORMAT,
                            "file too short (%llu bytes) to hold the 8-byte header length",
                            (unsigned long long)total);
    return DUET_OK;
}

duet_status duet_st_parse(const void *buf, size_t len, duet_st_file **out, duet_err *err)
{
    *out = NULL;
    const unsigned char *b = buf;
    uint64_t n;
    duet_status st = check_size(len, err);
    if (st) return st;
    if ((st = check_prefix(b, len, &n, err))) return st;
    duet_st_file *f;
    if ((st = parse_header(b + 8, (size_t)n, len - 8 - n, &f, err))) return st;
    const unsigned char *area = b + 8 + n;
    for (size_t i = 0; i < f->count; i++)
        if (f->rec[i].t.nbytes)
            memcpy((void *)f->rec[i].t.data, area + f->rec[i].begin, f->rec[i].t.nbytes);
    *out = f;
    return DUET_OK;
}

duet_status duet_st_load(const char *path, duet_st_file **out, duet_err *err)
{
    *out = NULL;
    if (!path || !path[0]) return duet_err_set(err, DUET_ERR_IO, "empty path");
    /* O_NONBLOCK so that a FIFO is refused instead of waiting for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return duet_err_set(err, DUET_ERR_IO, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return duet_err_set(err, DUET_ERR_IO, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return duet_err_set(err, DUET_ERR_IO, "not a regular file");
    }
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        int e = errno;
        close(fd);
        return duet_err_set(err, DUET_ERR_IO, "cannot open: %s", strerror(e));
    }
    duet_status st;
    unsigned char *hdr = NULL;
    duet_st_file *f = NULL;
    uint64_t total = (uint64_t)sb.st_size, n;
    unsigned char b8[8];
    if ((st = check_size(total, err))) goto done;
    if (fread(b8, 1, 8, fp) != 8) {
        st = duet_err_set(err, DUET_ERR_IO, "cannot read the header length: %s",
                          ferror(fp) ? strerror(errno) : "unexpected end of file");
        goto done;
    }
    if ((st = check_prefix(b8, total, &n, err))) goto done;
    hdr = malloc(n ? (size_t)n : 1);
    if (!hdr) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (fread(hdr, 1, (size_t)n, fp) != (size_t)n) {
        st = duet_err_set(err, DUET_ERR_IO, "cannot read the header: %s",
                          ferror(fp) ? strerror(errno) : "unexpected end of file");
        goto done;
    }
    if ((st = parse_header(hdr, (size_t)n, total - 8 - n, &f, err))) goto done;
    /* the tensors tile the data area in offset order: read it sequentially */
    for (size_t i = 0; i < f->count; i++) {
        size_t nb = f->rec[i].t.nbytes;
        if (nb && fread((void *)f->rec[i].t.data, 1, nb, fp) != nb) {
            char shown[SHOW_CAP];
            st = duet_err_set(err, DUET_ERR_IO, "cannot read the data of tensor \"%s\": %s",
                              duet_st_show_name(f->rec[i].t.name, shown),
                              ferror(fp) ? strerror(errno) : "unexpected end of file (file shrank?)");
            duet_st_free(f);
            f = NULL;
            goto done;
        }
    }
    *out = f;
    st = DUET_OK;
done:
    free(hdr);
    fclose(fp);
    return st;
}

size_t duet_st_count(const duet_st_file *f) { return f ? f->count : 0; }

const duet_st_tensor *duet_st_at(const duet_st_file *f, size_t i)
{
    return f && i < f->count ? &f->rec[i].t : NULL;
}

const duet_st_tensor *duet_st_get(const duet_st_file *f, const char *name)
{
    if (!f || !name) return NULL;
    size_t lo = 0, hi = f->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const st_rec *r = &f->rec[f->by_name[mid]];
        int c = strcmp(name, r->t.name);
        if (c == 0) return &r->t;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

duet_status duet_st_get_f32(const duet_st_file *f, const char *name, int ndim,
                            const int64_t *shape, const float **data, duet_err *err)
{
    if (data) *data = NULL;
    char shown[SHOW_CAP];
    if (!name) return duet_err_set(err, DUET_ERR_ARG, "NULL tensor name");
    const duet_st_tensor *t = duet_st_get(f, name);
    if (!t) return duet_err_set(err, DUET_ERR_NOTFOUND, "tensor \"%s\" not found", duet_st_show_name(name, shown));
    if (t->dtype != DUET_ST_F32)
        return duet_err_set(err, DUET_ERR_SHAPE, "tensor \"%s\": expected dtype F32, found %s",
                            duet_st_show_name(name, shown), duet_st_dtype_name(t->dtype));
    int same = ndim == t->ndim;
    for (int i = 0; same && i < ndim; i++) same = shape[i] == t->shape[i];
    if (!same) {
        char want[200], got[200];
        if (ndim < 0 || ndim > DUET_ST_MAX_DIMS || (ndim > 0 && !shape))
            snprintf(want, sizeof want, "(%d dimensions)", ndim);
        else
            fmt_shape(want, sizeof want, ndim, shape);
        fmt_shape(got, sizeof got, t->ndim, t->shape);
        return duet_err_set(err, DUET_ERR_SHAPE, "tensor \"%s\": expected shape %s, found %s",
                            duet_st_show_name(name, shown), want, got);
    }
    if (data) *data = t->data;
    return DUET_OK;
}

const char *duet_st_meta(const duet_st_file *f, const char *key)
{
    if (!f || !key) return NULL;
    size_t lo = 0, hi = f->mcount;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, f->meta[mid].key);
        if (c == 0) return f->meta[mid].val;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

size_t duet_st_meta_count(const duet_st_file *f) { return f ? f->mcount : 0; }

void duet_st_meta_at(const duet_st_file *f, size_t i, const char **key, const char **value)
{
    int ok = f && i < f->mcount;
    if (key) *key = ok ? f->meta[i].key : NULL;
    if (value) *value = ok ? f->meta[i].val : NULL;
}
