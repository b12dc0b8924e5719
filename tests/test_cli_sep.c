/* tests/test_cli_sep.c: `duet separate` and `duet eval-sep` end to end on
 * synthetic songs written to a temporary folder: stems keep rate, channels
 * and length and sum to the mixture; eval-sep reads MIR-1K clips and stem
 * folders, prints the table, writes JSON with the documented keys; bad
 * input (missing file, unknown method, oracle without references,
 * unwritable output, empty folder, missing stem, wrong length, NaN samples,
 * silent reference) gives a one-line error or the documented handling. */
#define _DEFAULT_SOURCE
#include "check.h"
#include "../audio/audio.h"
#include "../separation/sep_json.h"

#include <unistd.h>
#include <sys/stat.h>

#define RATE 8000

static const char *duet_bin;
static char dir[64];
static char out_txt[160], err_txt[160];

static const char *tp(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return calloc(1, 1);
    char *b = calloc(1, 1 << 20);
    size_t n = fread(b, 1, (1 << 20) - 1, f);
    b[n] = 0;
    fclose(f);
    return b;
}

static int run(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", duet_bin, args, out_txt, err_txt);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* stderr has a "duet: " line containing `want` */
static int err_has(const char *want)
{
    char *e = slurp(err_txt);
    int ok = strstr(e, "duet: ") != NULL && strstr(e, want) != NULL;
    if (!ok) fprintf(stderr, "  stderr was: %s\n", e);
    free(e);
    return ok;
}

static void write_song(const char *path, int channels, int64_t n, float voice_gain, int stereo_mir1k)
{
    duet_audio a;
    duet_audio_alloc(&a, channels, n, RATE);
    for (int64_t i = 0; i < n; i++) {
        float t = (float)i / RATE;
        float acc = 0.2f * sinf(2 * 3.14159f * 196.0f * t) * (((i / 400) % 4) == 0 ? 1.0f : 0.5f);
        float voc = voice_gain * sinf(2 * 3.14159f * (400.0f + 50.0f * sinf(6.0f * t)) * t);
        if (stereo_mir1k) {
            a.ch[0][i] = acc;
            a.ch[1][i] = voc;
        } else
            for (int c = 0; c < channels; c++) a.ch[c][i] = acc + voc;
    }
    duet_audio_write(path, &a, DUET_FILE_WAV_FLOAT, NULL);
    duet_audio_free(&a);
}

static void write_stem(const char *path, int64_t n, int which, float gain)
{
    duet_audio a;
    duet_audio_alloc(&a, 1, n, RATE);
    for (int64_t i = 0; i < n; i++) {
        float t = (float)i / RATE;
        a.ch[0][i] = which ? 0.2f * sinf(2 * 3.14159f * 196.0f * t) * (((i / 400) % 4) == 0 ? 1.0f : 0.5f)
                           : gain * sinf(2 * 3.14159f * (400.0f + 50.0f * sinf(6.0f * t)) * t);
    }
    duet_audio_write(path, &a, DUET_FILE_WAV_FLOAT, NULL);
    duet_audio_free(&a);
}

static void test_separate(void)
{
    write_song(tp("song.wav"), 2, 2 * RATE + 77, 0.3f, 0);
    char args[1024];
    snprintf(args, sizeof args, "separate -q -o %s --method hpss %s", tp("out"), tp("song.wav"));
    REQUIRE(run(args) == 0);
    duet_audio m, v, a;
    REQUIRE(duet_audio_read(tp("song.wav"), NULL, &m, NULL, NULL) == DUET_OK);
    REQUIRE(duet_audio_read(tp("out/song/vocals.wav"), NULL, &v, NULL, NULL) == DUET_OK);
    REQUIRE(duet_audio_read(tp("out/song/accompaniment.wav"), NULL, &a, NULL, NULL) == DUET_OK);
    CHECK(v.frames == m.frames && a.frames == m.frames && v.channels == 2 && v.sample_rate == RATE);
    double worst = 0;
    for (int c = 0; c < 2; c++)
        for (int64_t i = 0; i < m.frames; i++) {
            double d = fabs((double)v.ch[c][i] + a.ch[c][i] - m.ch[c][i]);
            if (d > worst) worst = d;
        }
    CHECK_MSG(worst < 1e-6, "sum error %g", worst);
    duet_audio_free(&m);
    duet_audio_free(&v);
    duet_audio_free(&a);
    snprintf(args, sizeof args, "separate -q -o %s --format flac --method repet-sim %s", tp("outf"), tp("song.wav"));
    CHECK(run(args) == 0);
    CHECK(access(tp("outf/song/vocals.flac"), R_OK) == 0 && access(tp("outf/song/accompaniment.flac"), R_OK) == 0);
    /* bad input */
    snprintf(args, sizeof args, "separate -o %s --method mixture %s", tp("out2"), tp("missing.wav"));
    CHECK(run(args) == 1);
    CHECK(err_has("missing.wav"));
    snprintf(args, sizeof args, "separate -o %s --method nope %s", tp("out2"), tp("song.wav"));
    CHECK(run(args) == 2);
    CHECK(err_has("unknown method"));
    snprintf(args, sizeof args, "separate -o %s --method oracle-irm %s", tp("out2"), tp("song.wav"));
    CHECK(run(args) == 2);
    CHECK(err_has("reference"));
    snprintf(args, sizeof args, "separate -o %s --format mp4 %s", tp("out2"), tp("song.wav"));
    CHECK(run(args) == 2);
    /* unwritable output: the folder would be under a regular file */
    snprintf(args, sizeof args, "separate -q -o %s --method mixture %s", tp("song.wav/sub"), tp("song.wav"));
    CHECK(run(args) == 1);
    CHECK(err_has("cannot create"));
    /* NaN samples in the input */
    duet_audio n;
    duet_audio_alloc(&n, 1, 1000, RATE);
    n.ch[0][10] = NAN;
    FILE *f = fopen(tp("nan.raw"), "wb");
    fclose(f);
    /* duet_audio_write refuses NaN, so write the WAV by hand: 32-bit float */
    f = fopen(tp("nan.wav"), "wb");
    uint32_t datasz = 1000 * 4, riff = 36 + datasz, fmtsz = 16, rate = RATE, brate = RATE * 4;
    uint16_t fmt = 3, ch = 1, align = 4, bits = 32;
    fwrite("RIFF", 1, 4, f);
    fwrite(&riff, 4, 1, f);
    fwrite("WAVEfmt ", 1, 8, f);
    fwrite(&fmtsz, 4, 1, f);
    fwrite(&fmt, 2, 1, f);
    fwrite(&ch, 2, 1, f);
    fwrite(&rate, 4, 1, f);
    fwrite(&brate, 4, 1, f);
    fwrite(&align, 2, 1, f);
    fwrite(&bits, 2, 1, f);
    fwrite("data", 1, 4, f);
    fwrite(&datasz, 4, 1, f);
    fwrite(n.ch[0], 4, 1000, f);
    fclose(f);
    duet_audio_free(&n);
    snprintf(args, sizeof args, "separate -q -o %s --method repet-sim %s", tp("out3"), tp("nan.wav"));
    CHECK(run(args) == 1);
    CHECK(err_has("nan.wav"));
    CHECK(access(tp("out3/nan/vocals.wav"), F_OK) != 0);
}

static void test_eval_mir1k(void)
{
    mkdir(tp("mir"), 0777);
    write_song(tp("mir/aa_1_01.wav"), 2, 3 * RATE, 0.3f, 1);
    write_song(tp("mir/bb_1_01.wav"), 2, 2 * RATE + 500, 0.2f, 1);
    char args[1024];
    snprintf(args, sizeof args, "eval-sep --ref %s --method oracle-irm,mixture -m repet-sim --json %s", tp("mir"),
             tp("mir.json"));
    REQUIRE(run(args) == 0);
    char *o = slurp(out_txt);
    CHECK(strstr(o, "| method | stem |") != NULL);
    CHECK(strstr(o, "| oracle-irm | vocals | 2 |") != NULL);
    CHECK(strstr(o, "| mixture | accompaniment | 2 |") != NULL);
    CHECK(strstr(o, "| repet-sim | vocals |") != NULL);
    CHECK(strstr(o, "nan") == NULL);
    free(o);
    duet_sep_json js;
    REQUIRE(duet_sep_json_load(tp("mir.json"), &js, NULL) == DUET_OK);
    const duet_sep_json *ms = duet_sep_json_get(&js, "methods");
    REQUIRE(ms && ms->n == 3);
    const duet_sep_json *tr = duet_sep_json_get(&ms->items[0], "tracks");
    REQUIRE(tr && tr->n == 2);
    CHECK(!strcmp(duet_sep_json_get(&tr->items[0], "name")->str, "aa_1_01"));
    const duet_sep_json *tg = duet_sep_json_get(&tr->items[0], "targets");
    REQUIRE(tg && tg->n == 2);
    CHECK(!strcmp(duet_sep_json_get(&tg->items[0], "name")->str, "vocals"));
    const char *keys[] = {"SDR", "SIR", "SAR", "SI-SDR", "NSDR"};
    for (int k = 0; k < 5; k++) CHECK_MSG(isfinite(duet_sep_json_num(duet_sep_json_get(&tg->items[0], keys[k]))), "%s", keys[k]);
    const duet_sep_json *fr = duet_sep_json_get(&tg->items[0], "frames");
    REQUIRE(fr && fr->n == 3);
    CHECK(isfinite(duet_sep_json_num(duet_sep_json_get(duet_sep_json_get(&fr->items[0], "metrics"), "SDR"))));
    CHECK(duet_sep_json_num(duet_sep_json_get(&tg->items[0], "NSDR")) > 5); /* the oracle beats the mixture */
    duet_sep_json_free(&js);
    /* a mono file is not a MIR-1K clip */
    write_song(tp("mir/cc_mono.wav"), 1, RATE, 0.3f, 0);
    snprintf(args, sizeof args, "eval-sep --ref %s --method mixture", tp("mir"));
    CHECK(run(args) == 1);
    CHECK(err_has("must be stereo"));
    /* --tracks keeps the others */
    snprintf(args, sizeof args, "eval-sep --ref %s --method mixture --tracks 'aa_*,bb_*'", tp("mir"));
    CHECK(run(args) == 0);
    /* empty folder */
    mkdir(tp("empty"), 0777);
    snprintf(args, sizeof args, "eval-sep --ref %s", tp("empty"));
    CHECK(run(args) == 1);
    CHECK(err_has("no tracks"));
    snprintf(args, sizeof args, "eval-sep --ref %s --method nope", tp("mir"));
    CHECK(run(args) == 2);
    snprintf(args, sizeof args, "eval-sep --method mixture");
    CHECK(run(args) == 2);
}

static void test_eval_stems(void)
{
    int64_t n = 2 * RATE + 10;
    mkdir(tp("ref"), 0777);
    mkdir(tp("ref/one"), 0777);
    mkdir(tp("ref/two"), 0777);
    mkdir(tp("mix"), 0777);
    write_stem(tp("ref/one/vocals.wav"), n, 0, 0.3f);
    write_stem(tp("ref/one/accompaniment.wav"), n, 1, 0);
    write_stem(tp("ref/two/vocals.wav"), n, 0, 0.1f);
    write_stem(tp("ref/two/accompaniment.wav"), n, 1, 0);
    write_song(tp("mix/one.wav"), 1, n, 0.3f, 0);
    write_song(tp("mix/two.wav"), 1, n, 0.1f, 0);
    char args[1024];
    snprintf(args, sizeof args, "separate -q -o %s --method hpss %s %s", tp("est"), tp("mix/one.wav"), tp("mix/two.wav"));
    REQUIRE(run(args) == 0);
    snprintf(args, sizeof args, "eval-sep --ref %s --est %s --json %s", tp("ref"), tp("est"), tp("st.json"));
    CHECK(run(args) == 0);
    char *o = slurp(out_txt);
    CHECK(strstr(o, "| estimates | vocals | 2 |") != NULL);
    free(o);
    /* estimates of the wrong length */
    write_stem(tp("est/two/vocals.wav"), n - 5, 0, 0.1f);
    write_stem(tp("est/two/accompaniment.wav"), n - 5, 1, 0);
    snprintf(args, sizeof args, "eval-sep --ref %s --est %s", tp("ref"), tp("est"));
    CHECK(run(args) == 1);
    CHECK(err_has("does not match"));
    /* missing stem */
    remove(tp("est/two/vocals.wav"));
    CHECK(run(args) == 1);
    CHECK(err_has("missing stem vocals"));
    /* silent reference: documented handling, null in JSON, exit 0 */
    write_stem(tp("ref/two/vocals.wav"), n, 0, 0.0f);
    snprintf(args, sizeof args, "separate -q -o %s --method mixture %s", tp("est"), tp("mix/two.wav"));
    REQUIRE(run(args) == 0);
    snprintf(args, sizeof args, "eval-sep --ref %s --est %s --json %s", tp("ref"), tp("est"), tp("sil.json"));
    CHECK(run(args) == 0);
    CHECK(err_has("undefined"));
    duet_sep_json js;
    REQUIRE(duet_sep_json_load(tp("sil.json"), &js, NULL) == DUET_OK);
    const duet_sep_json *tr = duet_sep_json_get(&duet_sep_json_get(&js, "methods")->items[0], "tracks");
    REQUIRE(tr && tr->n == 2);
    const duet_sep_json *sdr = duet_sep_json_get(&duet_sep_json_get(&tr->items[1], "targets")->items[0], "SDR");
    CHECK(sdr && sdr->type == SJ_NULL);
    duet_sep_json_free(&js);
}

int main(void)
{
    duet_bin = getenv("DUET");
    if (!duet_bin) duet_bin = "build/duet";
    if (access(duet_bin, X_OK) != 0) {
        printf("# %s not built: skipped\n", duet_bin);
        printf("not ok - duet binary missing\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/duet_cli_sep_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(out_txt, sizeof out_txt, "%s/stdout.txt", dir);
    snprintf(err_txt, sizeof err_txt, "%s/stderr.txt", dir);
    RUN(test_separate);
    RUN(test_eval_mir1k);
    RUN(test_eval_stems);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    return check_summary();
}
