/* tests/test_hostile.c: every `duet` command fed hostile input (issue 9).
 *
 * Inputs are made here (duet's own audio writer, the safetensors writer and
 * raw bytes) in a temporary folder removed at the end: empty, truncated and
 * wrong-type files (text named .wav, a folder), huge declared sizes (a FLAC
 * declaring 2^31 frames, a WAV declaring a 4 GB data chunk, a safetensors
 * header declaring a 16 GiB tensor, a word2vec header declaring 2^31 words),
 * NaN/Inf samples, zero-length, 1-sample, 192 kHz, 8 kHz and 8-channel
 * audio, non-UTF-8 file names, paths with spaces, missing folders, read-only
 * outputs (a read-only tmpfs, /proc, a file used as a folder), /dev/full,
 * a full file system (a 64 KiB tmpfs; skipped when mount(2) is not allowed)
 * and model / checkpoint files with wrong shapes, formats or versions.
 *
 * Each case runs the binary named by $DUET and must end in one of:
 *   FAIL    non-zero exit (not a signal) and exactly one stderr line
 *           "duet: ..." naming the file and the problem;
 *   OK      exit 0 (the input is legal);
 *   EITHER  OK, or FAIL as above (legal-but-odd inputs a command may refuse).
 * Never a crash, and never anything left behind on failure: the whole test
 * tree is listed before and after each case, and a failed case must not add
 * a single entry (no partial output, no temporary file, no empty track
 * folder); a successful one must not leave temporaries (".tmp."). Set
 * DUET_HOSTILE_VERBOSE=1 to see what each EITHER case chose. */
#define _DEFAULT_SOURCE
#include "check.h"
#include "../audio/audio.h"
#include "../common/rng.h"
#include "../nn/safetensors.h"
#include "../separation/sepnet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *duet_bin;
static char root[128];             /* everything the cases may touch */
static char cap_dir[128];          /* stdout/stderr captures (outside root) */
static char out_txt[192], err_txt[192];
static char full_mnt[192], ro_mnt[192], page_mnt[192];
static int have_full, have_ro, have_page;
static int n_cases, n_fail_expect, n_ok_expect;
static double slow_case_s = 1.0; /* cases slower than this (wall seconds) are listed */

/* FAILN: like FAIL, for commands that go on with the other items (eval-sep
 * tracks): every stderr line is "duet: ...", one of them names the file and
 * the problem, the last one is the summary. */
enum { FAIL, OK, EITHER, FAILN };

/* root/name in one of 16 rotating buffers: copy a result that must outlive
 * 16 further calls. */
static char *tp(const char *name)
{
    static char buf[16][512];
    static int k;
    k = (k + 1) % 16;
    snprintf(buf[k], sizeof buf[k], "%s/%s", root, name);
    return buf[k];
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (len) *len = 0;
    if (!f) return calloc(1, 1);
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

static void write_raw(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "  cannot create %s: %s\n", path, strerror(errno));
        return;
    }
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static void write_text(const char *path, const char *s) { write_raw(path, s, strlen(s)); }

/* ------------------------------------------------------------ tree snapshots */

typedef struct snap {
    char **p;
    size_t n, cap;
} snap;

static void snap_add(snap *s, const char *p)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->p = realloc(s->p, s->cap * sizeof *s->p);
    }
    s->p[s->n++] = strdup(p);
}

static void snap_walk(snap *s, const char *d)
{
    DIR *dd = opendir(d);
    if (!dd) return;
    struct dirent *de;
    char path[1024];
    while ((de = readdir(dd))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", d, de->d_name);
        snap_add(s, path);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) snap_walk(s, path);
    }
    closedir(dd);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static snap snap_take(void)
{
    snap s = {0};
    snap_walk(&s, root);
    if (s.n > 1) qsort(s.p, s.n, sizeof *s.p, cmp_str);
    return s;
}

static void snap_free(snap *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->p[i]);
    free(s->p);
    memset(s, 0, sizeof *s);
}

/* First entry of b not in a (NULL if none). */
static const char *snap_new_entry(const snap *a, const snap *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (!bsearch(&b->p[i], a->p, a->n, sizeof *a->p, cmp_str)) return b->p[i];
    return NULL;
}

static const char *snap_tmp_entry(const snap *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (strstr(b->p[i], ".tmp.")) return b->p[i];
    return NULL;
}

/* ------------------------------------------------------------ running duet */

/* Run duet with argv (argv[0] ignored) and an optional extra "NAME=VALUE"
 * environment entry; stdout and stderr go to out_txt / err_txt. Returns the
 * exit status, 128 + signal when killed by a signal, -1 when it could not run. */
