/* tests/test_cli_conventions.c: the habits users bring from Demucs, Spleeter
 * and sox, run through the binary ($DUET, default build/duet): stem formats
 * and precision, counted clipping, quiet decoding of a damaged MP3,
 * standard input and output, folder inputs, the --filename template and
 * the clash check, --skip-existing, -j, --shifts, and SIGINT/SIGTERM
 * leaving no temporary behind (exit 130/143). */
#define _DEFAULT_SOURCE
#include "check.h"
#include "../audio/audio.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
    char *b = calloc(1, 1 << 16);
    size_t n = fread(b, 1, (1 << 16) - 1, f);
    b[n] = 0;
    fclose(f);
    return b;
}

static int run(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static int run(const char *fmt, ...)
{
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", duet_bin, args, out_txt, err_txt);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* a shell pipeline with $D standing for the binary */
static int sh(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static int sh(const char *fmt, ...)
{
    char line[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "D=%s; (%s) 2>%s", duet_bin, line, err_txt);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int stderr_lines(void)
{
    char *e = slurp(err_txt);
    int n = 0;
    for (char *p = e; *p; p++) n += *p == '\n';
    free(e);
    return n;
}

static int err_has(const char *want)
{
    char *e = slurp(err_txt);
    int ok = strstr(e, want) != NULL;
    if (!ok) fprintf(stderr, "  stderr was: [%s], wanted '%s'\n", e, want);
    free(e);
    return ok;
}

/* Files under `path` whose name contains `part` (recursively). */
static int count_named(const char *path, const char *part)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        struct stat sb;
        if (stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) n += count_named(sub, part);
        if (strstr(e->d_name, part)) n++;
    }
    closedir(d);
    return n;
}

static int exists(const char *p) { return access(p, F_OK) == 0; }

/* A stereo test song: two tones and a vibrato "voice", peak `gain`. */
static void write_song(const char *path, int rate, double seconds, float gain, duet_audio_filetype type)
{
    duet_audio a;
    int64_t n = (int64_t)(seconds * rate);
    duet_audio_alloc(&a, 2, n, rate);
    for (int64_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        double acc = 0.4 * sin(2 * M_PI * 196.0 * t) + 0.2 * sin(2 * M_PI * 587.0 * t);
        double voc = 0.4 * sin(2 * M_PI * (440.0 + 30.0 * sin(5.0 * t)) * t);
        a.ch[0][i] = gain * (float)(0.6 * acc + 0.4 * voc);
        a.ch[1][i] = gain * (float)(0.4 * acc + 0.6 * voc);
    }
    REQUIRE(duet_audio_write(path, &a, type, NULL) == DUET_OK);
    duet_audio_free(&a);
}

static int read_ok(const char *path, duet_audio *a)
{
    duet_err e = {0};
    if (duet_audio_read(path, NULL, a, NULL, &e) == DUET_OK) return 1;
    fprintf(stderr, "  cannot read %s: %s\n", path, e.msg);
    return 0;
}

/* SNR (dB) of y against x over their common length. */
static double snr_db(const duet_audio *x, const duet_audio *y)
{
    double s = 0, d = 0;
    int64_t n = x->frames < y->frames ? x->frames : y->frames;
    for (int c = 0; c < x->channels; c++)
        for (int64_t i = 0; i < n; i++) {
            s += (double)x->ch[c][i] * x->ch[c][i];
            d += ((double)y->ch[c][i] - x->ch[c][i]) * ((double)y->ch[c][i] - x->ch[c][i]);
        }
    return 10 * log10(s / (d + 1e-30));
}

static void test_formats(void)
{
    write_song(tp("f32.wav"), 44100, 1.5, 0.8f, DUET_FILE_WAV_FLOAT);
    write_song(tp("i16.wav"), 44100, 1.5, 0.8f, DUET_FILE_WAV_PCM16);
    write_song(tp("i24.flac"), 44100, 1.5, 0.8f, DUET_FILE_FLAC24);
    duet_audio m, v;
    REQUIRE(read_ok(tp("f32.wav"), &m));
    /* default precision follows the input */
    const struct {
        const char *in, *want;
    } like[] = {{"f32.wav", "WAV 32-bit float"}, {"i16.wav", "WAV 16-bit PCM"}, {"i24.flac", "WAV 24-bit PCM"}};
    for (int k = 0; k < 3; k++) {
        CHECK(run("separate -q -m mixture -o %s %s", tp("like"), tp(like[k].in)) == 0);
        char p[512];
        snprintf(p, sizeof p, "like/%.*s/vocals.wav", (int)(strchr(like[k].in, '.') - like[k].in), like[k].in);
        if (read_ok(tp(p), &v)) {
            CHECK_MSG(!strcmp(v.format, like[k].want), "%s -> %s, wanted %s", like[k].in, v.format, like[k].want);
            duet_audio_free(&v);
        }
    }
    /* every container, read back with the right format, rate and length */
    const struct {
        const char *opt, *ext, *fmt;
        int rate;
        double min_snr;
    } fm[] = {{"-f wav --bits 16", "wav", "WAV 16-bit PCM", 44100, 60},
              {"-f wav --bits 24", "wav", "WAV 24-bit PCM", 44100, 90},
              {"-f flac", "flac", "FLAC 24-bit", 44100, 90},
              {"-f flac --bits 16", "flac", "FLAC 16-bit", 44100, 60},
              {"-f ogg", "ogg", "OGG Vorbis", 44100, 15},
              {"-f opus --bitrate 128k", "opus", "OGG Opus", 48000, -1},
              {"-f mp3 --bitrate 192", "mp3", "MP3", 44100, 15}};
    for (size_t k = 0; k < sizeof fm / sizeof fm[0]; k++) {
        char out[64];
        snprintf(out, sizeof out, "fmt%zu", k);
        CHECK_MSG(run("separate -q -m mixture %s -o %s %s", fm[k].opt, tp(out), tp("f32.wav")) == 0, "%s", fm[k].opt);
        char p[512];
        snprintf(p, sizeof p, "%s/f32/vocals.%s", out, fm[k].ext);
        if (!read_ok(tp(p), &v)) continue;
        CHECK_MSG(!strcmp(v.format, fm[k].fmt), "%s: %s", fm[k].opt, v.format);
        CHECK_MSG(v.sample_rate == fm[k].rate, "%s: %d Hz", fm[k].opt, v.sample_rate);
        int64_t want = (int64_t)llround((double)m.frames * fm[k].rate / 44100.0);
        /* MP3 keeps the exact length (LAME/Xing delay and padding trimmed) */
        CHECK_MSG(llabs(v.frames - want) <= (fm[k].rate == 48000 ? 2 : 0), "%s: %lld frames, want %lld", fm[k].opt,
                  (long long)v.frames, (long long)want);
        if (fm[k].min_snr > 0) {
            /* the mixture method's vocals are half the mixture; lossy codecs
             * start at sample 0 (no encoder delay), so the SNR is high */
            duet_audio half;
            duet_audio_alloc(&half, 2, m.frames, m.sample_rate);
            for (int c = 0; c < 2; c++)
                for (int64_t i = 0; i < m.frames; i++) half.ch[c][i] = 0.5f * m.ch[c][i];
            double snr = snr_db(&half, &v);
            CHECK_MSG(snr > fm[k].min_snr, "%s: SNR %.1f dB against the expected stem", fm[k].opt, snr);
            duet_audio_free(&half);
        }
        duet_audio_free(&v);
    }
    /* bitrate is honoured: 64 kbps MP3 is well under half of 320 */
    CHECK(run("separate -q -m mixture -f mp3 --bitrate 64 -o %s %s", tp("lo"), tp("f32.wav")) == 0);
    CHECK(run("separate -q -m mixture -f mp3 -o %s %s", tp("hi"), tp("f32.wav")) == 0);
    struct stat lo, hi;
    if (stat(tp("lo/f32/vocals.mp3"), &lo) == 0 && stat(tp("hi/f32/vocals.mp3"), &hi) == 0)
        CHECK_MSG(lo.st_size * 3 < hi.st_size, "64 kbps %lld bytes, 320 kbps %lld", (long long)lo.st_size,
                  (long long)hi.st_size);
    else
        CHECK(0);
    /* bad options: one line, exit 2, nothing written */
    CHECK(run("separate -m mixture -f aac -o %s %s", tp("bad"), tp("f32.wav")) == 2 && err_has("--format"));
    CHECK(run("separate -m mixture -f flac --bits 32f -o %s %s", tp("bad"), tp("f32.wav")) == 2 &&
          err_has("FLAC stores 16 or 24"));
    CHECK(run("separate -m mixture --bits 8 -o %s %s", tp("bad"), tp("f32.wav")) == 2 && err_has("--bits"));
    CHECK(run("separate -m mixture -f wav --bitrate 128 -o %s %s", tp("bad"), tp("f32.wav")) == 2);
    CHECK(!exists(tp("bad")));
    duet_audio_free(&m);
}

static void test_clipping(void)
{
    /* library: samples beyond [-1, 1] are clipped and counted, not wrapped */
    duet_audio a;
    duet_audio_alloc(&a, 1, 1000, 8000);
    for (int i = 0; i < 1000; i++) a.ch[0][i] = i < 10 ? 1.5f : i < 20 ? -3.0f : 0.25f;
    int64_t clipped = -1;
    duet_audio_outfmt f16 = {DUET_CONT_WAV, 16, 0}, f32 = {DUET_CONT_WAV, 32, 0};
    CHECK(duet_audio_write_fmt(tp("clip16.wav"), &a, &f16, &clipped, NULL) == DUET_OK);
    CHECK_MSG(clipped == 20, "%lld clipped", (long long)clipped);
    CHECK(duet_audio_write_fmt(tp("clip32.wav"), &a, &f32, &clipped, NULL) == DUET_OK);
    CHECK(clipped == 0);
    duet_audio b;
    if (read_ok(tp("clip16.wav"), &b)) {
        CHECK(b.ch[0][0] > 0.999f && b.ch[0][15] < -0.999f && fabsf(b.ch[0][500] - 0.25f) < 1e-4f);
        duet_audio_free(&b);
    }
    duet_audio_free(&a);
    /* CLI: a loud float song separated to 16 bits warns with the count */
    write_song(tp("loud.wav"), 8000, 0.5, 6.0f, DUET_FILE_WAV_FLOAT);
    CHECK(run("separate -m mixture --bits 16 -o %s %s", tp("loud"), tp("loud.wav")) == 0);
    CHECK(err_has("clipped"));
    CHECK(run("separate -m mixture -o %s %s", tp("loud32"), tp("loud.wav")) == 0);
    char *e = slurp(err_txt);
    CHECK(!strstr(e, "clipped"));
    free(e);
}

static void test_mp3_quiet(void)
{
    write_song(tp("ok.wav"), 44100, 2.0, 0.5f, DUET_FILE_WAV_FLOAT);
    CHECK(run("resample -q -r 44100 -f mp3 %s %s", tp("ok.wav"), tp("ok.mp3")) == 0);
    /* garbage in the middle of the stream, and garbage after a valid start */
    FILE *in = fopen(tp("ok.mp3"), "rb");
    REQUIRE(in);
    unsigned char *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, 1 << 20, in);
    fclose(in);
    REQUIRE(n > 20000);
    unsigned int s = 12345;
    for (size_t i = n / 3; i < n / 3 + 6000; i++) buf[i] = (unsigned char)((s = s * 1103515245u + 12345u) >> 16);
    FILE *out = fopen(tp("damaged.mp3"), "wb");
    fwrite(buf, 1, n, out);
    fclose(out);
    free(buf);
    int rc = run("resample -r 16000 %s %s", tp("damaged.mp3"), tp("d16.wav"));
    char *e = slurp(err_txt);
    CHECK_MSG(!strstr(e, "Note:") && !strstr(e, "[src/"), "libmpg123 spoke: [%s]", e);
    CHECK_MSG(rc == 0 ? stderr_lines() == 0 : (rc == 1 && stderr_lines() == 1 && !strncmp(e, "duet: ", 6)),
              "exit %d, stderr [%s]", rc, e);
    free(e);
    if (rc != 0) CHECK(!exists(tp("d16.wav")));
    /* a clean MP3 decodes silently */
    CHECK(run("info %s", tp("ok.mp3")) == 0 && stderr_lines() == 0);
}

static void test_pipes(void)
{
    write_song(tp("p.wav"), 8000, 1.0, 0.5f, DUET_FILE_WAV_PCM16);
    /* - reads standard input (any format: here FLAC through a pipe) */
    CHECK(run("resample -q -r 8000 %s %s", tp("p.wav"), tp("p.flac")) == 0);
    CHECK(sh("cat %s | $D separate -q -m mixture -o %s -", tp("p.flac"), tp("pipe")) == 0);
    duet_audio v, w;
    if (read_ok(tp("pipe/stdin/vocals.wav"), &v)) {
        CHECK(v.frames == 8000 && v.channels == 2);
        duet_audio_free(&v);
    }
    /* --stdout STEM: one WAV on standard output, equal to the file output */
    CHECK(sh("$D separate -q -m hpss --stdout accompaniment %s > %s", tp("p.wav"), tp("acc_stdout.wav")) == 0);
    CHECK(run("separate -q -m hpss -o %s %s", tp("files"), tp("p.wav")) == 0);
    if (read_ok(tp("acc_stdout.wav"), &v) && read_ok(tp("files/p/accompaniment.wav"), &w)) {
        CHECK(v.frames == w.frames && check_max_abs_diff(v.ch[0], w.ch[0], (size_t)v.frames) == 0);
        duet_audio_free(&v);
        duet_audio_free(&w);
    }
    CHECK(run("separate -m mixture --stdout drums %s", tp("p.wav")) == 2 && err_has("--stdout"));
    CHECK(run("separate -m mixture --stdout vocals %s %s", tp("p.wav"), tp("p.flac")) == 2);
    /* resample IN - writes standard output */
    CHECK(sh("$D resample -r 16000 %s - > %s", tp("p.wav"), tp("p16.wav")) == 0);
    if (read_ok(tp("p16.wav"), &v)) {
        CHECK(v.sample_rate == 16000 && v.frames == 16000);
        duet_audio_free(&v);
    }
    /* every command that reads audio takes - */
    CHECK(sh("cat %s | $D info - > %s", tp("p.flac"), tp("info.txt")) == 0);
    char *o = slurp(tp("info.txt"));
    CHECK(strstr(o, "FLAC") != NULL);
    free(o);
    CHECK(sh("cat %s | $D features - > %s", tp("p.wav"), tp("feat.json")) == 0);
    o = slurp(tp("feat.json"));
    CHECK(strstr(o, "mix.duration") != NULL);
    free(o);
    CHECK(sh("cat %s | $D spectrogram - -o %s", tp("p.wav"), tp("p.png")) == 0 && exists(tp("p.png")));
    /* a written format must match the name: PNG data is not written to x.jpg */
    CHECK(run("spectrogram %s -o %s", tp("p.wav"), tp("p.jpg")) == 2 && err_has(".png") && !exists(tp("p.jpg")));
    /* a failed run writes nothing to standard output */
    CHECK(sh("$D resample -r 16000 %s - > %s", tp("missing.wav"), tp("none.wav")) == 1);
    struct stat sb;
    CHECK(stat(tp("none.wav"), &sb) == 0 && sb.st_size == 0);
}

static void test_folders_and_names(void)
{
    REQUIRE(mkdir(tp("lib"), 0777) == 0 && mkdir(tp("lib/live"), 0777) == 0 && mkdir(tp("empty"), 0777) == 0);
    write_song(tp("lib/a.wav"), 8000, 0.5, 0.5f, DUET_FILE_WAV_PCM16);
    write_song(tp("lib/live/b.flac"), 8000, 0.5, 0.5f, DUET_FILE_FLAC);
    FILE *f = fopen(tp("lib/notes.txt"), "w");
    fputs("not audio\n", f);
    fclose(f);
    CHECK(run("separate -q -m mixture -o %s %s", tp("o1"), tp("lib")) == 0);
    CHECK(exists(tp("o1/a/vocals.wav")) && !exists(tp("o1/live")) && !exists(tp("o1/notes")));
    CHECK(run("separate -q -m mixture -r -o %s %s", tp("o2"), tp("lib")) == 0);
    CHECK(exists(tp("o2/a/vocals.wav")) && exists(tp("o2/live/b/accompaniment.wav")));
    CHECK(run("separate -m mixture -o %s %s", tp("o3"), tp("empty")) == 1 && err_has("directory"));
    /* info and features take folders too */
    CHECK(run("info %s", tp("lib")) == 0);
    char *o = slurp(out_txt);
    CHECK(strstr(o, "a.wav") && !strstr(o, "b.flac"));
    free(o);
    CHECK(run("info -r %s", tp("lib")) == 0);
    o = slurp(out_txt);
    CHECK(strstr(o, "a.wav") && strstr(o, "live/b.flac"));
    free(o);
    CHECK(run("features --tsv -r %s", tp("lib")) == 0);
    o = slurp(out_txt);
    int rows = 0;
    for (char *p = o; *p; p++) rows += *p == '\n';
    CHECK_MSG(rows == 3, "header + 2 rows, got %d lines", rows);
    free(o);
    CHECK(run("info %s", tp("empty")) == 1 && err_has("no audio files"));
}

static void test_clash_template_skip(void)
{
    write_song(tp("song.wav"), 8000, 0.5, 0.5f, DUET_FILE_WAV_PCM16);
    write_song(tp("song.flac"), 8000, 0.5, 0.5f, DUET_FILE_FLAC);
    CHECK(run("separate -m mixture -o %s %s %s", tp("c1"), tp("song.wav"), tp("song.flac")) == 2);
    CHECK(err_has("would both write") && stderr_lines() == 1);
    CHECK(!exists(tp("c1")));
    CHECK(run("separate -m mixture -o %s %s %s", tp("c1"), tp("song.wav"), tp("song.wav")) == 2);
    CHECK(run("separate -q -m mixture -o %s --filename '{track}_{inputext}/{stem}.{ext}' %s %s", tp("c2"),
              tp("song.wav"), tp("song.flac")) == 0);
    CHECK(exists(tp("c2/song_wav/vocals.wav")) && exists(tp("c2/song_flac/accompaniment.wav")));
    CHECK(run("separate -q -m mixture -f flac -o %s --filename=%s %s", tp("c3"), "{stem}-{track}.{ext}",
              tp("song.wav")) == 0);
    CHECK(exists(tp("c3/vocals-song.flac")));
    CHECK(run("separate -m mixture -o %s --filename '{title}/{stem}.{ext}' %s", tp("c4"), tp("song.wav")) == 2);
    CHECK(run("separate -m mixture -o %s --filename '{track}/{stem}.mp3' %s", tp("c4"), tp("song.wav")) == 2 &&
          err_has("does not match"));
    CHECK(run("separate -m mixture -o %s --filename '../{stem}.{ext}' %s", tp("c4"), tp("song.wav")) == 2);
    CHECK(!exists(tp("c4")));
    /* --skip-existing leaves finished outputs alone */
    struct stat before, after;
    REQUIRE(stat(tp("c2/song_wav/vocals.wav"), &before) == 0);
    sleep(1);
    CHECK(run("separate -m mixture -o %s --skip-existing --filename '{track}_{inputext}/{stem}.{ext}' %s", tp("c2"),
              tp("song.wav")) == 0);
    CHECK(err_has("skipped"));
    REQUIRE(stat(tp("c2/song_wav/vocals.wav"), &after) == 0);
    CHECK(before.st_mtime == after.st_mtime);
}

static void test_jobs_and_shifts(void)
{
    write_song(tp("j1.wav"), 8000, 1.0, 0.5f, DUET_FILE_WAV_FLOAT);
    write_song(tp("j2.wav"), 8000, 0.7, 0.4f, DUET_FILE_WAV_FLOAT);
    CHECK(run("separate -q -m hpss -o %s %s %s", tp("s1"), tp("j1.wav"), tp("j2.wav")) == 0);
    CHECK(run("separate -q -m hpss -j 2 -o %s %s %s", tp("s2"), tp("j1.wav"), tp("j2.wav")) == 0);
    duet_audio a, b, m;
    if (read_ok(tp("s1/j2/vocals.wav"), &a) && read_ok(tp("s2/j2/vocals.wav"), &b)) {
        CHECK(a.frames == b.frames && check_max_abs_diff(a.ch[1], b.ch[1], (size_t)a.frames) == 0);
        duet_audio_free(&a);
        duet_audio_free(&b);
    }
    /* shifts: a different (averaged) result that still sums to the mixture,
     * reproducible for a seed */
    CHECK(run("separate -q -m hpss --shifts 3 -o %s %s", tp("sh3"), tp("j1.wav")) == 0);
    CHECK(run("separate -q -m hpss --shifts 3 -o %s %s", tp("sh3b"), tp("j1.wav")) == 0);
    CHECK(run("separate -q -m hpss --shifts 3 --seed 7 -o %s %s", tp("sh3c"), tp("j1.wav")) == 0);
    REQUIRE(read_ok(tp("j1.wav"), &m));
    duet_audio v1, v3, a3, v3b, v3c;
    if (read_ok(tp("s1/j1/vocals.wav"), &v1) && read_ok(tp("sh3/j1/vocals.wav"), &v3) &&
        read_ok(tp("sh3/j1/accompaniment.wav"), &a3) && read_ok(tp("sh3b/j1/vocals.wav"), &v3b) &&
        read_ok(tp("sh3c/j1/vocals.wav"), &v3c)) {
        CHECK(v3.frames == m.frames);
        CHECK(check_max_abs_diff(v1.ch[0], v3.ch[0], (size_t)m.frames) > 1e-4);
        CHECK(check_max_abs_diff(v3.ch[0], v3b.ch[0], (size_t)m.frames) == 0);
        CHECK(check_max_abs_diff(v3.ch[0], v3c.ch[0], (size_t)m.frames) > 1e-6);
        double worst = 0;
        for (int c = 0; c < 2; c++)
            for (int64_t i = 0; i < m.frames; i++) {
                double d = fabs((double)v3.ch[c][i] + a3.ch[c][i] - m.ch[c][i]);
                if (d > worst) worst = d;
            }
        CHECK_MSG(worst < 1e-5, "shifted stems sum error %g", worst);
        duet_audio_free(&v1);
        duet_audio_free(&v3);
        duet_audio_free(&a3);
        duet_audio_free(&v3b);
        duet_audio_free(&v3c);
    } else {
        CHECK(0);
    }
    duet_audio_free(&m);
    CHECK(run("separate -m hpss --shifts 0 -o %s %s", tp("sh0"), tp("j1.wav")) == 2);
}

/* Start `duet separate` on a long song, wait for its first temporary, send
 * sig, and check the exit status and that nothing is left behind. */
static void interrupt_with(int sig, int want_status)
{
    char out[64];
    snprintf(out, sizeof out, "int%d", sig);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        execl(duet_bin, duet_bin, "separate", "-q", "-m", "model", "-o", tp(out), tp("long.wav"), (char *)NULL);
        _exit(127);
    }
    int seen = 0;
    for (int i = 0; i < 600 && !seen; i++) { /* up to 60 s (valgrind) */
        seen = count_named(tp(out), ".tmp") > 0;
        if (!seen) {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    }
    CHECK_MSG(seen, "no temporary appeared");
    kill(pid, sig);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == want_status, "status %d (exited %d), wanted %d", st,
              WIFEXITED(st) ? WEXITSTATUS(st) : -1, want_status);
    CHECK_MSG(count_named(tp(out), ".tmp") == 0, "temporaries left behind");
    CHECK(count_named(tp(out), "vocals") == 0);
}

