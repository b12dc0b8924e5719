/* audio/mp3.c: MP3 decoding through libmpg123, quiet and gapless (mp3.h). */
#include "mp3.h"

#include <mpg123.h>
#include <stdlib.h>
#include <string.h>

struct duet_mp3 {
    mpg123_handle *mh;
    int channels, rate;
};

int duet_mp3_sniff(const unsigned char *b, size_t n)
{
    if (n >= 3 && b[0] == 'I' && b[1] == 'D' && b[2] == '3') return 1;
    /* frame sync (11 bits), version not "reserved" (01), layer not 00 */
    if (n >= 2 && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0 && ((b[1] >> 3) & 3) != 1 && ((b[1] >> 1) & 3) != 0)
        return 1;
    return 0;
}

void duet_mp3_close(duet_mp3 *m)
{
    if (!m) return;
    if (m->mh) {
        mpg123_close(m->mh);
        mpg123_delete(m->mh);
    }
    free(m);
}

duet_status duet_mp3_open_fd(int fd, duet_mp3 **out, int *channels, int *rate, int64_t *frames,
                             duet_err *err)
{
    *out = NULL;
    duet_mp3 *m = calloc(1, sizeof *m);
    if (!m) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    int e = MPG123_OK;
    m->mh = mpg123_new(NULL, &e);
    if (!m->mh) {
        free(m);
        return duet_err_set(err, DUET_ERR_NOMEM, "cannot start the MP3 decoder (mpg123: %s)",
                            mpg123_plain_strerror(e));
    }
    mpg123_param(m->mh, MPG123_ADD_FLAGS, MPG123_QUIET | MPG123_GAPLESS | MPG123_FORCE_FLOAT, 0.0);
    /* Float output at the stream's own rate and channel count. */
    mpg123_format_none(m->mh);
    const long *rates;
    size_t nr;
    mpg123_rates(&rates, &nr);
    for (size_t i = 0; i < nr; i++) mpg123_format(m->mh, rates[i], MPG123_MONO | MPG123_STEREO, MPG123_ENC_FLOAT_32);
    duet_status st = DUET_OK;
    long r = 0;
    int ch = 0, enc = 0;
    if (mpg123_open_fd(m->mh, fd) != MPG123_OK)
        st = duet_err_set(err, DUET_ERR_FORMAT, "not a readable MP3 (mpg123: %s)", mpg123_strerror(m->mh));
    else if (mpg123_getformat(m->mh, &r, &ch, &enc) != MPG123_OK)
        st = duet_err_set(err, DUET_ERR_FORMAT, "not a recognised audio file (mpg123: %s)", mpg123_strerror(m->mh));
    else if (enc != MPG123_ENC_FLOAT_32 || r <= 0 || ch < 1 || ch > 2)
        st = duet_err_set(err, DUET_ERR_FORMAT, "MP3 stream with an unsupported layout (%ld Hz, %d channels)", r, ch);
    if (st) {
        duet_mp3_close(m);
        return st;
    }
    m->rate = (int)r;
    m->channels = ch;
    /* Exact length: a scan reads the frame headers (no decoding). Not for
     * pipes; the reader spools standard input to a file first. */
    int64_t len = 0;
    if (mpg123_scan(m->mh) == MPG123_OK) {
        off_t l = mpg123_length(m->mh);
        if (l > 0) len = (int64_t)l;
    }
    *channels = m->channels;
    *rate = m->rate;
    *frames = len;
    *out = m;
    return DUET_OK;
}

duet_status duet_mp3_read(duet_mp3 *m, float *inter, int64_t max_frames, int64_t *got, duet_err *err)
{
    *got = 0;
    size_t want = (size_t)max_frames * (size_t)m->channels * sizeof(float), have = 0;
    unsigned char *dst = (unsigned char *)inter;
    while (have < want) {
        size_t done = 0;
        int rc = mpg123_read(m->mh, dst + have, want - have, &done);
        have += done;
        if (rc == MPG123_DONE) break;
        if (rc == MPG123_NEW_FORMAT) {
            long r;
            int ch, enc;
            mpg123_getformat(m->mh, &r, &ch, &enc);
            if (r != m->rate || ch != m->channels || enc != MPG123_ENC_FLOAT_32)
                return duet_err_set(err, DUET_ERR_FORMAT, "the MP3 changes format mid-stream (%ld Hz, %d channels)",
                                    r, ch);
            continue;
        }
        if (rc != MPG123_OK) {
            if (have > 0) break; /* deliver what was decoded; the error repeats on the next call */
            return duet_err_set(err, DUET_ERR_FORMAT, "corrupt MP3 data (mpg123: %s)", mpg123_strerror(m->mh));
        }
        if (done == 0) break;
    }
    *got = (int64_t)(have / ((size_t)m->channels * sizeof(float)));
    return DUET_OK;
}
