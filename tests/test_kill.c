/* tests/test_kill.c: crash safety of the long-running commands (issue 9).
 *
 * - `duet train-sep` on a tiny synthesised MIR-1K-style set (stereo 16 kHz
 *   clips, left = accompaniment, right = voice) with a tiny network, one
 *   thread and a checkpoint every step (no self-attention: its 256-frame
 *   validation chunks would dominate the run time), is killed with SIGKILL at seeded
 *   random moments and resumed with --resume; the final checkpoint (weights,
 *   Adam moments, RNG, schedule) and the best model must be byte-identical
 *   to those of an uninterrupted run with the same seed, and the progress
 *   lines printed after a resume must equal the uninterrupted run's.
 * - `duet train-rec` (a checkpoint per epoch) killed and resumed: the same
 *   model file as an uninterrupted run.
 * - `duet features --catalog` killed mid-run and re-run gives exactly the
 *   rows of an uninterrupted run: same header, same set of rows (byte-equal),
 *   no duplicate and no torn row.
 *
 * The kill moments come from DUET_KILL_SEED (default fixed), so a failure is
 * reproducible; the moments are fractions of the measured uninterrupted run
 * time. Needs DUET (the binary; `make check` sets it). Work happens in a
 * temporary folder (on /dev/shm when present: the trainer fsyncs every step)
 * removed at the end. */
#define _DEFAULT_SOURCE
#include "check.h"
#include "../audio/audio.h"
#include "../common/rng.h"
#include "../nn/safetensors.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Under AddressSanitizer (make asan) every run is several times slower:
 * fewer training steps keep the program fast; the checks are the same. */
#if defined(__SANITIZE_ADDRESS__)
#define TRAIN_STEPS "12"
#define TRAIN_EVAL "4"
#define REC_EPOCHS "3"
#else
#define TRAIN_STEPS "24"
#define TRAIN_EVAL "8"
#define REC_EPOCHS "5"
#endif

static const char *duet_bin;
static char dir[128];
static duet_rng kill_rng;

static const char *tp(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_s(double s)
{
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (len) *len = 0;
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap + 1);
    for (;;) {
        size_t got = fread(s + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        cap *= 2;
        s = realloc(s, cap + 1);
    }
    fclose(f);
    s[n] = '\0';
    if (len) *len = n;
    return s;
}

static int same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* Start duet with argv (argv[0] is ignored), stdout+stderr to log (appended). */
static pid_t spawn(char *const *argv, const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        setenv("OMP_NUM_THREADS", "1", 1);
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        setenv("OMP_WAIT_POLICY", "passive", 1); /* no spinning on a loaded machine */
        /* the shared build folder may be relinking the binary: retry a while */
        for (int tries = 0; tries < 200; tries++) {
            execv(duet_bin, argv);
            if (errno != ENOENT && errno != ETXTBSY && errno != EACCES) break;
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        _exit(127);
    }
    return pid;
}

/* Exit status, or 128 + signal. */
static int wait_rc(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Kill pid after `secs` unless it ends first; returns 1 when it was killed. */
static int kill_after(pid_t pid, double secs, int *rc)
{
    double end = now_s() + secs;
    while (now_s() < end) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            *rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return 0;
        }
        sleep_s(0.005);
    }
    kill(pid, SIGKILL);
    *rc = wait_rc(pid);
    return 1;
}

/* ---------------------------------------------------------------- train-sep */

static void write_clip(const char *name, double seconds, uint64_t seed)
{
    duet_audio a;
    int sr = 16000;
    DUET_CHECK(duet_audio_alloc(&a, 2, (int64_t)(seconds * sr), sr) == DUET_OK);
    duet_rng r;
    duet_rng_seed(&r, seed);
    double f0 = 110.0 + 20.0 * (double)(seed % 5), fv = 280.0 + 30.0 * (double)(seed % 3);
    for (int64_t i = 0; i < a.frames; i++) {
        double t = (double)i / sr;
        double saw = 2.0 * (t * f0 - floor(t * f0 + 0.5));
        a.ch[0][i] = (float)(0.25 * saw + 0.03 * duet_rng_normal(&r));
        double on = sin(2 * M_PI * 0.7 * t) > -0.3 ? 1.0 : 0.0;
        a.ch[1][i] = (float)(0.35 * on * sin(2 * M_PI * (fv * t + 3.0 * sin(2 * M_PI * 5.0 * t) / (2 * M_PI * 5.0))));
    }
    char path[512];
    snprintf(path, sizeof path, "%s/data/%s.wav", dir, name);
    DUET_CHECK(duet_audio_write(path, &a, DUET_FILE_WAV_PCM16, NULL) == DUET_OK);
    duet_audio_free(&a);
}

