/* tests/test_cli_audio.c: the `duet info` and `duet resample` commands run as
 * a user would (the binary named by $DUET, default build/duet): results on
 * good input, and on bad input a non-zero exit, exactly one stderr line
 * "duet: ...", and no output or temporary file left behind. */
#define _DEFAULT_SOURCE
#include "check.h"
#include "../audio/audio.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *duet_bin;
static char dir[64];
static char out_txt[128], err_txt[128];

static const char *tp(const char *name)
{
    static char buf[8][256];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return calloc(1, 1);
    char *s = calloc(1, 65536);
    size_t n = fread(s, 1, 65535, f);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Run `duet ARGS`; return its exit status (-1 if it did not exit normally,
 * e.g. crashed). stdout and stderr land in out_txt and err_txt. */
static int run(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", duet_bin, args, out_txt, err_txt);
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

/* stderr holds exactly one line starting with "duet: " and containing `want`. */
static int one_line_error(const char *want)
{
    char *e = slurp(err_txt);
    size_t n = strlen(e);
    int lines = 0;
    for (size_t i = 0; i < n; i++) lines += e[i] == '\n';
    int ok = lines == 1 && e[n - 1] == '\n' && strncmp(e, "duet: ", 6) == 0 && (!want || strstr(e, want));
    if (!ok) fprintf(stderr, "  stderr was: [%s] (wanted one line with '%s')\n", e, want ? want : "");
    free(e);
    return ok;
}

/* Number of entries in the test folder whose name contains `part`. */
static int count_matching(const char *part)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, part)) n++;
    closedir(d);
    return n;
}

static void write_raw(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static void make_inputs(void)
{
    duet_audio a;
    if (duet_audio_alloc(&a, 2, 44100, 44100) != DUET_OK) return;
    for (int64_t i = 0; i < a.frames; i++) {
        a.ch[0][i] = (float)(0.5 * sin(0.0627 * (double)i));
        a.ch[1][i] = (float)(0.25 * sin(0.0127 * (double)i));
    }
    duet_audio_write(tp("good.wav"), &a, DUET_FILE_WAV_FLOAT, NULL);
    duet_audio_write(tp("good.flac"), &a, DUET_FILE_FLAC, NULL);
    duet_audio_free(&a);
    if (duet_audio_alloc(&a, 1, 1, 8000) != DUET_OK) return;
    a.ch[0][0] = 0.5f;
    duet_audio_write(tp("one.wav"), &a, DUET_FILE_WAV_PCM16, NULL);
    duet_audio_free(&a);
    write_raw(tp("empty.wav"), "", 0);
    const char *text = "hello, I am a text file\n";
    write_raw(tp("text.wav"), text, strlen(text));
    /* a float WAV (44-byte header) holding NaN and Inf */
    unsigned char h[44 + 16] = {'R', 'I', 'F', 'F', 52, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ',
                                16, 0, 0, 0, 3, 0, 1, 0, 0x44, 0xAC, 0, 0, 0x10, 0xB1, 2, 0,
                                4, 0, 32, 0, 'd', 'a', 't', 'a', 16, 0, 0, 0};
    float v[4] = {0.1f, NAN, INFINITY, 0.2f};
    memcpy(h + 44, v, sizeof v);
    write_raw(tp("nan.wav"), h, sizeof h);
    write_raw(tp("trunc.wav"), h, 20);
    /* the same header with a sample rate of 0 */
    unsigned char z[sizeof h];
    memcpy(z, h, sizeof h);
    memset(z + 24, 0, 8);
    memcpy(z + 44, (float[4]){0.1f, 0.2f, 0.3f, 0.4f}, 16);
    write_raw(tp("rate0.wav"), z, sizeof z);
}

static void test_info_good(void)
{
    char a[512];
    snprintf(a, sizeof a, "info %s %s %s", tp("good.wav"), tp("good.flac"), tp("one.wav"));
    CHECK(run(a) == 0);
    char *o = slurp(out_txt);
    CHECK(strstr(o, "WAV 32-bit float") != NULL);
    CHECK(strstr(o, "FLAC 16-bit") != NULL);
    CHECK(strstr(o, "rate      44100 Hz") != NULL);
    CHECK(strstr(o, "channels  2") != NULL);
    CHECK(strstr(o, "frames    44100") != NULL);
    CHECK(strstr(o, "duration  1.000 s") != NULL);
    CHECK(strstr(o, "frames    1\n") != NULL);     /* the 1-sample file */
    CHECK(strstr(o, "peak      0.500000") != NULL); /* one.wav and the sines */
    char *e = slurp(err_txt);
    CHECK(e[0] == '\0');
    free(e);
    free(o);
    CHECK(run("info --help") == 0);
    o = slurp(out_txt);
    CHECK(strstr(o, "usage: duet info") != NULL && strstr(o, "default") != NULL);
    free(o);
    CHECK(run("help info") == 0);
}

static void test_info_bad(void)
{
    struct {
        const char *file, *want;
    } cases[] = {
        {"missing.wav", "No such file"},
        {"empty.wav", "empty file"},
        {"text.wav", "not a recognised audio file (libsndfile: "},
        {"trunc.wav", "not a recognised audio file"},
        {"nan.wav", "NaN"},
        {"rate0.wav", "libsndfile"},
        {"emptydir", "directory with no audio files"}, /* a folder means its audio files */
    };
    char a[512];
    mkdir(tp("emptydir"), 0777);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(a, sizeof a, "info '%s'", tp(cases[i].file));
        int rc = run(a);
        CHECK_MSG(rc == 1, "%s: exit %d", cases[i].file, rc);
        CHECK_MSG(one_line_error(cases[i].want), "%s", cases[i].file);
    }
    /* --nan-zero sanitises and says how many samples */
    snprintf(a, sizeof a, "info -z %s", tp("nan.wav"));
    CHECK(run(a) == 0);
    char *o = slurp(out_txt);
    CHECK(strstr(o, "nan-zeroed 2 samples") != NULL);
    free(o);
    CHECK(run("info") == 2);
    CHECK(one_line_error("no input file"));
    CHECK(run("info --bogus x.wav") == 2);
    CHECK(one_line_error("unknown option"));
}

