/* separation/sepnet_stream.c: separation with a trained sepnet in bounded
 * memory (duet_sepnet_stream_*, see sepnet_infer.h): resampling, STFT and
 * chunk masks as the input arrives, the mask mapped back onto the input-rate
 * STFT, the optional Wiener post-filter over sliding windows, the inverse
 * STFT and the stems handed to a callback; and duet_sepnet_separate, a whole
 * song in memory through the stream. */
#include "sepnet_infer.h"
#include "wiener.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../audio/stft.h"
#include "../nn/nn.h"
#include "sepnet_infer_impl.h"

#define SEP_BLOCK 65536  /* frames per feed in duet_sepnet_separate */

/* ---- streaming --------------------------------------------------------- */

/* A FIFO of fixed-size records with absolute indices [base, base + n). */
typedef struct fifo {
    char *d;
    size_t rec;
    int64_t base, n, head, cap;
} fifo;

static void fifo_init(fifo *f, size_t rec)
{
    memset(f, 0, sizeof *f);
    f->rec = rec;
}
static void fifo_free(fifo *f)
{
    free(f->d);
    f->d = NULL;
}
static int64_t fifo_end(const fifo *f) { return f->base + f->n; }
static void *fifo_at(const fifo *f, int64_t t) { return f->d + (size_t)(f->head + t - f->base) * f->rec; }
/* Append k records (zeroed when zero); NULL when out of memory. */
static void *fifo_push(fifo *f, int64_t k, int zero)
{
    if (f->head + f->n + k > f->cap) {
        if (f->head > 0) {
            memmove(f->d, f->d + (size_t)f->head * f->rec, (size_t)f->n * f->rec);
            f->head = 0;
        }
        if (f->n + k > f->cap) {
            int64_t nc = f->cap ? f->cap : 64;
            while (nc < f->n + k) nc *= 2;
            char *nd = realloc(f->d, (size_t)nc * f->rec);
            if (!nd) return NULL;
            f->d = nd;
            f->cap = nc;
        }
    }
    char *p = f->d + (size_t)(f->head + f->n) * f->rec;
    if (zero) memset(p, 0, (size_t)k * f->rec);
    f->n += k;
    return p;
}
/* Drop the records before absolute index `upto`. */
static void fifo_drop(fifo *f, int64_t upto)
{
    int64_t k = upto - f->base;
    if (k <= 0) return;
    if (k > f->n) k = f->n;
    f->head += k;
    f->n -= k;
    f->base += k;
    if (f->n == 0) f->head = 0;
}

typedef struct chan_ctx {
    struct duet_sepnet_stream *s;
    int ch;
} chan_ctx;

struct duet_sepnet_stream {
    const sepnet *m;
    const duet_sepnet_config *c;
    duet_sepnet_run *run;
    int C, rate, Tc, H, F, wiener, failed, finished;
    int MC;              /* channels the model sees jointly (cfg.channels) */
    int joint;           /* 1 = stereo model on stereo audio: one item holds both channels */
    int ipc;             /* network items per chunk: C (mono model), 1 (joint) or C
                            (stereo model, each channel doubled into both inputs) */
    duet_status cb_status; /* a status raised inside a callback */
    duet_sepnet_stream_cb cb;
    void *user;
    mask_map mp;
    float *wc;           /* chunk fade weights (Tc) */
    float *feat;         /* INFER_BATCH items (MC, 3, F, Tc) */
    int nb;
    int item_ch[INFER_BATCH];
    int64_t item_s0[INFER_BATCH];
    int64_t items_done;
    chan_ctx *cc;
    duet_resampler *rs;
    duet_stft *sm, *si;
    duet_stft_stream **sms, **sis;
    duet_istft_stream **ist;
    fifo *mspec;         /* model-rate spectrum frames (nbm * 2 floats) */
    fifo *macc;          /* mask accumulators (F + 1 doubles: sums, weight) */
    fifo *mmask;         /* final model-rate masks (nbm floats) */
    fifo *ispec;         /* input-rate spectrum frames (nbi * 2 floats) */
    fifo *vq;            /* vocals samples */
    fifo *mq;            /* mixture samples awaiting their vocals */
    int64_t *m_count, *i_count, *v_count;
    int64_t next_k;      /* next chunk to collect */
    int64_t mask_final;  /* model frames whose mask is final */
    int64_t tm, ti;      /* totals once finished */
    int64_t i_next;      /* next input frame to mask */
    float *grow;         /* nbi floats */
    float *xframe;       /* nbi * 2 floats */
    /* Wiener */
    float *ww;
    fifo wx, wg, wacc;   /* frames of all channels: mixture, mask, accumulated vocals */
    int64_t w_next_k, w_final;
    float *wy;           /* WIENER_WIN * C * nbi * 2 */
    /* output */
    int64_t n_in, n_out;
    int ist_finishing;
    float *ob;           /* 3 * C * SEP_OUT floats */
};

