/* audio/audio.h: decoding, writing and resampling audio.
 *
 * Decoding goes through libsndfile (WAV 8/16/24/32-bit int and float, FLAC,
 * Ogg Vorbis and Opus, AIFF, ...) and, for MP3, libmpg123 directly (quiet:
 * a damaged file gives one error, nothing on stderr; LAME/Xing encoder delay
 * and padding trimmed); resampling through libsamplerate. The path "-" reads
 * standard input (spooled to an unlinked temporary file in $TMPDIR or /tmp,
 * so every format works from a pipe).
 * Samples are float, planar: ch[c][i] for channel c, frame i, all channels in
 * one allocation. Nothing here knows about networks. */
#ifndef DUET_AUDIO_AUDIO_H
#define DUET_AUDIO_AUDIO_H

#include <stdint.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Planar float audio. Owns its samples: free with duet_audio_free(). */
typedef struct duet_audio {
    int channels;        /* >= 1 */
    int64_t frames;      /* samples per channel, >= 0 */
    int sample_rate;     /* Hz, > 0 */
    float **ch;          /* ch[c] points to frames floats (one block) */
    char format[64];     /* e.g. "WAV 16-bit PCM", "FLAC 24-bit"; "" if made in memory */
} duet_audio;

/* What to do with NaN/Inf samples found while decoding. */
typedef enum duet_nan_policy {
    DUET_NAN_REJECT = 0,  /* fail with DUET_ERR_NAN (default) */
    DUET_NAN_ZERO = 1     /* replace with 0 and count them */
} duet_nan_policy;

typedef struct duet_read_opts {
    duet_nan_policy nan_policy;
    int64_t max_frames;     /* refuse files declaring more frames (0 = default cap: 6 h at 192 kHz) */
    int max_channels;       /* refuse more channels (0 = default cap: 64) */
} duet_read_opts;

/* Decode `path` into *out (zeroed first). opts may be NULL (defaults).
 * nan_replaced (may be NULL) receives how many non-finite samples were zeroed.
 * Errors: DUET_ERR_IO (missing file, directory, unreadable), DUET_ERR_FORMAT
 * (not audio / corrupt, with libsndfile's text), DUET_ERR_RANGE (0 Hz rate,
 * channel or length over the cap; also frames x channels over the in-memory
 * cap DUET_MAX_SAMPLES of common/limits.h, checked on the declared length
 * before anything is allocated and again while decoding), DUET_ERR_NAN,
 * DUET_ERR_NOMEM. A file with 0 frames decodes successfully to frames == 0. */
duet_status duet_audio_read(const char *path, const duet_read_opts *opts, duet_audio *out,
                            int64_t *nan_replaced, duet_err *err);

/* Streaming decoder: the same decoding, checks and NaN policy as
 * duet_audio_read, in bounded memory (for long files). Open with
 * duet_audio_reader_open (errors as duet_audio_read), then call
 * duet_audio_reader_read until it delivers 0 frames, then close. The reader
 * must be closed with duet_audio_reader_close(). */
typedef struct duet_audio_reader duet_audio_reader;
typedef struct duet_audio_reader_info {
    int channels;
    int sample_rate;
    int64_t frames;      /* as declared by the file (may be an estimate, e.g. MP3) */
    char format[64];     /* as duet_audio.format */
    int bits;            /* stored precision: 8, 16, 24 or 32 (integer PCM), 32 or 64 with
                            is_float, 0 for lossy codecs (MP3, Vorbis, Opus) and others */
    int is_float;
} duet_audio_reader_info;
duet_status duet_audio_reader_open(const char *path, const duet_read_opts *opts, duet_audio_reader **out,
                                   duet_err *err);
const duet_audio_reader_info *duet_audio_reader_get_info(const duet_audio_reader *r);
/* Decode up to max_frames (> 0) frames into ch[c][0..*got) for each channel
 * (caller-owned arrays of at least max_frames floats each). *got == 0 means
 * the end. Errors: DUET_ERR_FORMAT (corrupt data), DUET_ERR_NAN (policy
 * reject), DUET_ERR_RANGE (more frames than the cap), DUET_ERR_ARG. */
duet_status duet_audio_reader_read(duet_audio_reader *r, float *const *ch, int64_t max_frames, int64_t *got,
                                   duet_err *err);
/* Number of non-finite samples zeroed so far (DUET_NAN_ZERO). */
int64_t duet_audio_reader_nan_replaced(const duet_audio_reader *r);
/* Close and free (NULL is fine). */
void duet_audio_reader_close(duet_audio_reader *r);

/* Allocate silent audio (frames may be 0). Errors: DUET_ERR_ARG, DUET_ERR_NOMEM. */
duet_status duet_audio_alloc(duet_audio *out, int channels, int64_t frames, int sample_rate);

