/* audio/audio.c: decoding and writing audio through libsndfile, planar float
 * buffers, mono mix-down and level statistics (see audio.h).
 *
 * Decoding reads interleaved blocks with sf_readf_float (libsndfile scales
 * integer PCM to [-1, 1)) and de-interleaves into one planar block that grows
 * when a file holds more frames than its header declared (e.g. a lying or
 * estimated header). Writing goes to the temporary file of
 * common/atomic_file.h through sf_open_fd, and is renamed into place only
 * after sf_close has finished the header. */
#include "audio.h"
#include "../common/atomic_file.h"
#include "../common/limits.h"

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    free(r->inter);
    free(r);
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

    struct stat sb;
    if (stat(path, &sb) != 0) return duet_err_set(err, DUET_ERR_IO, "cannot open: %s", strerror(errno));
    if (S_ISDIR(sb.st_mode)) return duet_err_set(err, DUET_ERR_IO, "is a directory, not an audio file");
    if (S_ISREG(sb.st_mode) && sb.st_size == 0)
        return duet_err_set(err, DUET_ERR_FORMAT, "empty file, not an audio file");

    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) {
        const char *why = sf_strerror(NULL);
        /* libsndfile reports a permission problem as a format failure; ask the system. */
        FILE *probe = fopen(path, "rb");
        if (!probe) return duet_err_set(err, DUET_ERR_IO, "cannot open: %s", strerror(errno));
        fclose(probe);
        return duet_err_set(err, DUET_ERR_FORMAT, "not a recognised audio file (libsndfile: %s)", why);
    }
    duet_audio_reader *r = calloc(1, sizeof *r);
    if (!r) {
        sf_close(sf);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    r->sf = sf;
    r->nan_policy = o.nan_policy;
    r->max_frames = o.max_frames > 0 ? o.max_frames : DUET_DEFAULT_MAX_FRAMES;
    duet_status st = DUET_OK;
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
    sf_command(sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
    r->info.channels = info.channels;
    r->info.sample_rate = info.samplerate;
    r->info.frames = info.frames > 0 ? (int64_t)info.frames : 0;
    describe_format(info.format, r->info.format, sizeof r->info.format);
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
            sf_count_t n = sf_readf_float(r->sf, r->inter, READ_BLOCK);
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
    if (total == 0 && sf_error(r->sf) != SF_ERR_NO_ERROR)
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

struct duet_audio_writer {
    duet_atomic_file *af;
    SNDFILE *sf;
    int channels;
    float *inter; /* READ_BLOCK interleaved frames */
    int64_t written;
};

void duet_audio_writer_abort(duet_audio_writer *w)
{
    if (!w) return;
    if (w->sf) sf_close(w->sf);
    duet_atomic_abort(w->af);
    free(w->inter);
    free(w);
}

duet_status duet_audio_writer_open(const char *path, int channels, int sample_rate, duet_audio_filetype type,
                                   duet_audio_writer **out, duet_err *err)
{
    if (!out) return duet_err_set(err, DUET_ERR_ARG, "no output handle given");
    *out = NULL;
    if (channels < 1 || channels > 1024)
        return duet_err_set(err, DUET_ERR_ARG, "cannot write audio with %d channels", channels);
    if (sample_rate <= 0) return duet_err_set(err, DUET_ERR_ARG, "cannot write audio at %d Hz", sample_rate);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = sample_rate;
    info.channels = channels;
    switch (type) {
    case DUET_FILE_WAV_PCM16: info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16; break;
    case DUET_FILE_WAV_FLOAT: info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT; break;
    case DUET_FILE_FLAC: info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16; break;
    case DUET_FILE_FLAC24: info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_24; break;
    default: return duet_err_set(err, DUET_ERR_ARG, "unknown output file type %d", (int)type);
    }
    /* FLAC's stream header stores the rate in 20 bits; libFLAC accepts at
     * most 655350 Hz. */
    if (!sf_format_check(&info) ||
        ((type == DUET_FILE_FLAC || type == DUET_FILE_FLAC24) && sample_rate > 655350))
        return duet_err_set(err, DUET_ERR_ARG, "%d Hz, %d channels cannot be stored in this format", sample_rate,
                            channels);
    duet_audio_writer *w = calloc(1, sizeof *w);
    if (!w) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    w->channels = channels;
    w->inter = malloc((size_t)READ_BLOCK * (size_t)channels * sizeof *w->inter);
    if (!w->inter) {
        free(w);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    duet_status st = duet_atomic_open(path, &w->af, err);
    if (st != DUET_OK) {
        free(w->inter);
        free(w);
        return st;
    }
    w->sf = sf_open_fd(duet_atomic_fd(w->af), SFM_WRITE, &info, SF_FALSE);
    if (!w->sf) {
        st = duet_err_set(err, DUET_ERR_IO, "cannot write audio (libsndfile: %s)", sf_strerror(NULL));
        duet_audio_writer_abort(w);
        return st;
    }
    /* Clip instead of wrapping when float samples outside [-1, 1) go to integers. */
    sf_command(w->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    if (type == DUET_FILE_FLAC || type == DUET_FILE_FLAC24) {
        double level = 0.5; /* libsndfile's default FLAC compression level */
        sf_command(w->sf, SFC_SET_COMPRESSION_LEVEL, &level, sizeof level);
    }
    *out = w;
    return DUET_OK;
}

duet_status duet_audio_writer_write(duet_audio_writer *w, const float *const *ch, int64_t n, duet_err *err)
{
    if (!w || n < 0 || (n > 0 && !ch)) return duet_err_set(err, DUET_ERR_ARG, "invalid writer arguments");
    const int nc = w->channels;
    for (int c = 0; c < nc; c++)
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(ch[c][i]))
                return duet_err_set(err, DUET_ERR_NAN, "non-finite sample at frame %lld, channel %d",
                                    (long long)(w->written + i), c);
    for (int64_t pos = 0; pos < n; pos += READ_BLOCK) {
        int64_t m = n - pos < READ_BLOCK ? n - pos : READ_BLOCK;
        for (int64_t i = 0; i < m; i++)
            for (int c = 0; c < nc; c++) w->inter[(size_t)i * (size_t)nc + (size_t)c] = ch[c][pos + i];
        if (sf_writef_float(w->sf, w->inter, m) != m)
            return duet_err_set(err, DUET_ERR_IO, "cannot write audio (libsndfile: %s)", sf_strerror(w->sf));
        w->written += m;
    }
    return DUET_OK;
}

duet_status duet_audio_writer_commit(duet_audio_writer *w, duet_err *err)
{
    if (!w) return duet_err_set(err, DUET_ERR_ARG, "no writer");
    int rc = sf_close(w->sf);
    w->sf = NULL;
    if (rc != 0) {
        duet_status st = duet_err_set(err, DUET_ERR_IO, "cannot finish audio file (libsndfile: %s)", sf_error_number(rc));
        duet_audio_writer_abort(w);
        return st;
    }
    duet_atomic_file *af = w->af;
    w->af = NULL;
    free(w->inter);
    free(w);
    return duet_atomic_commit(af, err);
}

duet_status duet_audio_write(const char *path, const duet_audio *a, duet_audio_filetype type, duet_err *err)
{
    if (!a || a->frames < 0 || (a->frames > 0 && (!a->ch || !a->ch[0])))
        return duet_err_set(err, DUET_ERR_ARG, "audio has no samples");
    /* Check everything before creating anything. */
    for (int c = 0; c < a->channels; c++)
        for (int64_t i = 0; i < a->frames; i++)
            if (!isfinite(a->ch[c][i]))
                return duet_err_set(err, DUET_ERR_NAN, "non-finite sample at frame %lld, channel %d",
                                    (long long)i, c);
    duet_audio_writer *w;
    duet_status st = duet_audio_writer_open(path, a->channels, a->sample_rate, type, &w, err);
    if (st != DUET_OK) return st;
    if (a->frames > 0) st = duet_audio_writer_write(w, (const float *const *)a->ch, a->frames, err);
    if (st != DUET_OK) {
        duet_audio_writer_abort(w);
        return st;
    }
    return duet_audio_writer_commit(w, err);
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
