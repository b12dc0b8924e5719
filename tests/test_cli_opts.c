/* tests/test_cli_opts.c: one option syntax and one meaning of -q/-v across
 * duet's commands (issue 20), run through the binary named by $DUET:
 * - train-rec, recommend, eval-rec, word2vec, word2vec-corpus and
 *   word2vec-similar take `--opt=value` exactly as `--opt value` (same
 *   outputs, byte for byte) and refuse bad options with one line
 *   "duet: CMD: ..." and exit status 2;
 * - -q/--quiet leaves nothing on stderr but errors and -v/--verbose adds
 *   diagnostic lines, in those commands and in features and info, without
 *   changing standard output; -q with -v is a usage error;
 * - `duet info --json` prints the information of `duet info` (and of
 *   `duet info --model`) as one valid JSON object, file names escaped
 *   (quotes, backslashes, control characters, non-UTF-8 bytes). */
#define _DEFAULT_SOURCE
#include "check.h"
#include "json_check.h"
#include "../audio/audio.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *duet_bin;
static char dir[64];
static char out_txt[128], err_txt[128];
static char *out_s, *err_s; /* of the last run */

static const char *tp(const char *name)
{
    static char buf[16][512];
    static int k;
    k = (k + 1) % 16;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
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

/* Run duet with argv (argv[0] ignored, NULL-terminated); stdout and stderr
 * land in out_s and err_s. Returns the exit status (128 + signal). */
static int runv(char *const *argv)
{
    fflush(stdout);
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
        unsetenv("DUET_MODEL");
        for (int tries = 0; tries < 200; tries++) { /* the binary may be relinking */
            execv(duet_bin, argv);
            if (errno != ENOENT && errno != ETXTBSY && errno != EACCES) break;
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) return -1;
    free(out_s);
    free(err_s);
    out_s = slurp(out_txt, NULL);
    err_s = slurp(err_txt, NULL);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define RUN_DUET(...) runv((char *[]){"duet", __VA_ARGS__, NULL})

static int starts_with(const char *s, const char *head) { return strncmp(s, head, strlen(head)) == 0; }

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* stderr of the last run: exactly one line "duet: <cmd>: ...<want>..." */
static int one_error(const char *cmd, const char *want)
{
    char head[64];
    snprintf(head, sizeof head, "duet: %s: ", cmd);
    int ok = count_lines(err_s) == 1 && strncmp(err_s, head, strlen(head)) == 0 && (!want || strstr(err_s, want));
    if (!ok) fprintf(stderr, "  stderr: [%s] (wanted one line '%s...%s')\n", err_s, head, want ? want : "");
    return ok;
}

static int same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    int same = la > 0 && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static void write_tone(const char *name, int channels, double amp)
{
    duet_audio a;
    DUET_CHECK(duet_audio_alloc(&a, channels, 22050, 22050) == DUET_OK);
    for (int c = 0; c < channels; c++)
        for (int64_t i = 0; i < a.frames; i++) a.ch[c][i] = (float)(amp * sin(0.05 * (double)i * (c + 1)));
    DUET_CHECK(duet_audio_write(tp(name), &a, DUET_FILE_WAV_PCM16, NULL) == DUET_OK);
    duet_audio_free(&a);
}

/* ------------------------------------------------------------ option syntax */

static void test_equals_form_rec(void)
{
    /* train-rec: the two forms train the same model */
    int rc = RUN_DUET("train-rec", "-q", "--interactions=fixtures/rec/tiny.tsv", "--out=" "/dev/null/x", "--epochs=1");
    CHECK(rc == 1); /* the value after '=' is the path: /dev/null/x cannot be written */
    char o1[600], o2[600];
    snprintf(o1, sizeof o1, "--out=%s", tp("m1.safetensors"));
    rc = RUN_DUET("train-rec", "--quiet", "--interactions=fixtures/rec/tiny.tsv", o1, "--epochs=2", "--dim=8",
                  "--negatives=2", "--seed=3", "--lr=0.01", "--loss=bpr", "--id-dropout=0.1", "--patience=1");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK(err_s[0] == '\0');
    snprintf(o2, sizeof o2, "%s", tp("m2.safetensors"));
    rc = RUN_DUET("train-rec", "-q", "--interactions", "fixtures/rec/tiny.tsv", "--out", o2, "--epochs", "2", "--dim",
                  "8", "--negatives", "2", "--seed", "3", "--lr", "0.01", "--loss", "bpr", "--id-dropout", "0.1",
                  "--patience", "1");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK(same_file(tp("m1.safetensors"), tp("m2.safetensors")));
    /* recommend: the same list either way (and --k is -k) */
    snprintf(o1, sizeof o1, "--model=%s", tp("m1.safetensors"));
    rc = RUN_DUET("recommend", o1, "--user=u1", "--k=3");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK(count_lines(out_s) == 4); /* header + 3 */
    char *first = strdup(out_s);
    rc = RUN_DUET("recommend", "--model", o2, "--user", "u1", "-k", "3");
    CHECK(rc == 0 && strcmp(first, out_s) == 0);
    rc = RUN_DUET("recommend", "--model", o2, "--user", "u1", "-k3");
    CHECK(rc == 0 && strcmp(first, out_s) == 0);
    free(first);
    rc = RUN_DUET("recommend", o1, "--history=r1,r2", "--seed=4", "-k", "2");
    CHECK_MSG(rc == 0 && count_lines(out_s) == 3, "exit %d: %s", rc, err_s);
    /* eval-rec: the same table either way */
    rc = RUN_DUET("eval-rec", "--interactions=fixtures/rec/tiny.tsv", "--seeds=1", "--seed=2", "--k=5",
                  "--models=popularity,item-knn", "--no-tune");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK(strstr(out_s, "NDCG@5") && strstr(out_s, "| item-knn |"));
    first = strdup(out_s);
    rc = RUN_DUET("eval-rec", "--interactions", "fixtures/rec/tiny.tsv", "--seeds", "1", "--seed", "2", "--k", "5",
                  "--models", "popularity,item-knn", "--no-tune");
    CHECK(rc == 0 && strcmp(first, out_s) == 0);
    free(first);
    char js[600];
    snprintf(js, sizeof js, "--json=%s", tp("e.json"));
    rc = RUN_DUET("eval-rec", "--interactions=fixtures/rec/tiny.tsv", "--seeds=1", "--models=popularity", js);
    CHECK(rc == 0);
    char *j = slurp(tp("e.json"), NULL);
    CHECK_MSG(json_valid(j), "eval-rec --json is not valid JSON: %.200s", j);
    free(j);
}

static void test_equals_form_word2vec(void)
{
    char in[600], o1[600], o2[600];
    snprintf(in, sizeof in, "--input=%s", "fixtures/word2vec/vocab_corpus.txt");
    snprintf(o1, sizeof o1, "--out=%s", tp("v1.txt"));
    snprintf(o2, sizeof o2, "%s", tp("v2.txt"));
    int rc = RUN_DUET("word2vec", in, o1, "--dim=8", "--epochs=1", "--threads=1", "--seed=5", "--window=2",
                      "--negative=3", "--min-count=2", "--sample=0", "--alpha=0.05", "--min-alpha=0.001");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    rc = RUN_DUET("word2vec", "--input", "fixtures/word2vec/vocab_corpus.txt", "--out", o2, "--dim", "8", "--epochs",
                  "1", "--threads", "1", "--seed", "5", "--window", "2", "--negative", "3", "--min-count", "2",
                  "--sample", "0", "--alpha", "0.05", "--min-alpha", "0.001");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK(same_file(tp("v1.txt"), tp("v2.txt")));
    /* word2vec-similar: options before, between and after the operands */
    rc = RUN_DUET("word2vec-similar", "--k=4", "--format=text", o2, "w01");
    CHECK_MSG(rc == 0 && count_lines(out_s) == 4, "exit %d: %s", rc, err_s);
    char *first = strdup(out_s);
    rc = RUN_DUET("word2vec-similar", o2, "-k", "4", "w01", "--format", "text");
    CHECK(rc == 0 && strcmp(first, out_s) == 0);
    free(first);
    /* word2vec-corpus */
    snprintf(o1, sizeof o1, "--out=%s", tp("c1.txt"));
    snprintf(o2, sizeof o2, "%s", tp("c2.txt"));
    rc = RUN_DUET("word2vec-corpus", "--hetrec=fixtures/word2vec/hetrec_mini", o1, "--seed=7", "--max-tags=3",
                  "--min-tag-users=1");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    rc = RUN_DUET("word2vec-corpus", "--hetrec", "fixtures/word2vec/hetrec_mini", "--out", o2, "--seed", "7",
                  "--max-tags", "3", "--min-tag-users", "1");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK(same_file(tp("c1.txt"), tp("c2.txt")));
}

/* Usage errors: one line naming the command, exit 2. */
static void test_usage_errors(void)
{
    static const char *cmds[] = {"train-rec", "recommend", "eval-rec", "word2vec", "word2vec-corpus",
                                 "word2vec-similar", "features", "info"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char *c = (char *)cmds[i];
        CHECK_MSG(RUN_DUET(c, "--bogus=1") == 2 && one_error(c, "unknown option '--bogus"), "%s --bogus=1", c);
        CHECK_MSG(RUN_DUET(c, "-Z") == 2 && one_error(c, "unknown option '-Z'"), "%s -Z", c);
        CHECK_MSG(RUN_DUET(c, "-q", "-v") == 2 && one_error(c, "contradict"), "%s -q -v", c);
        CHECK_MSG(RUN_DUET(c, "--quiet=1") == 2 && one_error(c, "takes no value"), "%s --quiet=1", c);
        CHECK_MSG(RUN_DUET(c, "--help") == 0 && strstr(out_s, "-q, --quiet") && strstr(out_s, "-v, --verbose"),
                  "%s --help lists -q and -v", c);
    }
    /* missing values, at the end or empty after '=' */
    static const char *needs[][2] = {{"train-rec", "--out"},   {"train-rec", "--epochs"}, {"recommend", "--model"},
                                     {"recommend", "-k"},      {"eval-rec", "--seeds"},   {"eval-rec", "--models"},
                                     {"word2vec", "--input"},  {"word2vec", "--dim"},     {"word2vec-corpus", "--out"},
                                     {"word2vec-similar", "-k"}};
    for (size_t i = 0; i < sizeof needs / sizeof *needs; i++) {
        char *c = (char *)needs[i][0], *o = (char *)needs[i][1];
        CHECK_MSG(RUN_DUET(c, o) == 2 && one_error(c, "needs a value"), "%s %s", c, o);
    }
    CHECK(RUN_DUET("train-rec", "--interactions=fixtures/rec/tiny.tsv", "--out=") == 2 &&
          one_error("train-rec", "'--out' needs a value"));
    CHECK(RUN_DUET("eval-rec", "--interactions", "") == 2 && one_error("eval-rec", "'--interactions' needs a value"));
    /* flags take no value; operands where none belong */
    CHECK(RUN_DUET("train-rec", "--refit=1") == 2 && one_error("train-rec", "'--refit' takes no value"));
    CHECK(RUN_DUET("word2vec", "--cbow=yes") == 2 && one_error("word2vec", "'--cbow' takes no value"));
    CHECK(RUN_DUET("eval-rec", "--interactions", "fixtures/rec/tiny.tsv", "extra") == 2 &&
          one_error("eval-rec", "unexpected argument 'extra'"));
    CHECK(RUN_DUET("recommend", "stray") == 2 && one_error("recommend", "unexpected argument 'stray'"));
    CHECK(RUN_DUET("word2vec-corpus", "stray") == 2 && one_error("word2vec-corpus", "unexpected argument"));
    /* numbers out of range keep their message */
    CHECK(RUN_DUET("train-rec", "--epochs=0") == 2 && count_lines(err_s) == 1 && strstr(err_s, "--epochs"));
    CHECK(RUN_DUET("eval-rec", "--k=0") == 2 && count_lines(err_s) == 1 && strstr(err_s, "--k"));
    /* options that contradict -q */
    CHECK(RUN_DUET("eval-rec", "-q", "--progress", "--interactions", "fixtures/rec/tiny.tsv") == 2 &&
          one_error("eval-rec", "contradict"));
    CHECK(RUN_DUET("word2vec", "-q", "--stats") == 2 && one_error("word2vec", "contradict"));
    CHECK(RUN_DUET("features", "--quiet", "--progress", (char *)tp("a.wav")) == 2 && one_error("features", "contradict"));
}

/* ------------------------------------------------------------ -q and -v */

typedef struct qv_run {
    int rc;
    char *out, *err;
} qv_run;

/* Run argv three times: as given, with -q and with -v (inserted after the
 * command name; argv has room for one more entry). */
static void run_qv(char **argv, qv_run r[3])
{
    int n = 0;
    while (argv[n]) n++;
    char *av[64];
    for (int k = 0; k < 3; k++) {
        int w = 0;
        av[w++] = argv[0];
        av[w++] = argv[1];
        if (k == 1) av[w++] = "-q";
        if (k == 2) av[w++] = "--verbose";
        for (int i = 2; i < n; i++) av[w++] = argv[i];
        av[w] = NULL;
        r[k].rc = runv(av);
        r[k].out = strdup(out_s);
        r[k].err = strdup(err_s);
    }
}

static int all_duet_lines(const char *s)
{
    for (const char *l = s; *l;) {
        if (strncmp(l, "duet: ", 6) != 0 && strncmp(l, "word2vec", 8) != 0) return 0;
        const char *nl = strchr(l, '\n');
        if (!nl) return 0;
        l = nl + 1;
    }
    return 1;
}

/* The same stdout three times; nothing on stderr with -q; with -v more
 * lines than without, each a "duet: ..." line (no progress drawn: stderr is a file). */
static void check_qv(const char *what, char **argv, int want_normal_lines)
{
    qv_run r[3];
    run_qv(argv, r);
    CHECK_MSG(r[0].rc == 0 && r[1].rc == 0 && r[2].rc == 0, "%s: exits %d %d %d: %s", what, r[0].rc, r[1].rc, r[2].rc,
              r[0].err);
    CHECK_MSG(strcmp(r[0].out, r[1].out) == 0 && strcmp(r[0].out, r[2].out) == 0, "%s: stdout differs", what);
    CHECK_MSG(r[1].err[0] == '\0', "%s -q: stderr [%s]", what, r[1].err);
    if (want_normal_lines >= 0)
        CHECK_MSG(count_lines(r[0].err) == want_normal_lines, "%s: %d stderr lines, wanted %d: [%s]", what,
                  count_lines(r[0].err), want_normal_lines, r[0].err);
    CHECK_MSG(count_lines(r[2].err) > count_lines(r[0].err), "%s -v: no extra line: [%s]", what, r[2].err);
    CHECK_MSG(all_duet_lines(r[2].err), "%s -v: stderr [%s]", what, r[2].err);
    for (int k = 0; k < 3; k++) {
        free(r[k].out);
        free(r[k].err);
    }
}

static void test_quiet_verbose(void)
{
    write_tone("a.wav", 2, 0.3);
    char m[600], v[600], c[600], list[600], cat[600];
    snprintf(m, sizeof m, "%s", tp("m1.safetensors"));
    snprintf(v, sizeof v, "%s", tp("v2.txt"));
    snprintf(c, sizeof c, "%s", tp("c3.txt"));
    char *recommend[] = {"duet", "recommend", "--model", m, "--user", "u1", "-k", "2", NULL};
    check_qv("recommend", recommend, 0);
    char *similar[] = {"duet", "word2vec-similar", v, "w01", "not-a-token", NULL};
    check_qv("word2vec-similar", similar, 1); /* the skipped token's warning */
    char *corpus[] = {"duet", "word2vec-corpus", "--hetrec", "fixtures/word2vec/hetrec_mini", "--out", c, NULL};
    check_qv("word2vec-corpus", corpus, 1);
    char *w2v[] = {"duet", "word2vec", "--input", "fixtures/word2vec/vocab_corpus.txt", "--out", (char *)tp("v3.txt"),
                   "--dim", "4", "--epochs", "1", "--threads", "1", NULL};
    check_qv("word2vec", w2v, 0);
    char *evalrec[] = {"duet", "eval-rec", "--interactions", "fixtures/rec/tiny.tsv", "--seeds", "1", "--models",
                       "popularity", NULL};
    check_qv("eval-rec", evalrec, 0);
    char *features[] = {"duet", "features", (char *)tp("a.wav"), NULL};
    check_qv("features", features, 0);
    snprintf(list, sizeof list, "%s", tp("list.tsv"));
    FILE *f = fopen(list, "w");
    REQUIRE(f);
    fprintf(f, "a\ta.wav\n");
    fclose(f);
    snprintf(cat, sizeof cat, "%s", tp("cat.tsv"));
    char *catalog[] = {"duet", "features", "--catalog", list, "--out", cat, NULL};
    check_qv("features --catalog", catalog, 1); /* the summary line */
    char *info[] = {"duet", "info", (char *)tp("a.wav"), NULL};
    check_qv("info", info, 0);
    char *infom[] = {"duet", "info", "--model", NULL};
    check_qv("info --model", infom, 0);
    /* train-rec draws its epoch progress unless quiet: -q leaves stderr empty, -v adds the configuration */
    char *train[] = {"duet", "train-rec", "--interactions", "fixtures/rec/tiny.tsv", "--out", (char *)tp("m3.safetensors"),
                     "--epochs", "1", NULL};
    qv_run r[3];
    run_qv(train, r);
    CHECK(r[0].rc == 0 && r[1].rc == 0 && r[2].rc == 0);
    CHECK_MSG(r[1].err[0] == '\0', "train-rec -q: [%s]", r[1].err);
    CHECK(strstr(r[0].err, "duet: train-rec: 10 users") != NULL && strstr(r[0].err, "configuration") == NULL);
    CHECK(strstr(r[2].err, "duet: train-rec: configuration: dim") != NULL);
    for (int k = 0; k < 3; k++) {
        free(r[k].out);
        free(r[k].err);
    }
    /* errors still show with -q */
    CHECK(RUN_DUET("info", "-q", (char *)tp("missing.wav")) == 1 && one_error(tp("missing.wav"), "cannot open"));
    CHECK(RUN_DUET("recommend", "-q", "--model", m, "--user", "nobody") == 1 && one_error("recommend", "unknown user"));
}

/* ------------------------------------------------------------ info --json */

static void test_info_json(void)
{
    write_tone("a.wav", 2, 0.3);
    write_tone("silent.wav", 1, 0.0);
    /* names that need escaping */
    const char *odd[] = {"q\"uote.wav", "back\\slash.wav", "tab\there.wav", "new\nline.wav", "\xc3\xbcml.wav",
                         "bad\xff.wav"};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) write_tone(odd[i], 1, 0.25);
    char a[600];
    snprintf(a, sizeof a, "%s", tp("a.wav"));
    int rc = RUN_DUET("info", a);
    REQUIRE(rc == 0);
    char *text = strdup(out_s);
    rc = RUN_DUET("info", "--json", a);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK_MSG(json_valid(out_s), "not JSON: %s", out_s);
    CHECK(count_lines(out_s) == 1 && starts_with(out_s, "{\"files\": [{\"file\": "));
    CHECK(strstr(out_s, "\"sample_rate\": 22050") && strstr(out_s, "\"channels\": 2") &&
          strstr(out_s, "\"frames\": 22050") && strstr(out_s, "\"duration_s\": 1,") && strstr(out_s, "\"nan_zeroed\": 0"));
    /* the same numbers as the text */
    double peak_t = -1, peak_j = -2, rms_t = -1, rms_j = -2;
    const char *p = strstr(text, "peak      ");
    if (p) peak_t = strtod(p + 10, NULL);
    p = strstr(text, "rms       ");
    if (p) rms_t = strtod(p + 10, NULL);
    p = strstr(out_s, "\"peak\": ");
    if (p) peak_j = strtod(p + 8, NULL);
    p = strstr(out_s, "\"rms\": ");
    if (p) rms_j = strtod(p + 7, NULL);
    CHECK_NEAR(peak_t, peak_j, 1e-6);
    CHECK_NEAR(rms_t, rms_j, 1e-6);
    char fmt[128];
    CHECK(json_string_after(out_s, "format", fmt, sizeof fmt) && strstr(text, fmt) != NULL);
    free(text);
    /* several files, odd names, a silent file (-inf dBFS = null) and a missing one: still one valid object */
    char *av[16] = {"duet", "info", "--json"};
    int n = 3;
    char names[8][600];
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        snprintf(names[i], sizeof names[i], "%s", tp(odd[i]));
        av[n++] = names[i];
    }
    char silent[600], missing[600];
    snprintf(silent, sizeof silent, "%s", tp("silent.wav"));
    snprintf(missing, sizeof missing, "%s", tp("missing.wav"));
    av[n++] = silent;
    av[n++] = missing;
    av[n] = NULL;
    rc = runv(av);
    CHECK(rc == 1);
    CHECK_MSG(json_valid(out_s), "not JSON: %s", out_s);
    CHECK(count_lines(err_s) == 1 && strstr(err_s, "missing.wav"));
    CHECK(strstr(out_s, "q\\\"uote.wav") && strstr(out_s, "back\\\\slash.wav") && strstr(out_s, "tab\\there.wav") &&
          strstr(out_s, "new\\nline.wav") && strstr(out_s, "\xc3\xbcml.wav") && strstr(out_s, "bad\\ufffd.wav"));
    CHECK(strstr(out_s, "\"peak\": 0, \"peak_dbfs\": null") != NULL);
    CHECK(strstr(out_s, "\"error\": \"cannot open") != NULL);
    /* decoded, the names come back as given (the non-UTF-8 byte as U+FFFD) */
    char got[600], want[600];
    const char *q = out_s;
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        q = strstr(q, "{\"file\": ");
        REQUIRE(q);
        CHECK(json_string_after(q, "file", got, sizeof got));
        snprintf(want, sizeof want, "%s", tp(odd[i]));
        char *ff = strstr(want, "\xff");
        if (ff) {
            memmove(ff + 3, ff + 1, strlen(ff + 1) + 1);
            memcpy(ff, "\xef\xbf\xbd", 3);
        }
        CHECK_MSG(strcmp(got, want) == 0, "decoded [%s], wanted [%s]", got, want);
        q++;
    }
    /* usage error: nothing on stdout */
    CHECK(RUN_DUET("info", "--json") == 2 && out_s[0] == '\0');
}