static int runv(char *const *argv, const char *env)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int o = open(out_txt, O_WRONLY | O_CREAT | O_TRUNC, 0644), e = open(err_txt, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || nul < 0) _exit(126);
        dup2(nul, 0);
        dup2(o, 1);
        dup2(e, 2);
        setenv("OMP_NUM_THREADS", "1", 1);
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        if (env) putenv((char *)env);
        /* the shared build folder may be relinking the binary: retry a while */
        for (int tries = 0; tries < 200; tries++) {
            execv(duet_bin, argv);
            if (errno != ENOENT && errno != ETXTBSY && errno != EACCES) break;
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void show_argv(char *const *argv)
{
    fprintf(stderr, "  case:");
    for (int i = 1; argv[i]; i++) fprintf(stderr, " %s", argv[i]);
    fprintf(stderr, "\n");
}

/* Every stderr line starts with "duet: " and one contains file and problem. */
static int all_lines(const char *e, const char *file, const char *problem)
{
    size_t n = strlen(e);
    if (n == 0 || e[n - 1] != '\n') return 0;
    int found = 0;
    for (const char *l = e; *l;) {
        const char *nl = strchr(l, '\n');
        if (strncmp(l, "duet: ", 6) != 0) return 0;
        char line[1024];
        size_t k = (size_t)(nl - l) < sizeof line - 1 ? (size_t)(nl - l) : sizeof line - 1;
        memcpy(line, l, k);
        line[k] = '\0';
        if ((!file || strstr(line, file)) && (!problem || strstr(line, problem))) found = 1;
        l = nl + 1;
    }
    return found;
}

/* One stderr line "duet: ..." containing file (if given) and problem (if given). */
static int one_line(const char *e, const char *file, const char *problem)
{
    size_t n = strlen(e);
    int lines = 0;
    for (size_t i = 0; i < n; i++) lines += e[i] == '\n';
    return lines == 1 && e[n - 1] == '\n' && strncmp(e, "duet: ", 6) == 0 && (!file || strstr(e, file)) &&
           (!problem || strstr(e, problem));
}

static void hostile_case(int line, int expect, const char *env, const char *file, const char *problem,
                         char *const *argv)
{
    snap before = snap_take();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = runv(argv, env);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (secs > slow_case_s) {
        fprintf(stderr, "# slow case (%.1f s), line %d:", secs, line);
        for (int i = 1; argv[i]; i++) fprintf(stderr, " %s", argv[i]);
        fprintf(stderr, "\n");
    }
    snap after = snap_take();
    n_cases++;
    char *e = slurp(err_txt, NULL);
    int bad = 0;
    if (rc < 0 || rc == 127 || rc >= 128) {
        fprintf(stderr, "  line %d: %s (status %d)\n", line, rc >= 128 ? "killed by a signal" : "did not run", rc);
        bad = 1;
    } else if (rc == 0) {
        if (expect == FAIL) {
            fprintf(stderr, "  line %d: exit 0 where an error was expected\n", line);
            bad = 1;
        }
        const char *t = snap_tmp_entry(&after);
        if (t) {
            fprintf(stderr, "  line %d: temporary left behind: %s\n", line, t);
            bad = 1;
        }
    } else {
        if (expect == OK) {
            fprintf(stderr, "  line %d: exit %d where success was expected\n", line, rc);
            bad = 1;
        } else if (expect == FAILN ? !all_lines(e, file, problem) : !one_line(e, file, problem)) {
            fprintf(stderr, "  line %d: wanted one line 'duet: ...' with '%s' and '%s'\n", line, file ? file : "",
                    problem ? problem : "");
            bad = 1;
        }
        const char *nw = snap_new_entry(&before, &after);
        if (nw) {
            fprintf(stderr, "  line %d: failed but left %s behind\n", line, nw);
            bad = 1;
        }
    }
    if (expect == EITHER && !bad && getenv("DUET_HOSTILE_VERBOSE")) { /* what the command chose */
        fprintf(stderr, "# either, line %d, exit %d:", line, rc);
        for (int i = 1; argv[i]; i++) fprintf(stderr, " %s", argv[i]);
        fprintf(stderr, " -> %.200s%s", rc ? e : "ok", rc ? "" : "\n");
    }
    if (rc == 0) n_ok_expect++;
    else n_fail_expect++;
    if (bad) {
        show_argv(argv);
        fprintf(stderr, "  stderr: [%.600s]\n", e);
        check_cur_failed_ = 1;
    }
    free(e);
    snap_free(&before);
    snap_free(&after);
}

#define CASE(expect, file, problem, ...)                                    \
    do {                                                                    \
        char *av_[] = {"duet", __VA_ARGS__, NULL};                          \
        hostile_case(__LINE__, expect, NULL, file, problem, av_);          \
    } while (0)
#define CASE_ENV(env, expect, file, problem, ...)                           \
    do {                                                                    \
        char *av_[] = {"duet", __VA_ARGS__, NULL};                          \
        hostile_case(__LINE__, expect, env, file, problem, av_);           \
    } while (0)

/* ------------------------------------------------------------ inputs */

static void write_audio(const char *name, int channels, int64_t frames, int rate, duet_audio_filetype type, int stems)
{
    duet_audio a;
    DUET_CHECK(duet_audio_alloc(&a, channels, frames, rate) == DUET_OK);
    for (int c = 0; c < channels; c++)
        for (int64_t i = 0; i < frames; i++) {
            double t = (double)i / rate;
            double acc = 0.3 * sin(2 * M_PI * 110.0 * (1 + 0.07 * c) * t) + ((i % 4000) < 60 ? 0.3 : 0.0);
            double voc = 0.3 * sin(2 * M_PI * 330.0 * t) * (sin(2 * M_PI * 1.5 * t) > 0);
            a.ch[c][i] = (float)(stems ? (c == 0 ? acc : voc) : 0.5 * (acc + voc));
        }
    DUET_CHECK(duet_audio_write(tp(name), &a, type, NULL) == DUET_OK);
    duet_audio_free(&a);
}

/* A float WAV with the given samples (mono, 44.1 kHz), raw bytes. */
static void write_float_wav(const char *name, const float *v, int n, uint32_t declared_data)
{
    unsigned char h[44];
    uint32_t data = declared_data ? declared_data : (uint32_t)(4 * n);
    memcpy(h, "RIFF", 4);
    uint32_t riff = 36 + data;
    memcpy(h + 4, &riff, 4);
    memcpy(h + 8, "WAVEfmt ", 8);
    uint32_t v32 = 16;
    memcpy(h + 16, &v32, 4);
    uint16_t fmt = 3, ch = 1, ba = 4, bits = 32;
    memcpy(h + 20, &fmt, 2);
    memcpy(h + 22, &ch, 2);
    v32 = 44100;
    memcpy(h + 24, &v32, 4);
    v32 = 44100 * 4;
    memcpy(h + 28, &v32, 4);
    memcpy(h + 32, &ba, 2);
    memcpy(h + 34, &bits, 2);
    memcpy(h + 36, "data", 4);
    memcpy(h + 40, &data, 4);
    FILE *f = fopen(tp(name), "wb");
    if (!f) return;
    fwrite(h, 1, 44, f);
    fwrite(v, sizeof(float), (size_t)n, f);
    fclose(f);
}

/* A 100-frame FLAC whose STREAMINFO declares 2^31 frames. */
static void write_flac_2g(const char *name)
{
    write_audio(name, 1, 100, 8000, DUET_FILE_FLAC, 0);
    size_t len;
    char *b = slurp(tp(name), &len);
    if (len > 26 && memcmp(b, "fLaC", 4) == 0 && (b[4] & 0x7f) == 0) {
        b[21] = (char)(b[21] & 0xf0);
        b[22] = (char)0x80;
        b[23] = b[24] = b[25] = 0;
        write_raw(tp(name), b, len);
    } else {
        fprintf(stderr, "  unexpected FLAC layout\n");
    }
    free(b);
}

/* A tiny valid separation model (base 4, depth 2) and variants. */
static void write_models(void)
{
    duet_sepnet_config c = duet_sepnet_config_default();
    c.base = 2;
    c.depth = 1;
    c.phase_ch = 1;
    c.use_sa = 0; /* self-attention over long inference chunks would dominate the run time */
    duet_rng r;
    duet_rng_seed(&r, 3);
    sepnet *m = NULL;
    duet_err err;
    DUET_CHECK(duet_sepnet_new(&c, &r, &m, &err) == DUET_OK);
    DUET_CHECK(duet_sepnet_save(m, tp("in/tiny.safetensors"), NULL, 0, &err) == DUET_OK);
    duet_sepnet_free(m);

    duet_st_file *f;
    DUET_CHECK(duet_st_load(tp("in/tiny.safetensors"), &f, &err) == DUET_OK);
    for (int variant = 0; variant < 4; variant++) {
        duet_st_writer *w;
        DUET_CHECK(duet_st_writer_new(&w, &err) == DUET_OK);
        for (size_t i = 0; i < duet_st_meta_count(f); i++) {
            const char *k, *v;
            duet_st_meta_at(f, i, &k, &v);
            if (variant == 0 && !strcmp(k, "version")) v = "99";
            if (variant == 1 && !strcmp(k, "format")) v = "some-other-model";
            DUET_CHECK(duet_st_writer_meta(w, k, v, &err) == DUET_OK);
        }
        for (size_t i = 0; i < duet_st_count(f); i++) {
            const duet_st_tensor *t = duet_st_at(f, i);
            if (variant == 3 && i == 0) continue; /* a tensor missing */
            if (variant == 2 && i == 0) {          /* wrong shape: one more row */
                int64_t sh[8];
                memcpy(sh, t->shape, sizeof(int64_t) * (size_t)t->ndim);
                sh[0] += 1;
                size_t n = t->nbytes / (size_t)(t->shape[0] ? t->shape[0] : 1) * (size_t)sh[0];
                void *d = calloc(1, n ? n : 1);
                DUET_CHECK(duet_st_writer_add(w, t->name, t->dtype, t->ndim, sh, d, &err) == DUET_OK);
                free(d);
                continue;
            }
            DUET_CHECK(duet_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data, &err) == DUET_OK);
        }
        const char *names[] = {"in/model_v99.safetensors", "in/model_format.safetensors",
                               "in/model_shape.safetensors", "in/model_missing.safetensors"};
        DUET_CHECK(duet_st_writer_save(w, tp(names[variant]), &err) == DUET_OK);
        duet_st_writer_free(w);
    }
    duet_st_free(f);

    /* a header declaring a 16 GiB tensor in a 150-byte file */
    const char *hdr = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,17179869184]}}";
    unsigned char buf[256];
    uint64_t n = strlen(hdr);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(n >> (8 * i));
    memcpy(buf + 8, hdr, n);
    memset(buf + 8 + n, 0, 16);
    write_raw(tp("in/giant.safetensors"), buf, 8 + n + 16);
    /* a header length of 2^63 */
    memset(buf, 0xff, 8);
    buf[7] = 0x7f;
    write_raw(tp("in/hugehdr.safetensors"), buf, 16);
    /* truncated: the valid model cut in half */
    size_t len;
    char *b = slurp(tp("in/tiny.safetensors"), &len);
    write_raw(tp("in/trunc.safetensors"), b, len / 2);
    free(b);
}

