/* audio/stft.c: STFT / ISTFT with fftw3f, whole-signal and streaming
 * (see stft.h for the conventions, which follow torch.stft(center=True,
 * pad_mode="constant") and torch.istft).
 *
 * One duet_stft holds the window and two fftw plans (real-to-complex and
 * complex-to-real, out of place) made once with FFTW_ESTIMATE on
 * fftwf_malloc'd (SIMD-aligned) buffers. Every transform runs through the
 * new-array execute functions (fftwf_execute_dft_r2c / _c2r) on work buffers
 * of the same alignment, which fftw documents as thread-safe; so whole-signal
 * calls can split frames over OpenMP threads and streams can share a
 * duet_stft's plans with their own work buffers.
 *
 * fftw's planner is not thread-safe: plan creation and destruction here run
 * inside `#pragma omp critical(duet_fftw_planner)`, which serialises them
 * against each other (libgomp's named lock works across any threads). Other
 * code in the same process that makes fftwf plans concurrently must use the
 * same named critical section.
 *
 * Inverse: y[i] = sum_t w[i + n_fft/2 - t*hop] * irfft(X_t)[...] divided by
 * sum_t w[...]^2 (the least-squares overlap-add of Griffin and Lim, as in
 * torch.istft); samples no frame covers (envelope <= 1e-11) become 0. Sums
 * always run over frames in increasing t so the streaming inverse gives the
 * same floats as the whole-signal one. */
#include "stft.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define ENV_EPS 1e-11f
#define DUET_PI 3.14159265358979323846

struct duet_stft {
    int n_fft, hop, n_bins;
    duet_window win;
    float *window;   /* analysis window w[n] */
    float *wsyn;     /* synthesis window w[n] / n_fft (irfft scale folded in) */
    float *wsq;      /* w[n]^2 */
    float *inv_env;  /* hop values: 1 / envelope where every covering frame exists */
    float *rbuf;     /* fftw work buffers (used by single-thread paths) */
    fftwf_complex *cbuf;
    fftwf_plan fwd, inv;
};

static duet_status work_alloc(const duet_stft *s, float **r, fftwf_complex **c)
{
    *r = fftwf_malloc(sizeof(float) * (size_t)s->n_fft);
    *c = fftwf_malloc(sizeof(fftwf_complex) * (size_t)s->n_bins);
    if (!*r || !*c) {
        fftwf_free(*r);
        fftwf_free(*c);
        *r = NULL;
        *c = NULL;
        return DUET_ERR_NOMEM;
    }
    return DUET_OK;
}

void duet_stft_free(duet_stft *s)
{
    if (!s) return;
#pragma omp critical(duet_fftw_planner)
    {
        if (s->fwd) fftwf_destroy_plan(s->fwd);
        if (s->inv) fftwf_destroy_plan(s->inv);
    }
    fftwf_free(s->rbuf);
    fftwf_free(s->cbuf);
    free(s->window);
    free(s->wsyn);
    free(s->wsq);
    free(s->inv_env);
    free(s);
}

