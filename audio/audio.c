/* audio/audio.c: decoding and writing audio through libsndfile, planar float
 * buffers, mono mix-down and level statistics (see audio.h).
 *
 * Decoding reads interleaved blocks with sf_readf_float (libsndfile scales
 * integer PCM to [-1, 1)) and de-interleaves into one planar block that grows
 * when a file holds more frames than its header declared (e.g. a lying or
 * estimated header). MP3 goes through libmpg123 directly (mp3.h); "-" is
 * standard input, copied to an unlinked temporary file first so that every
 * decoder can seek. Writing lives in writer.c. */
#define _GNU_SOURCE
#include "audio.h"
#include "../common/atomic_file.h"
#include "../common/limits.h"
#include "mp3.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DUET_DEFAULT_MAX_CHANNELS 64
#define DUET_DEFAULT_MAX_FRAMES ((int64_t)6 * 3600 * 192000)
#define READ_BLOCK 16384 /* frames per sf_readf_float call */
#define DUET_MAX_READ_CHANNELS 64 /* channel pointers kept on the stack */

void duet_audio_free(duet_audio *a)
{
    if (!a) return;
    if (a->ch) {
        free(a->ch[0]);
        free(a->ch);
    }
    memset(a, 0, sizeof *a);
}

/* Allocate channel pointers and one sample block of channels * cap floats. */
static int planar_alloc(duet_audio *a, int channels, int64_t cap)
{
    size_t n = (size_t)channels * (size_t)(cap > 0 ? cap : 1);
    a->ch = calloc((size_t)channels, sizeof *a->ch);
    if (!a->ch) return -1;
    float *block = calloc(n, sizeof *block);
    if (!block) {
        free(a->ch);
        a->ch = NULL;
        return -1;
    }
    for (int c = 0; c < channels; c++) a->ch[c] = block + (size_t)c * (size_t)(cap > 0 ? cap : 1);
    return 0;
}

duet_status duet_audio_alloc(duet_audio *out, int channels, int64_t frames, int sample_rate)
{
    if (!out) return DUET_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (channels < 1 || frames < 0 || sample_rate <= 0) return DUET_ERR_ARG;
    if ((uint64_t)frames > (SIZE_MAX / sizeof(float)) / (size_t)channels) return DUET_ERR_NOMEM;
    if (planar_alloc(out, channels, frames) != 0) return DUET_ERR_NOMEM;
    out->channels = channels;
    out->frames = frames;
    out->sample_rate = sample_rate;
    out->format[0] = '\0';
    return DUET_OK;
}

/* Re-lay the planar block for a larger capacity (frames already filled are kept). */
static int planar_grow(duet_audio *a, int64_t filled, int64_t old_cap, int64_t new_cap)
{
    (void)old_cap;
    size_t n = (size_t)a->channels * (size_t)new_cap;
    float *block = malloc(n * sizeof *block);
    if (!block) return -1;
    for (int c = 0; c < a->channels; c++)
        memcpy(block + (size_t)c * (size_t)new_cap, a->ch[c], (size_t)filled * sizeof(float));
    free(a->ch[0]);
    for (int c = 0; c < a->channels; c++) a->ch[c] = block + (size_t)c * (size_t)new_cap;
    return 0;
}

static const char *major_name(int major)
{
    switch (major) {
    case SF_FORMAT_WAV: return "WAV";
    case SF_FORMAT_WAVEX: return "WAVEX";
    case SF_FORMAT_W64: return "W64";
    case SF_FORMAT_RF64: return "RF64";
    case SF_FORMAT_AIFF: return "AIFF";
    case SF_FORMAT_AU: return "AU";
    case SF_FORMAT_FLAC: return "FLAC";
    case SF_FORMAT_OGG: return "OGG";
    case SF_FORMAT_CAF: return "CAF";
    case SF_FORMAT_RAW: return "RAW";
    case SF_FORMAT_MPEG: return "MPEG";
    default: return NULL;
    }
}

