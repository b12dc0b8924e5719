/* audio/writer.c: writing audio files through libsndfile in every output
 * format of audio.h (WAV 16/24/32f, FLAC 16/24, Ogg Vorbis, Ogg Opus, MP3),
 * atomically (common/atomic_file.h) or to standard output.
 *
 * Integer and lossy formats get samples clipped to [-1, 1] here, counted,
 * instead of relying on the codec (LAME and libopus would otherwise scale or
 * wrap differently). Bitrates map onto libsndfile's compression level:
 * MP3 constant bitrate is 320 - level * 288 kbps at 32 kHz and above (MPEG-1),
 * 160 - level * 152 at 16-24 kHz, 64 - level * 56 below (libsndfile's
 * mpeg_l3_encode.c); Opus is (256 - level * 250) kbps per channel (measured:
 * 514, 390, 265, 139, 12 kbps for stereo at levels 0, .25, .5, .75, 1);
 * Vorbis is variable bitrate at quality q = 1 - level, and the target picks
 * q from libvorbis' nominal rates for 44.1 kHz stereo (q0 64 ... q10 500). */
#define _GNU_SOURCE
#include "audio.h"
#include "../common/atomic_file.h"
#include "../common/pathfmt.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITE_BLOCK 16384 /* frames per sf_writef_float call */

static const char *const CONT_NAME[] = {"wav", "flac", "ogg", "opus", "mp3"};

int duet_audio_container_parse(const char *name, duet_audio_container *out)
{
    if (!name || !out) return -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, CONT_NAME[i])) {
            *out = (duet_audio_container)i;
            return 0;
        }
    if (!strcmp(name, "vorbis") || !strcmp(name, "oga")) {
        *out = DUET_CONT_OGG;
        return 0;
    }
    return -1;
}

const char *duet_audio_container_ext(duet_audio_container c)
{
    return (unsigned)c < 5 ? CONT_NAME[c] : "wav";
}

duet_audio_outfmt duet_audio_outfmt_of_type(duet_audio_filetype type)
{
    duet_audio_outfmt f = {DUET_CONT_WAV, 32, 0};
    switch (type) {
    case DUET_FILE_WAV_PCM16: f.bits = 16; break;
    case DUET_FILE_WAV_FLOAT: f.bits = 32; break;
    case DUET_FILE_FLAC: f.container = DUET_CONT_FLAC, f.bits = 16; break;
    case DUET_FILE_FLAC24: f.container = DUET_CONT_FLAC, f.bits = 24; break;
    default: f.bits = -1; break; /* refused by duet_audio_outfmt_check */
    }
    return f;
}

static int is_lossy(duet_audio_container c) { return c == DUET_CONT_OGG || c == DUET_CONT_OPUS || c == DUET_CONT_MP3; }

duet_status duet_audio_outfmt_check(const duet_audio_outfmt *f, duet_err *err)
{
    if (!f) return duet_err_set(err, DUET_ERR_ARG, "no output format given");
    if ((unsigned)f->container > DUET_CONT_MP3)
        return duet_err_set(err, DUET_ERR_ARG, "unknown output container %d", (int)f->container);
    if (f->container == DUET_CONT_WAV && f->bits != 16 && f->bits != 24 && f->bits != 32)
        return duet_err_set(err, DUET_ERR_ARG, "WAV stores 16, 24 or 32f bits, not %d", f->bits);
    if (f->container == DUET_CONT_FLAC && f->bits != 16 && f->bits != 24)
        return duet_err_set(err, DUET_ERR_ARG, "FLAC stores 16 or 24 bits, not %s",
                            f->bits == 32 ? "32f" : "that");
    if (is_lossy(f->container)) {
        if (f->bitrate_kbps < 0 || f->bitrate_kbps > 1024)
            return duet_err_set(err, DUET_ERR_ARG, "bitrate %d kbps is out of range", f->bitrate_kbps);
        if (f->container == DUET_CONT_MP3 && f->bitrate_kbps && (f->bitrate_kbps < 8 || f->bitrate_kbps > 320))
            return duet_err_set(err, DUET_ERR_ARG, "MP3 bitrates are 8 to 320 kbps, not %d", f->bitrate_kbps);
    } else if (f->bitrate_kbps) {
        return duet_err_set(err, DUET_ERR_ARG, "a bitrate applies to ogg, opus and mp3 only, not %s",
                            CONT_NAME[f->container]);
    }
    return DUET_OK;
}