duet_status duet_stft_new(int n_fft, int hop, duet_window win, duet_stft **out, duet_err *err)
{
    if (!out) return duet_err_set(err, DUET_ERR_ARG, "no output handle given");
    *out = NULL;
    if (n_fft < 4 || n_fft % 2 != 0 || n_fft > (1 << 24))
        return duet_err_set(err, DUET_ERR_ARG, "n_fft %d must be even and in [4, 2^24]", n_fft);
    if (hop < 1 || hop > n_fft)
        return duet_err_set(err, DUET_ERR_ARG, "hop %d must be in [1, n_fft = %d]", hop, n_fft);
    /* With hop <= n_fft/2 every output sample lies in the second half of some
     * frame, where both windows are > 0, so the overlap-add is invertible up
     * to the signal's ends. */
    if (hop > n_fft / 2)
        return duet_err_set(err, DUET_ERR_ARG,
                            "hop %d is larger than n_fft/2 = %d: no perfect reconstruction", hop, n_fft / 2);
    if (win != DUET_WIN_HANN && win != DUET_WIN_SQRT_HANN)
        return duet_err_set(err, DUET_ERR_ARG, "unknown window %d", (int)win);
    duet_stft *s = calloc(1, sizeof *s);
    if (!s) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    s->n_fft = n_fft;
    s->hop = hop;
    s->n_bins = n_fft / 2 + 1;
    s->win = win;
    s->window = malloc(sizeof(float) * (size_t)n_fft);
    s->wsyn = malloc(sizeof(float) * (size_t)n_fft);
    s->wsq = malloc(sizeof(float) * (size_t)n_fft);
    s->inv_env = malloc(sizeof(float) * (size_t)hop);
    if (!s->window || !s->wsyn || !s->wsq || !s->inv_env || work_alloc(s, &s->rbuf, &s->cbuf) != DUET_OK) {
        duet_stft_free(s);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    /* Periodic Hann: 0.5 - 0.5 cos(2 pi n / N), n = 0 .. N-1. */
    for (int n = 0; n < n_fft; n++) {
        double h = 0.5 - 0.5 * cos(2.0 * DUET_PI * (double)n / (double)n_fft);
        double w = win == DUET_WIN_HANN ? h : sqrt(h);
        s->window[n] = (float)w;
        s->wsq[n] = s->window[n] * s->window[n];
        s->wsyn[n] = (float)(w / (double)n_fft);
    }
    /* Interior envelope at padded position P with P mod hop = p: frames in
     * increasing t, i.e. window index k = P - t*hop from the largest down to p
     * (the same order as inv_envelope() below, so the floats agree exactly). */
    for (int p = 0; p < hop; p++) {
        int k = p + ((n_fft - 1 - p) / hop) * hop;
        float e = 0.0f;
        for (; k >= 0; k -= hop) e += s->wsq[k];
        s->inv_env[p] = e > ENV_EPS ? 1.0f / e : 0.0f;
    }
#pragma omp critical(duet_fftw_planner)
    {
        s->fwd = fftwf_plan_dft_r2c_1d(n_fft, s->rbuf, s->cbuf, FFTW_ESTIMATE);
        s->inv = fftwf_plan_dft_c2r_1d(n_fft, s->cbuf, s->rbuf, FFTW_ESTIMATE);
    }
    if (!s->fwd || !s->inv) {
        duet_stft_free(s);
        return duet_err_set(err, DUET_ERR_INTERNAL, "fftw could not plan a %d-point transform", n_fft);
    }
    *out = s;
    return DUET_OK;
}

int duet_stft_n_fft(const duet_stft *s) { return s->n_fft; }
int duet_stft_hop(const duet_stft *s) { return s->hop; }
int duet_stft_n_bins(const duet_stft *s) { return s->n_bins; }
int64_t duet_stft_n_frames(const duet_stft *s, int64_t n) { return n < 0 ? 0 : 1 + n / s->hop; }
const float *duet_stft_window(const duet_stft *s) { return s->window; }

/* Window the padded samples of one frame (frame starts at input index
 * `start`, may be negative) into r, transform, and store into out. */
static void forward_frame(const duet_stft *s, const float *x, int64_t n, int64_t start, float *r,
                          fftwf_complex *c, float *out)
{
    const int N = s->n_fft;
    const float *w = s->window;
    if (start >= 0 && start + N <= n) {
        const float *xs = x + start;
#pragma omp simd
        for (int k = 0; k < N; k++) r[k] = w[k] * xs[k];
    } else {
        for (int k = 0; k < N; k++) {
            int64_t i = start + k;
            r[k] = (i >= 0 && i < n) ? w[k] * x[i] : 0.0f;
        }
    }
    fftwf_execute_dft_r2c(s->fwd, r, c);
    memcpy(out, c, sizeof(float) * 2 * (size_t)s->n_bins);
}

duet_status duet_stft_forward(duet_stft *s, const float *x, int64_t n, float *spec, duet_err *err)
{
    if (!s || n < 0 || (n > 0 && !x) || !spec) return duet_err_set(err, DUET_ERR_ARG, "invalid STFT arguments");
    const int64_t T = duet_stft_n_frames(s, n);
    const size_t fsz = (size_t)s->n_bins * 2;
    if (T < 64) {
        for (int64_t t = 0; t < T; t++)
            forward_frame(s, x, n, t * s->hop - s->n_fft / 2, s->rbuf, s->cbuf, spec + (size_t)t * fsz);
        return DUET_OK;
    }
    int failed = 0;
#pragma omp parallel
    {
        float *r;
        fftwf_complex *c;
        int ok = work_alloc(s, &r, &c) == DUET_OK;
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int64_t t = 0; t < T; t++)
            if (ok) forward_frame(s, x, n, t * s->hop - s->n_fft / 2, r, c, spec + (size_t)t * fsz);
        fftwf_free(r);
        fftwf_free(c);
    }
    if (failed) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    return DUET_OK;
}