/* argv for a train-sep run writing model `out` and checkpoint `ckpt`. */
static void train_argv(char **av, const char *out, const char *ckpt, const char *resume)
{
    static char data[512], o[512], c[512], r[512];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(o, sizeof o, "%s", out);
    snprintf(c, sizeof c, "%s", ckpt);
    int n = 0;
    const char *fixed[] = {"duet", "train-sep", "--data", data, "--val-singers", "bobon", "--val-clips", "1",
                           "--base", "4", "--depth", "2", "--frames", "32", "--batch", "2", "-j", "1",
                           "--ckpt-every", "1", "--eval-every", TRAIN_EVAL, "--steps", TRAIN_STEPS, "--seed", "7", "--no-sa",
                           "--patience", "0"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) av[n++] = (char *)fixed[i];
    av[n++] = "--out";
    av[n++] = o;
    av[n++] = "--ckpt";
    av[n++] = c;
    if (resume) {
        snprintf(r, sizeof r, "%s", resume);
        av[n++] = "--resume";
        av[n++] = r;
    }
    av[n] = NULL;
}

/* The "step N/M  loss X" part of each progress line of a log, one per line. */
static char *loss_lines(const char *log)
{
    char *s = slurp(log, NULL);
    if (!s) return calloc(1, 1);
    char *out = calloc(1, strlen(s) + 1), *save = NULL;
    for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "step ", 5) != 0) continue;
        char *lr = strstr(l, "  lr ");
        if (lr) *lr = '\0';
        strcat(out, l);
        strcat(out, "\n");
    }
    free(s);
    return out;
}

/* Names in dir containing `part`. */
static int count_matching(const char *d, const char *part)
{
    DIR *dd = opendir(d);
    if (!dd) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dd)))
        if (strstr(de->d_name, part)) n++;
    closedir(dd);
    return n;
}

static void test_train_sep_kill_resume(void)
{
    char data[512];
    snprintf(data, sizeof data, "%s/data", dir);
    REQUIRE(mkdir(data, 0755) == 0);
    write_clip("abjones_1_01", 2.0, 1);
    write_clip("abjones_2_01", 2.0, 2);
    write_clip("amy_1_01", 2.0, 3);
    write_clip("bobon_1_01", 1.0, 4);

    /* the uninterrupted run */
    char *av[48];
    train_argv(av, tp("ref.safetensors"), tp("ref.ckpt"), NULL);
    double t0 = now_s();
    int rc = wait_rc(spawn(av, tp("ref.log")));
    double t_ref = now_s() - t0;
    REQUIRE(rc == 0);
    char *ref_lines = loss_lines(tp("ref.log"));
    CHECK(strstr(ref_lines, "step " TRAIN_STEPS "/" TRAIN_STEPS) != NULL);

    /* killed twice at seeded moments, resumed each time, then run to the end */
    int kills = 0, resumes = 0;
    for (int round = 0; round < 3; round++) {
        struct stat sb;
        int have = stat(tp("k.ckpt"), &sb) == 0;
        train_argv(av, tp("k.safetensors"), tp("k.ckpt"), have ? tp("k.ckpt") : NULL);
        resumes += have;
        char log[64];
        snprintf(log, sizeof log, "k%d.log", round);
        pid_t pid = spawn(av, tp(log));
        if (round < 2) {
            double at = (0.15 + 0.35 * duet_rng_uniform_d(&kill_rng)) * t_ref;
            int killed = kill_after(pid, at, &rc);
            kills += killed;
            if (killed) {
                CHECK(rc == 128 + SIGKILL);
                continue;
            }
            /* on a loaded machine the run may finish before its kill time: then
               this run is the last one, and its lines are checked below */
            CHECK(rc == 0);
        } else {
            rc = wait_rc(pid);
            CHECK_MSG(rc == 0, "final resume exited %d", rc);
        }
        /* every progress line printed after the resume is the uninterrupted run's */
        char *k_lines = loss_lines(tp(log));
        CHECK_MSG(k_lines[0] && strstr(ref_lines, k_lines) != NULL, "resumed lines:\n%s\nreference:\n%s",
                  k_lines, ref_lines);
        free(k_lines);
        break;
    }
    CHECK(kills >= 1);
    CHECK(resumes >= 1);
    fprintf(stderr, "  train-sep: uninterrupted %.2f s, %d kills, %d resumes, %d temporaries left by the kills\n",
            t_ref, kills, resumes, count_matching(dir, ".tmp."));
    CHECK_MSG(same_file(tp("ref.ckpt"), tp("k.ckpt")), "final checkpoints differ");
    CHECK_MSG(same_file(tp("ref.safetensors"), tp("k.safetensors")), "best models differ");
    /* the checkpoint and model are never torn: only whole files under their names */
    free(ref_lines);
}

