/* tests/test_features_cli.c: `duet features` (JSON with its units, TSV,
 * --list, catalog mode: parallel, resumable after a kill or a torn row,
 * sharded, bad files in the error column, the exit status and count of
 * failed items, --retry-failed) and `duet spectrogram`, run through the
 * binary in $DUET. */
#define _GNU_SOURCE
#include "check.h"
#include "json_check.h"
#include "../audio/audio.h"
#include "../features/catalog.h"
#include "../features/describe.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *duet_bin;
static char dir[64];

/* Run a shell command; capture stdout into *out (malloc'd, may be NULL). Returns the exit status. */
static int run(const char *cmd, char **out)
{
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n < 1024) buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    int st = pclose(p);
    if (out) *out = buf;
    else free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    b[n] = '\0';
    fclose(f);
    if (len) *len = (size_t)n;
    return b;
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++) n += *s == c;
    return n;
}

static void write_tone(const char *name, int channels, int sr, double seconds, double hz)
{
    duet_audio a;
    DUET_CHECK(duet_audio_alloc(&a, channels, (int64_t)(seconds * sr), sr) == DUET_OK);
    for (int c = 0; c < channels; c++)
        for (int64_t i = 0; i < a.frames; i++) {
            double t = (double)i / sr;
            a.ch[c][i] = (float)(0.3 * sin(2 * 3.14159265358979 * hz * (1 + 0.1 * c) * t) +
                                 ((i % (sr / 2)) < 200 ? 0.5 * sin(i * 0.7) : 0));
        }
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    DUET_CHECK(duet_audio_write(path, &a, DUET_FILE_WAV_PCM16, NULL) == DUET_OK);
    duet_audio_free(&a);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/duet_featcli_XXXXXX");
    DUET_CHECK(mkdtemp(dir) != NULL);
    write_tone("a.wav", 2, 44100, 3.0, 440);
    write_tone("b.wav", 1, 22050, 2.0, 220);
    write_tone("six.wav", 6, 48000, 1.5, 330);
    for (int i = 0; i < 6; i++) {
        char n[32];
        snprintf(n, sizeof n, "long%d.wav", i);
        write_tone(n, 2, 44100, 12.0, 200 + 50 * i);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/corrupt.wav", dir);
    FILE *f = fopen(path, "wb");
    fputs("RIFF\x10\0\0\0WAVEjunkjunkjunk", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/empty.wav", dir);
    f = fopen(path, "wb");
    fclose(f);
}

static void test_json_single_file(void)
{
    char cmd[512], *out;
    snprintf(cmd, sizeof cmd, "%s features %s/a.wav", duet_bin, dir);
    REQUIRE(run(cmd, &out) == 0);
    CHECK(strncmp(out, "{\"file\": ", 9) == 0);
    CHECK(strstr(out, "\"mix.mfcc_3.mean\": ") != NULL);
    CHECK(strstr(out, "\"mix.loudness_lufs\": ") != NULL);
    CHECK(strstr(out, "nan") == NULL && strstr(out, "inf") == NULL);
    CHECK(count_char(out, '\n') == 1);
    /* the 440 Hz tone's centroid is in the right place (mean over frames) */
    char *p = strstr(out, "\"mix.centroid.p50\": ");
    CHECK(p && fabs(strtod(p + 20, NULL) - 460) < 120);
    free(out);
}

static void test_tsv_with_bad_files(void)
{
    char cmd[768], *out;
    snprintf(cmd, sizeof cmd, "%s features --tsv %s/a.wav %s/corrupt.wav %s/six.wav %s/empty.wav %s/missing.wav 2>/dev/null",
             duet_bin, dir, dir, dir, dir, dir);
    CHECK(run(cmd, &out) == 1); /* some files failed */
    CHECK(count_char(out, '\n') == 6);
    duet_feature_set names;
    duet_feature_set_init(&names);
    REQUIRE(duet_describe_names(0, &names, NULL) == DUET_OK);
    /* header: item, the names, error */
    CHECK(strncmp(out, "item\tmix.duration\t", 18) == 0);
    char *line = out, *save = NULL;
    int row = 0;
    for (char *l = strtok_r(line, "\n", &save); l; l = strtok_r(NULL, "\n", &save), row++) {
        size_t tabs = count_char(l, '\t');
        CHECK_MSG(tabs == names.n + 1, "row %d has %zu tabs", row, tabs);
        const char *last = strrchr(l, '\t') + 1;
        if (row == 1 || row == 3) CHECK_MSG(*last == '\0', "row %d error '%s'", row, last);
        if (row == 2 || row == 4 || row == 5) CHECK_MSG(*last != '\0', "row %d should carry an error", row);
    }
    duet_feature_set_free(&names);
    free(out);
}

static void write_list(const char *name, int with_bad)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fprintf(f, "item_id\tpath\n# a comment\n");
    for (int i = 0; i < 6; i++) fprintf(f, "song%d\tlong%d.wav\n", i, i);
    fprintf(f, "a\ta.wav\nb\t%s/b.wav\n", dir);
    if (with_bad) fprintf(f, "bad\tcorrupt.wav\nnone\tmissing.wav\n");
    fclose(f);
}

/* rows of an output: checks every row is whole; returns the row count and the error-row count */
static size_t check_rows(const char *path, size_t *n_err)
{
    size_t len;
    char *s = slurp(path, &len);
    *n_err = 0;
    if (!s) return 0;
    CHECK(len > 0 && s[len - 1] == '\n');
    size_t header_tabs = 0, rows = 0;
    char *save = NULL;
    int first = 1;
    for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        size_t tabs = count_char(l, '\t');
        if (first) {
            header_tabs = tabs;
            first = 0;
            continue;
        }
        CHECK_MSG(tabs == header_tabs, "torn row: %zu tabs, header %zu", tabs, header_tabs);
        rows++;
        if (strrchr(l, '\t')[1] != '\0') (*n_err)++;
    }
    free(s);
    return rows;
}