/* Inverse-transform one frame into r (n_fft samples, unscaled, unwindowed). */
static void inverse_frame(const duet_stft *s, const float *frame, float *r, fftwf_complex *c)
{
    memcpy(c, frame, sizeof(float) * 2 * (size_t)s->n_bins);
    fftwf_execute_dft_c2r(s->inv, c, r);
}

/* acc[i] += r[i] * w[i] for i in [0, m): the one overlap-add kernel of both
 * the whole-signal and the streaming inverse. */
static void ola_add(float *restrict acc, const float *restrict r, const float *restrict w, int64_t m)
{
#pragma omp simd
    for (int64_t i = 0; i < m; i++) acc[i] += r[i] * w[i];
}

/* 1 / (sum of squared windows) at padded position P when frames 0 .. T-1
 * exist, summed over frames in increasing t; 0 where no frame reaches. */
static float inv_envelope(const duet_stft *s, int64_t P, int64_t T)
{
    const int64_t N = s->n_fft, H = s->hop;
    int64_t t_hi = P / H;                       /* last frame starting at or before P */
    int64_t t_lo = P - N + 1 > 0 ? (P - N + 1 + H - 1) / H : 0; /* first frame reaching P */
    if (P >= N - 1 && t_hi < T) return s->inv_env[P % H]; /* every covering frame exists */
    if (t_hi > T - 1) t_hi = T - 1;
    float e = 0.0f;
    for (int64_t t = t_lo; t <= t_hi; t++) e += s->wsq[P - t * H];
    return e > ENV_EPS ? 1.0f / e : 0.0f;
}

/* y[j] *= 1 / envelope at padded position P0 + j, j in [0, m), frames 0 .. T-1. */
static void normalise(const duet_stft *s, float *y, int64_t P0, int64_t m, int64_t T)
{
    const int64_t N = s->n_fft, H = s->hop;
    /* interior positions: P >= N - 1 and P < T * H */
    int64_t lo = N - 1 - P0, hi = T * H - P0;
    if (lo < 0) lo = 0;
    if (hi > m) hi = m;
    if (lo > hi) lo = hi = m;
    for (int64_t j = 0; j < lo; j++) y[j] *= inv_envelope(s, P0 + j, T);
    for (int64_t j = lo; j < hi;) {
        int64_t p = (P0 + j) % H, run = H - p < hi - j ? H - p : hi - j;
        const float *ie = s->inv_env + p;
        float *yj = y + j;
#pragma omp simd
        for (int64_t u = 0; u < run; u++) yj[u] *= ie[u];
        j += run;
    }
    for (int64_t j = hi; j < m; j++) y[j] *= inv_envelope(s, P0 + j, T);
}

/* Overlap-add the frames of spec that touch output samples [a, b) into y
 * (zeroed over [a, b)), frames in increasing order, then normalise. */
static void ola_range(const duet_stft *s, const float *spec, int64_t T, float *y, int64_t a, int64_t b,
                      float *r, fftwf_complex *c)
{
    const int N = s->n_fft, H = s->hop;
    const size_t fsz = (size_t)s->n_bins * 2;
    /* frame t covers output [t*H - N/2, t*H + N/2); first t with t*H + N/2 > a */
    int64_t t0 = a + N / 2 - N >= 0 ? (a + N / 2 - N) / H : 0;
    while (t0 > 0 && (t0 - 1) * H + N / 2 > a) t0--;
    while (t0 * H + N / 2 <= a) t0++;
    for (int64_t t = t0; t < T; t++) {
        int64_t start = t * H - N / 2;
        if (start >= b) break;
        inverse_frame(s, spec + (size_t)t * fsz, r, c);
        int64_t lo = start < a ? a : start;
        int64_t hi = start + N > b ? b : start + N;
        ola_add(y + lo, r + (lo - start), s->wsyn + (lo - start), hi - lo);
    }
    normalise(s, y + a, a + N / 2, b - a, T);
}

