/* tests/test_sepnet_infer.c: separating with the network in bounded memory.
 *
 * A tiny randomly initialised sepnet (8 kHz, n_fft 128, hop 32, 64 bins,
 * depth 2, chunks of 32 frames) keeps this fast. Checked:
 * - the streaming separator (duet_sepnet_stream_*, fed in irregular block sizes,
 *   and duet_sepnet_separate) agrees with the whole-song reference computation
 *   (duet_sepnet_separate_reference): max |difference| <= 1e-5 x the mixture's
 *   peak, with and without the Wiener filter, at the model's rate and at
 *   other rates (resampling and mask mapping), mono, stereo and 6 channels;
 * - vocals + accompaniment == mixture within 1e-4 (also with --wiener);
 * - exact length for odd lengths: 1 sample, shorter than one chunk, longer;
 * - the Wiener filter (2 iterations) runs and changes the vocals;
 * - `duet separate` end to end with the model saved to a file: stems equal
 *   the reference, --spectrogram writes a PNG, --wiener works, progress only
 *   when forced and never with -q;
 * - bad input (empty file, corrupt file, unwritable -o, NaN samples, NaN in
 *   the middle of a long file after output has started): one-line error,
 *   non-zero exit, no stems, no temporary files, no new track folder. */
#define _DEFAULT_SOURCE
#include "check.h"
#include "../audio/audio.h"
#include "../separation/sepnet.h"
#include "../separation/sepnet_infer.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOL_REL 1e-5

static sepnet *net;
static const char *duet_bin;
static char dir[64], model_path[128], out_txt[160], err_txt[160];

static duet_sepnet_config tiny_config(void)
{
    duet_sepnet_config c = duet_sepnet_config_default();
    c.sample_rate = 8000;
    c.n_fft = 128;
    c.hop = 32;
    c.n_freq = 64;
    c.depth = 2;
    c.base = 4;
    c.phase_ch = 2;
    c.dropout = 0.1f;
    return c;
}

/* a tone + vibrato "voice" + noise, different per channel */
static void make_song(duet_audio *a, int channels, int64_t n, int rate, uint64_t seed)
{
    duet_audio_alloc(a, channels, n, rate);
    duet_rng rng;
    duet_rng_seed(&rng, seed);
    for (int c = 0; c < channels; c++)
        for (int64_t i = 0; i < n; i++) {
            double t = (double)i / rate;
            double acc = 0.3 * sin(2 * M_PI * (110.0 + 20 * c) * t) * ((i / 700) % 3 == 0 ? 1.0 : 0.4);
            double voc = 0.25 * sin(2 * M_PI * (500.0 + 60 * sin(5.0 * t)) * t) * (0.5 + 0.5 * sin(1.3 * t + c));
            a->ch[c][i] = (float)(acc + voc + 0.02 * duet_rng_normal(&rng));
        }
}

static double peak_of(const duet_audio *a)
{
    double p = 0;
    for (int c = 0; c < a->channels; c++)
        for (int64_t i = 0; i < a->frames; i++)
            if (fabs(a->ch[c][i]) > p) p = fabs(a->ch[c][i]);
    return p > 0 ? p : 1;
}

static double max_diff(const duet_audio *a, const duet_audio *b)
{
    double d = 0;
    for (int c = 0; c < a->channels; c++)
        for (int64_t i = 0; i < a->frames; i++) {
            double e = fabs((double)a->ch[c][i] - b->ch[c][i]);
            if (e > d || e != e) d = e;
        }
    return d;
}

static double sum_error(const duet_audio *m, const duet_audio *v, const duet_audio *a)
{
    double d = 0;
    for (int c = 0; c < m->channels; c++)
        for (int64_t i = 0; i < m->frames; i++) {
            double e = fabs((double)v->ch[c][i] + a->ch[c][i] - m->ch[c][i]);
            if (e > d) d = e;
        }
    return d;
}

/* ---- the stream fed in irregular blocks ---- */

typedef struct grab {
    duet_audio *v, *a;
    int64_t at;
    int bad;
} grab;