static void test_catalog_parallel_and_resume(void)
{
    write_list("list.tsv", 1);
    char cmd[768], out_path[256], *err_out;
    snprintf(out_path, sizeof out_path, "%s/features.tsv", dir);
    snprintf(cmd, sizeof cmd, "%s features --catalog %s/list.tsv --out %s -j 2 2>&1 >/dev/null", duet_bin, dir,
             out_path);
    REQUIRE(run(cmd, &err_out) == 1); /* two items failed */
    CHECK(strstr(err_out, "10 items in shard 1/1: 8 described, 2 failed, 0 already done") != NULL);
    CHECK(strstr(err_out, "features.tsv: 2 of 10 items failed") != NULL && count_char(err_out, '\n') == 2);
    free(err_out);
    size_t n_err, rows = check_rows(out_path, &n_err);
    CHECK(rows == 10 && n_err == 2);
    size_t len1, len2;
    char *before = slurp(out_path, &len1);
    /* a re-run does nothing (and still reports the failed items) */
    REQUIRE(run(cmd, &err_out) == 1);
    CHECK(strstr(err_out, "0 described, 0 failed, 10 already done (2 of them failed)") != NULL);
    CHECK(strstr(err_out, "2 of 10 items failed") != NULL);
    free(err_out);
    char *after = slurp(out_path, &len2);
    CHECK(len1 == len2 && memcmp(before, after, len1) == 0);
    free(after);
    /* values agree with the single-file path */
    snprintf(cmd, sizeof cmd, "%s features --tsv %s/b.wav", duet_bin, dir);
    char *single;
    REQUIRE(run(cmd, &single) == 0);
    char *row_b = strstr(before, "\nb\t"), *row_s = strchr(single, '\n');
    REQUIRE(row_b && row_s);
    row_s = strchr(row_s + 1, '\t'); /* skip the item column */
    char *eb = strchr(row_b + 1, '\n');
    REQUIRE(row_s && eb);
    *eb = '\0';
    CHECK(strncmp(strchr(row_b + 1, '\t'), row_s, strlen(strchr(row_b + 1, '\t'))) == 0);
    free(single);
    /* a torn last row (power loss) is cut and its item redone */
    {
        char *cut = before;
        size_t keep = 0, lines = 0;
        for (size_t i = 0; i < len1; i++)
            if (cut[i] == '\n' && ++lines == 5) keep = i + 1; /* header + 4 rows */
        FILE *f = fopen(out_path, "wb");
        REQUIRE(keep > 0);
        fwrite(before, 1, keep, f);
        fwrite("song9\t1.5\t2", 1, 11, f); /* torn */
        fclose(f);
        REQUIRE(run(cmd, NULL) >= 0);
        snprintf(cmd, sizeof cmd, "%s features --catalog %s/list.tsv --out %s -j 2 2>&1 >/dev/null", duet_bin,
                 dir, out_path);
        REQUIRE(run(cmd, &err_out) == 1);
        CHECK(strstr(err_out, "6 described, 0 failed, 4 already done") != NULL ||
              strstr(err_out, "5 described, 1 failed, 4 already done") != NULL ||
              strstr(err_out, "4 described, 2 failed, 4 already done") != NULL);
        free(err_out);
        rows = check_rows(out_path, &n_err);
        CHECK(rows == 10 && n_err == 2);
    }
    free(before);
}

