/* tests/test_rec_fuzz_regress.c: replays the inputs of the recommender
 * loaders' fuzz targets in `make test` (and under ASan/UBSan in `make
 * asan`): every file in fuzz/regress/rec_tsv/ and fuzz/regress/rec_ncf/
 * (inputs that once crashed a target or broke one of its properties) and the
 * seed corpora fuzz/corpus/rec_tsv/ and fuzz/corpus/rec_ncf/ go through the
 * very harness code of fuzz/fuzz_rec_tsv.c and fuzz/fuzz_rec_ncf.c (included
 * here under other entry names), which aborts when a property fails. */
#include "check.h"

#include <dirent.h>
#include <stdint.h>

#define FUZZ_ENTRY fuzz_rec_tsv_one
#include "../fuzz/fuzz_rec_tsv.c"
#define FUZZ_ENTRY fuzz_rec_ncf_one
#include "../fuzz/fuzz_rec_ncf.c"

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
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0, got;
        uint8_t chunk[4096];
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
            if (len + got > cap) {
                cap = (len + got) * 2;
                uint8_t *nb = realloc(buf, cap);
                if (!nb) break;
                buf = nb;
            }
            memcpy(buf + len, chunk, got);
            len += got;
        }
        fclose(f);
        fn(buf ? buf : chunk, len);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

static void test_replay_tsv(void)
{
    int seeds = replay_dir("fuzz/corpus/rec_tsv", fuzz_rec_tsv_one);
    int regress = replay_dir("fuzz/regress/rec_tsv", fuzz_rec_tsv_one);
    CHECK(seeds > 0);
    printf("# rec_tsv: %d seeds, %d regression inputs replayed\n", seeds, regress < 0 ? 0 : regress);
}

static void test_replay_ncf(void)
{
    int seeds = replay_dir("fuzz/corpus/rec_ncf", fuzz_rec_ncf_one);
    int regress = replay_dir("fuzz/regress/rec_ncf", fuzz_rec_ncf_one);
    CHECK(seeds > 0);
    printf("# rec_ncf: %d seeds, %d regression inputs replayed\n", seeds, regress < 0 ? 0 : regress);
}

int main(void)
{
    RUN(test_replay_tsv);
    RUN(test_replay_ncf);
    return check_summary();
}