/* The data stream (batch sampling, augmentation, dropout: one RNG saved in
 * the checkpoint) does not depend on the thread count: after the same steps
 * with -j 1 and -j 2 the checkpoints hold the same RNG state; the weights
 * differ only by float rounding (reductions in another order). */
static void test_train_sep_threads(void)
{
    struct stat sb;
    REQUIRE(stat(tp("data/amy_1_01.wav"), &sb) == 0); /* made by the test above */
    const char *j[2] = {"1", "2"};
    duet_st_file *f[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        char data[512], out[512], ck[512];
        snprintf(data, sizeof data, "%s/data", dir);
        snprintf(out, sizeof out, "%s/j%s.safetensors", dir, j[k]);
        snprintf(ck, sizeof ck, "%s/j%s.ckpt", dir, j[k]);
        char *av[] = {"duet", "train-sep", "--data", data, "--val-singers", "none", "--base", "4", "--depth", "2",
                      "--frames", "32", "--batch", "2", "--steps", "4", "--seed", "7", "--no-sa", "-q",
                      "-j", (char *)j[k], "--out", out, "--ckpt", ck, NULL};
        REQUIRE(wait_rc(spawn(av, tp("j.log"))) == 0);
        duet_err e;
        REQUIRE(duet_st_load(ck, &f[k], &e) == DUET_OK);
    }
    const char *keys[] = {"train.step", "train.rng", "adam.t"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const duet_st_tensor *a = duet_st_get(f[0], keys[i]), *b = duet_st_get(f[1], keys[i]);
        CHECK_MSG(a && b && a->nbytes == b->nbytes && memcmp(a->data, b->data, a->nbytes) == 0, "%s differs", keys[i]);
    }
    double md = 0;
    REQUIRE(duet_st_count(f[0]) == duet_st_count(f[1]));
    for (size_t i = 0; i < duet_st_count(f[0]); i++) {
        const duet_st_tensor *p1 = duet_st_at(f[0], i), *p2 = duet_st_get(f[1], duet_st_at(f[0], i)->name);
        if (p1->dtype != DUET_ST_F32 || !strncmp(p1->name, "adam.", 5)) continue;
        REQUIRE(p2 && p1->numel == p2->numel);
        double d = check_max_abs_diff((const float *)p1->data, (const float *)p2->data, (size_t)p1->numel);
        if (d > md) md = d;
    }
    fprintf(stderr, "  -j 1 vs -j 2 after 4 steps: same RNG state, max |weight difference| %.3g\n", md);
    CHECK(md < 1e-3);
    duet_st_free(f[0]);
    duet_st_free(f[1]);
}

/* ------------------------------------------------------------ train-rec */

/* `duet train-rec` (checkpoint after every epoch) killed and resumed writes
 * the same model as an uninterrupted run. Skipped when the binary has no
 * train-rec. */
