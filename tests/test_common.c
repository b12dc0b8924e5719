/* tests/test_common.c: status strings, the seeded RNG and atomic outputs. */
#define _DEFAULT_SOURCE /* flock() */
#include "check.h"
#include "../common/status.h"
#include "../common/rng.h"
#include "../common/atomic_file.h"
#include "../common/limits.h"
#include "../common/mem.h"
#include "../common/pathfmt.h"
#include "../common/strmap.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void test_strerror(void)
{
    CHECK(strcmp(duet_strerror(DUET_OK), "success") == 0);
    duet_err e;
    duet_err_clear(&e);
    CHECK(duet_err_set(&e, DUET_ERR_FORMAT, "bad\nthing %d", 3) == DUET_ERR_FORMAT);
    CHECK(strcmp(e.msg, "bad thing 3") == 0);
    CHECK(strcmp(duet_err_msg(NULL, DUET_ERR_NOMEM), "out of memory") == 0);
}

static void test_rng_reproducible(void)
{
    duet_rng a, b;
    duet_rng_seed(&a, 42);
    duet_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++) CHECK(duet_rng_u64(&a) == duet_rng_u64(&b));
    duet_rng_seed(&b, 43);
    CHECK(duet_rng_u64(&a) != duet_rng_u64(&b));
}

static void test_rng_distribution(void)
{
    duet_rng r;
    duet_rng_seed(&r, 7);
    double sum = 0, sum2 = 0;
    int n = 100000, counts[10] = {0};
    for (int i = 0; i < n; i++) {
        float u = duet_rng_uniform(&r);
        CHECK(u >= 0.0f && u < 1.0f);
        counts[duet_rng_below(&r, 10)]++;
        float z = duet_rng_normal(&r);
        sum += z;
        sum2 += (double)z * z;
    }
    CHECK_NEAR(sum / n, 0.0, 0.02);
    CHECK_NEAR(sum2 / n, 1.0, 0.02);
    for (int k = 0; k < 10; k++) CHECK_NEAR(counts[k], n / 10, 500);
}

static void test_atomic_commit_and_abort(void)
{
    char dir[] = "/tmp/duet_test_XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    duet_atomic_file *f;
    REQUIRE(duet_atomic_open(path, &f, NULL) == DUET_OK);
    fputs("hello", duet_atomic_fp(f));
    CHECK(access(path, F_OK) != 0); /* not visible before commit */
    CHECK(duet_atomic_commit(f, NULL) == DUET_OK);
    CHECK(access(path, F_OK) == 0);
    REQUIRE(duet_atomic_open(path, &f, NULL) == DUET_OK);
    fputs("partial", duet_atomic_fp(f));
    duet_atomic_abort(f);
    FILE *fp = fopen(path, "rb");
    REQUIRE(fp);
    char buf[16] = {0};
    CHECK(fread(buf, 1, sizeof buf - 1, fp) == 5);
    fclose(fp);
    CHECK(strcmp(buf, "hello") == 0);
    unlink(path);
    CHECK(rmdir(dir) == 0); /* no temporary left behind */
}

static void test_atomic_missing_folder(void)
{
    duet_atomic_file *f = NULL;
    duet_err e;
    duet_err_clear(&e);
    CHECK(duet_atomic_open("/nonexistent_dir_duet/x.wav", &f, &e) == DUET_ERR_IO);
    CHECK(f == NULL);
    CHECK(strstr(e.msg, "No such file") != NULL);
}


static void test_atomic_refuses_non_regular(void)
{
    duet_atomic_file *f = NULL;
    duet_err e;
    duet_err_clear(&e);
    CHECK(duet_atomic_open("/dev/full", &f, &e) == DUET_ERR_IO);
    CHECK(f == NULL);
    CHECK(strstr(e.msg, "not a regular file") != NULL);
    CHECK(duet_atomic_open("/tmp", &f, &e) == DUET_ERR_IO);
    struct stat sb;
    CHECK(stat("/dev/full", &sb) == 0 && S_ISCHR(sb.st_mode));
}

/* caps from the environment (limits.h) */
static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void make_temp(const char *p, int age_s)
{
    FILE *f = fopen(p, "w");
    REQUIRE(f != NULL);
    fputs("partial", f);
    fclose(f);
    struct timespec ts[2];
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= age_s;
    ts[1] = ts[0];
    REQUIRE(utimensat(AT_FDCWD, p, ts, 0) == 0);
}