static void test_catalog_survives_kill(void)
{
    write_list("list_kill.tsv", 0);
    char out_path[256], list[256];
    snprintf(out_path, sizeof out_path, "%s/killed.tsv", dir);
    snprintf(list, sizeof list, "%s/list_kill.tsv", dir);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/null", 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(duet_bin, duet_bin, "features", "--catalog", list, "--out", out_path, "-j", "2", (char *)NULL);
        _exit(127);
    }
    /* wait until at least one row is there, then kill -9 */
    struct timespec ts = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 500; i++) {
        size_t n_err;
        struct stat sb;
        if (stat(out_path, &sb) == 0 && check_rows(out_path, &n_err) >= 1) break;
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    size_t n_err, rows = check_rows(out_path, &n_err);
    CHECK(rows >= 1 && n_err == 0);
    char cmd[768], *err_out;
    snprintf(cmd, sizeof cmd, "%s features --catalog %s --out %s -j 2 2>&1 >/dev/null", duet_bin, list, out_path);
    REQUIRE(run(cmd, &err_out) == 0);
    char expect[128];
    snprintf(expect, sizeof expect, "%zu already done", rows);
    CHECK_MSG(strstr(err_out, expect) != NULL, "%s", err_out);
    free(err_out);
    CHECK(check_rows(out_path, &n_err) == 8 && n_err == 0);
}