static void test_train_rec_kill_resume(void)
{
    char *help[] = {"duet", "train-rec", "--help", NULL};
    if (wait_rc(spawn(help, tp("help.log"))) != 0) {
        fprintf(stderr, "  train-rec not in this build: skipped\n");
        return;
    }
    /* 300 users x 12 of 80 items, seeded */
    FILE *f = fopen(tp("inter.tsv"), "w");
    REQUIRE(f);
    duet_rng r;
    duet_rng_seed(&r, 11);
    for (int u = 0; u < 300; u++) {
        int used[80] = {0};
        for (int k = 0; k < 12;) {
            int i = (int)duet_rng_below(&r, 80);
            if (used[i]) continue;
            used[i] = 1;
            k++;
            fprintf(f, "u%d\ti%d\t%d\n", u, i, 1 + (int)duet_rng_below(&r, 50));
        }
    }
    fclose(f);
    char inter[512], out[2][512], ck[2][512];
    snprintf(inter, sizeof inter, "%s", tp("inter.tsv"));
    for (int k = 0; k < 2; k++) {
        snprintf(out[k], sizeof out[k], "%s/rec%d.safetensors", dir, k);
        snprintf(ck[k], sizeof ck[k], "%s/rec%d.ckpt", dir, k);
    }
#define REC_ARGV(k, resume)                                                                                   \
    {"duet", "train-rec", "--quiet", "--interactions", inter, "--epochs", REC_EPOCHS, "--patience", "100", "--seed",  \
     "3", "--out", out[k], "--ckpt", ck[k], (resume) ? "--resume" : NULL, ck[k], NULL}
    char *ref[] = REC_ARGV(0, 0);
    double t0 = now_s();
    REQUIRE(wait_rc(spawn(ref, tp("rec.log"))) == 0);
    double t_ref = now_s() - t0;
    int kills = 0, resumes = 0, rc;
    for (int round = 0; round < 3; round++) {
        struct stat sb;
        int have = stat(ck[1], &sb) == 0;
        resumes += have;
        char *av[] = REC_ARGV(1, have);
        pid_t pid = spawn(av, tp("rec.log"));
        if (round < 2) {
            int killed = kill_after(pid, (0.2 + 0.6 * duet_rng_uniform_d(&kill_rng)) * t_ref, &rc);
            kills += killed;
            CHECK(killed ? rc == 128 + SIGKILL : rc == 0);
        } else {
            CHECK(wait_rc(pid) == 0);
        }
    }
#undef REC_ARGV
    fprintf(stderr, "  train-rec: uninterrupted %.2f s, %d kills, %d resumes\n", t_ref, kills, resumes);
    CHECK(kills >= 1);
    CHECK_MSG(same_file(out[0], out[1]), "models differ");
}

/* ------------------------------------------------------------ catalog */

static void write_tone(const char *name, double seconds, double hz)
{
    duet_audio a;
    int sr = 22050;
    DUET_CHECK(duet_audio_alloc(&a, 1, (int64_t)(seconds * sr), sr) == DUET_OK);
    for (int64_t i = 0; i < a.frames; i++) {
        double t = (double)i / sr;
        a.ch[0][i] = (float)(0.3 * sin(2 * M_PI * hz * t) + ((i % (sr / 2)) < 300 ? 0.4 * sin((double)i * 0.9) : 0));
    }
    DUET_CHECK(duet_audio_write(tp(name), &a, DUET_FILE_WAV_PCM16, NULL) == DUET_OK);
    duet_audio_free(&a);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Split a TSV into its header and sorted rows; checks each row is whole. */
static size_t rows_of(const char *path, char **header, char ***rows, size_t *tabs_bad)
{
    size_t len;
    char *s = slurp(path, &len);
    *header = NULL;
    *rows = NULL;
    *tabs_bad = 0;
    if (!s) return 0;
    if (len && s[len - 1] != '\n') (*tabs_bad)++; /* torn last row */
    size_t n = 0, cap = 16, htabs = 0;
    char **r = malloc(cap * sizeof *r), *save = NULL;
    for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        size_t tabs = 0;
        for (char *p = l; *p; p++) tabs += *p == '\t';
        if (!*header) {
            *header = strdup(l);
            htabs = tabs;
            continue;
        }
        if (tabs != htabs) (*tabs_bad)++;
        if (n == cap) r = realloc(r, (cap *= 2) * sizeof *r);
        r[n++] = strdup(l);
    }
    free(s);
    qsort(r, n, sizeof *r, cmp_str);
    *rows = r;
    return n;
}

static void free_rows(char *header, char **rows, size_t n)
{
    for (size_t i = 0; i < n; i++) free(rows[i]);
    free(rows);
    free(header);
}