static void test_resample_good(void)
{
    char a[512];
    snprintf(a, sizeof a, "resample -r 16000 %s %s", tp("good.wav"), tp("r16.wav"));
    CHECK(run(a) == 0);
    duet_audio b;
    duet_err e = {0};
    CHECK_MSG(duet_audio_read(tp("r16.wav"), NULL, &b, NULL, &e) == DUET_OK, "%s", e.msg);
    CHECK(b.sample_rate == 16000 && b.frames == 16000 && b.channels == 2);
    CHECK_MSG(strcmp(b.format, "WAV 32-bit float") == 0, "%s: a float input keeps its precision", b.format);
    duet_audio_free(&b);
    snprintf(a, sizeof a, "resample --rate 48000 --quality best --format wav32f %s %s", tp("good.flac"),
             tp("r48.wav"));
    CHECK(run(a) == 0);
    CHECK(duet_audio_read(tp("r48.wav"), NULL, &b, NULL, &e) == DUET_OK);
    CHECK(b.sample_rate == 48000 && b.frames == 48000 && strcmp(b.format, "WAV 32-bit float") == 0);
    duet_audio_free(&b);
    snprintf(a, sizeof a, "resample -r 22050 -Q linear %s %s", tp("good.wav"), tp("r22.flac"));
    CHECK(run(a) == 0);
    CHECK(duet_audio_read(tp("r22.flac"), NULL, &b, NULL, &e) == DUET_OK);
    CHECK(b.sample_rate == 22050 && b.frames == 22050 && strcmp(b.format, "FLAC 24-bit") == 0);
    duet_audio_free(&b);
    /* 1-sample file: round(1 * 16000 / 8000) = 2 frames */
    snprintf(a, sizeof a, "resample -r 16000 %s %s", tp("one.wav"), tp("one16.wav"));
    CHECK(run(a) == 0);
    CHECK(duet_audio_read(tp("one16.wav"), NULL, &b, NULL, &e) == DUET_OK);
    CHECK(b.frames == 2);
    duet_audio_free(&b);
    CHECK(run("resample --help") == 0);
    char *o = slurp(out_txt);
    CHECK(strstr(o, "default: high") != NULL);
    free(o);
    CHECK(count_matching(".tmp") == 0);
}