static void test_signals(void)
{
    write_song(tp("long.wav"), 44100, 40.0, 0.5f, DUET_FILE_WAV_PCM16);
    interrupt_with(SIGINT, 130);
    interrupt_with(SIGTERM, 143);
}

/* -q and -v mean the same everywhere; together they are a usage error. */
static void test_quiet_verbose_everywhere(void)
{
    const char *cmds[] = {"separate", "resample", "spectrogram", "eval-sep", "train-sep", "features",
                          "info", "train-rec", "recommend", "eval-rec", "word2vec"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        CHECK_MSG(run("%s -q -v", cmds[i]) == 2 && err_has("contradict"), "%s -q -v", cmds[i]);
        CHECK_MSG(run("%s --help", cmds[i]) == 0, "%s --help", cmds[i]);
        char *o = slurp(out_txt);
        CHECK_MSG(strstr(o, "-q, --quiet") && strstr(o, "-v, --verbose"), "%s --help lists -q and -v", cmds[i]);
        free(o);
    }
}

/* A catalog described by 4 shard processes at once (as a Slurm job array or
 * a Kubernetes Indexed Job runs them), then merged: the merge equals the
 * unsharded run row for row; a left-out shard, a shard merged twice, an
 * unfinished shard and a failed item are each reported. */