static void test_catalog_shards_and_errors(void)
{
    write_list("list2.tsv", 1);
    char cmd[768], *o1, *o2;
    int rc1, rc2;
    snprintf(cmd, sizeof cmd, "%s features --catalog %s/list2.tsv --out %s/s1.tsv --shard 1/2 2>/dev/null; rc=$?; cut -f1 %s/s1.tsv; exit $rc",
             duet_bin, dir, dir, dir);
    rc1 = run(cmd, &o1);
    snprintf(cmd, sizeof cmd, "%s features --catalog %s/list2.tsv --out %s/s2.tsv --shard=2/2 2>/dev/null; rc=$?; cut -f1 %s/s2.tsv; exit $rc",
             duet_bin, dir, dir, dir);
    rc2 = run(cmd, &o2);
    /* a shard exits 1 when it holds one of the two failing items */
    int bad1 = duet_catalog_in_shard("bad", 1, 2) || duet_catalog_in_shard("none", 1, 2);
    int bad2 = duet_catalog_in_shard("bad", 2, 2) || duet_catalog_in_shard("none", 2, 2);
    CHECK_MSG(rc1 == bad1 && rc2 == bad2, "shard exits %d %d, expected %d %d", rc1, rc2, bad1, bad2);
    /* each id in exactly one shard */
    const char *ids[] = {"song0", "song1", "song2", "song3", "song4", "song5", "a", "b", "bad", "none"};
    for (int i = 0; i < 10; i++) {
        char key[32];
        snprintf(key, sizeof key, "\n%s\n", ids[i]);
        int in1 = strstr(o1, key) != NULL, in2 = strstr(o2, key) != NULL;
        CHECK_MSG(in1 + in2 == 1, "%s in %d shards", ids[i], in1 + in2);
        CHECK(in1 == duet_catalog_in_shard(ids[i], 1, 2));
    }
    free(o1);
    free(o2);
    /* an output with another header is refused */
    snprintf(cmd, sizeof cmd, "printf 'item\\tx\\terror\\n' > %s/other.tsv && %s features --catalog %s/list2.tsv --out %s/other.tsv 2>&1",
             dir, duet_bin, dir, dir);
    char *msg;
    CHECK(run(cmd, &msg) == 1);
    CHECK(strstr(msg, "different header") != NULL && count_char(msg, '\n') == 1);
    free(msg);
    /* bad list and usage */
    snprintf(cmd, sizeof cmd, "printf 'no tab here\\n' > %s/bad.tsv && %s features --catalog %s/bad.tsv --out %s/x.tsv 2>&1",
             dir, duet_bin, dir, dir);
    CHECK(run(cmd, &msg) == 1);
    CHECK(strstr(msg, "line 1") != NULL);
    free(msg);
    snprintf(cmd, sizeof cmd, "%s features --catalog %s/list2.tsv 2>/dev/null", duet_bin, dir);
    CHECK(run(cmd, NULL) == 2);
    snprintf(cmd, sizeof cmd, "%s features --shard 3/2 --catalog %s/list2.tsv --out %s/y.tsv 2>/dev/null", duet_bin, dir, dir);
    CHECK(run(cmd, NULL) == 2);
    snprintf(cmd, sizeof cmd, "%s features --catalog %s/list2.tsv --out /nonexistent/dir/f.tsv 2>&1", duet_bin, dir);
    CHECK(run(cmd, &msg) == 1);
    CHECK(strstr(msg, "/nonexistent/dir/f.tsv") != NULL);
    free(msg);
}

static void test_stems_paths(void)
{
    char cmd[768], *out;
    /* given stems: vocals = b.wav, accompaniment = b.wav (same shape) */
    snprintf(cmd, sizeof cmd, "%s features %s/b.wav --vocals %s/b.wav --accompaniment %s/b.wav", duet_bin, dir, dir, dir);
    REQUIRE(run(cmd, &out) == 0);
    CHECK(strstr(out, "\"vocals.f0.median\": ") != NULL && strstr(out, "\"accompaniment.tempo\": ") != NULL);
    char *p = strstr(out, "\"vocals.to_accompaniment_lu\": ");
    CHECK(p && fabs(strtod(p + 30, NULL)) < 1e-6);
    free(out);
    /* mismatched stems */
    snprintf(cmd, sizeof cmd, "%s features %s/b.wav --vocals %s/a.wav --accompaniment %s/b.wav 2>&1", duet_bin, dir, dir, dir);
    CHECK(run(cmd, &out) == 1);
    CHECK(count_char(out, '\n') == 1);
    free(out);
    /* --stems with a model that is not there: a clear error */
    snprintf(cmd, sizeof cmd, "%s features --stems --model %s/nomodel.safetensors %s/b.wav 2>&1", duet_bin, dir, dir);
    CHECK(run(cmd, &out) == 1);
    CHECK(strstr(out, "nomodel.safetensors (from --model)") != NULL && count_char(out, '\n') == 1);
    free(out);
    snprintf(cmd, sizeof cmd, "%s features --stems --method no-such-method %s/b.wav 2>/dev/null", duet_bin, dir);
    CHECK(run(cmd, NULL) == 2);
    /* a classical separator in catalog mode, two threads sharing it */
    char list[256];
    snprintf(list, sizeof list, "%s/list_stems.tsv", dir);
    FILE *f = fopen(list, "w");
    REQUIRE(f);
    fprintf(f, "a\ta.wav\nb\tb.wav\nsix\tsix.wav\nbad\tcorrupt.wav\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s features --stems --method repet-sim --catalog %s --out %s/stems.tsv -j 2 2>&1", duet_bin,
             list, dir);
    REQUIRE(run(cmd, &out) == 1); /* bad failed */
    CHECK(strstr(out, "3 described, 1 failed") != NULL);
    free(out);
    snprintf(cmd, sizeof cmd, "%s/stems.tsv", dir);
    size_t n_err;
    CHECK(check_rows(cmd, &n_err) == 4 && n_err == 1);
    char *tsv = slurp(cmd, NULL);
    CHECK(tsv && strstr(tsv, "\tvocals.f0.median\t") != NULL && strstr(tsv, "\taccompaniment.mfcc_19.std\t") != NULL);
    free(tsv);
}

