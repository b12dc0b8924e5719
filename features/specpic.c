/* features/specpic.c: bounded-memory spectrogram pictures (see specpic.h). */
#include "specpic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../audio/stft.h"
#include "mel.h"
#include "png.h"

#define MAX_COLS 1600
#define N_MELS 128
#define MAX_PANELS 8
#define BLOCK 4096

typedef struct panel {
    struct duet_specpic *sp;
    duet_stft_stream *st;
    double *cols;      /* MAX_COLS * N_MELS mel power sums */
    int64_t *cnt;      /* frames per column so far */
    int64_t frames;    /* STFT frames seen */
    int64_t fed;
} panel;

struct duet_specpic {
    int n_panels, channels, rate, n_fft, hop, n_bins;
    int64_t fpc;       /* frames per column */
    duet_stft *stft;
    duet_melfb *fb;
    float *mono, *pow, *mel;
    panel p[MAX_PANELS];
};

void duet_specpic_free(duet_specpic *sp)
{
    if (!sp) return;
    for (int i = 0; i < sp->n_panels; i++) {
        duet_stft_stream_free(sp->p[i].st);
        free(sp->p[i].cols);
        free(sp->p[i].cnt);
    }
    duet_stft_free(sp->stft);
    duet_melfb_free(sp->fb);
    free(sp->mono);
    free(sp->pow);
    free(sp->mel);
    free(sp);
}

/* Merge neighbouring column pairs of every panel (all panels share fpc). */
static void merge_pairs(duet_specpic *sp, panel *pn)
{
    for (int c = 0; c < MAX_COLS / 2; c++) {
        double *d = pn->cols + (size_t)c * N_MELS;
        const double *a = pn->cols + (size_t)(2 * c) * N_MELS, *b = a + N_MELS;
        for (int m = 0; m < N_MELS; m++) d[m] = a[m] + b[m];
        pn->cnt[c] = pn->cnt[2 * c] + pn->cnt[2 * c + 1];
    }
    memset(pn->cols + (size_t)(MAX_COLS / 2) * N_MELS, 0, sizeof(double) * (MAX_COLS / 2) * N_MELS);
    memset(pn->cnt + MAX_COLS / 2, 0, sizeof(int64_t) * (MAX_COLS / 2));
    (void)sp;
}

static int on_frame(void *user, int64_t t, const float *frame)
{
    panel *pn = user;
    duet_specpic *sp = pn->sp;
    /* column of frame t at the panel's own resolution (panels merge when they reach the cap) */
    int64_t fpc = 1;
    while (t / fpc >= MAX_COLS) fpc *= 2;
    /* the resolution of the previous frame; merge up to fpc (frames come in order) */
    int64_t cur = 1;
    if (pn->frames > 0)
        while ((pn->frames - 1) / cur >= MAX_COLS) cur *= 2;
    while (cur < fpc) {
        merge_pairs(sp, pn);
        cur *= 2;
    }
    for (int k = 0; k < sp->n_bins; k++) sp->pow[k] = frame[2 * k] * frame[2 * k] + frame[2 * k + 1] * frame[2 * k + 1];
    duet_melfb_apply(sp->fb, sp->pow, sp->mel);
    double *col = pn->cols + (size_t)(t / fpc) * N_MELS;
    for (int m = 0; m < N_MELS; m++) col[m] += sp->mel[m];
    pn->cnt[t / fpc]++;
    pn->frames = t + 1;
    return 0;
}