static int opus_rate_ok(int rate)
{
    return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 || rate == 48000;
}

int duet_audio_outfmt_rate(const duet_audio_outfmt *f, int rate)
{
    return f && f->container == DUET_CONT_OPUS && !opus_rate_ok(rate) ? 48000 : rate;
}

static int sf_format_of(const duet_audio_outfmt *f)
{
    switch (f->container) {
    case DUET_CONT_WAV:
        return SF_FORMAT_WAV | (f->bits == 16 ? SF_FORMAT_PCM_16 : f->bits == 24 ? SF_FORMAT_PCM_24 : SF_FORMAT_FLOAT);
    case DUET_CONT_FLAC: return SF_FORMAT_FLAC | (f->bits == 16 ? SF_FORMAT_PCM_16 : SF_FORMAT_PCM_24);
    case DUET_CONT_OGG: return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    case DUET_CONT_OPUS: return SF_FORMAT_OGG | SF_FORMAT_OPUS;
    case DUET_CONT_MP3: return SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    }
    return 0;
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* libsndfile compression level for a bitrate target (see the top comment). */
static double level_of(const duet_audio_outfmt *f, int channels, int rate)
{
    int kbps = f->bitrate_kbps;
    switch (f->container) {
    case DUET_CONT_MP3:
        if (!kbps) kbps = rate >= 32000 ? 320 : rate >= 16000 ? 160 : 64;
        if (rate >= 32000) return clamp01((320.0 - kbps) / 288.0);
        if (rate >= 16000) return clamp01((160.0 - kbps) / 152.0);
        return clamp01((64.0 - kbps) / 56.0);
    case DUET_CONT_OPUS: {
        double per = kbps ? (double)kbps / channels : 96.0;
        return clamp01((256.0 - per) / 250.0);
    }
    case DUET_CONT_OGG: {
        static const double nominal[11] = {64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 500};
        double target = kbps ? kbps : 192.0, q = 0;
        if (target <= nominal[0]) q = 0;
        else if (target >= nominal[10]) q = 10;
        else
            for (int i = 0; i < 10; i++)
                if (target <= nominal[i + 1]) {
                    q = i + (target - nominal[i]) / (nominal[i + 1] - nominal[i]);
                    break;
                }
        return clamp01(1.0 - q / 10.0);
    }
    default: return 0.5; /* FLAC: libsndfile's default level */
    }
}

struct duet_audio_writer;
static int on_resampled(void *user, const float *const *ch, int64_t n);

struct duet_audio_writer {
    duet_atomic_file *af; /* regular path */
    int tmp_fd;           /* "-": unlinked temporary, copied to stdout on commit; else -1 */
    SNDFILE *sf;
    int channels;
    int clip;             /* 1 = clip to [-1, 1] and count */
    int64_t clipped;
    float *inter;         /* WRITE_BLOCK interleaved frames */
    int64_t written;
    duet_resampler *rs;   /* Opus at a rate it cannot store */
    duet_status cb_st;    /* error inside the resampler's callback */
    duet_err cb_err;
};

void duet_audio_writer_abort(duet_audio_writer *w)
{
    if (!w) return;
    duet_resampler_free(w->rs);
    if (w->sf) sf_close(w->sf);
    duet_atomic_abort(w->af);
    if (w->tmp_fd >= 0) close(w->tmp_fd);
    free(w->inter);
    free(w);
}

duet_status duet_audio_writer_open_fmt(const char *path, int channels, int sample_rate,
                                       const duet_audio_outfmt *fmt, duet_audio_writer **out, duet_err *err)
{
    if (!out) return duet_err_set(err, DUET_ERR_ARG, "no output handle given");
    *out = NULL;
    if (!path || !path[0]) return duet_err_set(err, DUET_ERR_ARG, "empty output path");
    duet_status st = duet_audio_outfmt_check(fmt, err);
    if (st) return st;
    if (channels < 1 || channels > 1024)
        return duet_err_set(err, DUET_ERR_ARG, "cannot write audio with %d channels", channels);
    if (sample_rate <= 0) return duet_err_set(err, DUET_ERR_ARG, "cannot write audio at %d Hz", sample_rate);
    const int file_rate = duet_audio_outfmt_rate(fmt, sample_rate);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = file_rate;
    info.channels = channels;
    info.format = sf_format_of(fmt);
    /* FLAC's stream header stores the rate in 20 bits; libFLAC accepts at
     * most 655350 Hz. MP3 has fixed rates up to 48 kHz and 2 channels; Opus
     * in libsndfile takes at most 8 channels here. */
    int bad = !sf_format_check(&info) || (fmt->container == DUET_CONT_FLAC && file_rate > 655350);
    if (fmt->container == DUET_CONT_MP3) {
        static const int mp3_rates[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};
        int ok = 0;
        for (int i = 0; i < 9; i++) ok |= mp3_rates[i] == file_rate;
        bad |= !ok || channels > 2;
    }
    if (bad)
        return duet_err_set(err, DUET_ERR_ARG, "%d Hz, %d channels cannot be stored as %s%s", file_rate, channels,
                            CONT_NAME[fmt->container],
                            fmt->container == DUET_CONT_MP3 ? " (MP3: 8 to 48 kHz, 1 or 2 channels)" : "");
    duet_audio_writer *w = calloc(1, sizeof *w);
    if (!w) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    w->tmp_fd = -1;
    w->channels = channels;
    w->clip = !(fmt->container == DUET_CONT_WAV && fmt->bits == 32);
    w->inter = malloc((size_t)WRITE_BLOCK * (size_t)channels * sizeof *w->inter);
    if (!w->inter) {
        free(w);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    int fd;
    if (!strcmp(path, "-")) {
        w->tmp_fd = duet_temp_fd("stdout", err);
        fd = w->tmp_fd;
        if (fd < 0) st = DUET_ERR_IO;
    } else {
        st = duet_atomic_open(path, &w->af, err);
        fd = st ? -1 : duet_atomic_fd(w->af);
    }
    if (st != DUET_OK) {
        duet_audio_writer_abort(w);
        return st;
    }
    w->sf = sf_open_fd(fd, SFM_WRITE, &info, SF_FALSE);
    if (!w->sf) {
        st = duet_err_set(err, DUET_ERR_IO, "cannot write audio (libsndfile: %s)", sf_strerror(NULL));
        duet_audio_writer_abort(w);
        return st;
    }
    /* Clip instead of wrapping when float samples outside [-1, 1) go to integers. */
    sf_command(w->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    if (fmt->container == DUET_CONT_MP3) {
        int mode = SF_BITRATE_MODE_CONSTANT;
        sf_command(w->sf, SFC_SET_BITRATE_MODE, &mode, sizeof mode);
    }
    if (fmt->container != DUET_CONT_WAV) {
        double level = level_of(fmt, channels, file_rate);
        sf_command(w->sf, SFC_SET_COMPRESSION_LEVEL, &level, sizeof level);
    }
    if (file_rate != sample_rate) {
        st = duet_resampler_new(channels, sample_rate, file_rate, DUET_RESAMPLE_HIGH, on_resampled, w, &w->rs, err);
        if (st) {
            duet_audio_writer_abort(w);
            return st;
        }
    }
    *out = w;
    return DUET_OK;
}

duet_status duet_audio_writer_open(const char *path, int channels, int sample_rate, duet_audio_filetype type,
                                   duet_audio_writer **out, duet_err *err)
{
    duet_audio_outfmt f = duet_audio_outfmt_of_type(type);
    if (f.bits < 0) {
        if (out) *out = NULL;
        return duet_err_set(err, DUET_ERR_ARG, "unknown output file type %d", (int)type);
    }
    return duet_audio_writer_open_fmt(path, channels, sample_rate, &f, out, err);
}

/* Interleave, clip and hand n frames to libsndfile. */
static duet_status put_frames(duet_audio_writer *w, const float *const *ch, int64_t n, duet_err *err)
{
    const int nc = w->channels;
    for (int64_t pos = 0; pos < n; pos += WRITE_BLOCK) {
        int64_t m = n - pos < WRITE_BLOCK ? n - pos : WRITE_BLOCK;
        for (int64_t i = 0; i < m; i++)
            for (int c = 0; c < nc; c++) {
                float v = ch[c][pos + i];
                if (w->clip && (v > 1.0f || v < -1.0f)) {
                    v = v > 0 ? 1.0f : -1.0f;
                    w->clipped++;
                }
                w->inter[(size_t)i * (size_t)nc + (size_t)c] = v;
            }
        if (sf_writef_float(w->sf, w->inter, m) != m)
            return duet_err_set(err, DUET_ERR_IO, "cannot write audio (libsndfile: %s)", sf_strerror(w->sf));
        w->written += m;
    }
    return DUET_OK;
}

static int on_resampled(void *user, const float *const *ch, int64_t n)
{
    duet_audio_writer *w = user;
    w->cb_st = put_frames(w, ch, n, &w->cb_err);
    return w->cb_st != DUET_OK;
}

duet_status duet_audio_writer_write(duet_audio_writer *w, const float *const *ch, int64_t n, duet_err *err)
{
    if (!w || n < 0 || (n > 0 && !ch)) return duet_err_set(err, DUET_ERR_ARG, "invalid writer arguments");
    for (int c = 0; c < w->channels; c++)
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(ch[c][i]))
                return duet_err_set(err, DUET_ERR_NAN, "non-finite sample at frame %lld, channel %d",
                                    (long long)(w->written + i), c);
    if (w->rs) {
        duet_status st = duet_resampler_feed(w->rs, ch, n, err);
        if (w->cb_st) {
            if (err) *err = w->cb_err;
            return w->cb_st;
        }
        return st;
    }
    return put_frames(w, ch, n, err);
}

int64_t duet_audio_writer_clipped(const duet_audio_writer *w) { return w ? w->clipped : 0; }

/* Copy the finished temporary of "-" to standard output. */
static duet_status copy_to_stdout(int fd, duet_err *err)
{
    if (lseek(fd, 0, SEEK_SET) != 0) return duet_err_set(err, DUET_ERR_IO, "cannot rewind the temporary: %s", strerror(errno));
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return duet_err_set(err, DUET_ERR_IO, "cannot read the temporary: %s", strerror(errno));
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t m = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
            if (m < 0 && errno == EINTR) continue;
            if (m < 0) return duet_err_set(err, DUET_ERR_IO, "cannot write to standard output: %s", strerror(errno));
            off += m;
        }
    }
    return DUET_OK;
}

