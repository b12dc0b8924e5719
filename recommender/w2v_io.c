/* recommender/w2v_io.c: the word2vec vector files of word2vec.h: writing and
 * reading the text format (a "<count> <dim>" line, then one "token v v ..."
 * line per vector) and the binary one (the same header, then the token, a
 * space and dim little-endian floats), with the format guessed on load. */
#include "word2vec.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/atomic_file.h"
#include "w2v_impl.h"

/* ------------------------------------------------------------- file I/O */

static int host_is_le(void)
{
    uint16_t x = 1;
    unsigned char b;
    memcpy(&b, &x, 1);
    return b == 1;
}

duet_status duet_w2v_vectors_save(const duet_w2v_vectors *v, const char *path, duet_w2v_format fmt,
                                  duet_err *err)
{
    if (fmt != W2V_FORMAT_TEXT && fmt != W2V_FORMAT_BINARY)
        return duet_err_set(err, DUET_ERR_ARG, "choose text or binary output");
    duet_atomic_file *af;
    duet_status st = duet_atomic_open(path, &af, err);
    if (st) return st;
    FILE *fp = duet_atomic_fp(af);
    int le = host_is_le();
    fprintf(fp, "%zu %zu\n", v->voc.n, v->dim);
    for (size_t i = 0; i < v->voc.n && !ferror(fp); i++) {
        const float *r = v->vec + i * v->dim;
        fputs(vocab_str(&v->voc, i), fp);
        if (fmt == W2V_FORMAT_TEXT) {
            for (size_t d = 0; d < v->dim; d++) fprintf(fp, " %.9g", (double)r[d]);
        } else {
            fputc(' ', fp);
            if (le) {
                fwrite(r, sizeof *r, v->dim, fp);
            } else {
                for (size_t d = 0; d < v->dim; d++) {
                    unsigned char b[4], o[4];
                    memcpy(b, &r[d], 4);
                    o[0] = b[3];
                    o[1] = b[2];
                    o[2] = b[1];
                    o[3] = b[0];
                    fwrite(o, 1, 4, fp);
                }
            }
        }
        fputc('\n', fp);
    }
    if (ferror(fp)) {
        duet_atomic_abort(af);
        return duet_err_set(err, DUET_ERR_IO, "write error");
    }
    return duet_atomic_commit(af, err);
}

static duet_status read_all(const char *path, char **data, size_t *size, duet_err *err)
{
    *data = NULL;
    *size = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return duet_err_set(err, DUET_ERR_IO, "cannot open: %s", strerror(errno));
    size_t cap = 1 << 16, n = 0;
    struct stat sb;
    if (fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
        cap = (size_t)sb.st_size + 1;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(fp);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory (file of %zu bytes)", cap);
    }
    for (;;) {
        if (n == cap) {
            size_t nc = cap * 2;
            char *nb = realloc(buf, nc + 1);
            if (!nb) {
                free(buf);
                fclose(fp);
                return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) {
                int e = errno;
                free(buf);
                fclose(fp);
                return duet_err_set(err, DUET_ERR_IO, "read error: %s", strerror(e));
            }
            break;
        }
    }
    fclose(fp);
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return DUET_OK;
}

static int parse_size(const char *buf, size_t size, size_t *pos, uint64_t *out)
{
    size_t p = *pos;
    uint64_t v = 0;
    size_t start = p;
    while (p < size && buf[p] >= '0' && buf[p] <= '9') {
        if (v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (uint64_t)(buf[p] - '0');
        p++;
    }
    if (p == start) return -1;
    *pos = p;
    *out = v;
    return 0;
}

static int is_text_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E' ||
           c == ' ' || c == '\t' || c == '\r' || c == '\n' || strchr("nNaAiIfFtTyY", c) != NULL;
}

/* Parse n records of dim values from buf[p..size) in format fmt (TEXT or
 * BINARY) into new vectors *out (NULL on error); the norms are computed. */
