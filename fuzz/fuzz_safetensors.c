/* fuzz/fuzz_safetensors.c: libFuzzer target for the safetensors reader
 * (nn/safetensors.h, duet_st_parse).
 *
 * Build and run through fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined).
 * Besides "no crash, no leak, no undefined behaviour", it checks properties
 * and aborts when one fails:
 *  - a rejected input yields *out == NULL and a non-empty one-line message;
 *  - duet_st_load on the same bytes written to a file (per process, in
 *    /dev/shm or /tmp) gives the same status, message and tensors as
 *    duet_st_parse;
 *  - an accepted file is self-consistent (sizes, alignment, lookups, the
 *    tensors tile the data area);
 *  - writing the parsed tensors and metadata with duet's writer and parsing
 *    the result gives the same tensors, names, shapes, bytes and metadata,
 *    and writing that again gives identical bytes (the writer is canonical). */
#include "../nn/safetensors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_CHECK(c)                                                                 \
    do {                                                                              \
        if (!(c)) {                                                                   \
            fprintf(stderr, "fuzz_safetensors: property failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static void same_files(const duet_st_file *a, const duet_st_file *b)
{
    FUZZ_CHECK(duet_st_count(a) == duet_st_count(b));
    for (size_t i = 0; i < duet_st_count(a); i++) {
        const duet_st_tensor *x = duet_st_at(a, i);
        const duet_st_tensor *y = duet_st_get(b, x->name);
        FUZZ_CHECK(y != NULL);
        FUZZ_CHECK(x->dtype == y->dtype && x->ndim == y->ndim && x->numel == y->numel);
        FUZZ_CHECK(x->nbytes == y->nbytes);
        for (int d = 0; d < x->ndim; d++) FUZZ_CHECK(x->shape[d] == y->shape[d]);
        FUZZ_CHECK(x->nbytes == 0 || memcmp(x->data, y->data, x->nbytes) == 0);
    }
    FUZZ_CHECK(duet_st_meta_count(a) == duet_st_meta_count(b));
    for (size_t i = 0; i < duet_st_meta_count(a); i++) {
        const char *k, *v;
        duet_st_meta_at(a, i, &k, &v);
        const char *w = duet_st_meta(b, k);
        FUZZ_CHECK(w != NULL && strcmp(v, w) == 0);
    }
}

static char path[256]; /* the harness's scratch file (harness state, not library state) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void remove_scratch(void) { remove(path); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* tmpfs when there is one: creating and truncating a file in /tmp costs
     * ~6 ms on this machine's disk under load, /dev/shm ~0.1 ms */
    const char *dir = getenv("FUZZ_TMPDIR");
    if (!dir) dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(path, sizeof path, "%s/duet_fuzz_st_%ld.safetensors", dir, (long)getpid());
    atexit(remove_scratch);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    duet_st_file *f = NULL;
    duet_err e;
    duet_err_clear(&e);
    duet_status st = duet_st_parse(data, size, &f, &e);

    /* the file loader must agree with the memory parser */
    FILE *fp = fopen(path, "wb");
    FUZZ_CHECK(fp != NULL);
    FUZZ_CHECK(fwrite(data, 1, size, fp) == size);
    FUZZ_CHECK(fclose(fp) == 0);
    duet_st_file *lf = NULL;
    duet_err le;
    duet_err_clear(&le);
    duet_status lst = duet_st_load(path, &lf, &le);
    if (lst != st || strcmp(le.msg, e.msg) != 0)
        fprintf(stderr, "parse: %d %s\nload: %d %s\n", (int)st, e.msg, (int)lst, le.msg);
    FUZZ_CHECK(lst == st && strcmp(le.msg, e.msg) == 0);
    if (lf) {
        FUZZ_CHECK(f != NULL);
        same_files(f, lf);
        for (size_t i = 0; i < duet_st_count(f); i++)
            FUZZ_CHECK(strcmp(duet_st_at(f, i)->name, duet_st_at(lf, i)->name) == 0);
        duet_st_free(lf);
    }

    if (st != DUET_OK) {
        FUZZ_CHECK(f == NULL);
        FUZZ_CHECK(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
        FUZZ_CHECK(st == DUET_ERR_FORMAT || st == DUET_ERR_RANGE || st == DUET_ERR_UNSUPPORTED ||
                   st == DUET_ERR_NOMEM);
        return 0;
    }
    FUZZ_CHECK(f != NULL);

    /* self-consistency of what was accepted */
    size_t total = 0;
    for (size_t i = 0; i < duet_st_count(f); i++) {
        const duet_st_tensor *t = duet_st_at(f, i);
        size_t esz = duet_st_dtype_size(t->dtype);
        FUZZ_CHECK(esz > 0 && t->ndim >= 0 && t->ndim <= DUET_ST_MAX_DIMS);
        FUZZ_CHECK(t->nbytes == (size_t)t->numel * esz);
        FUZZ_CHECK(t->data != NULL && (uintptr_t)t->data % esz == 0);
        FUZZ_CHECK(duet_st_get(f, t->name) == t);
        unsigned s = 0;
        for (size_t q = 0; q < t->nbytes; q++) s += ((const unsigned char *)t->data)[q];
        (void)s;
        total += t->nbytes;
    }
    FUZZ_CHECK(size >= 8 && total <= size - 8);

    /* round trip through the writer */
    duet_st_writer *w = NULL;
    FUZZ_CHECK(duet_st_writer_new(&w, &e) == DUET_OK);
    for (size_t i = 0; i < duet_st_count(f); i++) {
        const duet_st_tensor *t = duet_st_at(f, i);
        st = duet_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data, &e);
        if (st != DUET_OK) fprintf(stderr, "writer_add: %s\n", e.msg);
        FUZZ_CHECK(st == DUET_OK);
    }
    for (size_t i = 0; i < duet_st_meta_count(f); i++) {
        const char *k, *v;
        duet_st_meta_at(f, i, &k, &v);
        FUZZ_CHECK(duet_st_writer_meta(w, k, v, &e) == DUET_OK);
    }
    void *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    st = duet_st_writer_serialize(w, &buf, &len, &e);
    duet_st_writer_free(w);
    FUZZ_CHECK(st == DUET_OK);
    duet_st_file *g = NULL;
    st = duet_st_parse(buf, len, &g, &e);
    if (st != DUET_OK) fprintf(stderr, "re-parse: %s\n", e.msg);
    FUZZ_CHECK(st == DUET_OK);
    same_files(f, g);
    same_files(g, f);

    /* canonical: writing the re-parsed file gives the same bytes */
    FUZZ_CHECK(duet_st_writer_new(&w, &e) == DUET_OK);
    for (size_t i = 0; i < duet_st_count(g); i++) {
        const duet_st_tensor *t = duet_st_at(g, i);
        FUZZ_CHECK(duet_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data, &e) == DUET_OK);
    }
    for (size_t i = 0; i < duet_st_meta_count(g); i++) {
        const char *k, *v;
        duet_st_meta_at(g, i, &k, &v);
        FUZZ_CHECK(duet_st_writer_meta(w, k, v, &e) == DUET_OK);
    }
    FUZZ_CHECK(duet_st_writer_serialize(w, &buf2, &len2, &e) == DUET_OK);
    FUZZ_CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    duet_st_writer_free(w);
    free(buf);
    free(buf2);
    duet_st_free(g);
    duet_st_free(f);
    return 0;
}