duet_status duet_specpic_new(int n_panels, int channels, int sample_rate, duet_specpic **out, duet_err *err)
{
    if (!out) return duet_err_set(err, DUET_ERR_ARG, "no output handle given");
    *out = NULL;
    if (n_panels < 1 || n_panels > MAX_PANELS || channels < 1 || channels > 1024 || sample_rate <= 0)
        return duet_err_set(err, DUET_ERR_ARG, "spectrogram of %d panels, %d channels at %d Hz", n_panels, channels,
                            sample_rate);
    duet_specpic *sp = calloc(1, sizeof *sp);
    if (!sp) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    sp->n_panels = n_panels;
    sp->channels = channels;
    sp->rate = sample_rate;
    double want = sample_rate * 2048.0 / 22050.0;
    int nf = 64;
    while (nf * 2 <= 65536 && fabs(log2(nf * 2.0) - log2(want)) <= fabs(log2((double)nf) - log2(want))) nf *= 2;
    sp->n_fft = nf;
    sp->hop = nf / 4;
    sp->n_bins = nf / 2 + 1;
    duet_status st = duet_stft_new(sp->n_fft, sp->hop, DUET_WIN_HANN, &sp->stft, err);
    if (!st) st = duet_melfb_new(sample_rate, sp->n_fft, N_MELS, 0, 0, &sp->fb, err);
    sp->mono = malloc(sizeof(float) * BLOCK);
    sp->pow = malloc(sizeof(float) * (size_t)sp->n_bins);
    sp->mel = malloc(sizeof(float) * N_MELS);
    if (!st && (!sp->mono || !sp->pow || !sp->mel)) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n_panels && !st; i++) {
        panel *pn = &sp->p[i];
        pn->sp = sp;
        pn->cols = calloc((size_t)MAX_COLS * N_MELS, sizeof(double));
        pn->cnt = calloc(MAX_COLS, sizeof(int64_t));
        if (!pn->cols || !pn->cnt) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        if (!st) st = duet_stft_stream_new(sp->stft, on_frame, pn, &pn->st, err);
    }
    if (st) {
        duet_specpic_free(sp);
        return st;
    }
    *out = sp;
    return DUET_OK;
}

duet_status duet_specpic_feed(duet_specpic *sp, int p, const float *const *ch, int64_t n, duet_err *err)
{
    if (!sp || p < 0 || p >= sp->n_panels || n < 0 || (n > 0 && !ch))
        return duet_err_set(err, DUET_ERR_ARG, "invalid spectrogram arguments");
    panel *pn = &sp->p[p];
    for (int64_t off = 0; off < n; off += BLOCK) {
        int64_t k = n - off < BLOCK ? n - off : BLOCK;
        for (int64_t i = 0; i < k; i++) {
            double s = 0;
            for (int c = 0; c < sp->channels; c++) s += ch[c][off + i];
            sp->mono[i] = (float)(s / sp->channels);
        }
        duet_status st = duet_stft_stream_feed(pn->st, sp->mono, k, err);
        if (st) return st;
    }
    pn->fed += n;
    return DUET_OK;
}

duet_status duet_specpic_write(duet_specpic *sp, const char *path, const char *const *titles, duet_err *err)
{
    if (!sp || !path) return duet_err_set(err, DUET_ERR_ARG, "invalid spectrogram arguments");
    duet_spec_panel panels[MAX_PANELS];
    float *db[MAX_PANELS] = {0};
    duet_status st = DUET_OK;
    for (int i = 0; i < sp->n_panels && !st; i++) {
        panel *pn = &sp->p[i];
        if (pn->fed == 0) {
            st = duet_err_set(err, DUET_ERR_ARG, "spectrogram panel %d has no audio", i);
            break;
        }
        st = duet_stft_stream_finish(pn->st, err);
        if (st) break;
        int64_t fpc = 1;
        while ((pn->frames - 1) / fpc >= MAX_COLS) fpc *= 2;
        int64_t ncol = (pn->frames + fpc - 1) / fpc;
        db[i] = malloc(sizeof(float) * (size_t)ncol * N_MELS);
        if (!db[i]) {
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            break;
        }
        for (int64_t c = 0; c < ncol; c++)
            for (int m = 0; m < N_MELS; m++) {
                double v = pn->cnt[c] ? pn->cols[(size_t)c * N_MELS + m] / pn->cnt[c] : 0;
                db[i][(size_t)c * N_MELS + m] = (float)(10.0 * log10(v > 1e-10 ? v : 1e-10));
            }
        panels[i].title = titles ? titles[i] : NULL;
        panels[i].mel_db = db[i];
        panels[i].n_frames = ncol;
        panels[i].n_mels = N_MELS;
        panels[i].seconds_per_frame = (double)fpc * sp->hop / sp->rate;
        panels[i].fmin = 0;
        panels[i].fmax = sp->rate / 2.0;
    }
    if (!st) st = duet_png_spectrogram(path, panels, sp->n_panels, 0, 0, err);
    for (int i = 0; i < sp->n_panels; i++) free(db[i]);
    return st;
}