duet_status duet_stft_inverse(duet_stft *s, const float *spec, int64_t n_frames, float *y, int64_t n,
                              duet_err *err)
{
    if (!s || n < 0 || n_frames < 0 || (n_frames > 0 && !spec) || (n > 0 && !y))
        return duet_err_set(err, DUET_ERR_ARG, "invalid ISTFT arguments");
    if (n == 0) return DUET_OK;
    memset(y, 0, sizeof(float) * (size_t)n);
    if (n_frames < 64) {
        ola_range(s, spec, n_frames, y, 0, n, s->rbuf, s->cbuf);
        return DUET_OK;
    }
    int failed = 0;
#pragma omp parallel
    {
        int nt = 1, id = 0;
#ifdef _OPENMP
        nt = omp_get_num_threads();
        id = omp_get_thread_num();
#endif
        int64_t a = n * id / nt, b = n * (id + 1) / nt;
        float *r;
        fftwf_complex *c;
        if (work_alloc(s, &r, &c) == DUET_OK) {
            ola_range(s, spec, n_frames, y, a, b, r, c);
            fftwf_free(r);
            fftwf_free(c);
        } else {
#pragma omp atomic write
            failed = 1;
        }
    }
    if (failed) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    return DUET_OK;
}

/* ---- streaming forward ---- */

struct duet_stft_stream {
    duet_stft *s;
    duet_stft_frame_cb cb;
    void *user;
    float *buf;       /* padded samples [t_next*hop, t_next*hop + have) */
    int have;
    int64_t t_next;   /* next frame index */
    int64_t n_fed;    /* input samples fed so far */
    int finished;
    float *r;
    fftwf_complex *c;
    float *frame;     /* n_bins * 2 */
};