static int grab_cb(void *user, const float *const *mix, const float *const *voc, const float *const *acc, int64_t n)
{
    grab *g = user;
    (void)mix;
    if (g->at + n > g->v->frames) {
        g->bad = 1;
        return 1;
    }
    for (int c = 0; c < g->v->channels; c++) {
        memcpy(g->v->ch[c] + g->at, voc[c], sizeof(float) * (size_t)n);
        memcpy(g->a->ch[c] + g->at, acc[c], sizeof(float) * (size_t)n);
    }
    g->at += n;
    return 0;
}

static duet_status stream_irregular(const duet_audio *mix, int wiener, uint64_t seed, duet_audio *v, duet_audio *a)
{
    duet_audio_alloc(v, mix->channels, mix->frames, mix->sample_rate);
    duet_audio_alloc(a, mix->channels, mix->frames, mix->sample_rate);
    grab g = {v, a, 0, 0};
    duet_sepnet_sep_opts o;
    memset(&o, 0, sizeof o);
    o.chunk_frames = 32;
    o.wiener_iters = wiener;
    duet_sepnet_stream *s = NULL;
    duet_err err = {0};
    duet_status st = duet_sepnet_stream_new(net, mix->channels, mix->sample_rate, &o, grab_cb, &g, &s, &err);
    duet_rng rng;
    duet_rng_seed(&rng, seed);
    const float *p[64];
    for (int64_t off = 0; off < mix->frames && !st;) {
        int64_t k = 1 + (int64_t)duet_rng_below(&rng, 3000);
        if (k > mix->frames - off) k = mix->frames - off;
        for (int c = 0; c < mix->channels; c++) p[c] = mix->ch[c] + off;
        st = duet_sepnet_stream_feed(s, p, k, &err);
        off += k;
    }
    if (!st) st = duet_sepnet_stream_finish(s, &err);
    if (st) fprintf(stderr, "  stream: %s\n", err.msg);
    if (!st && (g.at != mix->frames || g.bad)) st = DUET_ERR_INTERNAL;
    duet_sepnet_stream_free(s);
    return st;
}

/* streaming == reference, sum == mixture, exact shape */
static void agree_case(int channels, int64_t n, int rate, int wiener, double *worst_rel)
{
    duet_audio mix, rv, ra, sv, sa, pv, pa;
    make_song(&mix, channels, n, rate, (uint64_t)(n * 7 + channels + rate));
    duet_sepnet_sep_opts o;
    memset(&o, 0, sizeof o);
    o.chunk_frames = 32;
    o.wiener_iters = wiener;
    duet_err err = {0};
    REQUIRE(duet_sepnet_separate_reference(net, &mix, &o, &rv, &ra, &err) == DUET_OK);
    REQUIRE(stream_irregular(&mix, wiener, (uint64_t)n, &sv, &sa) == DUET_OK);
    REQUIRE(duet_sepnet_separate(net, &mix, &o, &pv, &pa, &err) == DUET_OK);
    CHECK(sv.frames == n && sv.channels == channels && sv.sample_rate == rate);
    CHECK(pv.frames == n && pa.frames == n && pv.channels == channels && pa.sample_rate == rate);
    double peak = peak_of(&mix);
    double d1 = max_diff(&sv, &rv) / peak, d2 = max_diff(&pv, &rv) / peak, d3 = max_diff(&sa, &ra) / peak;
    CHECK_MSG(d1 <= TOL_REL && d2 <= TOL_REL && d3 <= TOL_REL,
              "%d ch, %lld frames at %d Hz, wiener %d: stream vs reference %.3g / %.3g / %.3g of the peak", channels,
              (long long)n, rate, wiener, d1, d2, d3);
    double e1 = sum_error(&mix, &sv, &sa), e2 = sum_error(&mix, &rv, &ra), e3 = sum_error(&mix, &pv, &pa);
    CHECK_MSG(e1 < 1e-4 && e2 < 1e-4 && e3 < 1e-4, "sum error %.3g %.3g %.3g", e1, e2, e3);
    double w = d1 > d2 ? d1 : d2;
    if (d3 > w) w = d3;
    if (w > *worst_rel) *worst_rel = w;
    duet_audio *all[] = {&mix, &rv, &ra, &sv, &sa, &pv, &pa};
    for (int i = 0; i < 7; i++) duet_audio_free(all[i]);
}