/* --list: every name duet produces (with stems), its unit and definition,
 * in aligned columns, from the library's descriptor table */
static void test_list(void)
{
    char cmd[512], *out;
    snprintf(cmd, sizeof cmd, "%s features --list", duet_bin);
    REQUIRE(run(cmd, &out) == 0);
    duet_feature_set names;
    duet_feature_set_init(&names);
    REQUIRE(duet_describe_names(1, &names, NULL) == DUET_OK);
    CHECK_MSG(count_char(out, '\n') == names.n, "%zu lines for %zu names", count_char(out, '\n'), names.n);
    size_t i = 0, unit_col = 0, def_col = 0;
    char *save = NULL;
    for (char *l = strtok_r(out, "\n", &save); l && i < names.n; l = strtok_r(NULL, "\n", &save), i++) {
        size_t nl = strlen(names.names[i]);
        CHECK_MSG(strncmp(l, names.names[i], nl) == 0 && l[nl] == ' ', "line %zu: %.60s", i, l);
        /* the unit starts in the same column on every line, then the definition */
        size_t u = nl;
        while (l[u] == ' ') u++;
        size_t ue = u;
        while (l[ue] && l[ue] != ' ') ue++;
        size_t d = ue;
        while (l[d] == ' ') d++;
        if (i == 0) unit_col = u, def_col = d;
        CHECK_MSG(u == unit_col && d == def_col, "line %zu not aligned: %.80s", i, l);
        const char *unit;
        char def[1024];
        REQUIRE(duet_feature_doc(names.names[i], &unit, def, sizeof def) != NULL);
        CHECK_MSG(ue - u == strlen(unit) && strncmp(l + u, unit, ue - u) == 0, "line %zu unit %.*s, table %s", i,
                  (int)(ue - u), l + u, unit);
        CHECK_MSG(strcmp(l + d, def) == 0 && strlen(def) > 20, "line %zu definition", i);
    }
    CHECK(i == names.n);
    duet_feature_set_free(&names);
    free(out);
    snprintf(cmd, sizeof cmd, "%s features --list | grep -E '^(mix\\.tempo +BPM |mix\\.chroma_1\\.mean +ratio .*\\(C#\\)|"
                              "vocals\\.f0\\.median +Hz |accompaniment\\.loudness_lufs +LUFS |mix\\.mfcc_19\\.std +dB )' | wc -l",
             duet_bin);
    REQUIRE(run(cmd, &out) == 0);
    CHECK_MSG(atoi(out) == 5, "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s features --list %s/a.wav 2>&1", duet_bin, dir);
    CHECK(run(cmd, &out) == 2);
    CHECK(strncmp(out, "duet: features: --list", 22) == 0 && count_char(out, '\n') == 1);
    free(out);
}

/* the JSON states each descriptor's unit */
static void test_json_units(void)
{
    char cmd[512], *out;
    snprintf(cmd, sizeof cmd, "%s features %s/b.wav --vocals %s/b.wav --accompaniment %s/b.wav", duet_bin, dir, dir, dir);
    REQUIRE(run(cmd, &out) == 0);
    CHECK_MSG(json_valid(out), "not JSON: %.200s", out);
    char *units = strstr(out, ", \"units\": {");
    REQUIRE(units != NULL);
    duet_feature_set names;
    duet_feature_set_init(&names);
    REQUIRE(duet_describe_names(1, &names, NULL) == DUET_OK);
    size_t found = 0;
    for (size_t i = 0; i < names.n; i++) {
        const char *unit;
        REQUIRE(duet_feature_doc(names.names[i], &unit, NULL, 0));
        char pair[160];
        snprintf(pair, sizeof pair, "\"%s\": \"%s\"", names.names[i], unit);
        char *p = strstr(units, pair);
        CHECK_MSG(p != NULL, "no unit for %s", names.names[i]);
        found += p != NULL;
        /* and the value itself comes before the units */
        snprintf(pair, sizeof pair, "\"%s\": ", names.names[i]);
        p = strstr(out, pair);
        CHECK(p && p < units);
    }
    CHECK(found == names.n && count_char(units, ':') == names.n + 1); /* + "units": */
    CHECK(strstr(units, "\"mix.duration\": \"s\"") && strstr(units, "\"vocals.f0.range_semitones\": \"semitones\""));
    duet_feature_set_free(&names);
    free(out);
}