#define SEP_OUT 4096

int64_t duet_sepnet_stream_frames_in(const duet_sepnet_stream *s) { return s ? s->n_in : 0; }
int64_t duet_sepnet_stream_frames_out(const duet_sepnet_stream *s) { return s ? s->n_out : 0; }

static int on_model_frame(void *user, int64_t t, const float *frame)
{
    chan_ctx *cc = user;
    duet_sepnet_stream *s = cc->s;
    (void)t;
    float *p = fifo_push(&s->mspec[cc->ch], 1, 0);
    if (!p) {
        s->cb_status = DUET_ERR_NOMEM;
        return 1;
    }
    memcpy(p, frame, sizeof(float) * 2 * (size_t)s->mp.nbm);
    s->m_count[cc->ch]++;
    return 0;
}

static int on_input_frame(void *user, int64_t t, const float *frame)
{
    chan_ctx *cc = user;
    duet_sepnet_stream *s = cc->s;
    (void)t;
    float *p = fifo_push(&s->ispec[cc->ch], 1, 0);
    if (!p) {
        s->cb_status = DUET_ERR_NOMEM;
        return 1;
    }
    memcpy(p, frame, sizeof(float) * 2 * (size_t)s->mp.nbi);
    s->i_count[cc->ch]++;
    return 0;
}

static int on_resampled(void *user, const float *const *ch, int64_t n)
{
    duet_sepnet_stream *s = user;
    for (int c = 0; c < s->C; c++)
        if (duet_stft_stream_feed(s->sms[c], ch[c], n, NULL) != DUET_OK) {
            if (!s->cb_status) s->cb_status = DUET_ERR_NOMEM;
            return 1;
        }
    return 0;
}

static int on_vocals(void *user, const float *y, int64_t n)
{
    chan_ctx *cc = user;
    duet_sepnet_stream *s = cc->s;
    int64_t take = n, stop = 0;
    if (s->ist_finishing) {
        /* the stream was opened without knowing the length: keep exactly n_in samples */
        int64_t left = s->n_in - s->v_count[cc->ch];
        if (take >= left) {
            take = left;
            stop = 1;
        }
    }
    if (take > 0) {
        float *p = fifo_push(&s->vq[cc->ch], take, 0);
        if (!p) {
            s->cb_status = DUET_ERR_NOMEM;
            return 1;
        }
        memcpy(p, y, sizeof(float) * (size_t)take);
        s->v_count[cc->ch] += take;
    }
    return stop ? 1 : 0;
}