duet_status duet_audio_writer_commit(duet_audio_writer *w, duet_err *err)
{
    if (!w) return duet_err_set(err, DUET_ERR_ARG, "no writer");
    if (w->rs) {
        duet_status st = duet_resampler_finish(w->rs, err);
        if (!st && w->cb_st) {
            st = w->cb_st;
            if (err) *err = w->cb_err;
        }
        if (st) {
            duet_audio_writer_abort(w);
            return st;
        }
    }
    int rc = sf_close(w->sf);
    w->sf = NULL;
    if (rc != 0) {
        duet_status st = duet_err_set(err, DUET_ERR_IO, "cannot finish audio file (libsndfile: %s)", sf_error_number(rc));
        duet_audio_writer_abort(w);
        return st;
    }
    if (w->tmp_fd >= 0) {
        duet_status st = copy_to_stdout(w->tmp_fd, err);
        duet_audio_writer_abort(w); /* closes the unlinked temporary */
        return st;
    }
    duet_atomic_file *af = w->af;
    w->af = NULL;
    duet_audio_writer_abort(w);
    return duet_atomic_commit(af, err);
}

duet_status duet_audio_write_fmt(const char *path, const duet_audio *a, const duet_audio_outfmt *fmt,
                                 int64_t *clipped, duet_err *err)
{
    if (clipped) *clipped = 0;
    if (!a || a->frames < 0 || (a->frames > 0 && (!a->ch || !a->ch[0])))
        return duet_err_set(err, DUET_ERR_ARG, "audio has no samples");
    /* Check everything before creating anything. */
    for (int c = 0; c < a->channels; c++)
        for (int64_t i = 0; i < a->frames; i++)
            if (!isfinite(a->ch[c][i]))
                return duet_err_set(err, DUET_ERR_NAN, "non-finite sample at frame %lld, channel %d",
                                    (long long)i, c);
    duet_audio_writer *w;
    duet_status st = duet_audio_writer_open_fmt(path, a->channels, a->sample_rate, fmt, &w, err);
    if (st != DUET_OK) return st;
    if (a->frames > 0) st = duet_audio_writer_write(w, (const float *const *)a->ch, a->frames, err);
    if (st != DUET_OK) {
        duet_audio_writer_abort(w);
        return st;
    }
    if (clipped) *clipped = w->clipped;
    return duet_audio_writer_commit(w, err);
}