static void make_inputs(void)
{
    static const char *dirs[] = {"in", "out", "in/with space", "in/dir.wav", "ref", "ref_bad", "ref_mono", "est",
                                 "est/abjones_1_01", "data_empty", "data_mono", "data_nan", "data_1", "data_ok"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) DUET_CHECK(mkdir(tp(dirs[i]), 0755) == 0);
    write_audio("in/good.wav", 2, 22050, 44100, DUET_FILE_WAV_FLOAT, 0);
    write_audio("in/good.flac", 2, 22050, 44100, DUET_FILE_FLAC, 0);
    write_audio("in/zero.wav", 2, 0, 44100, DUET_FILE_WAV_PCM16, 0);
    write_audio("in/one.wav", 1, 1, 44100, DUET_FILE_WAV_PCM16, 0);
    write_audio("in/hi.wav", 2, 38400, 192000, DUET_FILE_WAV_PCM16, 0);
    write_audio("in/lo.wav", 1, 8000, 8000, DUET_FILE_WAV_PCM16, 0);
    write_audio("in/ch8.wav", 8, 8820, 44100, DUET_FILE_WAV_PCM16, 0);
    write_audio("in/with space/a b.wav", 2, 22050, 44100, DUET_FILE_WAV_PCM16, 0);
    write_audio("in/bad\xff\xfe name.wav", 2, 22050, 44100, DUET_FILE_WAV_PCM16, 0);
    write_audio("in/long.wav", 2, 88200, 44100, DUET_FILE_WAV_PCM16, 0); /* 350 KB: more than the full tmpfs */
    write_raw(tp("in/empty.wav"), "", 0);
    write_text(tp("in/text.wav"), "hello, I am a text file\n");
    {
        size_t len;
        char *b = slurp(tp("in/good.wav"), &len);
        write_raw(tp("in/trunc.wav"), b, 30);       /* cut inside the header */
        write_raw(tp("in/cut.wav"), b, len / 2);    /* cut inside the data */
        free(b);
    }
    float nanv[8] = {0.1f, NAN, 0.2f, 0.1f, 0.3f, 0.1f, 0.2f, 0.1f};
    float infv[8] = {0.1f, 0.2f, INFINITY, 0.1f, -INFINITY, 0.1f, 0.2f, 0.1f};
    write_float_wav("in/nan.wav", nanv, 8, 0);
    write_float_wav("in/inf.wav", infv, 8, 0);
    float okv[2] = {0.1f, -0.1f};
    write_float_wav("in/hugewav.wav", okv, 2, 0xfffffff0u); /* a 4 GB data chunk declared */
    write_flac_2g("in/flac2g.flac");
    write_text(tp("out/afile"), "I am a file, not a folder\n");
    write_models();
    /* separation references: MIR-1K style (left accompaniment, right voice) */
    write_audio("ref/abjones_1_01.wav", 2, 8000, 16000, DUET_FILE_WAV_PCM16, 1);
    write_audio("ref/amy_2_01.wav", 2, 8000, 16000, DUET_FILE_WAV_PCM16, 1);
    write_audio("ref_bad/abjones_1_01.wav", 2, 8000, 16000, DUET_FILE_WAV_PCM16, 1);
    write_raw(tp("ref_bad/amy_2_01.wav"), "", 0);
    write_audio("ref_mono/abjones_1_01.wav", 1, 8000, 16000, DUET_FILE_WAV_PCM16, 1);
    write_audio("est/abjones_1_01/vocals.wav", 1, 8000, 16000, DUET_FILE_WAV_PCM16, 0);
    write_float_wav("est/abjones_1_01/accompaniment.wav", nanv, 8, 0);
    /* training sets */
    write_audio("data_ok/abjones_1_01.wav", 2, 16000, 16000, DUET_FILE_WAV_PCM16, 1);
    write_audio("data_ok/amy_2_01.wav", 2, 12000, 8000, DUET_FILE_WAV_PCM16, 1); /* 8 kHz: resampled */
    write_audio("data_mono/abjones_1_01.wav", 1, 16000, 16000, DUET_FILE_WAV_PCM16, 1);
    write_float_wav("data_nan/abjones_1_01.wav", nanv, 8, 0);
    write_audio("data_1/abjones_1_01.wav", 2, 1, 16000, DUET_FILE_WAV_PCM16, 1);
    /* text inputs */
    write_text(tp("in/corpus.txt"), "the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n"
                                    "the cat and the dog sat\non the mat the cat sat\n");
    write_raw(tp("in/binary.txt"), "\x00\x01\x02\xff\xfe\x00\x80\n\x00", 9);
    write_text(tp("in/vec_huge.txt"), "2147483647 2147483647\ncat 0.1 0.2\n");
    write_text(tp("in/vec_bad.txt"), "2 3\ncat 0.1 0.2 0.3\ndog 0.1 zz 0.3\n");
    write_text(tp("in/vec_nan.txt"), "2 2\ncat nan 0.2\ndog 0.1 0.3\n");
    write_raw(tp("in/vec_trunc.bin"), "3 4\ncat \x00\x00\x80", 10);
    write_text(tp("in/inter_bad.tsv"), "user\titem\nu1\n\t\t\n");
    write_text(tp("in/inter_nan.tsv"), "u1\ti1\tnan\nu2\ti2\tinf\nu1\ti2\t-1\n");
    write_text(tp("in/list_bad.tsv"), "no tab here\n");
    write_text(tp("in/list_dup.tsv"), "a\tgood.wav\na\tgood.wav\n");
    write_text(tp("in/list_ok.tsv"), "item_id\tpath\ng\tgood.wav\nh\thi.wav\nz\tzero.wav\nn\tnan.wav\n");
}

/* A 64 KiB tmpfs filled to the last byte, and a read-only tmpfs. */
static void make_mounts(void)
{
    snprintf(full_mnt, sizeof full_mnt, "%s/full", root);
    snprintf(ro_mnt, sizeof ro_mnt, "%s/ro", root);
    if (mkdir(full_mnt, 0755) == 0 && mount("duet-test-full", full_mnt, "tmpfs", 0, "size=64k") == 0) {
        have_full = 1;
        /* fill it */
        char path[256];
        snprintf(path, sizeof path, "%s/filler", full_mnt);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char block[4096];
        memset(block, 'x', sizeof block);
        while (fd >= 0 && write(fd, block, sizeof block) > 0) {
        }
        while (fd >= 0 && write(fd, block, 1) > 0) {
        }
        if (fd >= 0) close(fd);
        DUET_CHECK(mkdir(tp("full/sub"), 0755) == 0 || errno == ENOSPC);
    }
    if (mkdir(ro_mnt, 0755) == 0 && mount("duet-test-ro", ro_mnt, "tmpfs", MS_RDONLY, "size=16k") == 0) have_ro = 1;
    /* a 64 KiB tmpfs with one 4 KiB page left: a catalog header and a row
     * fit, the next row does not */
    snprintf(page_mnt, sizeof page_mnt, "%s/page", root);
    if (mkdir(page_mnt, 0755) == 0 && mount("duet-test-page", page_mnt, "tmpfs", 0, "size=64k") == 0) {
        have_page = 1;
        char path[256];
        snprintf(path, sizeof path, "%s/filler", page_mnt);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char block[4096];
        memset(block, 'x', sizeof block);
        for (int i = 0; fd >= 0 && i < 15; i++)
            if (write(fd, block, sizeof block) != (ssize_t)sizeof block) break;
        if (fd >= 0) close(fd);
    }
    if (!have_full || !have_ro)
        fprintf(stderr, "# mount(2) not allowed (%s): full-disk / read-only cases skipped\n", strerror(errno));
}