static const char *sub_name(int sub)
{
    switch (sub) {
    case SF_FORMAT_PCM_S8: return "8-bit PCM";
    case SF_FORMAT_PCM_U8: return "8-bit unsigned PCM";
    case SF_FORMAT_PCM_16: return "16-bit PCM";
    case SF_FORMAT_PCM_24: return "24-bit PCM";
    case SF_FORMAT_PCM_32: return "32-bit PCM";
    case SF_FORMAT_FLOAT: return "32-bit float";
    case SF_FORMAT_DOUBLE: return "64-bit float";
    case SF_FORMAT_ULAW: return "u-law";
    case SF_FORMAT_ALAW: return "A-law";
    case SF_FORMAT_VORBIS: return "Vorbis";
    case SF_FORMAT_OPUS: return "Opus";
    case SF_FORMAT_MPEG_LAYER_I: return "Layer I";
    case SF_FORMAT_MPEG_LAYER_II: return "Layer II";
    case SF_FORMAT_MPEG_LAYER_III: return "Layer III";
    default: return NULL;
    }
}

/* A short human-readable format name such as "WAV 16-bit PCM". */
static void describe_format(int format, char *buf, size_t n)
{
    int major = format & SF_FORMAT_TYPEMASK, sub = format & SF_FORMAT_SUBMASK;
    const char *m = major_name(major), *s = sub_name(sub);
    SF_FORMAT_INFO fi;
    char mbuf[32], sbuf[32];
    if (!m) {
        memset(&fi, 0, sizeof fi);
        fi.format = major;
        if (sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0 && fi.name) {
            snprintf(mbuf, sizeof mbuf, "%s", fi.name);
            m = mbuf;
        } else {
            snprintf(mbuf, sizeof mbuf, "format 0x%x", (unsigned)major);
            m = mbuf;
        }
    }
    if (!s) {
        snprintf(sbuf, sizeof sbuf, "subtype 0x%x", (unsigned)sub);
        s = sbuf;
    }
    if (major == SF_FORMAT_FLAC && (sub == SF_FORMAT_PCM_16 || sub == SF_FORMAT_PCM_24 || sub == SF_FORMAT_PCM_S8))
        snprintf(buf, n, "FLAC %s", sub == SF_FORMAT_PCM_16 ? "16-bit" : sub == SF_FORMAT_PCM_24 ? "24-bit" : "8-bit");
    else if (major == SF_FORMAT_OGG && sub == SF_FORMAT_VORBIS)
        snprintf(buf, n, "OGG Vorbis");
    else if (major == SF_FORMAT_MPEG && sub == SF_FORMAT_MPEG_LAYER_III)
        snprintf(buf, n, "MP3");
    else if (major == SF_FORMAT_MPEG)
        snprintf(buf, n, "MPEG %s", s);
    else
        snprintf(buf, n, "%s %s", m, s);
}

struct duet_audio_reader {
    SNDFILE *sf;
    duet_mp3 *mp3;     /* MP3 files: decoded by libmpg123 on fd */
    int fd;            /* owned when >= 0 (MP3; libsndfile closes its own) */
    duet_audio_reader_info info;
    duet_nan_policy nan_policy;
    int64_t max_frames;
    int64_t done;      /* frames delivered */
    int64_t decoded;   /* frames libsndfile returned */
    int64_t nan_zeroed;
    float *inter;      /* READ_BLOCK interleaved frames */
    int64_t buf_pos, buf_len; /* frames of inter delivered / held */
    int eof;
};

void duet_audio_reader_close(duet_audio_reader *r)
{
    if (!r) return;
    if (r->sf) sf_close(r->sf);
    duet_mp3_close(r->mp3);
    if (r->fd >= 0) close(r->fd);
    free(r->inter);
    free(r);
}

/* Standard input copied into an unlinked temporary file (so decoders can
 * seek and scan). Returns the fd, or -1 with err set. */
static int spool_stdin(duet_err *err, duet_status *st)
{
    int fd = duet_temp_fd("stdin", err);
    if (fd < 0) {
        *st = DUET_ERR_IO;
        return -1;
    }
    const char *dir = getenv("TMPDIR");
    if (!dir || !dir[0]) dir = "/tmp";
    char buf[65536];
    int64_t total = 0;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            *st = duet_err_set(err, DUET_ERR_IO, "cannot read standard input: %s", strerror(errno));
            close(fd);
            return -1;
        }
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t m = write(fd, buf + off, (size_t)(n - off));
            if (m < 0 && errno == EINTR) continue;
            if (m < 0) {
                *st = duet_err_set(err, DUET_ERR_IO, "cannot spool standard input to %s: %s", dir, strerror(errno));
                close(fd);
                return -1;
            }
            off += m;
        }
        total += n;
    }
    if (total == 0) {
        *st = duet_err_set(err, DUET_ERR_FORMAT, "standard input is empty, not an audio file");
        close(fd);
        return -1;
    }
    lseek(fd, 0, SEEK_SET);
    *st = DUET_OK;
    return fd;
}

