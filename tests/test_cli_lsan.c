/* tests/test_cli_lsan.c: every CLI command, on its success path and on its
 * error paths, with the sanitizers' reports checked (issue 9: LeakSanitizer
 * finds no leak in the CLI paths).
 *
 * Runs $DUET (build/duet under `make check`, build-asan/duet under `make
 * asan`) on small synthesised inputs in a temporary folder: info, resample,
 * separate (mixture, hpss and the trained model on a 1 s clip), eval-sep,
 * spectrogram, features (files and catalog), word2vec, word2vec-corpus,
 * word2vec-similar, eval-rec, train-sep (a 2-step run of a tiny network),
 * help, version, plus error paths of each (missing file, a file of the wrong
 * type, a bad option, a bad value, an unwritable output). Each run must end
 * with the expected exit status (0, or 1/2 for the error cases) and its
 * stderr must hold no LeakSanitizer, AddressSanitizer or UBSan report.
 * Under the ASan build, leak detection is on (ASAN_OPTIONS=detect_leaks=1
 * unless the environment says otherwise; LSAN_OPTIONS points to
 * fuzz/lsan.supp, which only lists third-party leaks reproduced without
 * duet). Under the plain build the same runs check the exit statuses. */
#define _DEFAULT_SOURCE
#include "check.h"
#include "../audio/audio.h"
#include "../common/rng.h"

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const char *duet_bin;
static char dir[256];
static char supp[1024];

static const char *tp(const char *name)
{
    static char buf[16][600];
    static int k;
    k = (k + 1) % 16;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)(n > 0 ? n : 0) + 1);
    if (!s) {
        fclose(f);
        return NULL;
    }
    size_t got = fread(s, 1, (size_t)(n > 0 ? n : 0), f);
    s[got] = '\0';
    fclose(f);
    return s;
}

enum { OK = 0, FAIL = -1 };

/* Run duet with the NULL-terminated arguments; expect exit status `want`
 * (OK = 0, FAIL = 1 or 2) and no sanitizer report. */
static void run(const char *label, int want, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "duet";
    va_list ap;
    va_start(ap, want);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 63) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    const char *log = tp("stderr.log");
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_RDWR);
        if (fd < 0 || nul < 0) _exit(127);
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(fd, 2);
        setenv("ASAN_OPTIONS", getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "detect_leaks=1", 1);
        if (!getenv("LSAN_OPTIONS")) setenv("LSAN_OPTIONS", supp, 1);
        setenv("OMP_NUM_THREADS", "1", 1);
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        execv(duet_bin, argv);
        _exit(127);
    }
    int st = 0;
    REQUIRE(pid > 0 && waitpid(pid, &st, 0) == pid);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    char *err = slurp(log);
    REQUIRE(err != NULL);
    int report = strstr(err, "LeakSanitizer") || strstr(err, "AddressSanitizer") || strstr(err, "runtime error");
    int status_ok = want == OK ? rc == 0 : (rc == 1 || rc == 2);
    if (report || !status_ok) {
        fprintf(stderr, "  %s: exit status %d (want %s)%s\n", label, rc, want == OK ? "0" : "1 or 2",
                report ? ", sanitizer report:" : "; stderr:");
        fprintf(stderr, "%.4000s\n", err);
    }
    CHECK_MSG(!report, "%s: sanitizer report", label);
    CHECK_MSG(status_ok, "%s: exit status %d", label, rc);
    free(err);
}