/* count the rows of the output whose id is `id`; *failed = the last one's error is set */
static int rows_for(const char *path, const char *id, int *failed)
{
    char *s = slurp(path, NULL);
    int n = 0;
    *failed = 0;
    if (!s) return -1;
    char *save = NULL;
    size_t il = strlen(id);
    for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        if (strncmp(l, id, il) == 0 && l[il] == '\t') {
            n++;
            *failed = strrchr(l, '\t')[1] != '\0';
        }
    free(s);
    return n;
}

/* the row of item `id` (without its newline) in a new string, or NULL */
static char *row_of(const char *path, const char *id)
{
    char *s = slurp(path, NULL), *r = NULL, *save = NULL;
    size_t il = strlen(id);
    for (char *l = strtok_r(s, "\n", &save); l && !r; l = strtok_r(NULL, "\n", &save))
        if (strncmp(l, id, il) == 0 && l[il] == '\t') r = strdup(l);
    free(s);
    return r;
}

/* features --catalog: the exit status and count of failed items; a normal
 * re-run keeps failure rows; --retry-failed redoes exactly the failed items
 * of the list (and of the shard), keeps every other row and the file mode */
static void test_catalog_retry_failed(void)
{
    char list[256], out_path[256], cmd[1024], *msg;
    snprintf(list, sizeof list, "%s/list_retry.tsv", dir);
    snprintf(out_path, sizeof out_path, "%s/retry.tsv", dir);
    char late[256], broken[256];
    snprintf(late, sizeof late, "%s/late.wav", dir);
    snprintf(broken, sizeof broken, "%s/broken.wav", dir);
    remove(late);
    FILE *f = fopen(broken, "wb");
    REQUIRE(f);
    fputs("RIFF\x10\0\0\0WAVEjunkjunkjunk", f);
    fclose(f);
    f = fopen(list, "w");
    REQUIRE(f);
    fprintf(f, "a\ta.wav\nb\tb.wav\nlate\tlate.wav\nbroken\tbroken.wav\nsix\tsix.wav\n");
    fclose(f);
    /* a row of an item that is not in the list, failed: kept by every run */
    duet_feature_set names;
    duet_feature_set_init(&names);
    REQUIRE(duet_describe_names(0, &names, NULL) == DUET_OK);
    f = fopen(out_path, "w");
    REQUIRE(f);
    fputs("item", f);
    for (size_t i = 0; i < names.n; i++) fprintf(f, "\t%s", names.names[i]);
    fputs("\terror\nghost", f);
    for (size_t i = 0; i < names.n; i++) fputc('\t', f);
    fputs("\tcannot open: gone\n", f);
    fclose(f);
    duet_feature_set_free(&names);
    snprintf(cmd, sizeof cmd, "%s features --catalog %s --out %s 2>&1", duet_bin, list, out_path);
    CHECK(run(cmd, &msg) == 1);
    CHECK_MSG(strstr(msg, "5 items in shard 1/1: 3 described, 2 failed, 0 already done\n") != NULL, "%s", msg);
    /* the last line: the count */
    CHECK_MSG(strstr(msg, "duet: features: ") && strstr(msg, "retry.tsv: 2 of 5 items failed (") &&
                  msg[strlen(msg) - 1] == '\n' && count_char(msg, '\n') == 2,
              "%s", msg);
    free(msg);
    /* the library sees the failure rows */
    {
        duet_feature_set nm;
        duet_feature_set_init(&nm);
        REQUIRE(duet_describe_names(0, &nm, NULL) == DUET_OK);
        duet_catalog_out *o;
        REQUIRE(duet_catalog_out_open(out_path, &nm, &o, NULL) == DUET_OK);
        CHECK(duet_catalog_out_n_existing(o) == 6 && duet_catalog_out_n_failed(o) == 3);
        CHECK(duet_catalog_out_failed(o, "late") && duet_catalog_out_failed(o, "broken") &&
              duet_catalog_out_failed(o, "ghost") && !duet_catalog_out_failed(o, "a") && !duet_catalog_out_failed(o, "x"));
        duet_catalog_out_close(o);
        duet_feature_set_free(&nm);
    }
    size_t len1, len2;
    char *before = slurp(out_path, &len1);
    /* a normal re-run: nothing redone, the file unchanged, still exit 1 with the count */
    CHECK(run(cmd, &msg) == 1);
    CHECK(strstr(msg, "0 described, 0 failed, 5 already done (2 of them failed)") != NULL);
    CHECK(strstr(msg, "2 of 5 items failed") != NULL);
    free(msg);
    char *again = slurp(out_path, &len2);
    CHECK(len1 == len2 && memcmp(before, again, len1) == 0);
    free(again);
    char *row_a = row_of(out_path, "a"), *row_six = row_of(out_path, "six"), *row_ghost = row_of(out_path, "ghost");
    REQUIRE(row_a && row_six && row_ghost);
    /* the missing file appears; --retry-failed redoes late and broken only */
    snprintf(cmd, sizeof cmd, "cp %s/b.wav %s && chmod 640 %s", dir, late, out_path);
    REQUIRE(run(cmd, NULL) == 0);
    snprintf(cmd, sizeof cmd, "%s features --catalog=%s --out=%s --retry-failed 2>&1", duet_bin, list, out_path);
    CHECK(run(cmd, &msg) == 1); /* broken still fails */
    CHECK_MSG(strstr(msg, "5 items in shard 1/1: 1 described, 1 failed, 3 already done, 2 retried") != NULL, "%s", msg);
    CHECK(strstr(msg, "1 of 5 items failed") != NULL);
    free(msg);
    int failed;
    CHECK(rows_for(out_path, "late", &failed) == 1 && !failed);
    CHECK(rows_for(out_path, "broken", &failed) == 1 && failed);
    CHECK(rows_for(out_path, "ghost", &failed) == 1 && failed);
    CHECK(rows_for(out_path, "a", &failed) == 1 && !failed);
    char *r;
    CHECK((r = row_of(out_path, "a")) && strcmp(r, row_a) == 0);
    free(r);
    CHECK((r = row_of(out_path, "six")) && strcmp(r, row_six) == 0);
    free(r);
    CHECK((r = row_of(out_path, "ghost")) && strcmp(r, row_ghost) == 0);
    free(r);
    /* late's row now equals b's (same audio) apart from the id */
    char *rb = row_of(out_path, "b"), *rl = row_of(out_path, "late");
    CHECK(rb && rl && strcmp(strchr(rb, '\t'), strchr(rl, '\t')) == 0);
    free(rb);
    free(rl);
    size_t n_err;
    CHECK(check_rows(out_path, &n_err) == 6 && n_err == 2);
    struct stat sb;
    CHECK(stat(out_path, &sb) == 0 && (sb.st_mode & 0777) == 0640);
    snprintf(cmd, sizeof cmd, "ls -a %s | grep -c '\\.tmp\\.' ", dir);
    CHECK(run(cmd, &msg) == 1 && atoi(msg) == 0); /* no temporary left */
    free(msg);
    /* a retry in another shard leaves broken alone; fixed, the right shard's retry succeeds */
    snprintf(cmd, sizeof cmd, "cp %s/a.wav %s", dir, broken);
    REQUIRE(run(cmd, NULL) == 0);
    int sh = duet_catalog_in_shard("broken", 1, 2) ? 1 : 2;
    snprintf(cmd, sizeof cmd, "%s features --catalog %s --out %s --retry-failed --shard %d/2 2>&1", duet_bin, list,
             out_path, 3 - sh);
    CHECK(run(cmd, &msg) == 0);
    CHECK(strstr(msg, " 0 retried") != NULL);
    free(msg);
    CHECK(rows_for(out_path, "broken", &failed) == 1 && failed);
    snprintf(cmd, sizeof cmd, "%s features --catalog %s --out %s --retry-failed --shard %d/2 -q 2>&1", duet_bin, list,
             out_path, sh);
    CHECK(run(cmd, &msg) == 0);
    CHECK_MSG(msg[0] == '\0', "-q: [%s]", msg);
    free(msg);
    CHECK(rows_for(out_path, "broken", &failed) == 1 && !failed);
    CHECK(check_rows(out_path, &n_err) == 6 && n_err == 1); /* ghost, not in the list, is never retried */
    CHECK((r = row_of(out_path, "ghost")) && strcmp(r, row_ghost) == 0);
    free(r);
    /* everything described: exit 0 */
    snprintf(cmd, sizeof cmd, "%s features --catalog %s --out %s 2>&1", duet_bin, list, out_path);
    CHECK(run(cmd, &msg) == 0);
    CHECK(strstr(msg, "0 described, 0 failed, 5 already done\n") != NULL && count_char(msg, '\n') == 1);
    free(msg);
    /* usage */
    snprintf(cmd, sizeof cmd, "%s features --retry-failed %s/a.wav 2>&1", duet_bin, dir);
    CHECK(run(cmd, &msg) == 2);
    CHECK(strstr(msg, "--retry-failed belongs to --catalog") != NULL && count_char(msg, '\n') == 1);
    free(msg);
    free(row_a);
    free(row_six);
    free(row_ghost);
    free(before);
}