duet_status duet_stft_stream_new(duet_stft *s, duet_stft_frame_cb cb, void *user, duet_stft_stream **out,
                                 duet_err *err)
{
    if (!out) return duet_err_set(err, DUET_ERR_ARG, "no output handle given");
    *out = NULL;
    if (!s || !cb) return duet_err_set(err, DUET_ERR_ARG, "STFT stream needs an STFT and a callback");
    duet_stft_stream *st = calloc(1, sizeof *st);
    if (!st) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    st->s = s;
    st->cb = cb;
    st->user = user;
    st->buf = calloc((size_t)s->n_fft, sizeof(float));
    st->frame = malloc(sizeof(float) * 2 * (size_t)s->n_bins);
    if (!st->buf || !st->frame || work_alloc(s, &st->r, &st->c) != DUET_OK) {
        duet_stft_stream_free(st);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    st->have = s->n_fft / 2; /* left padding: n_fft/2 zeros */
    *out = st;
    return DUET_OK;
}

/* Emit the frame in buf (full) and shift by hop. */
static duet_status stream_emit(duet_stft_stream *st, duet_err *err)
{
    const duet_stft *s = st->s;
    forward_frame(s, st->buf, s->n_fft, 0, st->r, st->c, st->frame);
    if (st->cb(st->user, st->t_next, st->frame) != 0)
        return duet_err_set(err, DUET_ERR_ARG, "STFT stream aborted by its callback at frame %lld",
                            (long long)st->t_next);
    st->t_next++;
    memmove(st->buf, st->buf + s->hop, sizeof(float) * (size_t)(s->n_fft - s->hop));
    st->have = s->n_fft - s->hop;
    return DUET_OK;
}

duet_status duet_stft_stream_feed(duet_stft_stream *st, const float *x, int64_t n, duet_err *err)
{
    if (!st || n < 0 || (n > 0 && !x)) return duet_err_set(err, DUET_ERR_ARG, "invalid STFT stream arguments");
    if (st->finished) return duet_err_set(err, DUET_ERR_ARG, "STFT stream already finished");
    const int N = st->s->n_fft;
    while (n > 0) {
        int take = N - st->have;
        if ((int64_t)take > n) take = (int)n;
        memcpy(st->buf + st->have, x, sizeof(float) * (size_t)take);
        st->have += take;
        st->n_fed += take;
        x += take;
        n -= take;
        if (st->have == N) {
            duet_status rc = stream_emit(st, err);
            if (rc != DUET_OK) return rc;
        }
    }
    return DUET_OK;
}

duet_status duet_stft_stream_finish(duet_stft_stream *st, duet_err *err)
{
    if (!st) return duet_err_set(err, DUET_ERR_ARG, "no STFT stream");
    if (st->finished) return DUET_OK;
    const int N = st->s->n_fft;
    const int64_t T = 1 + st->n_fed / st->s->hop;
    while (st->t_next < T) {
        memset(st->buf + st->have, 0, sizeof(float) * (size_t)(N - st->have));
        st->have = N;
        duet_status rc = stream_emit(st, err);
        if (rc != DUET_OK) return rc;
    }
    st->finished = 1;
    return DUET_OK;
}

void duet_stft_stream_free(duet_stft_stream *st)
{
    if (!st) return;
    free(st->buf);
    free(st->frame);
    fftwf_free(st->r);
    fftwf_free(st->c);
    free(st);
}

/* ---- streaming inverse ---- */

struct duet_istft_stream {
    duet_stft *s;
    duet_istft_out_cb cb;
    void *user;
    int64_t n_out;
    float *ola;       /* padded positions [t_next*hop, t_next*hop + n_fft) */
    float *outbuf;    /* hop samples being handed out */
    int64_t t_next;
    int64_t t_frames; /* frames pushed so far */
    int64_t emitted;  /* output samples handed to cb */
    int finished;
    float *r;
    fftwf_complex *c;
};

duet_status duet_istft_stream_new(duet_stft *s, int64_t n_out, duet_istft_out_cb cb, void *user,
                                  duet_istft_stream **out, duet_err *err)
{
    if (!out) return duet_err_set(err, DUET_ERR_ARG, "no output handle given");
    *out = NULL;
    if (!s || !cb || n_out < 0) return duet_err_set(err, DUET_ERR_ARG, "invalid ISTFT stream arguments");
    duet_istft_stream *st = calloc(1, sizeof *st);
    if (!st) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    st->s = s;
    st->cb = cb;
    st->user = user;
    st->n_out = n_out;
    st->ola = calloc((size_t)s->n_fft, sizeof(float));
    st->outbuf = malloc(sizeof(float) * (size_t)s->n_fft);
    if (!st->ola || !st->outbuf || work_alloc(s, &st->r, &st->c) != DUET_OK) {
        duet_istft_stream_free(st);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    *out = st;
    return DUET_OK;
}

/* Hand out the finished buffer positions [0, m) (padded coordinates relative
 * to base = t_next*hop), clipped to the output range. */
static duet_status istream_emit(duet_istft_stream *st, int m, duet_err *err)
{
    const int half = st->s->n_fft / 2;
    int64_t base = st->t_next * st->s->hop;
    /* output index i = padded position - n_fft/2 */
    int64_t lo = base - half, hi = base + m - half;
    if (lo < st->emitted) lo = st->emitted;
    if (hi > st->n_out) hi = st->n_out;
    if (hi <= lo) return DUET_OK;
    int64_t cnt = hi - lo;
    memcpy(st->outbuf, st->ola + (lo + half - base), sizeof(float) * (size_t)cnt);
    normalise(st->s, st->outbuf, lo + half, cnt, st->t_frames);
    st->emitted = hi;
    if (st->cb(st->user, st->outbuf, cnt) != 0)
        return duet_err_set(err, DUET_ERR_ARG, "ISTFT stream aborted by its callback");
    return DUET_OK;
}

duet_status duet_istft_stream_push(duet_istft_stream *st, const float *frame, duet_err *err)
{
    if (!st || !frame) return duet_err_set(err, DUET_ERR_ARG, "invalid ISTFT stream arguments");
    if (st->finished) return duet_err_set(err, DUET_ERR_ARG, "ISTFT stream already finished");
    const duet_stft *s = st->s;
    const int N = s->n_fft, H = s->hop;
    inverse_frame(s, frame, st->r, st->c);
    ola_add(st->ola, st->r, s->wsyn, N);
    st->t_frames = st->t_next + 1;
    /* positions [0, hop) are final: no later frame reaches them */
    duet_status rc = istream_emit(st, H, err);
    memmove(st->ola, st->ola + H, sizeof(float) * (size_t)(N - H));
    memset(st->ola + N - H, 0, sizeof(float) * (size_t)H);
    st->t_next++;
    return rc;
}

duet_status duet_istft_stream_finish(duet_istft_stream *st, duet_err *err)
{
    if (!st) return duet_err_set(err, DUET_ERR_ARG, "no ISTFT stream");
    if (st->finished) return DUET_OK;
    st->finished = 1;
    duet_status rc = istream_emit(st, st->s->n_fft, err);
    if (rc != DUET_OK) return rc;
    /* samples no frame reached are 0 */
    while (st->emitted < st->n_out) {
        int64_t m = st->n_out - st->emitted;
        if (m > st->s->n_fft) m = st->s->n_fft;
        memset(st->outbuf, 0, sizeof(float) * (size_t)m);
        st->emitted += m;
        if (st->cb(st->user, st->outbuf, m) != 0)
            return duet_err_set(err, DUET_ERR_ARG, "ISTFT stream aborted by its callback");
    }
    return DUET_OK;
}

void duet_istft_stream_free(duet_istft_stream *st)
{
    if (!st) return;
    free(st->ola);
    free(st->outbuf);
    fftwf_free(st->r);
    fftwf_free(st->c);
    free(st);
}