void duet_sepnet_stream_free(duet_sepnet_stream *s)
{
    if (!s) return;
    for (int c = 0; c < s->C; c++) {
        if (s->sms) duet_stft_stream_free(s->sms[c]);
        if (s->sis) duet_stft_stream_free(s->sis[c]);
        if (s->ist) duet_istft_stream_free(s->ist[c]);
        if (s->mspec) fifo_free(&s->mspec[c]);
        if (s->macc) fifo_free(&s->macc[c]);
        if (s->mmask) fifo_free(&s->mmask[c]);
        if (s->ispec) fifo_free(&s->ispec[c]);
        if (s->vq) fifo_free(&s->vq[c]);
        if (s->mq) fifo_free(&s->mq[c]);
    }
    free(s->sms);
    free(s->sis);
    free(s->ist);
    free(s->mspec);
    free(s->macc);
    free(s->mmask);
    free(s->ispec);
    free(s->vq);
    free(s->mq);
    free(s->m_count);
    free(s->i_count);
    free(s->v_count);
    free(s->cc);
    fifo_free(&s->wx);
    fifo_free(&s->wg);
    fifo_free(&s->wacc);
    free(s->wy);
    free(s->ww);
    free(s->wc);
    free(s->feat);
    free(s->grow);
    free(s->xframe);
    free(s->ob);
    duet_resampler_free(s->rs);
    duet_stft_free(s->sm);
    duet_stft_free(s->si);
    duet_sepnet_run_free(s->run);
    free(s);
}