static int write_wav(const char *path, int channels, int sr, double seconds, uint64_t seed)
{
    duet_audio a;
    if (duet_audio_alloc(&a, channels, (int64_t)(seconds * sr), sr) != DUET_OK) return -1;
    duet_rng r;
    duet_rng_seed(&r, seed);
    double f0 = 110.0 + 20.0 * (double)(seed % 5), fv = 280.0 + 30.0 * (double)(seed % 3);
    for (int64_t i = 0; i < a.frames; i++) {
        double t = (double)i / sr;
        double saw = 2.0 * (t * f0 - floor(t * f0 + 0.5));
        float acc = (float)(0.25 * saw + 0.03 * duet_rng_normal(&r));
        float voc = (float)(0.35 * sin(2 * M_PI * fv * t));
        if (channels == 1) {
            a.ch[0][i] = acc + voc;
        } else {
            a.ch[0][i] = acc; /* MIR-1K layout: left accompaniment, right voice */
            a.ch[1][i] = voc;
        }
    }
    duet_status st = duet_audio_write(path, &a, DUET_FILE_WAV_PCM16, NULL);
    duet_audio_free(&a);
    return st == DUET_OK ? 0 : -1;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static void setup(void)
{
    char p[700];
    snprintf(p, sizeof p, "%s/data", dir);
    REQUIRE(mkdir(p, 0755) == 0);
    snprintf(p, sizeof p, "%s/empty", dir);
    REQUIRE(mkdir(p, 0755) == 0);
    REQUIRE(write_wav(tp("song.wav"), 2, 22050, 1.0, 1) == 0);
    REQUIRE(write_wav(tp("data/abjones_1_01.wav"), 2, 16000, 1.5, 2) == 0);
    REQUIRE(write_wav(tp("data/amy_1_01.wav"), 2, 16000, 1.5, 3) == 0);
    REQUIRE(write_wav(tp("data/bobon_1_01.wav"), 2, 16000, 1.0, 4) == 0);
    REQUIRE(write_text(tp("notaudio.wav"), "this is not audio\n") == 0);
    /* a corpus of 200 sentences over 20 tokens */
    FILE *f = fopen(tp("corpus.txt"), "wb");
    REQUIRE(f != NULL);
    duet_rng r;
    duet_rng_seed(&r, 5);
    for (int s = 0; s < 200; s++) {
        int n = 3 + (int)duet_rng_below(&r, 6);
        for (int k = 0; k < n; k++) fprintf(f, "%sw%02d", k ? " " : "", (int)duet_rng_below(&r, 20));
        fputc('\n', f);
    }
    fclose(f);
    REQUIRE(write_text(tp("bad_corpus.txt"), "ok line\nbad \xff token\n") == 0);
    REQUIRE(write_text(tp("catalog.tsv"), "item_id\tpath\nsong\tsong.wav\nbroken\tnotaudio.wav\n") == 0);
    REQUIRE(write_text(tp("bad_vec.txt"), "2 3\na 1 2 3\n") == 0);
}

static void test_basic(void)
{
    run("version", OK, "version", NULL);
    run("--help", OK, "--help", NULL);
    run("help info", OK, "help", "info", NULL);
    run("help unknown", FAIL, "help", "no-such-command", NULL);
    run("unknown command", FAIL, "no-such-command", NULL);
    run("no command", FAIL, NULL);
}

static void test_info_resample(void)
{
    run("info", OK, "info", tp("song.wav"), NULL);
    run("info -z", OK, "info", "-z", tp("song.wav"), tp("data/amy_1_01.wav"), NULL);
    run("info json", OK, "info", "--json", "-v", tp("song.wav"), NULL);
    run("info model json", OK, "info", "--model", "--json", NULL);
    run("info json missing", FAIL, "info", "--json", tp("song.wav"), tp("missing.wav"), NULL);
    run("info missing", FAIL, "info", tp("missing.wav"), NULL);
    run("info not audio", FAIL, "info", tp("notaudio.wav"), NULL);
    run("info bad option", FAIL, "info", "--bogus", NULL);
    run("info no file", FAIL, "info", NULL);
    run("resample", OK, "resample", "-r", "16000", tp("song.wav"), tp("out/rs.flac"), NULL);
    run("resample wav16", OK, "resample", "-r", "44100", "-Q", "fast", "-f", "wav16", tp("song.wav"),
        tp("out/rs.wav"), NULL);
    run("resample missing", FAIL, "resample", "-r", "16000", tp("missing.wav"), tp("out/x.wav"), NULL);
    run("resample not audio", FAIL, "resample", "-r", "16000", tp("notaudio.wav"), tp("out/x.wav"), NULL);
    run("resample bad rate", FAIL, "resample", "-r", "0", tp("song.wav"), tp("out/x.wav"), NULL);
    run("resample bad quality", FAIL, "resample", "-r", "8000", "-q", "perfect", tp("song.wav"), tp("out/x.wav"),
        NULL);
    run("resample /dev/full", FAIL, "resample", "-r", "8000", tp("song.wav"), "/dev/full", NULL);
    run("resample no dir", FAIL, "resample", "-r", "8000", tp("song.wav"), tp("nodir/sub/x.wav"), NULL);
}

static void test_separate_spectrogram(void)
{
    run("separate mixture", OK, "separate", "-m", "mixture", "-o", tp("sep"), tp("song.wav"), NULL);
    run("separate hpss flac", OK, "separate", "-m", "hpss", "-f", "flac", "-o", tp("sep"), tp("song.wav"), NULL);
    run("separate model", OK, "separate", "-o", tp("sep_model"), tp("song.wav"), NULL);
    run("separate missing", FAIL, "separate", "-o", tp("sep"), tp("missing.wav"), NULL);
    run("separate not audio", FAIL, "separate", "-m", "mixture", "-o", tp("sep"), tp("notaudio.wav"), NULL);
    run("separate bad method", FAIL, "separate", "-m", "no-such-method", tp("song.wav"), NULL);
    run("separate bad model", FAIL, "separate", "-m", "model", "--model", tp("notaudio.wav"), "-o", tp("sep"),
        tp("song.wav"), NULL);
    run("separate bad format", FAIL, "separate", "-f", "aac", tp("song.wav"), NULL);
    run("spectrogram", OK, "spectrogram", "-o", tp("out/spec.png"), tp("song.wav"), NULL);
    run("spectrogram missing", FAIL, "spectrogram", "-o", tp("out/x.png"), tp("missing.wav"), NULL);
    run("spectrogram bad width", FAIL, "spectrogram", "--width", "1", "-o", tp("out/x.png"), tp("song.wav"), NULL);
    run("spectrogram /dev/full", FAIL, "spectrogram", "-o", "/dev/full", tp("song.wav"), NULL);
}

static void test_eval_sep(void)
{
    run("eval-sep", OK, "eval-sep", "--ref", tp("data"), "-m", "mixture,hpss", "--json", tp("out/eval.json"), NULL);
    run("eval-sep missing ref", FAIL, "eval-sep", "--ref", tp("nodir"), "-m", "mixture", NULL);
    run("eval-sep no ref", FAIL, "eval-sep", "-m", "mixture", NULL);
    run("eval-sep bad method", FAIL, "eval-sep", "--ref", tp("data"), "-m", "bogus", NULL);
    run("eval-sep bad jobs", FAIL, "eval-sep", "--ref", tp("data"), "-j", "0", NULL);
    run("eval-sep missing est", FAIL, "eval-sep", "--ref", tp("data"), "--est", tp("nodir"), NULL);
}

static void test_features(void)
{
    run("features json", OK, "features", tp("song.wav"), NULL);
    run("features tsv", OK, "features", "--tsv", tp("song.wav"), tp("data/amy_1_01.wav"), NULL);
    run("features missing", FAIL, "features", tp("missing.wav"), NULL);
    run("features not audio", FAIL, "features", tp("notaudio.wav"), NULL);
    run("features bad jobs", FAIL, "features", "-j", "x", tp("song.wav"), NULL);
    /* the broken item fails: exit 1; then --retry-failed rewrites the output and fails it again */
    run("features catalog", FAIL, "features", "--catalog", tp("catalog.tsv"), "-o", tp("out/cat.tsv"), NULL);
    run("features catalog retry", FAIL, "features", "--catalog", tp("catalog.tsv"), "-o", tp("out/cat.tsv"),
        "--retry-failed", "-v", NULL);
    run("features list", OK, "features", "--list", NULL);
    run("features catalog missing", FAIL, "features", "--catalog", tp("missing.tsv"), "-o", tp("out/c2.tsv"), NULL);
}

static void test_word2vec(void)
{
    run("word2vec", OK, "word2vec", "--input", tp("corpus.txt"), "--out", tp("out/vec.txt"), "--dim", "8",
        "--epochs", "2", "--threads", "1", NULL);
    run("word2vec binary cbow", OK, "word2vec", "--input", tp("corpus.txt"), "--out", tp("out/vec.bin"), "--dim",
        "8", "--epochs", "1", "--threads", "2", "--binary", "--cbow", "--shuffle", NULL);
    run("word2vec missing", FAIL, "word2vec", "--input", tp("missing.txt"), "--out", tp("out/v.txt"), NULL);
    run("word2vec bad corpus", FAIL, "word2vec", "--input", tp("bad_corpus.txt"), "--out", tp("out/v.txt"), NULL);
    run("word2vec bad dim", FAIL, "word2vec", "--input", tp("corpus.txt"), "--out", tp("out/v.txt"), "--dim", "-3",
        NULL);
    run("word2vec no out", FAIL, "word2vec", "--input", tp("corpus.txt"), NULL);
    run("word2vec /dev/full", FAIL, "word2vec", "--input", tp("corpus.txt"), "--out", "/dev/full", NULL);
    run("word2vec-similar", OK, "word2vec-similar", tp("out/vec.txt"), "w01", "w02", NULL);
    run("word2vec-similar binary", OK, "word2vec-similar", tp("out/vec.bin"), "w03", NULL);
    run("word2vec-similar unknown token", FAIL, "word2vec-similar", tp("out/vec.txt"), "nope", NULL);
    run("word2vec-similar bad file", FAIL, "word2vec-similar", tp("bad_vec.txt"), "a", NULL);
    run("word2vec-similar missing", FAIL, "word2vec-similar", tp("missing.txt"), "a", NULL);
    run("word2vec-corpus", OK, "word2vec-corpus", "--hetrec", "fixtures/word2vec/hetrec_mini", "--out",
        tp("out/corpus.txt"), NULL);
    run("word2vec-corpus missing", FAIL, "word2vec-corpus", "--hetrec", tp("nodir"), "--out", tp("out/c.txt"),
        NULL);
    run("word2vec-corpus bad files", FAIL, "word2vec-corpus", "--hetrec", tp("data"), "--out", tp("out/c.txt"),
        NULL);
}

static void test_eval_rec(void)
{
    run("eval-rec", OK, "eval-rec", "--interactions", "fixtures/rec/tiny.tsv", "--models", "popularity", "--seeds",
        "1", "--json", tp("out/rec.json"), NULL);
    run("eval-rec missing", FAIL, "eval-rec", "--interactions", tp("missing.tsv"), "--models", "popularity", NULL);
    run("eval-rec not tsv", FAIL, "eval-rec", "--interactions", tp("song.wav"), "--models", "popularity", NULL);
    run("eval-rec bad model", FAIL, "eval-rec", "--interactions", "fixtures/rec/tiny.tsv", "--models", "bogus", NULL);
    run("eval-rec bad seeds", FAIL, "eval-rec", "--interactions", "fixtures/rec/tiny.tsv", "--seeds", "0", NULL);
    run("eval-rec no data", FAIL, "eval-rec", NULL);
    run("eval-rec missing ncf", FAIL, "eval-rec", "--ncf", tp("nodir/x"), "--models", "popularity", NULL);
}

static void test_train_sep(void)
{
    run("train-sep", OK, "train-sep", "--data", tp("data"), "--val-singers", "bobon", "--val-clips", "1", "--base",
        "4", "--depth", "2", "--frames", "32", "--batch", "2", "-j", "1", "--eval-every", "2", "--steps", "2",
        "--seed", "7", "--no-sa", "-q", "-o", tp("out/tiny.safetensors"), NULL);
    run("train-sep resume", OK, "train-sep", "--data", tp("data"), "--val-singers", "bobon", "--val-clips", "1",
        "--base", "4", "--depth", "2", "--frames", "32", "--batch", "2", "-j", "1", "--eval-every", "2", "--steps",
        "3", "--seed", "7", "--no-sa", "-q", "-o", tp("out/tiny.safetensors"), "--resume",
        tp("out/tiny.safetensors.ckpt"), NULL);
    run("train-sep missing data", FAIL, "train-sep", "--data", tp("nodir"), "-o", tp("out/t.safetensors"), NULL);
    run("train-sep no clips", FAIL, "train-sep", "--data", tp("empty"), "-o", tp("out/t.safetensors"), NULL);
    run("train-sep bad resume", FAIL, "train-sep", "--data", tp("data"), "--val-singers", "bobon", "-o",
        tp("out/t.safetensors"), "--resume", tp("notaudio.wav"), NULL);
    run("train-sep bad steps", FAIL, "train-sep", "--data", tp("data"), "--steps", "0", "-o", tp("out/t.st"), NULL);
    run("train-sep no out", FAIL, "train-sep", "--data", tp("data"), NULL);
}

static void rm_rf(const char *path)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "# could not remove %s\n", path);
}

int main(void)
{
    duet_bin = getenv("DUET");
    if (!duet_bin) duet_bin = "build/duet";
    if (access(duet_bin, X_OK) != 0) {
        fprintf(stderr, "test_cli_lsan: %s not found (set DUET)\n", duet_bin);
        return 1;
    }
    char cwd[512];
    if (!getcwd(cwd, sizeof cwd)) return 1;
    snprintf(supp, sizeof supp, "suppressions=%s/fuzz/lsan.supp:print_suppressions=0", cwd);
    snprintf(dir, sizeof dir, "%s/duet_lsan_XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir)) return 1;
    char out[700];
    snprintf(out, sizeof out, "%s/out", dir);
    mkdir(out, 0755);
    RUN(setup);
    RUN(test_basic);
    RUN(test_info_resample);
    RUN(test_separate_spectrogram);
    RUN(test_eval_sep);
    RUN(test_features);
    RUN(test_word2vec);
    RUN(test_eval_rec);
    RUN(test_train_sep);
    rm_rf(dir);
    return check_summary();
}
