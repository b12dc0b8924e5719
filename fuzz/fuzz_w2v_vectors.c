/* fuzz/fuzz_w2v_vectors.c: libFuzzer target for the word2vec vector readers
 * (recommender/word2vec.h, duet_w2v_vectors_load in text, binary and auto mode).
 *
 * Build and run through fuzz/run.sh. The input bytes are written to a
 * scratch file (per process, /dev/shm or /tmp or $FUZZ_TMPDIR) and read
 * three times: as text, as binary and with format detection. Besides "no
 * crash, no leak, no undefined behaviour" it checks, and aborts when one
 * fails:
 *  - a rejected input gives *out == NULL, a known status and a non-empty
 *    one-line message;
 *  - accepted vectors are self-consistent: count >= 1, 1 <= dim <= 100000,
 *    count and dim equal the header's, every value finite (the reader
 *    promises to reject NaN/Inf), every token non-empty valid UTF-8 without
 *    whitespace, unique (find(token(i)) == i), counts 0, norms = the rows'
 *    norms;
 *  - auto mode accepts whatever text or binary mode accepts, and gives the
 *    vectors of one of them;
 *  - round trip: writing accepted vectors in text and in binary and reading
 *    each back in its own format gives identical tokens and bit-identical
 *    rows, and the written files satisfy the auto-mode property too (a
 *    binary file can be valid text as well: then auto may give either). */
#include "../recommender/word2vec.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_CHECK(c)                                                                       \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "fuzz_w2v_vectors: property failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* scratch files (harness state, not library state) */
static char in_path[256], txt_path[256], bin_path[256];

static void remove_scratch(void)
{
    remove(in_path);
    remove(txt_path);
    remove(bin_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("FUZZ_TMPDIR");
    if (!dir) dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    long pid = (long)getpid();
    snprintf(in_path, sizeof in_path, "%s/duet_fuzz_w2v_%ld.in", dir, pid);
    snprintf(txt_path, sizeof txt_path, "%s/duet_fuzz_w2v_%ld.txt", dir, pid);
    snprintf(bin_path, sizeof bin_path, "%s/duet_fuzz_w2v_%ld.bin", dir, pid);
    atexit(remove_scratch);
    return 0;
}

/* An independent UTF-8 check (decode code points; reject overlong forms,
 * surrogates and values above U+10FFFF). */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (i + k >= n) return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += k + 1;
    }
    return 1;
}

static void check_vectors(const duet_w2v_vectors *v)
{
    size_t n = duet_w2v_vectors_count(v), dim = duet_w2v_vectors_dim(v);
    FUZZ_CHECK(n >= 1 && dim >= 1 && dim <= 100000);
    for (size_t i = 0; i < n; i++) {
        const char *t = duet_w2v_vectors_token(v, i);
        size_t len = strlen(t);
        FUZZ_CHECK(len > 0);
        for (size_t k = 0; k < len; k++) FUZZ_CHECK(strchr(" \t\r\n\v\f", t[k]) == NULL);
        FUZZ_CHECK(utf8_ok((const unsigned char *)t, len));
        FUZZ_CHECK(duet_w2v_vectors_find(v, t) == (long)i);
        FUZZ_CHECK(duet_w2v_vectors_token_count(v, i) == 0);
        const float *r = duet_w2v_vectors_row(v, i);
        double s = 0;
        for (size_t d = 0; d < dim; d++) {
            FUZZ_CHECK(isfinite(r[d]));
            s += (double)r[d] * r[d];
        }
        FUZZ_CHECK(duet_w2v_vectors_norm(v, i) == (float)sqrt(s));
    }
}

static int same_vectors(const duet_w2v_vectors *a, const duet_w2v_vectors *b)
{
    if (duet_w2v_vectors_count(a) != duet_w2v_vectors_count(b) || duet_w2v_vectors_dim(a) != duet_w2v_vectors_dim(b))
        return 0;
    size_t dim = duet_w2v_vectors_dim(a);
    for (size_t i = 0; i < duet_w2v_vectors_count(a); i++) {
        if (strcmp(duet_w2v_vectors_token(a, i), duet_w2v_vectors_token(b, i)) != 0) return 0;
        if (memcmp(duet_w2v_vectors_row(a, i), duet_w2v_vectors_row(b, i), dim * sizeof(float)) != 0) return 0;
    }
    return 1;
}