duet_status duet_sepnet_stream_new(const sepnet *m, int channels, int sample_rate, const duet_sepnet_sep_opts *o,
                              duet_sepnet_stream_cb cb, void *user, duet_sepnet_stream **out, duet_err *err)
{
    if (!out) return duet_err_set(err, DUET_ERR_ARG, "no output handle given");
    *out = NULL;
    if (!m || !cb || channels < 1 || channels > MAX_CH || sample_rate <= 0)
        return duet_err_set(err, DUET_ERR_ARG, "cannot separate %d channels at %d Hz (1..%d channels)", channels,
                            sample_rate, MAX_CH);
    if (o && o->wiener_iters < 0) return duet_err_set(err, DUET_ERR_ARG, "negative Wiener iterations");
    const duet_sepnet_config *c = &m->cfg;
    int Tc;
    duet_status st = duet_sepnet_check_chunk(c, o ? o->chunk_frames : 0, &Tc, err);
    if (st) return st;
    duet_sepnet_stream *s = calloc(1, sizeof *s);
    if (!s) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    s->m = m;
    s->c = c;
    s->C = channels;
    s->rate = sample_rate;
    s->Tc = Tc;
    s->H = Tc / 2;
    s->F = c->n_freq;
    s->wiener = o ? o->wiener_iters : 0;
    s->cb = cb;
    s->user = user;
    s->tm = s->ti = -1;
    duet_sepnet_mask_map_init(&s->mp, c, sample_rate);
    const int C = channels, nbm = s->mp.nbm, nbi = s->mp.nbi;
    size_t nc = (size_t)C;
    s->cc = calloc(nc, sizeof *s->cc);
    s->sms = calloc(nc, sizeof *s->sms);
    s->sis = calloc(nc, sizeof *s->sis);
    s->ist = calloc(nc, sizeof *s->ist);
    s->mspec = calloc(nc, sizeof(fifo));
    s->macc = calloc(nc, sizeof(fifo));
    s->mmask = calloc(nc, sizeof(fifo));
    s->ispec = calloc(nc, sizeof(fifo));
    s->vq = calloc(nc, sizeof(fifo));
    s->mq = calloc(nc, sizeof(fifo));
    s->m_count = calloc(nc, sizeof(int64_t));
    s->i_count = calloc(nc, sizeof(int64_t));
    s->v_count = calloc(nc, sizeof(int64_t));
    s->wc = malloc(sizeof(float) * (size_t)Tc);
    s->MC = c->channels;
    s->joint = s->MC == 2 && C == 2;
    s->ipc = s->joint ? 1 : C;
    s->feat = malloc(sizeof(float) * (size_t)INFER_BATCH * s->MC * 3 * s->F * Tc);
    s->grow = malloc(sizeof(float) * (size_t)nbi);
    s->xframe = malloc(sizeof(float) * 2 * (size_t)nbi);
    s->ob = malloc(sizeof(float) * 3 * nc * SEP_OUT);
    if (!s->cc || !s->sms || !s->sis || !s->ist || !s->mspec || !s->macc || !s->mmask || !s->ispec || !s->vq ||
        !s->mq || !s->m_count || !s->i_count || !s->v_count || !s->wc || !s->feat || !s->grow || !s->xframe ||
        !s->ob) {
        duet_sepnet_stream_free(s);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    duet_sepnet_fade_weights(s->wc, Tc);
    for (int ch = 0; ch < C; ch++) {
        s->cc[ch].s = s;
        s->cc[ch].ch = ch;
        fifo_init(&s->mspec[ch], sizeof(float) * 2 * (size_t)nbm);
        fifo_init(&s->macc[ch], sizeof(double) * ((size_t)s->F + 1));
        fifo_init(&s->mmask[ch], sizeof(float) * (size_t)nbm);
        fifo_init(&s->ispec[ch], sizeof(float) * 2 * (size_t)nbi);
        fifo_init(&s->vq[ch], sizeof(float));
        fifo_init(&s->mq[ch], sizeof(float));
    }
    fifo_init(&s->wx, sizeof(float) * 2 * nc * nbi);
    fifo_init(&s->wg, sizeof(float) * nc * nbi);
    fifo_init(&s->wacc, sizeof(float) * 2 * nc * nbi);
    if (s->wiener > 0) {
        s->ww = malloc(sizeof(float) * WIENER_WIN);
        s->wy = malloc(sizeof(float) * WIENER_WIN * nc * nbi * 2);
        if (!s->ww || !s->wy) {
            duet_sepnet_stream_free(s);
            return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        }
        duet_sepnet_fade_weights(s->ww, WIENER_WIN);
    }
    st = duet_sepnet_run_new(m, &s->run, err);
    if (!st) st = duet_stft_new(c->n_fft, c->hop, DUET_WIN_HANN, &s->sm, err);
    if (!st) st = duet_stft_new(s->mp.nfi, s->mp.hopi, DUET_WIN_HANN, &s->si, err);
    if (!st && sample_rate != c->sample_rate)
        st = duet_resampler_new(C, sample_rate, c->sample_rate, DUET_RESAMPLE_HIGH, on_resampled, s, &s->rs, err);
    for (int ch = 0; ch < C && !st; ch++) {
        st = duet_stft_stream_new(s->sm, on_model_frame, &s->cc[ch], &s->sms[ch], err);
        if (!st) st = duet_stft_stream_new(s->si, on_input_frame, &s->cc[ch], &s->sis[ch], err);
        /* the length is unknown: on_vocals stops the stream at n_in samples */
        if (!st) st = duet_istft_stream_new(s->si, INT64_MAX / 4, on_vocals, &s->cc[ch], &s->ist[ch], err);
    }
    if (st) {
        duet_sepnet_stream_free(s);
        return st;
    }
    *out = s;
    return DUET_OK;
}

static int64_t min_count(const int64_t *v, int C)
{
    int64_t m = v[0];
    for (int c = 1; c < C; c++)
        if (v[c] < m) m = v[c];
    return m;
}

static duet_status fail(duet_sepnet_stream *s, duet_status st, duet_err *err, const char *what)
{
    s->failed = 1;
    if (s->cb_status && st == DUET_ERR_ARG) st = s->cb_status;
    if (st == DUET_ERR_NOMEM) return duet_err_set(err, st, "out of memory (%s)", what);
    return st;
}

/* Run the collected items through the network and accumulate their masks. */
static duet_status run_batch(duet_sepnet_stream *s, duet_err *err)
{
    const float *mk = NULL;
    const int F = s->F, Tc = s->Tc;
    size_t plane = (size_t)F * Tc;
    if (s->nb > 0) {
        duet_status st = duet_sepnet_forward(s->run, s->feat, s->nb, Tc, 0, NULL, &mk, err);
        if (st) return st;
    }
    int64_t limit = s->finished ? s->tm : INT64_MAX;
    for (int b = 0; b < s->nb; b++) {
        int64_t s0 = s->item_s0[b];
        int64_t hi = s0 + Tc < limit ? s0 + Tc : limit;
        /* slot k of the item's MC model channels masks audio channel ch: the
         * stereo pair, or one channel doubled (its two masks average) */
        for (int k = 0; k < s->MC; k++) {
            int ch = s->joint ? k : s->item_ch[b];
            fifo *acc = &s->macc[ch];
            if (fifo_end(acc) < hi && !fifo_push(acc, hi - fifo_end(acc), 1))
                return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            const float *mv = mk + ((size_t)b * s->MC + k) * 2 * plane;
            for (int64_t t = s0 < 0 ? 0 : s0; t < hi; t++) {
                double *row = fifo_at(acc, t);
                duet_sepnet_accumulate_chunk(row, &row[F], mv, F, Tc, (int)(t - s0), s->wc[t - s0]);
            }
        }
    }
    s->items_done += s->nb;
    s->nb = 0;
    /* frames before the start of the first chunk not yet done are final */
    int64_t kd = s->items_done / s->ipc;
    int64_t fin = (kd - 1) * s->H;
    if (s->finished && (s->next_k < 0 || fin > s->tm)) fin = s->tm; /* no frames past the end */
    while (s->mask_final < fin) {
        int64_t t = s->mask_final;
        for (int ch = 0; ch < s->C; ch++) {
            float *mrow = fifo_push(&s->mmask[ch], 1, 0);
            if (!mrow) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            const double *a = fifo_at(&s->macc[ch], t);
            duet_sepnet_finish_mask_row(a, a[F], F, s->mp.nbm, mrow);
            fifo_drop(&s->macc[ch], t + 1);
        }
        s->mask_final++;
    }
    return DUET_OK;
}

/* Collect every chunk whose frames are all there (or, finished, the rest). */
static duet_status pump_chunks(duet_sepnet_stream *s, duet_err *err)
{
    const int Tc = s->Tc, H = s->H, nbm = s->mp.nbm;
    size_t item1 = (size_t)3 * s->F * Tc, item = (size_t)s->MC * item1;
    while (s->next_k >= 0) {
        int64_t s0 = -H + s->next_k * H;
        int64_t avail = min_count(s->m_count, s->C);
        int last = 0;
        if (s->finished) {
            if (s0 >= s->tm) {
                s->next_k = -1;
                break;
            }
            last = s0 + Tc >= s->tm + H;
        } else if (s0 + Tc > avail)
            break;
        for (int g = 0; g < s->ipc; g++) {
            for (int k = 0; k < s->MC; k++) {
                int ch = s->joint ? k : g;
                fifo *f = &s->mspec[ch];
                int64_t base = f->base;
                duet_sepnet_features(s->feat + (size_t)s->nb * item + (size_t)k * item1, f->n ? fifo_at(f, base) : NULL,
                                fifo_end(f) - base, nbm, s0 - base, Tc, s->c);
            }
            s->item_ch[s->nb] = g;
            s->item_s0[s->nb] = s0;
            s->nb++;
            if (s->nb == INFER_BATCH) {
                duet_status st = run_batch(s, err);
                if (st) return st;
            }
        }
        /* the next chunk starts at s0 + H and reads one frame before it */
        for (int ch = 0; ch < s->C; ch++) fifo_drop(&s->mspec[ch], s0 + H - 1);
        s->next_k = last ? -1 : s->next_k + 1;
    }
    if (s->finished && s->next_k < 0) return run_batch(s, err);
    return DUET_OK;
}

/* Hand a finished vocal frame of all channels (C * nbi * 2, channel-major) to the ISTFTs. */
static duet_status push_vocal_frames(duet_sepnet_stream *s, const float *fr, duet_err *err)
{
    size_t nbi = (size_t)s->mp.nbi;
    for (int ch = 0; ch < s->C; ch++) {
        duet_status st = duet_istft_stream_push(s->ist[ch], fr + (size_t)ch * nbi * 2, err);
        if (st) return st;
    }
    return DUET_OK;
}

static duet_status pump_wiener(duet_sepnet_stream *s, duet_err *err)
{
    const int W = WIENER_WIN, WH = W / 2, C = s->C, nbi = s->mp.nbi;
    size_t fr = (size_t)C * nbi;
    while (s->w_next_k >= 0) {
        int64_t s0 = -WH + s->w_next_k * WH;
        int64_t avail = fifo_end(&s->wx);
        int last = 0;
        if (s->finished && s->i_next >= s->ti) {
            if (s0 >= s->ti) {
                s->w_next_k = -1;
                break;
            }
            last = s0 >= s->ti - WH;
        } else if (s0 + W > avail)
            break;
        int64_t a = s0 < 0 ? 0 : s0, b = s0 + W < avail ? s0 + W : avail;
        duet_status st = duet_wiener_em(fifo_at(&s->wx, a), fifo_at(&s->wg, a), b - a, C, nbi, s->wiener, s->wy, err);
        if (st) return st;
        if (fifo_end(&s->wacc) < b && !fifo_push(&s->wacc, b - fifo_end(&s->wacc), 1))
            return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        for (int64_t t = a; t < b; t++) {
            float w = s->ww[t - s0];
            const float *ys = s->wy + (size_t)(t - a) * fr * 2;
            float *yd = fifo_at(&s->wacc, t);
            for (size_t q = 0; q < fr * 2; q++) yd[q] += w * ys[q];
        }
        int64_t fin = last ? b : s0 + WH;
        for (int64_t t = s->w_final; t < fin; t++) {
            st = push_vocal_frames(s, fifo_at(&s->wacc, t), err);
            if (st) return st;
        }
        if (fin > s->w_final) s->w_final = fin;
        fifo_drop(&s->wacc, s->w_final);
        fifo_drop(&s->wx, s0 + WH);
        fifo_drop(&s->wg, s0 + WH);
        s->w_next_k = last ? -1 : s->w_next_k + 1;
    }
    return DUET_OK;
}

/* Mask every input frame whose model masks are final. */
static duet_status pump_input(duet_sepnet_stream *s, duet_err *err)
{
    const int C = s->C, nbi = s->mp.nbi;
    int64_t avail = min_count(s->i_count, C);
    int64_t tm = s->finished && s->next_k < 0 ? s->tm : INT64_MAX;
    while (s->i_next < avail) {
        int64_t t = s->i_next;
        if (tm == INT64_MAX && duet_sepnet_mask_map_need(&s->mp, t) >= s->mask_final) break;
        int64_t t0, t1;
        double ft;
        duet_sepnet_mask_map_frames(&s->mp, t, tm, &t0, &t1, &ft);
        float *xw = NULL, *gw = NULL;
        if (s->wiener > 0) {
            xw = fifo_push(&s->wx, 1, 0);
            gw = xw ? fifo_push(&s->wg, 1, 0) : NULL;
            if (!xw || !gw) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        } else {
            xw = fifo_push(&s->wacc, 1, 0); /* used as a one-frame buffer */
            if (!xw) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        }
        for (int ch = 0; ch < C; ch++) {
            duet_sepnet_mask_map_row(&s->mp, fifo_at(&s->mmask[ch], t0), fifo_at(&s->mmask[ch], t1), ft, s->grow);
            const float *x = fifo_at(&s->ispec[ch], t);
            float *xd = xw + (size_t)ch * nbi * 2;
            if (s->wiener > 0) {
                memcpy(xd, x, sizeof(float) * 2 * (size_t)nbi);
                memcpy(gw + (size_t)ch * nbi, s->grow, sizeof(float) * (size_t)nbi);
            } else
                for (int k = 0; k < nbi; k++) {
                    xd[2 * k] = s->grow[k] * x[2 * k];
                    xd[2 * k + 1] = s->grow[k] * x[2 * k + 1];
                }
        }
        if (s->wiener == 0) {
            duet_status st = push_vocal_frames(s, xw, err);
            fifo_drop(&s->wacc, fifo_end(&s->wacc));
            if (st) return st;
        }
        s->i_next++;
        /* later input frames read model frames >= the next frame's t0 (at
         * most the last final one, which the end may clamp to) */
        int64_t nd = s->mp.same ? s->i_next : (int64_t)floor(s->i_next * s->mp.tscale);
        if (nd > s->mask_final - 1) nd = s->mask_final - 1;
        for (int ch = 0; ch < C; ch++) {
            fifo_drop(&s->ispec[ch], s->i_next);
            fifo_drop(&s->mmask[ch], nd);
        }
    }
    if (s->wiener > 0) return pump_wiener(s, err);
    return DUET_OK;
}

/* Deliver every frame whose vocals are ready in all channels. */
static duet_status pump_output(duet_sepnet_stream *s, duet_err *err)
{
    const int C = s->C;
    for (;;) {
        int64_t ready = min_count(s->v_count, C) - s->n_out;
        if (ready <= 0) return DUET_OK;
        int64_t n = ready < SEP_OUT ? ready : SEP_OUT;
        const float *mp[MAX_CH], *vp[MAX_CH];
        float *ap[MAX_CH];
        for (int ch = 0; ch < C; ch++) {
            mp[ch] = fifo_at(&s->mq[ch], s->n_out);
            vp[ch] = fifo_at(&s->vq[ch], s->n_out);
            ap[ch] = s->ob + (size_t)ch * SEP_OUT;
            for (int64_t i = 0; i < n; i++) ap[ch][i] = mp[ch][i] - vp[ch][i];
        }
        if (s->cb(s->user, mp, vp, (const float *const *)ap, n) != 0)
            return duet_err_set(err, DUET_ERR_ARG, "separation aborted by the output callback");
        s->n_out += n;
        for (int ch = 0; ch < C; ch++) {
            fifo_drop(&s->mq[ch], s->n_out);
            fifo_drop(&s->vq[ch], s->n_out);
        }
    }
}

static duet_status pump(duet_sepnet_stream *s, duet_err *err)
{
    duet_status st = pump_chunks(s, err);
    if (!st) st = pump_input(s, err);
    if (!st) st = pump_output(s, err);
    return st;
}

duet_status duet_sepnet_stream_feed(duet_sepnet_stream *s, const float *const *ch, int64_t n, duet_err *err)
{
    if (!s || n < 0 || (n > 0 && !ch)) return duet_err_set(err, DUET_ERR_ARG, "invalid stream arguments");
    if (s->failed || s->finished) return duet_err_set(err, DUET_ERR_ARG, "separation stream already %s",
                                                      s->failed ? "failed" : "finished");
    if (n == 0) return DUET_OK;
    for (int c = 0; c < s->C; c++)
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(ch[c][i])) {
                s->failed = 1;
                return duet_err_set(err, DUET_ERR_NAN, "non-finite sample in channel %d at frame %lld", c,
                                    (long long)(s->n_in + i));
            }
    for (int c = 0; c < s->C; c++) {
        float *p = fifo_push(&s->mq[c], n, 0);
        if (!p) return fail(s, DUET_ERR_NOMEM, err, "mixture queue");
        memcpy(p, ch[c], sizeof(float) * (size_t)n);
    }
    s->n_in += n;
    duet_status st = DUET_OK;
    /* feed in pieces so the queues stay short whatever the block size */
    for (int64_t off = 0; off < n && !st; off += SEP_OUT) {
        int64_t k = n - off < SEP_OUT ? n - off : SEP_OUT;
        if (s->rs) {
            const float *pp[MAX_CH];
            for (int c = 0; c < s->C; c++) pp[c] = ch[c] + off;
            st = duet_resampler_feed(s->rs, pp, k, err);
        } else
            for (int c = 0; c < s->C && !st; c++) st = duet_stft_stream_feed(s->sms[c], ch[c] + off, k, err);
        for (int c = 0; c < s->C && !st; c++) st = duet_stft_stream_feed(s->sis[c], ch[c] + off, k, err);
        if (!st) st = pump(s, err);
    }
    if (st) return fail(s, st, err, "stream");
    return DUET_OK;
}