static void test_stream_matches_reference(void)
{
    double worst = 0;
    /* model rate: masks apply to the model's own STFT */
    agree_case(1, 1, 8000, 0, &worst);                 /* one sample */
    agree_case(1, 501, 8000, 0, &worst);               /* shorter than one chunk (32 x 32 samples) */
    agree_case(2, 6000 + 17, 8000, 0, &worst);         /* 6 chunks, odd length */
    /* other rates: resampling, input-rate STFT, mapped masks, full band */
    agree_case(2, 11025 + 3, 11025, 0, &worst);
    agree_case(6, 8000 + 1, 16000, 0, &worst);
    agree_case(1, 1, 44100, 0, &worst);                /* resamples to 0 model samples */
    agree_case(2, 777, 22050, 0, &worst);
    printf("# streaming vs whole-song reference: worst max |diff| = %.3g x peak\n", worst);
}

/* A stereo model (cfg.channels 2): stereo audio goes through the network
 * jointly, other channel counts with each channel doubled into both inputs;
 * streaming agrees with the reference in every case, and the left stem
 * depends on the right channel (the channels really are seen together). */
static void test_stereo_model(void)
{
    duet_sepnet_config c = tiny_config();
    c.channels = 2;
    duet_rng rng;
    duet_rng_seed(&rng, 12);
    sepnet *mono = net, *st2 = NULL;
    REQUIRE(duet_sepnet_new(&c, &rng, &st2, NULL) == DUET_OK);
    for (size_t i = 0; i < st2->params->count; i++)
        if (strstr(st2->params->info[i].name, "gamma")) duet_params_data(st2->params, i)[0] = 0.5f;
    net = st2;
    double worst = 0;
    agree_case(2, 6000 + 17, 8000, 0, &worst);  /* joint */
    agree_case(1, 3001, 8000, 0, &worst);       /* mono doubled */
    agree_case(3, 2000 + 5, 16000, 0, &worst);  /* three channels, each doubled, resampled */
    agree_case(2, 4410, 22050, 1, &worst);      /* joint, resampled, Wiener */
    printf("# stereo model: streaming vs reference worst %.3g x peak\n", worst);
    duet_audio a, b, va, aa, vb, ab;
    make_song(&a, 2, 4000, 8000, 5);
    make_song(&b, 2, 4000, 8000, 5);
    for (int64_t i = 0; i < b.frames; i++) b.ch[1][i] *= 0.25f; /* only the right channel changes */
    REQUIRE(duet_sepnet_separate(net, &a, NULL, &va, &aa, NULL) == DUET_OK);
    REQUIRE(duet_sepnet_separate(net, &b, NULL, &vb, &ab, NULL) == DUET_OK);
    double d = 0;
    for (int64_t i = 0; i < a.frames; i++) d = fmax(d, fabs((double)va.ch[0][i] - vb.ch[0][i]));
    CHECK_MSG(d > 1e-4 * peak_of(&a), "left vocals depend on the right channel (max change %.3g)", d);
    duet_audio *all[] = {&a, &b, &va, &aa, &vb, &ab};
    for (int i = 0; i < 6; i++) duet_audio_free(all[i]);
    net = mono;
    duet_sepnet_free(st2);
}

static void test_wiener(void)
{
    double worst = 0;
    agree_case(2, 8000 + 9, 8000, 2, &worst);
    agree_case(1, 11025 + 1, 11025, 1, &worst);
    agree_case(6, 4000 + 5, 16000, 2, &worst);
    agree_case(2, 3, 8000, 3, &worst);
    printf("# with Wiener: worst max |diff| = %.3g x peak\n", worst);
    /* it changes the vocals */
    duet_audio mix, v0, a0, v2, a2;
    make_song(&mix, 2, 8000, 8000, 5);
    duet_sepnet_sep_opts o;
    memset(&o, 0, sizeof o);
    o.chunk_frames = 32;
    REQUIRE(duet_sepnet_separate(net, &mix, &o, &v0, &a0, NULL) == DUET_OK);
    o.wiener_iters = 2;
    REQUIRE(duet_sepnet_separate(net, &mix, &o, &v2, &a2, NULL) == DUET_OK);
    double d = max_diff(&v0, &v2) / peak_of(&mix);
    printf("# Wiener (2 iterations) changes the vocals by up to %.3g x peak\n", d);
    CHECK_MSG(d > 1e-3, "Wiener changed the vocals by only %.3g", d);
    double e = 0;
    for (int c = 0; c < 2; c++)
        for (int64_t i = 0; i < mix.frames; i++) e += (double)v2.ch[c][i] * v2.ch[c][i];
    CHECK(isfinite(e) && e > 0);
    duet_audio_free(&v2);
    duet_audio_free(&a2);
    /* bad arguments */
    o.wiener_iters = -1;
    CHECK(duet_sepnet_separate(net, &mix, &o, &v2, &a2, NULL) == DUET_ERR_ARG);
    duet_audio *all[] = {&mix, &v0, &a0};
    for (int i = 0; i < 3; i++) duet_audio_free(all[i]);
}