/* Release samples and zero the struct (NULL or already-freed is fine). */
void duet_audio_free(duet_audio *a);

typedef enum duet_audio_filetype {
    DUET_FILE_WAV_PCM16 = 0,
    DUET_FILE_WAV_FLOAT = 1,
    DUET_FILE_FLAC = 2 /* 16-bit */
    ,DUET_FILE_FLAC24 = 3
} duet_audio_filetype;

/* Output containers/codecs. */
typedef enum duet_audio_container {
    DUET_CONT_WAV = 0,   /* PCM 16/24-bit or 32-bit float */
    DUET_CONT_FLAC = 1,  /* lossless 16/24-bit */
    DUET_CONT_OGG = 2,   /* Ogg Vorbis (lossy) */
    DUET_CONT_OPUS = 3,  /* Ogg Opus (lossy; 8/12/16/24/48 kHz, other rates are resampled to 48 kHz) */
    DUET_CONT_MP3 = 4    /* MPEG-1/2 Layer III (lossy, LAME through libsndfile), constant bitrate */
} duet_audio_container;

/* A complete output format. bits: PCM sample format, 16, 24 or 32 (32 =
 * 32-bit float; WAV only); ignored by the lossy codecs. bitrate_kbps: the
 * lossy codecs' target (whole stream, all channels); 0 = the codec's
 * default (MP3 320, Ogg Vorbis 192, Opus 96 per channel). */
typedef struct duet_audio_outfmt {
    duet_audio_container container;
    int bits;
    int bitrate_kbps;
} duet_audio_outfmt;

/* The format of an old-style file type. Cannot fail. */
duet_audio_outfmt duet_audio_outfmt_of_type(duet_audio_filetype type);

/* Container by name: "wav", "flac", "ogg" (also "vorbis"), "opus", "mp3".
 * Returns 0, or -1 for an unknown name. */
int duet_audio_container_parse(const char *name, duet_audio_container *out);

/* Canonical file extension ("wav", "flac", "ogg", "opus", "mp3"); static string. */
const char *duet_audio_container_ext(duet_audio_container c);

/* Checks bits and bitrate for the container: DUET_ERR_ARG naming the
 * problem (e.g. "FLAC stores 16 or 24 bits, not 32f"), else DUET_OK. */
duet_status duet_audio_outfmt_check(const duet_audio_outfmt *f, duet_err *err);

/* The rate a file of this format will be written at for audio at `rate`
 * (Opus: 48000 unless rate is one Opus stores). */
int duet_audio_outfmt_rate(const duet_audio_outfmt *f, int rate);

/* PCM bits that keep an input's precision: 16 for 8/16-bit and lossy or
 * unknown inputs, 24 for 24-bit, 32 (float) for 32-bit integer, float and
 * double inputs. */
int duet_audio_bits_like(int in_bits, int in_is_float);

/* What a caller asks for: container -1 = from the output name's extension
 * (WAV when it names no format), bits 0 = like_bits, bitrate_kbps 0 = the
 * codec's default. */
typedef struct duet_audio_outfmt_req {
    int container;
    int bits;
    int bitrate_kbps;
} duet_audio_outfmt_req;

/* Resolve a request for the output `path` ("-" = standard output): a forced
 * container (req->container >= 0) is used whatever the name says; otherwise
 * the extension decides, and a name that ends in a non-audio format
 * (".png", ".json") or an audio format duet cannot write (".m4a", ".aiff")
 * is refused. Lossy containers ignore bits. Errors: DUET_ERR_ARG (one line
 * naming the extension and the way out), duet_audio_outfmt_check's. */
duet_status duet_audio_outfmt_resolve(const char *path, const duet_audio_outfmt_req *req, int like_bits,
                                      duet_audio_outfmt *out, duet_err *err);

/* Write `a` to `path` atomically (temporary + rename; see atomic_file.h).
 * Integer formats clip to [-1, 1). Errors: DUET_ERR_IO (missing/read-only
 * folder, disk full), DUET_ERR_ARG (0 channels, bad rate, or a rate/channel
 * count the format cannot store, e.g. FLAC above 655350 Hz), DUET_ERR_NAN
 * (nothing is written). */
duet_status duet_audio_write(const char *path, const duet_audio *a, duet_audio_filetype type,
                             duet_err *err);
/* The same in any output format; clipped (may be NULL) receives the number of
 * samples outside [-1, 1] that were clipped (integer and lossy formats). */
duet_status duet_audio_write_fmt(const char *path, const duet_audio *a, const duet_audio_outfmt *fmt,
                                 int64_t *clipped, duet_err *err);