duet_status duet_audio_reader_open(const char *path, const duet_read_opts *opts, duet_audio_reader **out,
                                   duet_err *err)
{
    if (!out) return duet_err_set(err, DUET_ERR_ARG, "no output handle given");
    *out = NULL;
    if (!path || !path[0]) return duet_err_set(err, DUET_ERR_ARG, "empty input path");
    duet_read_opts o = {DUET_NAN_REJECT, 0, 0};
    if (opts) o = *opts;
    if (o.nan_policy != DUET_NAN_REJECT && o.nan_policy != DUET_NAN_ZERO)
        return duet_err_set(err, DUET_ERR_ARG, "unknown NaN policy %d", (int)o.nan_policy);
    int max_channels = o.max_channels > 0 ? o.max_channels : DUET_DEFAULT_MAX_CHANNELS;

    int fd = -1;
    duet_status st = DUET_OK;
    if (!strcmp(path, "-")) {
        fd = spool_stdin(err, &st);
        if (fd < 0) return st;
    } else {
        struct stat sb;
        if (stat(path, &sb) != 0) return duet_err_set(err, DUET_ERR_IO, "cannot open: %s", strerror(errno));
        if (S_ISDIR(sb.st_mode)) return duet_err_set(err, DUET_ERR_IO, "is a directory, not an audio file");
        if (S_ISREG(sb.st_mode) && sb.st_size == 0)
            return duet_err_set(err, DUET_ERR_FORMAT, "empty file, not an audio file");
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return duet_err_set(err, DUET_ERR_IO, "cannot open: %s", strerror(errno));
    }
    duet_audio_reader *r = calloc(1, sizeof *r);
    if (!r) {
        close(fd);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    r->fd = -1;
    unsigned char head[16];
    ssize_t nh = pread(fd, head, sizeof head, 0);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    if (nh > 0 && duet_mp3_sniff(head, (size_t)nh)) {
        r->fd = fd;
        int64_t frames = 0;
        st = duet_mp3_open_fd(fd, &r->mp3, &info.channels, &info.samplerate, &frames, err);
        if (st) {
            duet_audio_reader_close(r);
            return st;
        }
        info.frames = (sf_count_t)frames;
        info.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    } else {
        SNDFILE *sf = sf_open_fd(fd, SFM_READ, &info, SF_TRUE);
        if (!sf) {
            free(r);
            return duet_err_set(err, DUET_ERR_FORMAT, "not a recognised audio file (libsndfile: %s)",
                                sf_strerror(NULL));
        }
        r->sf = sf;
    }
    r->nan_policy = o.nan_policy;
    r->max_frames = o.max_frames > 0 ? o.max_frames : DUET_DEFAULT_MAX_FRAMES;
    if (info.channels < 1 || info.channels > max_channels)
        st = duet_err_set(err, DUET_ERR_RANGE, "%d channels (supported: 1 to %d)", info.channels, max_channels);
    else if (info.samplerate <= 0)
        st = duet_err_set(err, DUET_ERR_RANGE, "sample rate %d Hz is not valid", info.samplerate);
    else if (info.frames > r->max_frames)
        st = duet_err_set(err, DUET_ERR_RANGE, "%lld frames, over the cap of %lld", (long long)info.frames,
                          (long long)r->max_frames);
    else if (!(r->inter = malloc((size_t)READ_BLOCK * (size_t)info.channels * sizeof *r->inter)))
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    if (st != DUET_OK) {
        duet_audio_reader_close(r);
        return st;
    }
    /* Integer files: scale to [-1, 1); float files: values as stored. */
    if (r->sf) sf_command(r->sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
    r->info.channels = info.channels;
    r->info.sample_rate = info.samplerate;
    r->info.frames = info.frames > 0 ? (int64_t)info.frames : 0;
    describe_format(info.format, r->info.format, sizeof r->info.format);
    switch (info.format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8: r->info.bits = 8; break;
    case SF_FORMAT_PCM_16: r->info.bits = 16; break;
    case SF_FORMAT_PCM_24: r->info.bits = 24; break;
    case SF_FORMAT_PCM_32: r->info.bits = 32; break;
    case SF_FORMAT_FLOAT: r->info.bits = 32, r->info.is_float = 1; break;
    case SF_FORMAT_DOUBLE: r->info.bits = 64, r->info.is_float = 1; break;
    default: r->info.bits = 0; break;
    }
    *out = r;
    return DUET_OK;
}

const duet_audio_reader_info *duet_audio_reader_get_info(const duet_audio_reader *r) { return &r->info; }

int64_t duet_audio_reader_nan_replaced(const duet_audio_reader *r) { return r ? r->nan_zeroed : 0; }

/* libsndfile is always asked for READ_BLOCK frames into r->inter, whatever
 * the caller's block size: some decoders (mpg123 resyncing in a damaged MP3)
 * return a different total for a different sequence of request sizes, and
 * the whole-file read and every streaming reader must decode the same
 * samples. */
duet_status duet_audio_reader_read(duet_audio_reader *r, float *const *ch, int64_t max_frames, int64_t *got,
                                   duet_err *err)
{
    if (got) *got = 0;
    if (!r || !ch || !got || max_frames <= 0) return duet_err_set(err, DUET_ERR_ARG, "invalid reader arguments");
    const int nc = r->info.channels;
    int64_t total = 0;
    while (total < max_frames) {
        if (r->buf_pos == r->buf_len) {
            if (r->eof) break;
            int64_t n;
            if (r->mp3) {
                duet_status st = duet_mp3_read(r->mp3, r->inter, READ_BLOCK, &n, err);
                if (st) return st;
            } else {
                n = sf_readf_float(r->sf, r->inter, READ_BLOCK);
            }
            if (n <= 0) {
                r->eof = 1;
                break;
            }
            if (r->decoded + n > r->max_frames)
                return duet_err_set(err, DUET_ERR_RANGE, "more than %lld frames, over the cap",
                                    (long long)r->max_frames);
            r->decoded += n;
            r->buf_pos = 0;
            r->buf_len = n;
        }
        int64_t n = r->buf_len - r->buf_pos;
        if (n > max_frames - total) n = max_frames - total;
        for (int64_t i = 0; i < n; i++) {
            const float *fr = r->inter + (size_t)(r->buf_pos + i) * (size_t)nc;
            for (int c = 0; c < nc; c++) {
                float v = fr[c];
                if (!isfinite(v)) {
                    if (r->nan_policy != DUET_NAN_ZERO)
                        return duet_err_set(err, DUET_ERR_NAN,
                                            "non-finite sample (NaN or Inf) at frame %lld, channel %d",
                                            (long long)(r->done + total + i), c);
                    v = 0.0f;
                    r->nan_zeroed++;
                }
                ch[c][total + i] = v;
            }
        }
        r->buf_pos += n;
        total += n;
    }
    if (total == 0 && r->sf && sf_error(r->sf) != SF_ERR_NO_ERROR)
        return duet_err_set(err, DUET_ERR_FORMAT, "corrupt audio data (libsndfile: %s)", sf_strerror(r->sf));
    r->done += total;
    *got = total;
    return DUET_OK;
}

duet_status duet_audio_read(const char *path, const duet_read_opts *opts, duet_audio *out,
                            int64_t *nan_replaced, duet_err *err)
{
    if (nan_replaced) *nan_replaced = 0;
    if (!out) return duet_err_set(err, DUET_ERR_ARG, "no output audio given");
    memset(out, 0, sizeof *out);
    duet_audio_reader *r;
    duet_status st = duet_audio_reader_open(path, opts, &r, err);
    if (st != DUET_OK) return st;
    const int nc = r->info.channels;
    /* The whole file goes to memory: refuse a declared length over the
     * DUET_MAX_SAMPLES cap (common/limits.h) before allocating anything, and
     * stop growing the buffer past it when a header under-declares. */
    const int64_t max_samples = duet_max_samples();
    const int64_t mem_frames = max_samples / nc;
    if (r->info.frames > mem_frames) {
        st = duet_err_set(err, DUET_ERR_RANGE,
                          "declares %lld frames x %d channels, over the cap of %lld samples in memory "
                          "(DUET_MAX_SAMPLES)",
                          (long long)r->info.frames, nc, (long long)max_samples);
        duet_audio_reader_close(r);
        return st;
    }
    const int64_t lim = mem_frames < r->max_frames ? mem_frames : r->max_frames;
    /* Trust the declared length only up to 2^22 frames (95 s at 44.1 kHz):
     * a tiny hostile file may declare billions of frames; longer real files
     * grow the buffer by doubling as they are read. */
    int64_t cap = r->info.frames > 0 ? r->info.frames : READ_BLOCK;
    if (cap > ((int64_t)1 << 22)) cap = (int64_t)1 << 22;
    if (cap > lim + 1) cap = lim + 1;
    if ((uint64_t)cap > (SIZE_MAX / sizeof(float)) / (size_t)nc || planar_alloc(out, nc, cap) != 0) {
        duet_audio_reader_close(r);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory for %lld frames", (long long)cap);
    }
    out->channels = nc;
    out->sample_rate = r->info.sample_rate;
    memcpy(out->format, r->info.format, sizeof out->format);
    float *dst[DUET_MAX_READ_CHANNELS];
    float **dp = nc <= DUET_MAX_READ_CHANNELS ? dst : malloc(sizeof(float *) * (size_t)nc);
    if (!dp) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    int64_t filled = 0;
    while (st == DUET_OK) {
        if (filled == cap) {
            if (filled > mem_frames) {
                st = duet_err_set(err, DUET_ERR_RANGE,
                                  "holds more than %lld frames x %d channels, over the cap of %lld samples in "
                                  "memory (DUET_MAX_SAMPLES)",
                                  (long long)mem_frames, nc, (long long)max_samples);
                break;
            }
            int64_t ncap = cap * 2 > lim ? lim + 1 : cap * 2;
            if ((uint64_t)ncap > (SIZE_MAX / sizeof(float)) / (size_t)nc || planar_grow(out, filled, cap, ncap) != 0) {
                st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                break;
            }
            cap = ncap;
        }
        for (int c = 0; c < nc; c++) dp[c] = out->ch[c] + filled;
        int64_t got;
        st = duet_audio_reader_read(r, dp, cap - filled, &got, err);
        if (st != DUET_OK || got == 0) break;
        filled += got;
    }
    if (dp != dst) free(dp);
    if (st == DUET_OK && filled > mem_frames)
        st = duet_err_set(err, DUET_ERR_RANGE,
                          "holds more than %lld frames x %d channels, over the cap of %lld samples in memory "
                          "(DUET_MAX_SAMPLES)",
                          (long long)mem_frames, nc, (long long)max_samples);
    if (st == DUET_OK) {
        out->frames = filled;
        if (nan_replaced) *nan_replaced = r->nan_zeroed;
    } else {
        duet_audio_free(out);
    }
    duet_audio_reader_close(r);
    return st;
}

duet_status duet_audio_to_mono(const duet_audio *in, duet_audio *out, duet_err *err)
{
    if (!in || !out || in->channels < 1 || in->sample_rate <= 0)
        return duet_err_set(err, DUET_ERR_ARG, "invalid input audio");
    duet_audio m;
    if (duet_audio_alloc(&m, 1, in->frames, in->sample_rate) != DUET_OK)
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    const float inv = 1.0f / (float)in->channels;
    for (int64_t i = 0; i < in->frames; i++) {
        float s = 0.0f;
        for (int c = 0; c < in->channels; c++) s += in->ch[c][i];
        m.ch[0][i] = s * inv;
    }
    snprintf(m.format, sizeof m.format, "%s", in->format);
    *out = m;
    return DUET_OK;
}

void duet_audio_stats(const duet_audio *a, double *peak, double *rms)
{
    double p = 0.0, ss = 0.0;
    int64_t n = 0;
    if (a && a->ch && a->frames > 0) {
        for (int c = 0; c < a->channels; c++) {
            const float *x = a->ch[c];
            double cs = 0.0;
            for (int64_t i = 0; i < a->frames; i++) {
                double v = fabs((double)x[i]);
                if (v > p) p = v;
                cs += (double)x[i] * (double)x[i];
            }
            ss += cs;
        }
        n = (int64_t)a->channels * a->frames;
    }
    if (peak) *peak = p;
    if (rms) *rms = n > 0 ? sqrt(ss / (double)n) : 0.0;
}
