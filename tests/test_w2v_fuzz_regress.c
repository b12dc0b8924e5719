/* tests/test_w2v_fuzz_regress.c: replays the inputs of the word2vec fuzz
 * targets in `make test` (and under ASan/UBSan in `make asan`): every file
 * in fuzz/regress/w2v_vectors/ and fuzz/regress/w2v_corpus/ (inputs that once
 * crashed a target or broke one of its properties) and the seed corpora
 * fuzz/corpus/w2v_vectors/ and fuzz/corpus/w2v_corpus/ go through the very
 * harness code of fuzz/fuzz_w2v_vectors.c and fuzz/fuzz_w2v_corpus.c
 * (included here under other entry names), which aborts when a property
 * fails. Plus the expected outcomes of the inputs behind the fixes. */
#define _GNU_SOURCE
#include "check.h"

#include <dirent.h>
#include <stdint.h>

#define LLVMFuzzerTestOneInput fuzz_w2v_vectors_one
#define LLVMFuzzerInitialize fuzz_w2v_vectors_init
#include "../fuzz/fuzz_w2v_vectors.c"
#undef LLVMFuzzerTestOneInput
#undef LLVMFuzzerInitialize
#undef FUZZ_CHECK
#define LLVMFuzzerTestOneInput fuzz_w2v_corpus_one
#define LLVMFuzzerInitialize fuzz_w2v_corpus_init
#define remove_scratch corpus_remove_scratch
#define utf8_ok corpus_utf8_ok
#include "../fuzz/fuzz_w2v_corpus.c"
#undef LLVMFuzzerTestOneInput
#undef LLVMFuzzerInitialize

/* Run `fn` on every regular file of `dir`; returns the number of files (-1
 * when the directory is missing). */
static int replay_dir(const char *dir, int (*fn)(const uint8_t *, size_t))
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        unsigned char *buf = read_file(path, &len);
        fn(buf, len);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

static void test_replay_vectors(void)
{
    int seeds = replay_dir("fuzz/corpus/w2v_vectors", fuzz_w2v_vectors_one);
    int regress = replay_dir("fuzz/regress/w2v_vectors", fuzz_w2v_vectors_one);
    CHECK(seeds > 0 && regress > 0);
    printf("# w2v_vectors: %d seeds, %d regression inputs replayed\n", seeds, regress);
}

static void test_replay_corpus(void)
{
    int seeds = replay_dir("fuzz/corpus/w2v_corpus", fuzz_w2v_corpus_one);
    int regress = replay_dir("fuzz/regress/w2v_corpus", fuzz_w2v_corpus_one);
    CHECK(seeds > 0 && regress > 0);
    printf("# w2v_corpus: %d seeds, %d regression inputs replayed\n", seeds, regress);
}

/* The fixes: a dim-1 text file is read in auto mode (it was guessed binary
 * and rejected); a value may not begin with VT/FF (strtof skipped them and
 * the line end after them). */
static void test_fixed_cases(void)
{
    duet_w2v_vectors *v = NULL;
    duet_err e;
    duet_err_clear(&e);
    CHECK(duet_w2v_vectors_load("fuzz/regress/w2v_vectors/text_dim1_auto_read_as_binary.txt", W2V_FORMAT_AUTO, &v,
                                &e) == DUET_OK);
    if (v) {
        CHECK(duet_w2v_vectors_count(v) == 2 && duet_w2v_vectors_dim(v) == 1);
        CHECK(duet_w2v_vectors_row(v, 1)[0] == 2.0f);
    }
    duet_w2v_vectors_free(v);
    v = NULL;
    CHECK(duet_w2v_vectors_load("fuzz/regress/w2v_vectors/text_value_after_vt_on_next_line.txt", W2V_FORMAT_TEXT, &v,
                                &e) == DUET_ERR_FORMAT);
    CHECK(v == NULL);
}

int main(void)
{
    fuzz_w2v_vectors_init(NULL, NULL);
    fuzz_w2v_corpus_init(NULL, NULL);
    RUN(test_replay_vectors);
    RUN(test_replay_corpus);
    RUN(test_fixed_cases);
    return check_summary();
}