static void test_info_model_json(void)
{
    int rc = RUN_DUET("info", "--model");
    REQUIRE(rc == 0);
    char *text = strdup(out_s);
    rc = RUN_DUET("info", "--model", "--json");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK_MSG(json_valid(out_s), "not JSON: %s", out_s);
    CHECK(starts_with(out_s, "{\"models\": [{\"model\": \"built-in\", "));
    CHECK(strstr(out_s, "\"audio\": {\"sample_rate\": ") && strstr(out_s, "\"network\": {\"depth\": ") &&
          strstr(out_s, "\"validation\": {"));
    /* the same parameter count, source and training data as the text */
    const char *pt = strstr(text, "parameters    "), *pj = strstr(out_s, "\"parameters\": ");
    REQUIRE(pt && pj);
    CHECK(strtol(pt + 14, NULL, 10) == strtol(pj + 14, NULL, 10) && strtol(pj + 14, NULL, 10) > 1000);
    char s[1024];
    CHECK(json_string_after(out_s, "source", s, sizeof s) && strstr(text, s));
    if (strstr(text, "training data (not recorded)") == NULL)
        CHECK(json_string_after(out_s, "training_data", s, sizeof s) && strstr(text, s));
    free(text);
    /* model files: one good, one that is not a model */
    char good[600], bad[600];
    snprintf(good, sizeof good, "%s", "models/sepnet.safetensors");
    snprintf(bad, sizeof bad, "%s", tp("a.wav"));
    rc = RUN_DUET("info", "--json", "-m", good, bad);
    CHECK(rc == 1 && json_valid(out_s) && count_lines(err_s) == 1);
    CHECK(strstr(out_s, "\"model\": \"models/sepnet.safetensors\", \"source\": \"file\"") != NULL);
    CHECK(strstr(out_s, "\"error\": ") != NULL);
}

int main(void)
{
    duet_bin = getenv("DUET");
    if (!duet_bin) duet_bin = "build/duet";
    if (access(duet_bin, X_OK) != 0) {
        fprintf(stderr, "# %s not found (build it first)\n", duet_bin);
        printf("not ok - duet binary present\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/duet_opts_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(out_txt, sizeof out_txt, "%s/.stdout", dir);
    snprintf(err_txt, sizeof err_txt, "%s/.stderr", dir);
    RUN(test_equals_form_rec);
    RUN(test_equals_form_word2vec);
    RUN(test_usage_errors);
    RUN(test_quiet_verbose);
    RUN(test_info_json);
    RUN(test_info_model_json);
    free(out_s);
    free(err_s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "# could not remove %s\n", dir);
    return check_summary();
}