/* Streaming writer: the same output as duet_audio_write, written in chunks
 * to a temporary file that becomes `path` only on commit. Open, write any
 * number of planar chunks (ch[c][0..n), caller-owned), then exactly one of
 * commit (rename into place; frees the writer) or abort (removes the
 * temporary; frees the writer). path "-" is standard output: the file is
 * built in an unlinked temporary in $TMPDIR (or /tmp) and copied to file
 * descriptor 1 on commit, so a failed run writes nothing there. Errors: as
 * duet_audio_write; a failed write leaves the writer open (abort it). */
typedef struct duet_audio_writer duet_audio_writer;
duet_status duet_audio_writer_open(const char *path, int channels, int sample_rate, duet_audio_filetype type,
                                   duet_audio_writer **out, duet_err *err);
/* The same in any output format (fmt is copied). Opus at a rate it cannot
 * store is resampled to 48 kHz inside the writer (libsamplerate, the
 * default quality). Errors: DUET_ERR_ARG (duet_audio_outfmt_check, rate or
 * channels the format cannot store), DUET_ERR_IO, DUET_ERR_NOMEM. */
duet_status duet_audio_writer_open_fmt(const char *path, int channels, int sample_rate,
                                       const duet_audio_outfmt *fmt, duet_audio_writer **out, duet_err *err);
duet_status duet_audio_writer_write(duet_audio_writer *w, const float *const *ch, int64_t n, duet_err *err);
/* Samples clipped so far (outside [-1, 1]; 0 for float WAV). */
int64_t duet_audio_writer_clipped(const duet_audio_writer *w);
duet_status duet_audio_writer_commit(duet_audio_writer *w, duet_err *err);
void duet_audio_writer_abort(duet_audio_writer *w);

/* Resampler quality, mapping onto libsamplerate's converters. */
typedef enum duet_resample_quality {
    DUET_RESAMPLE_BEST = 0,    /* SRC_SINC_BEST_QUALITY */
    DUET_RESAMPLE_HIGH = 1,    /* SRC_SINC_MEDIUM_QUALITY (the default) */
    DUET_RESAMPLE_FAST = 2,    /* SRC_SINC_FASTEST */
    DUET_RESAMPLE_LINEAR = 3   /* linear interpolation like SRC_LINEAR, done in duet so that it
                                  is time-aligned (SRC_LINEAR lags by one input sample) */
} duet_resample_quality;

/* Resample `in` to `new_rate` into *out (a new buffer). The output has
 * exactly round(in->frames * new_rate / in->sample_rate) frames and is
 * time-aligned with the input (the converter's delay is compensated). When
 * new_rate equals the input rate the samples are copied.
 * Errors: DUET_ERR_ARG (rate <= 0 or absurd ratio), DUET_ERR_NOMEM, DUET_ERR_INTERNAL. */
duet_status duet_audio_resample(const duet_audio *in, int new_rate, duet_resample_quality q,
                                duet_audio *out, duet_err *err);

/* Streaming resampler: the same conversion as duet_audio_resample, fed in
 * chunks, in bounded memory. Output arrives through the callback as planar
 * chunks (ch[c][0..n), valid only during the call); after finish the total is
 * exactly round(total_in * out_rate / in_rate) frames, equal (to float noise)
 * to the whole-signal result. Return non-zero from the callback to abort
 * (the call then fails with DUET_ERR_ARG). Free with duet_resampler_free().
 * Errors: DUET_ERR_ARG (channels < 1 or > 1024, rates <= 0, ratio beyond
 * 1:256, unknown quality, use after finish), DUET_ERR_NOMEM,
 * DUET_ERR_INTERNAL (libsamplerate failure). */
typedef int (*duet_resample_out_cb)(void *user, const float *const *ch, int64_t n);
typedef struct duet_resampler duet_resampler;
duet_status duet_resampler_new(int channels, int in_rate, int out_rate, duet_resample_quality q,
                               duet_resample_out_cb cb, void *user, duet_resampler **out, duet_err *err);
/* Feed n frames of planar input ch[c][0..n) (n >= 0). */
duet_status duet_resampler_feed(duet_resampler *r, const float *const *ch, int64_t n, duet_err *err);
/* Flush: emit the remaining output frames up to the exact total. */
duet_status duet_resampler_finish(duet_resampler *r, duet_err *err);
void duet_resampler_free(duet_resampler *r);

/* Mix down to mono (mean over channels) into *out (a new buffer, free with
 * duet_audio_free). Errors: DUET_ERR_ARG, DUET_ERR_NOMEM. */
duet_status duet_audio_to_mono(const duet_audio *in, duet_audio *out, duet_err *err);

/* Peak |x| and RMS over all channels and frames (0 for empty audio). */
void duet_audio_stats(const duet_audio *a, double *peak, double *rms);

#ifdef __cplusplus
}
#endif

#endif