static void test_stream_errors(void)
{
    duet_audio mix, v, a;
    make_song(&mix, 2, 4000, 8000, 9);
    mix.ch[1][2500] = NAN;
    duet_err err = {0};
    CHECK(duet_sepnet_separate(net, &mix, NULL, &v, &a, &err) == DUET_ERR_NAN);
    CHECK(v.ch == NULL && a.ch == NULL);
    duet_sepnet_stream *s = NULL;
    CHECK(duet_sepnet_stream_new(net, 0, 8000, NULL, grab_cb, NULL, &s, NULL) == DUET_ERR_ARG);
    CHECK(duet_sepnet_stream_new(net, 2, 0, NULL, grab_cb, NULL, &s, NULL) == DUET_ERR_ARG);
    duet_sepnet_sep_opts o = {30, NULL, 0}; /* not a multiple of 2^depth */
    CHECK(duet_sepnet_stream_new(net, 2, 8000, &o, grab_cb, NULL, &s, NULL) == DUET_ERR_ARG);
    CHECK(s == NULL);
    duet_audio_free(&mix);
}

/* ---- the CLI ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return calloc(1, 1);
    char *b = calloc(1, 1 << 16);
    size_t n = fread(b, 1, (1 << 16) - 1, f);
    b[n] = 0;
    fclose(f);
    return b;
}

static int run(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s %s >%s 2>%s", duet_bin, args, out_txt, err_txt);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *tp(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* exactly one line on stderr, "duet: ...", containing want */
static int one_line_error(const char *want)
{
    char *e = slurp(err_txt);
    int lines = 0;
    for (char *p = e; *p; p++) lines += *p == '\n';
    int ok = lines == 1 && strncmp(e, "duet: ", 6) == 0 && strstr(e, want) != NULL;
    if (!ok) fprintf(stderr, "  stderr was: %s\n", e);
    free(e);
    return ok;
}