static void test_spectrogram_png(void)
{
    char cmd[768], png[256], *msg;
    snprintf(png, sizeof png, "%s/a.png", dir);
    snprintf(cmd, sizeof cmd, "%s spectrogram %s/a.wav -o %s", duet_bin, dir, png);
    REQUIRE(run(cmd, NULL) == 0);
    size_t len;
    char *b = slurp(png, &len);
    REQUIRE(b);
    CHECK(len > 1000 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0);
    free(b);
    snprintf(png, sizeof png, "%s/three.png", dir);
    snprintf(cmd, sizeof cmd, "%s spectrogram %s/b.wav --vocals %s/b.wav --accompaniment %s/b.wav -o %s --height 100",
             duet_bin, dir, dir, dir, png);
    REQUIRE(run(cmd, NULL) == 0);
    b = slurp(png, &len);
    REQUIRE(b && len > 24);
    unsigned h = ((unsigned char)b[20] << 24) | ((unsigned char)b[21] << 16) | ((unsigned char)b[22] << 8) |
                 (unsigned char)b[23];
    CHECK(h > 300 && h < 500); /* three 100-pixel panels plus titles and axes */
    free(b);
    snprintf(cmd, sizeof cmd, "%s spectrogram %s/a.wav -o /nonexistent/x.png 2>&1", duet_bin, dir);
    CHECK(run(cmd, &msg) == 1);
    CHECK(count_char(msg, '\n') == 1);
    free(msg);
    snprintf(cmd, sizeof cmd, "%s spectrogram %s/corrupt.wav -o %s/c.png 2>&1", duet_bin, dir, dir);
    CHECK(run(cmd, &msg) == 1);
    free(msg);
    snprintf(png, sizeof png, "%s/c.png", dir);
    CHECK(access(png, F_OK) != 0);
}

int main(void)
{
    duet_bin = getenv("DUET");
    if (!duet_bin) duet_bin = "build/duet";
    if (access(duet_bin, X_OK) != 0) {
        fprintf(stderr, "no duet binary at %s\n", duet_bin);
        printf("not ok - duet_binary_present\n");
        return 1;
    }
    setup();
    RUN(test_json_single_file);
    RUN(test_tsv_with_bad_files);
    RUN(test_catalog_parallel_and_resume);
    RUN(test_catalog_survives_kill);
    RUN(test_catalog_shards_and_errors);
    RUN(test_stems_paths);
    RUN(test_list);
    RUN(test_json_units);
    RUN(test_catalog_retry_failed);
    RUN(test_spectrogram_png);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_summary();
}