static void test_resample_bad(void)
{
    char a[512];
    struct {
        const char *args, *want;
        int rc;
        const char *out; /* output that must not exist afterwards */
    } cases[] = {
        {"resample -r 16000 @missing.wav @o1.wav", "No such file", 1, "o1.wav"},
        {"resample -r 16000 @text.wav @o2.wav", "not a recognised audio file", 1, "o2.wav"},
        {"resample -r 16000 @empty.wav @o3.wav", "empty file", 1, "o3.wav"},
        {"resample -r 16000 @nan.wav @o4.wav", "NaN", 1, "o4.wav"},
        {"resample -r 16000 @trunc.wav @o5.wav", "not a recognised", 1, "o5.wav"},
        {"resample -r 16000 @good.wav @nodir/o6.wav", "No such file", 1, NULL},
        {"resample -r 0 @good.wav @o7.wav", "--rate", 2, "o7.wav"},
        {"resample -r abc @good.wav @o8.wav", "--rate", 2, "o8.wav"},
        {"resample -r 16000 -Q superb @good.wav @o9.wav", "--quality", 2, "o9.wav"},
        {"resample -r 16000 -f aac @good.wav @o10.wav", "--format", 2, "o10.wav"},
        {"resample -r 16000 @good.wav @o10.png", "not an audio format", 2, "o10.png"},
        {"resample -r 16000 @good.wav @o10.m4a", "cannot write", 2, "o10.m4a"},
        {"resample -r 16000 --bits 12 @good.wav @o10.wav", "--bits", 2, "o10.wav"},
        {"resample -r 16000 -f flac --bits 32f @good.wav @o10.flac", "FLAC stores 16 or 24", 2, "o10.flac"},
        {"resample -r 16000 --bitrate 99999 @good.wav @o10.mp3", "--bitrate", 2, "o10.mp3"},
        {"resample -r 16000 --bitrate 128 @good.wav @o10.wav", "applies to ogg, opus and mp3", 2, "o10.wav"},
        {"resample @good.wav @o11.wav", "missing -r", 2, "o11.wav"},
        {"resample -r 16000 @good.wav", "expected IN and OUT", 2, NULL},
        {"resample -r 16000 @good.wav @o12.flac -f flac -r 700000", "cannot be stored", 1, "o12.flac"},
        {"resample -r 100 @good.wav @o13.wav", "beyond", 1, "o13.wav"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* expand @name into the test folder */
        char args[1024] = "";
        const char *s = cases[i].args;
        size_t k = 0;
        while (*s && k + 80 < sizeof args) {
            if (*s == '@') {
                k += (size_t)snprintf(args + k, sizeof args - k, "%s/", dir);
                s++;
            } else {
                args[k++] = *s++;
            }
        }
        args[k] = '\0';
        int rc = run(args);
        CHECK_MSG(rc == cases[i].rc, "'%s': exit %d, expected %d", cases[i].args, rc, cases[i].rc);
        CHECK_MSG(one_line_error(cases[i].want), "'%s'", cases[i].args);
        if (cases[i].out) CHECK_MSG(access(tp(cases[i].out), F_OK) != 0, "%s left behind", cases[i].out);
    }
    /* a failed run leaves an existing output untouched */
    write_raw(tp("keep.wav"), "precious", 8);
    snprintf(a, sizeof a, "resample -r 16000 %s %s", tp("text.wav"), tp("keep.wav"));
    CHECK(run(a) == 1);
    char *k = slurp(tp("keep.wav"));
    CHECK(strcmp(k, "precious") == 0);
    free(k);
    /* an output folder nobody may write in: sysfs refuses new files even to root */
    if (access("/sys", F_OK) == 0) {
        snprintf(a, sizeof a, "resample -r 16000 %s /sys/duet_test_out.wav", tp("good.wav"));
        CHECK(run(a) == 1);
        CHECK(one_line_error("cannot create output"));
        CHECK(access("/sys/duet_test_out.wav", F_OK) != 0);
    }
    if (geteuid() != 0) {
        REQUIRE(mkdir(tp("ro"), 0555) == 0);
        snprintf(a, sizeof a, "resample -r 16000 %s %s/x.wav", tp("good.wav"), tp("ro"));
        CHECK(run(a) == 1);
        CHECK(one_line_error("Permission denied"));
        chmod(tp("ro"), 0755);
        CHECK(access(tp("ro/x.wav"), F_OK) != 0);
    }
    CHECK(count_matching(".tmp") == 0);
}

static void cleanup(void)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (unlink(p) != 0) rmdir(p);
    }
    closedir(d);
    rmdir(dir);
}

int main(void)
{
    duet_bin = getenv("DUET");
    if (!duet_bin || !duet_bin[0]) duet_bin = "build/duet";
    if (access(duet_bin, X_OK) != 0) {
        fprintf(stderr, "test_cli_audio: %s is not an executable (set DUET)\n", duet_bin);
        printf("not ok - duet binary present\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/duet_test_cli_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(out_txt, sizeof out_txt, "%s.out", dir);
    snprintf(err_txt, sizeof err_txt, "%s.err", dir);
    make_inputs();
    RUN(test_info_good);
    RUN(test_info_bad);
    RUN(test_resample_good);
    RUN(test_resample_bad);
    cleanup();
    unlink(out_txt);
    unlink(err_txt);
    return check_summary();
}