static void test_catalog_shards_merge(void)
{
    REQUIRE(mkdir(tp("cat"), 0777) == 0);
    FILE *l = fopen(tp("cat/list.tsv"), "w");
    REQUIRE(l);
    for (int i = 0; i < 12; i++) {
        char name[64];
        snprintf(name, sizeof name, "cat/s%d.wav", i);
        duet_audio a;
        duet_audio_alloc(&a, 1, 4000, 8000);
        for (int n = 0; n < 4000; n++) a.ch[0][n] = 0.3f * (float)sin(2 * M_PI * (200 + 37 * i) * n / 8000.0);
        REQUIRE(duet_audio_write(tp(name), &a, DUET_FILE_WAV_PCM16, NULL) == DUET_OK);
        duet_audio_free(&a);
        fprintf(l, "song%02d\ts%d.wav\n", i, i);
    }
    fprintf(l, "broken\tnot_there.wav\n");
    fclose(l);
    CHECK(run("features -q --catalog %s --out %s", tp("cat/list.tsv"), tp("cat/all.tsv")) == 1); /* one item fails */
    CHECK(sh("for s in 1 2 3 4; do $D features -q --catalog %s --shard $s/4 --out %s/cat/part-$s.tsv & done; wait",
             tp("cat/list.tsv"), dir) == 0);
    char parts[4][512];
    for (int s = 0; s < 4; s++) snprintf(parts[s], sizeof parts[s], "%s/cat/part-%d.tsv", dir, s + 1);
    CHECK(run("features --merge %s %s %s %s --catalog %s --out %s", parts[0], parts[1], parts[2], parts[3],
              tp("cat/list.tsv"), tp("cat/merged.tsv")) == 1);
    CHECK(err_has("failed item 'broken'") && err_has("0 item(s) missing, 1 failed"));
    char *a = slurp(tp("cat/all.tsv")), *m = slurp(tp("cat/merged.tsv"));
    CHECK_MSG(a[0] && !strcmp(a, m), "the merged file equals the unsharded run");
    free(a);
    free(m);
    /* a shard left out: its items are reported missing */
    CHECK(run("features --merge %s %s %s --catalog %s --out %s", parts[0], parts[1], parts[2], tp("cat/list.tsv"),
              tp("cat/m3.tsv")) == 1);
    char *p4 = slurp(parts[3]), *e = slurp(err_txt);
    int rows4 = -1, missing = 0;
    for (char *p = p4; *p; p++) rows4 += *p == '\n';
    for (char *p = e; (p = strstr(p, "missing item")); p++) missing++;
    CHECK_MSG(rows4 > 0 && missing == rows4, "%d missing reported, shard 4 had %d rows", missing, rows4);
    free(p4);
    free(e);
    /* the same shard twice: duplicate ids, nothing written */
    CHECK(run("features --merge %s %s --out %s", parts[0], parts[0], tp("cat/m4.tsv")) == 1);
    CHECK(err_has("more than one row") && !exists(tp("cat/m4.tsv")));
    /* an unfinished shard: a torn last line */
    CHECK(sh("head -c -5 %s > %s/cat/torn.tsv", parts[1], dir) == 0);
    CHECK(run("features --merge %s %s/cat/torn.tsv --out %s", parts[0], dir, tp("cat/m5.tsv")) == 1);
    CHECK(err_has("did not finish") && !exists(tp("cat/m5.tsv")));
    CHECK(run("features --merge --out %s", tp("cat/m6.tsv")) == 2);
}

int main(void)
{
    duet_bin = getenv("DUET");
    if (!duet_bin) duet_bin = "build/duet";
    if (access(duet_bin, X_OK) != 0) {
        printf("not ok - %s not built\n", duet_bin);
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/duet_cli_conv_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(out_txt, sizeof out_txt, "%s/stdout.txt", dir);
    snprintf(err_txt, sizeof err_txt, "%s/stderr.txt", dir);
    RUN(test_formats);
    RUN(test_clipping);
    RUN(test_mp3_quiet);
    RUN(test_pipes);
    RUN(test_folders_and_names);
    RUN(test_clash_template_skip);
    RUN(test_jobs_and_shifts);
    RUN(test_signals);
    RUN(test_quiet_verbose_everywhere);
    RUN(test_catalog_shards_merge);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    return check_summary();
}