static duet_status parse_records(const char *buf, size_t size, size_t p, size_t n, size_t dim,
                                 duet_w2v_format fmt, duet_w2v_vectors **out, duet_err *err)
{
    duet_w2v_vectors *v;
    *out = NULL;
    if (duet_w2v_vectors_alloc(n, dim, &v)) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    duet_status st;
    int le = host_is_le();
    for (size_t i = 0; i < n; i++) {
        while (p < size && (buf[p] == '\n' || (fmt == W2V_FORMAT_TEXT && is_space((unsigned char)buf[p]))))
            p++;
        if (p >= size) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "file ends after %zu of %llu declared vectors", i,
                              (unsigned long long)n);
            goto fail;
        }
        size_t ts = p;
        while (p < size && buf[p] != ' ' && buf[p] != '\n' && buf[p] != '\t') p++;
        if (p >= size || buf[p] == '\n') {
            st = duet_err_set(err, DUET_ERR_FORMAT, "record %zu: token without values", i + 1);
            goto fail;
        }
        size_t tl = p - ts;
        duet_err why;
        duet_err_clear(&why);
        if (duet_w2v_token_check(buf + ts, tl, &why, DUET_ERR_FORMAT)) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "record %zu: %.400s", i + 1, why.msg);
            goto fail;
        }
        uint64_t h = hash_bytes(buf + ts, tl);
        if (vocab_find(&v->voc, buf + ts, tl, h) >= 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "record %zu: duplicate token '%.*s'", i + 1,
                              (int)(tl > 200 ? 200 : tl), buf + ts);
            goto fail;
        }
        size_t id;
        if (duet_w2v_vocab_intern(&v->voc, buf + ts, tl, h, &id)) {
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            goto fail;
        }
        v->voc.count[id] = 0;
        float *row = v->vec + i * dim;
        if (fmt == W2V_FORMAT_BINARY) {
            p++; /* the space */
            if (size - p < 4 * dim) {
                st = duet_err_set(err, DUET_ERR_FORMAT,
                                  "record %zu: truncated (needs %llu bytes of floats, %zu left)",
                                  i + 1, (unsigned long long)(4 * dim), size - p);
                goto fail;
            }
            for (size_t d = 0; d < dim; d++) {
                unsigned char b[4];
                memcpy(b, buf + p + 4 * d, 4);
                if (!le) {
                    unsigned char x = b[0];
                    b[0] = b[3];
                    b[3] = x;
                    x = b[1];
                    b[1] = b[2];
                    b[2] = x;
                }
                memcpy(&row[d], b, 4);
            }
            p += 4 * dim;
        } else {
            for (size_t d = 0; d < dim; d++) {
                while (p < size && (buf[p] == ' ' || buf[p] == '\t')) p++;
                if (p >= size || buf[p] == '\n' || buf[p] == '\r') {
                    st = duet_err_set(err, DUET_ERR_FORMAT, "record %zu: %zu values, expected %llu",
                                      i + 1, d, (unsigned long long)dim);
                    goto fail;
                }
                char *end;
                errno = 0;
                /* strtof would skip a VT or FF and then a line end */
                float x = is_space((unsigned char)buf[p]) ? 0.0f : strtof(buf + p, &end);
                if (is_space((unsigned char)buf[p]) || end == buf + p || (end < buf + size && !is_space((unsigned char)*end))) {
                    st = duet_err_set(err, DUET_ERR_FORMAT, "record %zu: value %zu is not a number",
                                      i + 1, d + 1);
                    goto fail;
                }
                row[d] = x;
                p = (size_t)(end - buf);
            }
            while (p < size && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\r')) p++;
            if (p < size && buf[p] != '\n') {
                st = duet_err_set(err, DUET_ERR_FORMAT, "record %zu: more than %llu values", i + 1,
                                  (unsigned long long)dim);
                goto fail;
            }
        }
        for (size_t d = 0; d < dim; d++)
            if (!isfinite(row[d])) {
                st = duet_err_set(err, DUET_ERR_NAN, "record %zu: non-finite value", i + 1);
                goto fail;
            }
    }
    while (p < size && is_space((unsigned char)buf[p])) p++;
    if (p < size) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "data after the %llu declared vectors",
                          (unsigned long long)n);
        goto fail;
    }
    duet_w2v_vectors_compute_norms(v);
    *out = v;
    return DUET_OK;