/* A killed writer's temporary is removed by the next open of the same target
 * (old and unlocked); a live writer's (locked) or a brand-new one is kept, and
 * so are other targets' temporaries. */
static void test_atomic_stale_temporaries(void)
{
    char dir[] = "/tmp/duet_atomic_XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char target[96], dead[128], live[128], young[128], other[128], lookalike[128];
    snprintf(target, sizeof target, "%s/out.tsv", dir);
    snprintf(dead, sizeof dead, "%s/.out.tsv.tmp.AbC123", dir);
    snprintf(live, sizeof live, "%s/.out.tsv.tmp.LiVe99", dir);
    snprintf(young, sizeof young, "%s/.out.tsv.tmp.yOung1", dir);
    snprintf(other, sizeof other, "%s/.other.tsv.tmp.AbC123", dir);
    snprintf(lookalike, sizeof lookalike, "%s/.out.tsv.tmp.AbC123.keep", dir);
    make_temp(dead, 3600);
    make_temp(live, 3600);
    make_temp(young, 0);
    make_temp(other, 3600);
    make_temp(lookalike, 3600);
    int lfd = open(live, O_RDONLY);
    REQUIRE(lfd >= 0);
    REQUIRE(flock(lfd, LOCK_EX | LOCK_NB) == 0); /* a writer still at work */
    duet_atomic_file *f;
    REQUIRE(duet_atomic_open(target, &f, NULL) == DUET_OK);
    CHECK(!exists(dead));
    CHECK(exists(live));
    CHECK(exists(young));
    CHECK(exists(other));
    CHECK(exists(lookalike));
    /* our own temporary is locked: a second writer of the same target keeps it */
    const char *mine = duet_atomic_tmp_path(f);
    make_temp(mine, 3600);
    duet_atomic_file *g;
    REQUIRE(duet_atomic_open(target, &g, NULL) == DUET_OK);
    CHECK(exists(mine));
    duet_atomic_abort(g);
    CHECK(duet_atomic_commit(f, NULL) == DUET_OK);
    close(lfd);
    unlink(live);
    unlink(young);
    unlink(other);
    unlink(lookalike);
    unlink(target);
    CHECK(rmdir(dir) == 0);
}

static void test_limits(void)
{
    int64_t v = 0;
    CHECK(duet_limit_parse("4096", &v) == 0 && v == 4096);
    CHECK(duet_limit_parse("64K", &v) == 0 && v == 65536);
    CHECK(duet_limit_parse("2g", &v) == 0 && v == ((int64_t)2 << 30));
    CHECK(duet_limit_parse("1T", &v) == 0 && v == ((int64_t)1 << 40));
    const char *bad[] = {"", "0", "-5", " 5", "5 ", "5KB", "junk", "99999999999999999999", "9000000000000T", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK_MSG(duet_limit_parse(bad[i], &v) != 0, "%s", bad[i]);
    unsetenv("DUET_MAX_SAMPLES");
    CHECK(duet_max_samples() == DUET_DEFAULT_MAX_SAMPLES);
    setenv("DUET_MAX_SAMPLES", "1M", 1);
    CHECK(duet_max_samples() == ((int64_t)1 << 20));
    setenv("DUET_MAX_SAMPLES", "nonsense", 1);
    CHECK(duet_max_samples() == DUET_DEFAULT_MAX_SAMPLES);
    unsetenv("DUET_MAX_SAMPLES");
    setenv("DUET_MAX_TENSOR_BYTES", "100", 1);
    CHECK(duet_max_tensor_bytes() == 100);
    unsetenv("DUET_MAX_TENSOR_BYTES");
    CHECK(duet_max_tensor_bytes() == DUET_DEFAULT_MAX_TENSOR_BYTES);
}

static void test_pathfmt_and_join(void)
{
    CHECK(!strcmp(duet_path_format("a/X.WAVE"), "wav"));
    CHECK(!strcmp(duet_path_format("y.oga"), "ogg"));
    CHECK(duet_path_format("/dev/null") == NULL);
    CHECK(duet_format_is_audio("flac") && !duet_format_is_audio("png"));
    char *p = duet_path_join("dir/sub", "file.tsv");
    REQUIRE(p);
    CHECK(!strcmp(p, "dir/sub/file.tsv"));
    free(p);
    p = duet_str_concat("lastfm", ".train.rating");
    REQUIRE(p);
    CHECK(!strcmp(p, "lastfm.train.rating"));
    free(p);
}

/* The hash against values computed in Python (offset basis 1469598103934665603,
 * see strmap.h); the map against a brute-force list through several growths. */
static void test_strmap(void)
{
    CHECK(duet_hash_str("") == 0x14650fb0739d0383ULL);
    CHECK(duet_hash_str("a") == 0x44bd8ad473cd9906ULL);
    CHECK(duet_hash_str("foobar") == 0x88fad7c0a8ff07f2ULL);
    CHECK(duet_hash_bytes("foobarXYZ", 6) == duet_hash_str("foobar"));
    enum { N = 3000 };
    static char keys[N][16];
    duet_strmap m = {0};
    CHECK(duet_strmap_get(&m, "x") == -1);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i * 7);
        REQUIRE(duet_strmap_put(&m, keys[i], i) == 0);
    }
    CHECK(m.n == N && m.cap >= 2 * N);
    int bad = 0;
    for (int i = 0; i < N; i++) bad += duet_strmap_get(&m, keys[i]) != i;
    char probe[16];
    for (int i = 0; i < N; i++) {
        snprintf(probe, sizeof probe, "k%d", i * 7 + 1);
        bad += (i * 7 + 1) % 7 != 0 && duet_strmap_get(&m, probe) != -1;
    }
    CHECK(bad == 0);
    duet_strmap_free(&m);
    CHECK(m.cap == 0 && m.keys == NULL);
}