static duet_status load(const char *path, duet_w2v_format fmt, duet_w2v_vectors **v)
{
    duet_err e;
    duet_err_clear(&e);
    duet_status st = duet_w2v_vectors_load(path, fmt, v, &e);
    if (st != DUET_OK) {
        FUZZ_CHECK(*v == NULL);
        if (e.msg[0] == '\0' || strchr(e.msg, '\n') != NULL)
            fprintf(stderr, "bad message for status %d: '%s'\n", (int)st, e.msg);
        FUZZ_CHECK(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
        FUZZ_CHECK(st == DUET_ERR_FORMAT || st == DUET_ERR_NAN || st == DUET_ERR_RANGE ||
                   st == DUET_ERR_EMPTY || st == DUET_ERR_NOMEM);
    } else {
        FUZZ_CHECK(*v != NULL);
        check_vectors(*v);
    }
    return st;
}

/* The header's two numbers (the reader accepted the file, so they parse). */
static void header(const uint8_t *data, size_t size, unsigned long long *n, unsigned long long *dim)
{
    char *buf = malloc(size + 1);
    FUZZ_CHECK(buf != NULL);
    memcpy(buf, data, size);
    buf[size] = '\0';
    FUZZ_CHECK(sscanf(buf, "%llu %llu", n, dim) == 2);
    free(buf);
}

/* Read `path` as text, as binary and in auto mode; check the auto-mode
 * property; return the text and binary results (NULL when rejected). */
static void read_three(const char *path, duet_w2v_vectors **t, duet_w2v_vectors **b)
{
    duet_w2v_vectors *a = NULL;
    duet_status st_t = load(path, W2V_FORMAT_TEXT, t);
    duet_status st_b = load(path, W2V_FORMAT_BINARY, b);
    duet_status st_a = load(path, W2V_FORMAT_AUTO, &a);
    if ((*t || *b) && !a) fprintf(stderr, "text %d, binary %d, auto %d\n", (int)st_t, (int)st_b, (int)st_a);
    FUZZ_CHECK(!(*t || *b) || a != NULL);
    FUZZ_CHECK(!a || (*t && same_vectors(a, *t)) || (*b && same_vectors(a, *b)));
    duet_w2v_vectors_free(a);
}

/* Write v in both formats; each file read in its own format gives v back
 * (and satisfies the auto-mode property: a binary row can also read as text). */
static void round_trip(const duet_w2v_vectors *v)
{
    duet_err e;
    duet_err_clear(&e);
    FUZZ_CHECK(duet_w2v_vectors_save(v, txt_path, W2V_FORMAT_TEXT, &e) == DUET_OK);
    FUZZ_CHECK(duet_w2v_vectors_save(v, bin_path, W2V_FORMAT_BINARY, &e) == DUET_OK);
    duet_w2v_vectors *t = NULL, *b = NULL;
    read_three(txt_path, &t, &b);
    FUZZ_CHECK(t != NULL && same_vectors(v, t));
    duet_w2v_vectors_free(t);
    duet_w2v_vectors_free(b);
    t = b = NULL;
    read_three(bin_path, &t, &b);
    FUZZ_CHECK(b != NULL && same_vectors(v, b));
    duet_w2v_vectors_free(t);
    duet_w2v_vectors_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *fp = fopen(in_path, "wb");
    FUZZ_CHECK(fp != NULL);
    FUZZ_CHECK(size == 0 || fwrite(data, 1, size, fp) == size);
    FUZZ_CHECK(fclose(fp) == 0);

    duet_w2v_vectors *t = NULL, *b = NULL;
    read_three(in_path, &t, &b);
    duet_w2v_vectors *acc[2] = {t, b};
    for (int k = 0; k < 2; k++) {
        if (!acc[k]) continue;
        unsigned long long n, dim;
        header(data, size, &n, &dim);
        FUZZ_CHECK(duet_w2v_vectors_count(acc[k]) == n && duet_w2v_vectors_dim(acc[k]) == dim);
        round_trip(acc[k]);
    }
    duet_w2v_vectors_free(t);
    duet_w2v_vectors_free(b);
    return 0;
}