fail:
    duet_w2v_vectors_free(v);
    return st;
}

duet_status duet_w2v_vectors_load(const char *path, duet_w2v_format fmt, duet_w2v_vectors **out,
                                  duet_err *err)
{
    *out = NULL;
    char *buf;
    size_t size;
    duet_status st = read_all(path, &buf, &size, err);
    if (st) return st;
    duet_w2v_vectors *v = NULL;
    size_t p = 0;
    uint64_t n, dim;
    if (size == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "empty file");
        goto out;
    }
    while (p < size && (buf[p] == ' ' || buf[p] == '\t')) p++;
    if (parse_size(buf, size, &p, &n)) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "header: expected '<count> <dim>'");
        goto out;
    }
    while (p < size && (buf[p] == ' ' || buf[p] == '\t')) p++;
    if (parse_size(buf, size, &p, &dim)) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "header: expected '<count> <dim>'");
        goto out;
    }
    while (p < size && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\r')) p++;
    if (p >= size || buf[p] != '\n') {
        st = duet_err_set(err, DUET_ERR_FORMAT, "header: expected '<count> <dim>' and a newline");
        goto out;
    }
    p++;
    if (n == 0 || dim == 0) {
        st = duet_err_set(err, DUET_ERR_FORMAT, "header declares %llu vectors of dim %llu",
                          (unsigned long long)n, (unsigned long long)dim);
        goto out;
    }
    if (dim > W2V_MAX_DIM) {
        st = duet_err_set(err, DUET_ERR_RANGE, "dim %llu is over the limit %d",
                          (unsigned long long)dim, W2V_MAX_DIM);
        goto out;
    }
    /* Smallest record: text "t v v ...\n" = 2 * (dim + 1) bytes, binary
     * "t " + 4 * dim bytes; refuse headers the file cannot hold before
     * allocating anything. */
    {
        uint64_t min_rec = 2 + 2 * dim < 2 + 4 * dim ? 2 + 2 * dim : 2 + 4 * dim;
        if (n > (uint64_t)(size - p) / (min_rec - 1) + 1 || n > W2V_MAX_IDS) {
            st = duet_err_set(err, DUET_ERR_RANGE,
                              "header declares %llu vectors of dim %llu but the file has only %zu bytes",
                              (unsigned long long)n, (unsigned long long)dim, size);
            goto out;
        }
    }
    if (fmt == W2V_FORMAT_AUTO) {
        /* Guess from the first record: text when the bytes after the first
         * token, up to the end of its line (at most 4 * dim bytes), look like
         * numbers; then fall back to the other format when the guess does not
         * parse (a binary row can look like text, a text row of few values
         * is shorter than 4 * dim bytes, a hex float does not look like
         * text). */
        size_t q = p;
        while (q < size && buf[q] != ' ' && buf[q] != '\n') q++;
        q++;
        size_t look = 4 * (size_t)dim, textlike = 1;
        for (size_t k = 0; k < look && q + k < size && buf[q + k] != '\n'; k++)
            if (!is_text_byte((unsigned char)buf[q + k])) {
                textlike = 0;
                break;
            }
        duet_w2v_format first = textlike ? W2V_FORMAT_TEXT : W2V_FORMAT_BINARY;
        st = parse_records(buf, size, p, (size_t)n, (size_t)dim, first, &v, err);
        if (st == DUET_ERR_FORMAT || st == DUET_ERR_NAN) {
            duet_err e2;
            duet_err_clear(&e2);
            duet_w2v_format other = first == W2V_FORMAT_TEXT ? W2V_FORMAT_BINARY : W2V_FORMAT_TEXT;
            if (parse_records(buf, size, p, (size_t)n, (size_t)dim, other, &v, &e2) == DUET_OK)
                st = DUET_OK;
        }
    } else {
        st = parse_records(buf, size, p, (size_t)n, (size_t)dim, fmt, &v, err);
    }
    if (st) goto out;
    *out = v;
    v = NULL;
    st = DUET_OK;
out:
    duet_w2v_vectors_free(v);
    free(buf);
    return st;
}