static void test_alloc_large(void)
{
    size_t sizes[] = {0, 1, 100, ((size_t)2 << 20) - 1, (size_t)2 << 20, ((size_t)5 << 20) + 3};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        unsigned char *p = duet_alloc_large(sizes[k]);
        REQUIRE(p);
        size_t align = sizes[k] >= ((size_t)2 << 20) ? ((size_t)2 << 20) : 64;
        CHECK((uintptr_t)p % align == 0);
        if (sizes[k]) {
            p[0] = 1;
            p[sizes[k] - 1] = 2; /* whole block writable (valgrind/ASan check the bounds) */
        }
        free(p);
    }
    CHECK(duet_alloc_large(SIZE_MAX - 10) == NULL);
}

/* duet_rng_shuffle is Fisher-Yates with duet_rng_below (the order every
 * shuffle in duet had before it), for any element size; shuffle2 moves two
 * arrays together. */
static void test_rng_shuffle(void)
{
    enum { N = 37 };
    int64_t a[N], ref[N];
    int32_t b[N], c[N];
    struct {
        char s[3];
    } d[N];
    for (int i = 0; i < N; i++) {
        a[i] = ref[i] = i;
        b[i] = i;
        c[i] = 1000 + i;
        d[i].s[0] = (char)i;
        d[i].s[1] = d[i].s[2] = 0;
    }
    duet_rng r1, r2, r3, r4;
    duet_rng_seed(&r1, 99);
    r2 = r3 = r4 = r1;
    duet_rng_shuffle(&r1, a, N, sizeof *a);
    for (int k = N - 1; k > 0; k--) {
        int j = (int)duet_rng_below(&r2, (uint64_t)k + 1);
        int64_t t = ref[k];
        ref[k] = ref[j];
        ref[j] = t;
    }
    int same = 1, moved = 0;
    for (int i = 0; i < N; i++) {
        same &= a[i] == ref[i];
        moved += a[i] != i;
    }
    CHECK(same && moved > N / 2);
    duet_rng_shuffle2(&r3, b, sizeof *b, c, sizeof *c, N);
    duet_rng_shuffle(&r4, d, N, sizeof *d);
    int ok = 1;
    for (int i = 0; i < N; i++) ok &= b[i] == a[i] && c[i] == 1000 + a[i] && d[i].s[0] == (char)a[i];
    CHECK(ok);
    duet_rng_shuffle(&r1, a, 0, sizeof *a); /* empty and single: nothing happens */
    duet_rng_shuffle(&r1, a, 1, sizeof *a);
}

int main(void)
{
    RUN(test_strerror);
    RUN(test_rng_reproducible);
    RUN(test_rng_distribution);
    RUN(test_atomic_commit_and_abort);
    RUN(test_atomic_missing_folder);
    RUN(test_atomic_refuses_non_regular);
    RUN(test_atomic_stale_temporaries);
    RUN(test_limits);
    RUN(test_pathfmt_and_join);
    RUN(test_strmap);
    RUN(test_rng_shuffle);
    RUN(test_alloc_large);
    return check_summary();
}