duet_status duet_sepnet_stream_finish(duet_sepnet_stream *s, duet_err *err)
{
    if (!s) return duet_err_set(err, DUET_ERR_ARG, "no stream");
    if (s->failed) return duet_err_set(err, DUET_ERR_ARG, "separation stream failed");
    if (s->finished) return DUET_OK;
    duet_status st = DUET_OK;
    if (s->rs) st = duet_resampler_finish(s->rs, err);
    for (int c = 0; c < s->C && !st; c++) st = duet_stft_stream_finish(s->sms[c], err);
    for (int c = 0; c < s->C && !st; c++) st = duet_stft_stream_finish(s->sis[c], err);
    if (st) return fail(s, st, err, "finish");
    s->finished = 1;
    s->tm = min_count(s->m_count, s->C);
    s->ti = min_count(s->i_count, s->C);
    st = pump_chunks(s, err);
    if (!st) st = pump_input(s, err);
    if (!st && s->wiener > 0) st = pump_wiener(s, err);
    s->ist_finishing = 1;
    for (int c = 0; c < s->C && !st; c++) {
        duet_err e2 = {0};
        duet_status fs = duet_istft_stream_finish(s->ist[c], &e2);
        if (s->cb_status) st = s->cb_status;
        else if (fs && s->v_count[c] != s->n_in) st = duet_err_set(err, fs, "%s", e2.msg);
    }
    if (!st) st = pump_output(s, err);
    if (!st && s->n_out != s->n_in)
        st = duet_err_set(err, DUET_ERR_INTERNAL, "separation delivered %lld of %lld frames", (long long)s->n_out,
                          (long long)s->n_in);
    if (st) return fail(s, st, err, "finish");
    return DUET_OK;
}