duet_status duet_audio_write(const char *path, const duet_audio *a, duet_audio_filetype type, duet_err *err)
{
    duet_audio_outfmt f = duet_audio_outfmt_of_type(type);
    if (f.bits < 0) return duet_err_set(err, DUET_ERR_ARG, "unknown output file type %d", (int)type);
    return duet_audio_write_fmt(path, a, &f, NULL, err);
}

int duet_audio_bits_like(int in_bits, int in_is_float)
{
    if (in_is_float || in_bits >= 32) return 32;
    return in_bits == 24 ? 24 : 16;
}

duet_status duet_audio_outfmt_resolve(const char *path, const duet_audio_outfmt_req *req, int like_bits,
                                      duet_audio_outfmt *out, duet_err *err)
{
    if (!req || !out) return duet_err_set(err, DUET_ERR_ARG, "no format request given");
    duet_audio_outfmt f = {DUET_CONT_WAV, req->bits ? req->bits : like_bits, req->bitrate_kbps};
    if (req->container >= 0) {
        if (req->container > DUET_CONT_MP3)
            return duet_err_set(err, DUET_ERR_ARG, "unknown output container %d", req->container);
        f.container = (duet_audio_container)req->container;
    } else {
        const char *name = path && strcmp(path, "-") ? duet_path_format(path) : NULL;
        if (name) {
            if (duet_audio_container_parse(name, &f.container) != 0) {
                const char *dot = strrchr(path, '.');
                return duet_err_set(err, DUET_ERR_ARG,
                                    duet_format_is_audio(name)
                                        ? "duet cannot write %s files: name the output .wav, .flac, .ogg, .opus or "
                                          ".mp3 (or force a format with -f)"
                                        : "the name ends in %s, not an audio format: name it .wav, .flac, .ogg, "
                                          ".opus or .mp3 (or force a format with -f)",
                                    dot ? dot : name);
            }
        }
    }
    if (f.container != DUET_CONT_WAV && f.container != DUET_CONT_FLAC) f.bits = 0;
    else if (f.container == DUET_CONT_FLAC && !req->bits && f.bits == 32)
        f.bits = 24; /* FLAC has no float: keep as much as it stores */
    if (f.bits == 0 && (f.container == DUET_CONT_WAV || f.container == DUET_CONT_FLAC)) f.bits = 16;
    duet_status st = duet_audio_outfmt_check(&f, err);
    if (st) return st;
    *out = f;
    return DUET_OK;
}