static void unmount_all(void)
{
    if (have_full) umount2(full_mnt, MNT_DETACH);
    if (have_ro) umount2(ro_mnt, MNT_DETACH);
    if (have_page) umount2(page_mnt, MNT_DETACH);
}

/* ------------------------------------------------------------ audio commands */

/* The inputs every audio-reading command gets, with what reading them must
 * give: argv is duet CMD EXTRA... FILE. strict_legal: the legal odd inputs
 * must succeed (else a clean refusal is accepted). */
static void audio_input_cases(const char *cmd, const char *const *extra, int n_extra, int strict_legal)
{
    static const struct {
        int expect; /* -1: the legal ones */
        const char *path, *file, *problem;
    } cs[] = {
        {FAIL, "in/empty.wav", "empty.wav", "empty"},
        {FAIL, "in/trunc.wav", "trunc.wav", NULL},
        {EITHER, "in/cut.wav", "cut.wav", NULL},
        {FAIL, "in/text.wav", "text.wav", "not a recognised audio file"},
        {FAIL, "in/dir.wav", "dir.wav", "directory"},
        {FAIL, "in/missing.wav", "missing.wav", "No such file"},
        {FAIL, "in/nodir/x.wav", "nodir/x.wav", "No such file"},
        {FAIL, "in/nan.wav", "nan.wav", "NaN"},
        {FAIL, "in/inf.wav", "inf.wav", "NaN"},
        {EITHER, "in/flac2g.flac", "flac2g.flac", NULL},
        {EITHER, "in/hugewav.wav", "hugewav.wav", NULL},
        {EITHER, "in/zero.wav", "zero.wav", NULL},
        {-1, "in/one.wav", "one.wav", NULL},
        {-1, "in/hi.wav", "hi.wav", NULL},
        {-1, "in/lo.wav", "lo.wav", NULL},
        {-1, "in/ch8.wav", "ch8.wav", NULL},
        {OK, "in/good.flac", NULL, NULL},
        {OK, "in/with space/a b.wav", NULL, NULL},
        {OK, "in/bad\xff\xfe name.wav", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        char *av[16];
        int n = 0;
        av[n++] = "duet";
        av[n++] = (char *)cmd;
        for (int k = 0; k < n_extra && n < 14; k++) av[n++] = (char *)extra[k];
        av[n++] = (char *)tp(cs[i].path);
        av[n] = NULL;
        int expect = cs[i].expect >= 0 ? cs[i].expect : strict_legal ? OK : EITHER;
        hostile_case(__LINE__, expect, NULL, cs[i].file, cs[i].problem, av);
    }
}

static void test_info(void)
{
    audio_input_cases("info", NULL, 0, 1);
    CASE(FAIL, "info", "no input file", "info");
    CASE(FAIL, NULL, NULL, "info", "--no-such-option", tp("in/good.wav"));
    /* info streams (bounded memory): the in-memory cap does not apply */
    CASE_ENV("DUET_MAX_SAMPLES=1000", OK, NULL, NULL, "info", tp("in/good.wav"));
}

static void test_resample(void)
{
    /* hostile inputs to a fresh output */
    const char *ins[][3] = {
        {"in/empty.wav", "empty.wav", "empty"}, {"in/text.wav", "text.wav", "not a recognised"},
        {"in/dir.wav", "dir.wav", "directory"}, {"in/nan.wav", "nan.wav", "NaN"},
        {"in/trunc.wav", "trunc.wav", NULL},    {"in/missing.wav", "missing.wav", "No such file"},
    };
    for (size_t i = 0; i < sizeof ins / sizeof *ins; i++)
        CASE(FAIL, ins[i][1], ins[i][2], "resample", "-r", "16000", tp(ins[i][0]), tp("out/r.wav"));
    CASE(EITHER, "flac2g.flac", NULL, "resample", "-r", "16000", tp("in/flac2g.flac"), tp("out/r2g.wav"));
    CASE(EITHER, "zero.wav", NULL, "resample", "-r", "16000", tp("in/zero.wav"), tp("out/rz.wav"));
    CASE(OK, NULL, NULL, "resample", "-r", "16000", tp("in/one.wav"), tp("out/r1.wav"));
    CASE(OK, NULL, NULL, "resample", "-r", "8000", tp("in/hi.wav"), tp("out/rhi.flac"));
    CASE(OK, NULL, NULL, "resample", "-r", "192000", tp("in/lo.wav"), tp("out/rlo.wav"));
    CASE(OK, NULL, NULL, "resample", "-r", "22050", tp("in/ch8.wav"), tp("out/r8.wav"));
    CASE(OK, NULL, NULL, "resample", "-r", "22050", tp("in/with space/a b.wav"), tp("out/with space.wav"));
    CASE(OK, NULL, NULL, "resample", "-r", "22050", tp("in/bad\xff\xfe name.wav"), tp("out/bad\xff.wav"));
    /* outputs that cannot be written */
    CASE(FAIL, "/dev/full", "not a regular file", "resample", "-r", "16000", tp("in/good.wav"), "/dev/full");
    CASE(FAIL, "/dev/null", "not a regular file", "resample", "-r", "16000", tp("in/good.wav"), "/dev/null");
    CASE(FAIL, "nodir/r.wav", NULL, "resample", "-r", "16000", tp("in/good.wav"), tp("out/nodir/r.wav"));
    CASE(FAIL, "afile/r.wav", NULL, "resample", "-r", "16000", tp("in/good.wav"), tp("out/afile/r.wav"));
    CASE(FAIL, "/proc/duet_r.wav", NULL, "resample", "-r", "16000", tp("in/good.wav"), "/proc/duet_r.wav");
    CASE(FAIL, "out", NULL, "resample", "-r", "16000", tp("in/good.wav"), tp("out"));
    if (have_ro) CASE(FAIL, "ro/r.wav", "Read-only", "resample", "-r", "16000", tp("in/good.wav"), tp("ro/r.wav"));
    if (have_full)
        CASE(FAIL, "full/r.wav", "No space", "resample", "-r", "44100", tp("in/long.wav"), tp("full/r.wav"));
    /* an existing output survives a failed run untouched */
    CASE(OK, NULL, NULL, "resample", "-r", "16000", tp("in/good.wav"), tp("out/keep.wav"));
    size_t l1, l2;
    char *before = slurp(tp("out/keep.wav"), &l1);
    CASE(FAIL, "nan.wav", "NaN", "resample", "-r", "16000", tp("in/nan.wav"), tp("out/keep.wav"));
    char *after = slurp(tp("out/keep.wav"), &l2);
    CHECK(l1 > 0 && l1 == l2 && memcmp(before, after, l1) == 0);
    free(before);
    free(after);
}

static void test_separate(void)
{
    /* the input cases with the cheap separator, into out/sep */
    char o[512];
    snprintf(o, sizeof o, "%s", tp("out/sep"));
    const char *ex[] = {"-q", "-m", "mixture", "-o", o};
    audio_input_cases("separate", ex, 5, 1);
    const char *bad[][3] = {
        {"in/empty.wav", "empty.wav", "empty"}, {"in/text.wav", "text.wav", NULL},
        {"in/dir.wav", "dir.wav", NULL},        {"in/nan.wav", "nan.wav", "NaN"},
        {"in/missing.wav", "missing.wav", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CASE(FAIL, bad[i][1], bad[i][2], "separate", "-q", "-m", "repet-sim", "-o", o, tp(bad[i][0]));
    /* legal odd inputs through the trained-model path (a tiny model: fast) */
    const char *legal[] = {"in/one.wav", "in/hi.wav", "in/lo.wav", "in/ch8.wav"};
    for (size_t i = 0; i < sizeof legal / sizeof *legal; i++)
        CASE(OK, NULL, NULL, "separate", "-q", "--model", tp("in/tiny.safetensors"), "-o", o, tp(legal[i]));
    CASE(EITHER, "zero.wav", NULL, "separate", "-q", "--model", tp("in/tiny.safetensors"), "-o", o,
         tp("in/zero.wav"));
    CASE(EITHER, "flac2g.flac", NULL, "separate", "-q", "--model", tp("in/tiny.safetensors"), "-o", o,
         tp("in/flac2g.flac"));
    /* model files */
    const char *models[][3] = {
        {"in/empty.wav", "empty.wav", NULL},
        {"in/text.wav", "text.wav", NULL},
        {"in/dir.wav", "dir.wav", NULL},
        {"in/missing.safetensors", "missing.safetensors", "No such file"},
        {"in/trunc.safetensors", "trunc.safetensors", NULL},
        {"in/giant.safetensors", "giant.safetensors", "DUET_MAX_TENSOR_BYTES"},
        {"in/hugehdr.safetensors", "hugehdr.safetensors", "cap"},
        {"in/model_v99.safetensors", "model_v99.safetensors", "version 99"},
        {"in/model_format.safetensors", "model_format.safetensors", "not a duet separation model"},
        {"in/model_shape.safetensors", "model_shape.safetensors", "shape"},
        {"in/model_missing.safetensors", "model_missing.safetensors", NULL},
    };
    for (size_t i = 0; i < sizeof models / sizeof *models; i++)
        CASE(FAIL, models[i][1], models[i][2], "separate", "-q", "--model", tp(models[i][0]), "-o", o,
             tp("in/good.wav"));
    CASE_ENV("DUET_MAX_TENSOR_BYTES=64", FAIL, "tiny.safetensors", "DUET_MAX_TENSOR_BYTES", "separate", "-q",
             "--model", tp("in/tiny.safetensors"), "-o", o, tp("in/good.wav"));
    /* outputs that cannot be written: no stem, no track folder left */
    CASE(FAIL, "/dev/full", NULL, "separate", "-q", "-m", "mixture", "-o", "/dev/full", tp("in/good.wav"));
    CASE(FAIL, "afile", NULL, "separate", "-q", "-m", "mixture", "-o", tp("out/afile"), tp("in/good.wav"));
    CASE(FAIL, "/proc/duet_sep", NULL, "separate", "-q", "-m", "mixture", "-o", "/proc/duet_sep", tp("in/good.wav"));
    if (have_ro) CASE(FAIL, "ro", "Read-only", "separate", "-q", "-m", "mixture", "-o", tp("ro"), tp("in/good.wav"));
    if (have_full)
        CASE(FAIL, "full", "No space", "separate", "-q", "-m", "mixture", "-o", tp("full"), tp("in/long.wav"));
}

static void test_eval_sep(void)
{
    CASE(OK, NULL, NULL, "eval-sep", "--ref", tp("ref"), "--method", "mixture");
    CASE(OK, NULL, NULL, "eval-sep", "--ref", tp("ref"), "--method", "mixture", "--json", tp("out/e.json"));
    CASE(FAIL, "nodir", NULL, "eval-sep", "--ref", tp("nodir"), "--method", "mixture");
    CASE(FAIL, "data_empty", NULL, "eval-sep", "--ref", tp("data_empty"), "--method", "mixture");
    CASE(FAIL, "good.wav", NULL, "eval-sep", "--ref", tp("in/good.wav"), "--method", "mixture");
    CASE(FAILN, "amy_2_01.wav", "empty", "eval-sep", "--ref", tp("ref_bad"), "--method", "mixture");
    CASE(FAILN, "abjones_1_01.wav", "stereo", "eval-sep", "--ref", tp("ref_mono"), "--method", "mixture");
    CASE(FAILN, "nodir", NULL, "eval-sep", "--ref", tp("ref"), "--est", tp("nodir"));
    CASE(FAILN, "accompaniment.wav", "NaN", "eval-sep", "--ref", tp("ref"), "--est", tp("est"), "--tracks",
         "abjones_*");
    CASE(FAIL, "model_v99.safetensors", "version", "eval-sep", "--ref", tp("ref"), "--method", "model", "--model",
         tp("in/model_v99.safetensors"));
    CASE(FAIL, "/dev/full", "not a regular file", "eval-sep", "--ref", tp("ref"), "--method", "mixture", "--json",
         "/dev/full");
    CASE(FAIL, "nodir/e.json", NULL, "eval-sep", "--ref", tp("ref"), "--method", "mixture", "--json",
         tp("out/nodir/e.json"));
    { /* an unwritable --json fails before any evaluation: no table on stdout */
        char *o = slurp(out_txt, NULL);
        CHECK_MSG(o && o[0] == '\0', "eval-sep printed before failing on its --json: [%.200s]", o ? o : "");
        free(o);
    }
    CASE(FAIL, "afile/e.json", NULL, "eval-sep", "--ref", tp("ref"), "--method", "mixture", "--json",
         tp("out/afile/e.json"));
    if (have_ro)
        CASE(FAIL, "ro/e.json", "Read-only", "eval-sep", "--ref", tp("ref"), "--method", "mixture", "--json",
             tp("ro/e.json"));
    if (have_full)
        CASE(FAIL, "full/e.json", "No space", "eval-sep", "--ref", tp("ref"), "--method", "mixture", "--json",
             tp("full/e.json"));
}

static void test_spectrogram(void)
{
    char sp[512];
    snprintf(sp, sizeof sp, "%s", tp("out/s.png"));
    const char *ex[] = {"-o", sp};
    audio_input_cases("spectrogram", ex, 2, 1);
    CASE(FAIL, "/dev/full", "not a regular file", "spectrogram", tp("in/good.wav"), "-o", "/dev/full");
    CASE(FAIL, "nodir/s.png", NULL, "spectrogram", tp("in/good.wav"), "-o", tp("out/nodir/s.png"));
    CASE(FAIL, "afile/s.png", NULL, "spectrogram", tp("in/good.wav"), "-o", tp("out/afile/s.png"));
    CASE(FAIL, "/proc/duet_s.png", NULL, "spectrogram", tp("in/good.wav"), "-o", "/proc/duet_s.png");
    if (have_ro) CASE(FAIL, "ro/s.png", "Read-only", "spectrogram", tp("in/good.wav"), "-o", tp("ro/s.png"));
    if (have_full) CASE(FAIL, "full/s.png", "No space", "spectrogram", tp("in/long.wav"), "-o", tp("full/s.png"));
    CASE(FAIL, "nan.wav", "NaN", "spectrogram", tp("in/good.wav"), "--vocals", tp("in/nan.wav"), "--accompaniment",
         tp("in/good.wav"), "-o", tp("out/s2.png"));
    CASE(FAIL, "model_shape.safetensors", "shape", "spectrogram", tp("in/good.wav"), "--stems", "--model",
         tp("in/model_shape.safetensors"), "-o", tp("out/s3.png"));
}

static void test_features(void)
{
    audio_input_cases("features", NULL, 0, 1);
    /* the in-memory cap (common/limits.h), on the declared length */
    CASE_ENV("DUET_MAX_SAMPLES=1000", FAIL, "good.wav", "DUET_MAX_SAMPLES", "features", tp("in/good.wav"));
    CASE_ENV("DUET_MAX_SAMPLES=1G", FAIL, "flac2g.flac", "declares 2147483648 frames", "features",
             tp("in/flac2g.flac"));
    CASE_ENV("DUET_MAX_SAMPLES=junk", OK, NULL, NULL, "features", tp("in/good.wav"));
    const char *ex[] = {"--tsv"};
    audio_input_cases("features", ex, 1, 1);
    CASE(FAIL, "model_v99.safetensors", "version", "features", "--stems", "--model", tp("in/model_v99.safetensors"),
         tp("in/good.wav"));
    /* catalog mode */
    /* the list's zero-length and NaN files fail: their rows carry the error
     * and the run ends in 1 with the count as its last line (the output is
     * complete, so it stays) */
    {
        char *av[] = {"duet", "features", "--catalog", tp("in/list_ok.tsv"), "--out", tp("out/cat.tsv"), "--no-progress",
                      NULL};
        int rc = runv(av, NULL);
        n_cases++;
        n_fail_expect++;
        char *e = slurp(err_txt, NULL);
        const char *last = strrchr(e, '\n');
        while (last && last > e && last[-1] != '\n') last--;
        CHECK_MSG(rc == 1 && all_lines(e, "cat.tsv", "2 of 4 items failed") && last &&
                      strstr(last, "2 of 4 items failed"),
                  "exit %d: %s", rc, e);
        free(e);
        snap after = snap_take();
        CHECK(snap_tmp_entry(&after) == NULL);
        snap_free(&after);
    }
    CASE(FAIL, "list_bad.tsv", "line 1", "features", "--catalog", tp("in/list_bad.tsv"), "--out", tp("out/c.tsv"));
    CASE(FAIL, "list_dup.tsv", NULL, "features", "--catalog", tp("in/list_dup.tsv"), "--out", tp("out/c.tsv"));
    CASE(FAIL, "dir.wav", NULL, "features", "--catalog", tp("in/dir.wav"), "--out", tp("out/c.tsv"));
    CASE(FAIL, "missing.tsv", NULL, "features", "--catalog", tp("in/missing.tsv"), "--out", tp("out/c.tsv"));
    CASE(FAIL, "binary.txt", NULL, "features", "--catalog", tp("in/binary.txt"), "--out", tp("out/c.tsv"));
    CASE(EITHER, "empty.wav", NULL, "features", "--catalog", tp("in/empty.wav"), "--out", tp("out/c0.tsv"));
    CASE(FAIL, "/dev/full", NULL, "features", "--catalog", tp("in/list_ok.tsv"), "--out", "/dev/full");
    CASE(FAIL, "nodir/c.tsv", NULL, "features", "--catalog", tp("in/list_ok.tsv"), "--out", tp("out/nodir/c.tsv"));
    CASE(FAIL, "afile/c.tsv", NULL, "features", "--catalog", tp("in/list_ok.tsv"), "--out", tp("out/afile/c.tsv"));
    CASE(FAIL, "text.wav", NULL, "features", "--catalog", tp("in/list_ok.tsv"), "--out", tp("in/text.wav"));
    if (have_ro) CASE(FAIL, "ro/c.tsv", "Read-only", "features", "--catalog", tp("in/list_ok.tsv"), "--out", tp("ro/c.tsv"));
    if (have_full)
        CASE(FAIL, "full/c.tsv", "No space", "features", "--catalog", tp("in/list_ok.tsv"), "--out", tp("full/c.tsv"));
}

/* The disk fills up between catalog rows: a clean error naming the output,
 * and the output keeps only whole rows (resumable). */
static void test_catalog_disk_fills(void)
{
    if (!have_page) return;
    char list[512], out[512];
    snprintf(list, sizeof list, "%s", tp("in/list_many.tsv"));
    FILE *f = fopen(list, "w");
    REQUIRE(f);
    for (int i = 0; i < 12; i++) fprintf(f, "g%d\tgood.wav\n", i);
    fclose(f);
    snprintf(out, sizeof out, "%s", tp("page/c.tsv"));
    char *av[] = {"duet", "features", "--catalog", list, "--out", out, "--no-progress", NULL};
    int rc = runv(av, NULL);
    n_cases++;
    n_fail_expect++;
    char *e = slurp(err_txt, NULL);
    CHECK_MSG(rc == 1 && all_lines(e, "page/c.tsv", "No space left"), "exit %d: %s", rc, e);
    free(e);
    size_t len;
    char *o = slurp(out, &len);
    size_t lines = 0, tabs_first = 0, tabs = 0;
    int ok = len > 0 && o[len - 1] == '\n';
    for (size_t i = 0; i < len; i++) {
        if (o[i] == '\t') tabs++;
        if (o[i] == '\n') {
            if (lines == 0) tabs_first = tabs;
            else if (tabs != tabs_first) ok = 0;
            lines++;
            tabs = 0;
        }
    }
    CHECK_MSG(ok && lines >= 1 && lines < 13, "%zu lines, whole rows: %d", lines, ok);
    free(o);
}

static void test_word2vec(void)
{
    const char *w2v[] = {"--dim", "8", "--epochs", "1", "--threads", "1", "--min-count", "1"};
#define W2V(expect, file, problem, input, output)                                                       \
    CASE(expect, file, problem, "word2vec", "--input", (char *)(input), "--out", (char *)(output),   \
         (char *)w2v[0], (char *)w2v[1], (char *)w2v[2], (char *)w2v[3], (char *)w2v[4], (char *)w2v[5], \
         (char *)w2v[6], (char *)w2v[7])
    W2V(OK, NULL, NULL, tp("in/corpus.txt"), tp("out/vec.txt"));
    W2V(FAIL, "empty.wav", NULL, tp("in/empty.wav"), tp("out/v.txt"));
    W2V(FAIL, "missing.txt", NULL, tp("in/missing.txt"), tp("out/v.txt"));
    W2V(FAIL, "dir.wav", NULL, tp("in/dir.wav"), tp("out/v.txt"));
    W2V(EITHER, "binary.txt", NULL, tp("in/binary.txt"), tp("out/vb.txt"));
    W2V(FAIL, "/dev/full", NULL, tp("in/corpus.txt"), "/dev/full");
    W2V(FAIL, "nodir/v.txt", NULL, tp("in/corpus.txt"), tp("out/nodir/v.txt"));
    W2V(FAIL, "afile/v.txt", NULL, tp("in/corpus.txt"), tp("out/afile/v.txt"));
    if (have_ro) W2V(FAIL, "ro/v.txt", "Read-only", tp("in/corpus.txt"), tp("ro/v.txt"));
    if (have_full) W2V(FAIL, "full/v.txt", "No space", tp("in/corpus.txt"), tp("full/v.txt"));
#undef W2V
    CASE(OK, NULL, NULL, "word2vec-similar", tp("out/vec.txt"), "cat");
    CASE(FAIL, "empty.wav", NULL, "word2vec-similar", tp("in/empty.wav"), "cat");
    CASE(FAIL, "missing.txt", NULL, "word2vec-similar", tp("in/missing.txt"), "cat");
    CASE(FAIL, "dir.wav", NULL, "word2vec-similar", tp("in/dir.wav"), "cat");
    CASE(FAIL, "text.wav", NULL, "word2vec-similar", tp("in/text.wav"), "cat");
    CASE(FAIL, "vec_huge.txt", NULL, "word2vec-similar", tp("in/vec_huge.txt"), "cat");
    CASE(FAIL, "vec_bad.txt", NULL, "word2vec-similar", tp("in/vec_bad.txt"), "cat");
    /* (with the default --format auto a text file whose values are NaN falls
     * back to the binary reading and is accepted as garbage floats) */
    CASE(FAIL, "vec_nan.txt", "non-finite", "word2vec-similar", tp("in/vec_nan.txt"), "cat", "--format", "text");
    CASE(FAIL, "vec_trunc.bin", NULL, "word2vec-similar", tp("in/vec_trunc.bin"), "cat");
    CASE(FAIL, "binary.txt", NULL, "word2vec-similar", tp("in/binary.txt"), "cat");
    CASE(FAIL, "nodir", NULL, "word2vec-corpus", "--hetrec", tp("nodir"), "--out", tp("out/corpus.txt"));
    CASE(FAIL, "data_empty", NULL, "word2vec-corpus", "--hetrec", tp("data_empty"), "--out", tp("out/corpus.txt"));
    CASE(FAIL, "good.wav", NULL, "word2vec-corpus", "--hetrec", tp("in/good.wav"), "--out", tp("out/corpus.txt"));
}

static void test_eval_rec(void)
{
    CASE(OK, NULL, NULL, "eval-rec", "--interactions", "fixtures/rec/tiny.tsv", "--models", "popularity", "--seeds",
         "1", "--no-tune");
    const char *bad[][2] = {{"in/empty.wav", "empty.wav"}, {"in/text.wav", "text.wav"},
                            {"in/dir.wav", "dir.wav"},     {"in/missing.tsv", "missing.tsv"},
                            {"in/binary.txt", "binary.txt"}, {"in/inter_bad.tsv", "inter_bad.tsv"},
                            {"in/inter_nan.tsv", "inter_nan.tsv"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CASE(FAIL, bad[i][1], NULL, "eval-rec", "--interactions", tp(bad[i][0]), "--models", "popularity", "--seeds",
             "1", "--no-tune");
    CASE(FAIL, "nodir", NULL, "eval-rec", "--ncf", tp("nodir/x"), "--models", "popularity", "--seeds", "1");
    CASE(FAIL, "nodir", NULL, "eval-rec", "--hetrec", tp("nodir"), "--models", "popularity", "--seeds", "1");
    CASE(FAIL, "/dev/full", NULL, "eval-rec", "--interactions", "fixtures/rec/tiny.tsv", "--models", "popularity",
         "--seeds", "1", "--no-tune", "--json", "/dev/full");
    CASE(FAIL, "nodir/r.json", NULL, "eval-rec", "--interactions", "fixtures/rec/tiny.tsv", "--models", "popularity",
         "--seeds", "1", "--no-tune", "--json", tp("out/nodir/r.json"));
    if (have_full)
        CASE(FAIL, "full/r.json", "No space", "eval-rec", "--interactions", "fixtures/rec/tiny.tsv", "--models",
             "popularity", "--seeds", "1", "--no-tune", "--json", tp("full/r.json"));
}

static void test_train_sep(void)
{
#define TS(expect, file, problem, data, out, ...)                                                               \
    CASE(expect, file, problem, "train-sep", "-q", "--data", (char *)(data), "--out", (char *)(out), "--base",  \
         "4", "--depth", "2", "--frames", "32", "--batch", "1", "-j", "1", "--steps", "2", "--val-singers",     \
         "none", __VA_ARGS__)
    TS(OK, NULL, NULL, tp("data_ok"), tp("out/m.safetensors"), "--ckpt", tp("out/m.ckpt"));
    TS(FAIL, "nodir", NULL, tp("nodir"), tp("out/m2.safetensors"), "--seed", "1");
    TS(FAIL, "data_empty", NULL, tp("data_empty"), tp("out/m2.safetensors"), "--seed", "1");
    TS(FAIL, "good.wav", NULL, tp("in/good.wav"), tp("out/m2.safetensors"), "--seed", "1");
    TS(FAIL, "abjones_1_01.wav", "stereo", tp("data_mono"), tp("out/m2.safetensors"), "--seed", "1");
    TS(FAIL, "abjones_1_01.wav", "NaN", tp("data_nan"), tp("out/m2.safetensors"), "--seed", "1");
    TS(EITHER, "abjones_1_01.wav", NULL, tp("data_1"), tp("out/m1.safetensors"), "--seed", "1");
    /* checkpoints */
    const char *ck[][3] = {
        {"in/empty.wav", "empty.wav", NULL},
        {"in/text.wav", "text.wav", NULL},
        {"in/missing.ckpt", "missing.ckpt", "No such file"},
        {"in/trunc.safetensors", "trunc.safetensors", NULL},
        {"in/giant.safetensors", "giant.safetensors", "DUET_MAX_TENSOR_BYTES"},
        {"in/tiny.safetensors", "tiny.safetensors", "not a duet separation checkpoint"},
        {"out/ck_v99.ckpt", "ck_v99.ckpt", "version"},
        {"out/ck_shape.ckpt", "ck_shape.ckpt", "shape"},
    };
    /* variants of the checkpoint just written */
    duet_st_file *f;
    duet_err err;
    if (duet_st_load(tp("out/m.ckpt"), &f, &err) == DUET_OK) {
        for (int v = 0; v < 2; v++) {
            duet_st_writer *w;
            DUET_CHECK(duet_st_writer_new(&w, &err) == DUET_OK);
            for (size_t i = 0; i < duet_st_meta_count(f); i++) {
                const char *k, *val;
                duet_st_meta_at(f, i, &k, &val);
                if (v == 0 && !strcmp(k, "version")) val = "99";
                DUET_CHECK(duet_st_writer_meta(w, k, val, &err) == DUET_OK);
            }
            int shrunk = 0; /* v 1: the first weight tensor loses a row (its data is then too long) */
            for (size_t i = 0; i < duet_st_count(f); i++) {
                const duet_st_tensor *t = duet_st_at(f, i);
                int64_t sh[DUET_ST_MAX_DIMS];
                for (int d = 0; d < t->ndim; d++) sh[d] = t->shape[d];
                if (v == 1 && !shrunk && t->dtype == DUET_ST_F32 && t->ndim >= 1 && sh[0] > 1) sh[0]--, shrunk = 1;
                DUET_CHECK(duet_st_writer_add(w, t->name, t->dtype, t->ndim, sh, t->data, &err) == DUET_OK);
            }
            DUET_CHECK(duet_st_writer_save(w, tp(v ? "out/ck_shape.ckpt" : "out/ck_v99.ckpt"), &err) == DUET_OK);
            duet_st_writer_free(w);
        }
        duet_st_free(f);
    } else {
        CHECK_MSG(0, "no checkpoint from the good training run: %s", err.msg);
    }
    for (size_t i = 0; i < sizeof ck / sizeof *ck; i++)
        TS(FAIL, ck[i][1], ck[i][2], tp("data_ok"), tp("out/m3.safetensors"), "--resume", tp(ck[i][0]), "--steps",
           "3");
    /* outputs */
    TS(FAIL, "/dev/full", "not a regular file", tp("data_ok"), "/dev/full", "--ckpt", tp("out/m4.ckpt"));
    TS(FAIL, "nodir/m.safetensors", NULL, tp("data_ok"), tp("out/nodir/m.safetensors"), "--seed", "1");
    TS(FAIL, "nodir/m.ckpt", NULL, tp("data_ok"), tp("out/m5.safetensors"), "--ckpt", tp("out/nodir/m.ckpt"));
    TS(FAIL, "afile/m.safetensors", NULL, tp("data_ok"), tp("out/afile/m.safetensors"), "--seed", "1");
    if (have_ro) TS(FAIL, "ro/m.safetensors", "Read-only", tp("data_ok"), tp("ro/m.safetensors"), "--seed", "1");
    if (have_full) TS(FAIL, "full/m.safetensors", "No space", tp("data_ok"), tp("full/m.safetensors"), "--seed", "1");
#undef TS
}

static void test_train_rec(void)
{
    /* train-rec / recommend: exercised when this build has them */
    char *av[] = {"duet", "train-rec", "--help", NULL};
    if (runv(av, NULL) != 0) {
        fprintf(stderr, "# train-rec not built yet: skipped\n");
        return;
    }
#define TR(expect, file, problem, input, out, ...)                                                          \
    CASE(expect, file, problem, "train-rec", "--quiet", "--interactions", (char *)(input), "--out",       \
         (char *)(out), "--epochs", "1", __VA_ARGS__)
    TR(OK, NULL, NULL, "fixtures/rec/tiny.tsv", tp("out/rec.safetensors"), "--ckpt", tp("out/rec.ckpt"));
    const char *bad[][3] = {{"in/empty.wav", "empty.wav", NULL},      {"in/text.wav", "text.wav", NULL},
                            {"in/dir.wav", "dir.wav", NULL},          {"in/missing.tsv", "missing.tsv", NULL},
                            {"in/binary.txt", "binary.txt", NULL},    {"in/inter_bad.tsv", "inter_bad.tsv", NULL},
                            {"in/inter_nan.tsv", "inter_nan.tsv", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        TR(FAIL, bad[i][1], bad[i][2], tp(bad[i][0]), tp("out/r2.safetensors"), "--seed", "1");
    /* checkpoints to resume from */
    const char *ck[][3] = {{"in/empty.wav", "empty.wav", NULL},
                           {"in/missing.ckpt", "missing.ckpt", NULL},
                           {"in/giant.safetensors", "giant.safetensors", "DUET_MAX_TENSOR_BYTES"},
                           {"in/tiny.safetensors", "tiny.safetensors", NULL},
                           {"in/trunc.safetensors", "trunc.safetensors", NULL}};
    for (size_t i = 0; i < sizeof ck / sizeof *ck; i++)
        TR(FAIL, ck[i][1], ck[i][2], "fixtures/rec/tiny.tsv", tp("out/r3.safetensors"), "--resume", tp(ck[i][0]));
    /* outputs */
    TR(FAIL, "/dev/full", NULL, "fixtures/rec/tiny.tsv", "/dev/full", "--seed", "1");
    TR(FAIL, "nodir/r.safetensors", NULL, "fixtures/rec/tiny.tsv", tp("out/nodir/r.safetensors"), "--seed", "1");
    TR(FAIL, "afile/r.safetensors", NULL, "fixtures/rec/tiny.tsv", tp("out/afile/r.safetensors"), "--seed", "1");
    if (have_ro) TR(FAIL, "ro/r.safetensors", "Read-only", "fixtures/rec/tiny.tsv", tp("ro/r.safetensors"), "--seed", "1");
    if (have_full)
        TR(FAIL, "full/r.safetensors", "No space", "fixtures/rec/tiny.tsv", tp("full/r.safetensors"), "--seed", "1");
#undef TR
    /* recommend */
    CASE(OK, NULL, NULL, "recommend", "--model", tp("out/rec.safetensors"), "--user", "u1", "-k", "3");
    CASE(FAIL, "nosuch", "unknown", "recommend", "--model", tp("out/rec.safetensors"), "--similar", "nosuch");
    CASE(FAIL, "nosuch", "unknown", "recommend", "--model", tp("out/rec.safetensors"), "--user", "nosuch");
    const char *models[][3] = {{"in/empty.wav", "empty.wav", NULL},
                               {"in/text.wav", "text.wav", NULL},
                               {"in/dir.wav", "dir.wav", NULL},
                               {"in/missing.safetensors", "missing.safetensors", NULL},
                               {"in/giant.safetensors", "giant.safetensors", "DUET_MAX_TENSOR_BYTES"},
                               {"in/hugehdr.safetensors", "hugehdr.safetensors", "cap"},
                               {"in/tiny.safetensors", "tiny.safetensors", "not a duet model file"},
                               {"out/rec.ckpt", "rec.ckpt", NULL}};
    for (size_t i = 0; i < sizeof models / sizeof *models; i++)
        CASE(FAIL, models[i][1], models[i][2], "recommend", "--model", tp(models[i][0]), "--user", "u1");
}

static void test_global(void)
{
    CASE(FAIL, NULL, NULL, "no-such-command");
    CASE(FAIL, NULL, NULL, "info", "");
    CASE(FAIL, NULL, NULL, "resample", "-r", "0", tp("in/good.wav"), tp("out/x.wav"));
    CASE(FAIL, NULL, NULL, "resample", "-r", "99999999999999999999", tp("in/good.wav"), tp("out/x.wav"));
    /* unknown options and options without their value: one line naming the
     * command and the option, for every command (getopt's own messages are off) */
    static const char *cmds[] = {"info", "resample", "separate", "eval-sep", "spectrogram", "features",
                                 "train-sep", "train-rec", "recommend", "eval-rec", "word2vec",
                                 "word2vec-corpus", "word2vec-similar"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *cmd = (char *)cmds[i];
        CASE(FAIL, cmd, "--no-such-option", cmd, "--no-such-option", tp("in/good.wav"));
    }
    CASE(FAIL, "separate", "'-Z'", "separate", "-Z", tp("in/good.wav"));
    CASE(FAIL, "info", "'--nan-zero' takes no value", "info", "--nan-zero=x", tp("in/good.wav"));
    static const char *needs_value[][2] = {{"separate", "-o"},      {"separate", "--model"}, {"resample", "-r"},
                                           {"eval-sep", "--ref"},   {"features", "-j"},      {"spectrogram", "-o"},
                                           {"train-sep", "--data"}};
    for (size_t i = 0; i < sizeof needs_value / sizeof needs_value[0]; i++) {
        char *cmd = (char *)needs_value[i][0], *opt = (char *)needs_value[i][1];
        CASE(FAIL, cmd, NULL, cmd, opt);
    }
}

int main(void)
{
    duet_bin = getenv("DUET");
    if (!duet_bin) duet_bin = "build/duet";
    struct timespec ts0, ts1;
    clock_gettime(CLOCK_MONOTONIC, &ts0);
    snprintf(root, sizeof root, "/tmp/duet_hostile_XXXXXX");
    snprintf(cap_dir, sizeof cap_dir, "/tmp/duet_hostile_cap_XXXXXX");
    if (!mkdtemp(root) || !mkdtemp(cap_dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(out_txt, sizeof out_txt, "%s/stdout", cap_dir);
    snprintf(err_txt, sizeof err_txt, "%s/stderr", cap_dir);
    make_inputs();
    make_mounts();
    RUN(test_global);
    RUN(test_info);
    RUN(test_resample);
    RUN(test_separate);
    RUN(test_eval_sep);
    RUN(test_spectrogram);
    RUN(test_features);
    RUN(test_catalog_disk_fills);
    RUN(test_word2vec);
    RUN(test_eval_rec);
    RUN(test_train_sep);
    RUN(test_train_rec);
    unmount_all();
    clock_gettime(CLOCK_MONOTONIC, &ts1);
    fprintf(stderr, "# %d hostile cases (%d ended in an error, %d succeeded) in %.1f s%s\n", n_cases, n_fail_expect,
            n_ok_expect, (double)(ts1.tv_sec - ts0.tv_sec) + 1e-9 * (double)(ts1.tv_nsec - ts0.tv_nsec),
            have_full ? "" : " (no full-disk cases)");
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", root, cap_dir);
    if (system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", root);
    return check_summary();
}