/* nothing but `allowed` (may be NULL) left in folder d (no temporaries) */
static int folder_clean(const char *d)
{
    DIR *dd = opendir(d);
    if (!dd) return 1; /* no folder at all */
    struct dirent *e;
    int n = 0;
    while ((e = readdir(dd)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            fprintf(stderr, "  left behind: %s/%s\n", d, e->d_name);
            n++;
        }
    closedir(dd);
    return n == 0;
}

static void write_raw_float_wav(const char *path, const float *x, int channels, int64_t frames, int rate)
{
    FILE *f = fopen(path, "wb");
    uint32_t datasz = (uint32_t)(frames * channels * 4), riff = 36 + datasz, fmtsz = 16, r = (uint32_t)rate,
             brate = (uint32_t)(rate * channels * 4);
    uint16_t fmt = 3, ch = (uint16_t)channels, align = (uint16_t)(4 * channels), bits = 32;
    fwrite("RIFF", 1, 4, f);
    fwrite(&riff, 4, 1, f);
    fwrite("WAVEfmt ", 1, 8, f);
    fwrite(&fmtsz, 4, 1, f);
    fwrite(&fmt, 2, 1, f);
    fwrite(&ch, 2, 1, f);
    fwrite(&r, 4, 1, f);
    fwrite(&brate, 4, 1, f);
    fwrite(&align, 2, 1, f);
    fwrite(&bits, 2, 1, f);
    fwrite("data", 1, 4, f);
    fwrite(&datasz, 4, 1, f);
    if (frames > 0) fwrite(x, 4, (size_t)(frames * channels), f);
    fclose(f);
}

static void test_cli(void)
{
    duet_audio mix;
    make_song(&mix, 2, 11025 + 333, 11025, 3);
    REQUIRE(duet_audio_write(tp("song.wav"), &mix, DUET_FILE_WAV_FLOAT, NULL) == DUET_OK);
    char args[2048];
    /* the CLI uses the default chunk (256 frames); compare with the reference at 256 */
    snprintf(args, sizeof args, "separate -q --model %s -o %s --spectrogram %s", model_path, tp("out"), tp("song.wav"));
    REQUIRE(run(args) == 0);
    duet_audio v, a, rv, ra;
    REQUIRE(duet_audio_read(tp("out/song/vocals.wav"), NULL, &v, NULL, NULL) == DUET_OK);
    REQUIRE(duet_audio_read(tp("out/song/accompaniment.wav"), NULL, &a, NULL, NULL) == DUET_OK);
    CHECK(v.frames == mix.frames && a.frames == mix.frames && v.channels == 2 && v.sample_rate == 11025);
    REQUIRE(duet_sepnet_separate_reference(net, &mix, NULL, &rv, &ra, NULL) == DUET_OK);
    double d = max_diff(&v, &rv) / peak_of(&mix);
    CHECK_MSG(d <= TOL_REL, "CLI vs reference %.3g x peak", d);
    CHECK_MSG(sum_error(&mix, &v, &a) < 1e-4, "sum %.3g", sum_error(&mix, &v, &a));
    struct stat sb;
    CHECK(stat(tp("out/song/spectrogram.png"), &sb) == 0 && sb.st_size > 1000);
    char *e = slurp(err_txt);
    CHECK(e[0] == 0); /* -q: no line, no progress */
    free(e);
    duet_audio_free(&v);
    duet_audio_free(&a);
    duet_audio_free(&rv);
    duet_audio_free(&ra);
    /* --wiener, FLAC, forced progress */
    snprintf(args, sizeof args, "separate --progress --wiener 2 --format flac --model %s -o %s %s", model_path,
             tp("outw"), tp("song.wav"));
    CHECK(run(args) == 0);
    CHECK(access(tp("outw/song/vocals.flac"), R_OK) == 0 && access(tp("outw/song/accompaniment.flac"), R_OK) == 0);
    e = slurp(err_txt);
    CHECK(strstr(e, "song.wav") != NULL && strstr(e, "Wiener") != NULL);
    free(e);
    /* mono and 6 channels, 1 sample */
    duet_audio m1, m6;
    make_song(&m1, 1, 1, 8000, 1);
    make_song(&m6, 6, 999, 16000, 2);
    duet_audio_write(tp("one.wav"), &m1, DUET_FILE_WAV_FLOAT, NULL);
    duet_audio_write(tp("six.wav"), &m6, DUET_FILE_WAV_FLOAT, NULL);
    snprintf(args, sizeof args, "separate -q --model %s -o %s %s %s", model_path, tp("out"), tp("one.wav"),
             tp("six.wav"));
    CHECK(run(args) == 0);
    REQUIRE(duet_audio_read(tp("out/six/vocals.wav"), NULL, &v, NULL, NULL) == DUET_OK);
    CHECK(v.frames == 999 && v.channels == 6 && v.sample_rate == 16000);
    duet_audio_free(&v);
    REQUIRE(duet_audio_read(tp("out/one/accompaniment.wav"), NULL, &a, NULL, NULL) == DUET_OK);
    CHECK(a.frames == 1 && a.channels == 1);
    duet_audio_free(&a);
    duet_audio_free(&m1);
    duet_audio_free(&m6);
    duet_audio_free(&mix);
}

static void test_cli_bad_input(void)
{
    char args[2048];
    mkdir(tp("bad"), 0777);
    /* empty file (a valid WAV with no frames) */
    write_raw_float_wav(tp("empty.wav"), NULL, 1, 0, 8000);
    snprintf(args, sizeof args, "separate -q --model %s -o %s %s", model_path, tp("bad"), tp("empty.wav"));
    CHECK(run(args) == 1);
    CHECK(one_line_error("empty.wav"));
    CHECK(folder_clean(tp("bad/empty")));
    /* a zero-byte file */
    FILE *f = fopen(tp("zero.wav"), "wb");
    fclose(f);
    snprintf(args, sizeof args, "separate -q --model %s -o %s %s", model_path, tp("bad"), tp("zero.wav"));
    CHECK(run(args) == 1);
    CHECK(one_line_error("zero.wav"));
    CHECK(folder_clean(tp("bad/zero")));
    /* corrupt: random bytes */
    f = fopen(tp("junk.wav"), "wb");
    for (int i = 0; i < 5000; i++) fputc((i * 7919 + 13) & 0xff, f);
    fclose(f);
    snprintf(args, sizeof args, "separate -q --model %s -o %s %s", model_path, tp("bad"), tp("junk.wav"));
    CHECK(run(args) == 1);
    CHECK(one_line_error("junk.wav"));
    CHECK(folder_clean(tp("bad/junk")));
    /* unwritable output: the folder would be under a regular file */
    duet_audio mix;
    make_song(&mix, 2, 3000, 8000, 4);
    duet_audio_write(tp("ok.wav"), &mix, DUET_FILE_WAV_FLOAT, NULL);
    snprintf(args, sizeof args, "separate -q --model %s -o %s %s", model_path, tp("ok.wav/sub"), tp("ok.wav"));
    CHECK(run(args) == 1);
    CHECK(one_line_error("cannot create"));
    /* unwritable output: the track folder exists but is a file */
    mkdir(tp("bad2"), 0777);
    f = fopen(tp("bad2/ok"), "wb");
    fclose(f);
    snprintf(args, sizeof args, "separate -q --model %s -o %s %s", model_path, tp("bad2"), tp("ok.wav"));
    CHECK(run(args) == 1);
    CHECK(one_line_error("ok"));
    /* NaN at the start */
    mix.ch[0][10] = NAN;
    float *inter = malloc(sizeof(float) * 2 * 3000);
    for (int64_t i = 0; i < 3000; i++)
        for (int c = 0; c < 2; c++) inter[i * 2 + c] = mix.ch[c][i];
    write_raw_float_wav(tp("nan.wav"), inter, 2, 3000, 8000);
    snprintf(args, sizeof args, "separate -q --model %s -o %s %s", model_path, tp("bad"), tp("nan.wav"));
    CHECK(run(args) == 1);
    CHECK(one_line_error("nan.wav"));
    CHECK(folder_clean(tp("bad/nan")));
    free(inter);
    duet_audio_free(&mix);
    /* NaN late in a long file: output has been streamed to the temporaries by then */
    int64_t n = 8000 * 10; /* the second read block (65536 frames) has the NaN */
    make_song(&mix, 1, n, 8000, 6);
    mix.ch[0][n - 100] = NAN;
    write_raw_float_wav(tp("late.wav"), mix.ch[0], 1, n, 8000);
    mkdir(tp("bad/late"), 0777); /* an existing folder stays, but empty */
    snprintf(args, sizeof args, "separate -q --model %s -o %s %s", model_path, tp("bad"), tp("late.wav"));
    CHECK(run(args) == 1);
    CHECK(one_line_error("late.wav"));
    CHECK(access(tp("bad/late"), F_OK) == 0);
    CHECK(folder_clean(tp("bad/late")));
    duet_audio_free(&mix);
}

int main(void)
{
    duet_sepnet_config c = tiny_config();
    duet_rng rng;
    duet_rng_seed(&rng, 11);
    if (duet_sepnet_new(&c, &rng, &net, NULL) != DUET_OK) {
        printf("not ok - duet_sepnet_new\n");
        return 1;
    }
    /* give the self-attention gains a value so every path is exercised */
    for (size_t i = 0; i < net->params->count; i++)
        if (strstr(net->params->info[i].name, "gamma")) duet_params_data(net->params, i)[0] = 0.5f;
    snprintf(dir, sizeof dir, "/tmp/duet_sepinfer_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(model_path, sizeof model_path, "%s/tiny.safetensors", dir);
    snprintf(out_txt, sizeof out_txt, "%s/stdout.txt", dir);
    snprintf(err_txt, sizeof err_txt, "%s/stderr.txt", dir);
    RUN(test_stream_matches_reference);
    RUN(test_stereo_model);
    RUN(test_wiener);
    RUN(test_stream_errors);
    duet_bin = getenv("DUET");
    if (!duet_bin) duet_bin = "build/duet";
    if (access(duet_bin, X_OK) == 0 && duet_sepnet_save(net, model_path, NULL, 0, NULL) == DUET_OK) {
        RUN(test_cli);
        RUN(test_cli_bad_input);
    } else
        printf("# %s not built: CLI tests skipped\n", duet_bin);
    duet_sepnet_free(net);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    return check_summary();
}