static void test_catalog_kill_rerun(void)
{
    FILE *f = fopen(tp("list.tsv"), "w");
    REQUIRE(f);
    fprintf(f, "item_id\tpath\n");
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%d.wav", i);
        write_tone(name, 2.0 + 0.25 * i, 180.0 + 40.0 * i);
        fprintf(f, "song%d\t%s\n", i, name);
    }
    fprintf(f, "broken\tmissing.wav\n");
    fclose(f);

    char *av[16] = {"duet", "features", "--catalog", NULL, "--out", NULL, "-j", "2", "--no-progress", NULL};
    char list[512], out[512];
    snprintf(list, sizeof list, "%s", tp("list.tsv"));
    av[3] = list;
    snprintf(out, sizeof out, "%s", tp("ref.tsv"));
    av[5] = out;
    double t0 = now_s();
    /* exit 1: the broken item failed (its row carries the error) */
    REQUIRE(wait_rc(spawn(av, tp("cat_ref.log"))) == 1);
    double t_ref = now_s() - t0;
    char *h_ref, **r_ref;
    size_t bad_ref, n_ref = rows_of(tp("ref.tsv"), &h_ref, &r_ref, &bad_ref);
    CHECK(n_ref == 11 && bad_ref == 0);

    snprintf(out, sizeof out, "%s", tp("killed.tsv"));
    int kills = 0;
    for (int round = 0; round < 3; round++) {
        pid_t pid = spawn(av, tp("cat_k.log"));
        int rc;
        if (round < 2) {
            int killed = kill_after(pid, (0.1 + 0.5 * duet_rng_uniform_d(&kill_rng)) * t_ref, &rc);
            kills += killed;
            CHECK(killed ? rc == 128 + SIGKILL : rc == 1);
            /* what a kill leaves: only whole rows, no duplicate */
            char *h, **r;
            size_t bad, n = rows_of(tp("killed.tsv"), &h, &r, &bad);
            CHECK(bad == 0);
            for (size_t i = 1; i < n; i++) CHECK(strcmp(r[i - 1], r[i]) != 0);
            free_rows(h, r, n);
        } else {
            CHECK(wait_rc(pid) == 1);
        }
    }
    char *h, **r;
    size_t bad, n = rows_of(tp("killed.tsv"), &h, &r, &bad);
    CHECK_MSG(n == n_ref && bad == 0, "%zu rows (%zu bad), reference %zu", n, bad, n_ref);
    CHECK(h && h_ref && strcmp(h, h_ref) == 0);
    for (size_t i = 0; i < n && i < n_ref; i++) CHECK_MSG(strcmp(r[i], r_ref[i]) == 0, "row %s", r[i]);
    fprintf(stderr, "  catalog: uninterrupted %.2f s, %d kills\n", t_ref, kills);
    CHECK(kills >= 1);
    free_rows(h, r, n);
    free_rows(h_ref, r_ref, n_ref);
    /* no temporary left by the header's atomic write once a run completed */
    CHECK(count_matching(dir, ".killed.tsv.tmp") == 0);

    /* killed after the header, before the first row (the re-run once hit
     * qsort(NULL, 0): undefined behaviour, an abort under UBSan) */
    size_t hl;
    char *whole = slurp(tp("ref.tsv"), &hl);
    REQUIRE(whole);
    char *nl = strchr(whole, '\n');
    REQUIRE(nl);
    FILE *f2 = fopen(tp("header_only.tsv"), "wb");
    REQUIRE(f2);
    fwrite(whole, 1, (size_t)(nl - whole) + 1, f2);
    fclose(f2);
    free(whole);
    snprintf(out, sizeof out, "%s", tp("header_only.tsv"));
    CHECK(wait_rc(spawn(av, tp("cat_h.log"))) == 1);
    n = rows_of(tp("header_only.tsv"), &h, &r, &bad);
    CHECK_MSG(n == 11 && bad == 0, "%zu rows after a header-only start", n);
    free_rows(h, r, n);
}

int main(void)
{
    duet_bin = getenv("DUET");
    if (!duet_bin) duet_bin = "build/duet";
    struct stat sb;
    const char *base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0
                           ? "/dev/shm"
                           : "/tmp";
    snprintf(dir, sizeof dir, "%s/duet_kill_XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    const char *seed = getenv("DUET_KILL_SEED");
    uint64_t s = seed ? strtoull(seed, NULL, 10) : 20261128u;
    duet_rng_seed(&kill_rng, s);
    fprintf(stderr, "# kill seed %llu (set DUET_KILL_SEED to change)\n", (unsigned long long)s);
    RUN(test_train_sep_kill_resume);
    RUN(test_train_sep_threads);
    RUN(test_train_rec_kill_resume);
    RUN(test_catalog_kill_rerun);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", dir);
    return check_summary();
}