/* ---- in memory, through the stream ------------------------------------- */

typedef struct collect_ctx {
    duet_audio *voc, *acc;
    int64_t at;
} collect_ctx;

static int collect(void *user, const float *const *mix, const float *const *voc, const float *const *acc, int64_t n)
{
    collect_ctx *cx = user;
    (void)mix;
    if (cx->at + n > cx->voc->frames) return 1;
    for (int c = 0; c < cx->voc->channels; c++) {
        memcpy(cx->voc->ch[c] + cx->at, voc[c], sizeof(float) * (size_t)n);
        memcpy(cx->acc->ch[c] + cx->at, acc[c], sizeof(float) * (size_t)n);
    }
    cx->at += n;
    return 0;
}

duet_status duet_sepnet_separate(const sepnet *m, const duet_audio *mix, const duet_sepnet_sep_opts *o,
                            duet_audio *voc, duet_audio *acc, duet_err *err)
{
    memset(voc, 0, sizeof *voc);
    memset(acc, 0, sizeof *acc);
    if (mix->channels < 1 || mix->channels > MAX_CH || mix->sample_rate <= 0)
        return duet_err_set(err, DUET_ERR_ARG, "audio with %d channels at %d Hz", mix->channels, mix->sample_rate);
    duet_status st = duet_audio_alloc(voc, mix->channels, mix->frames, mix->sample_rate);
    if (!st) st = duet_audio_alloc(acc, mix->channels, mix->frames, mix->sample_rate);
    if (st) {
        duet_audio_free(voc);
        return duet_err_set(err, st, "out of memory for the stems");
    }
    collect_ctx cx = {voc, acc, 0};
    duet_sepnet_stream *s = NULL;
    st = duet_sepnet_stream_new(m, mix->channels, mix->sample_rate, o, collect, &cx, &s, err);
    for (int64_t off = 0; off < mix->frames && !st; off += SEP_BLOCK) {
        int64_t k = mix->frames - off < SEP_BLOCK ? mix->frames - off : SEP_BLOCK;
        const float *pp[MAX_CH];
        for (int c = 0; c < mix->channels; c++) pp[c] = mix->ch[c] + off;
        st = duet_sepnet_stream_feed(s, pp, k, err);
        if (!st && o && o->progress) duet_progress_update(o->progress, (double)(off + k), NULL);
    }
    if (!st) st = duet_sepnet_stream_finish(s, err);
    duet_sepnet_stream_free(s);
    if (st) {
        duet_audio_free(voc);
        duet_audio_free(acc);
    }
    return st;
}
