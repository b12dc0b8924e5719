/* separation/repet.c: REPET-SIM (Z. Rafii and B. Pardo, "Music/voice
 * separation using the similarity matrix", ISMIR 2012).
 *
 * The repeating background is modelled frame by frame from the frames most
 * similar to it, wherever they are in the song:
 * 1. STFT with a window of 2^ceil(log2(40 ms)) samples (1024 at 16 kHz,
 *    2048 at 44.1 kHz) and hop window/2, as in Rafii's implementation.
 * 2. Similarity matrix S = cosine similarity between the magnitude frames
 *    of the channel-mean spectrogram (one sgemm).
 * 3. For each frame j, the repeating frames are picked greedily by
 *    decreasing similarity, at least 1 s apart from each other (frame j
 *    itself, with similarity 1, comes first), similarity >= 0, at most 100
 *    (Rafii's defaults: threshold 0, distance 1 s, 100 frames).
 * 4. Repeating model W = median over those frames of each channel's
 *    magnitudes, W = min(W, V); background mask W / V; below 100 Hz the
 *    mixture is assigned to the background (Rafii's high-pass cutoff for
 *    the foreground). Vocals = (1 - background mask) on the mixture STFT. */
#include "separators.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REPET_MAX_FRAMES 100
#define REPET_MIN_DIST_S 1.0
#define REPET_THRESHOLD 0.0f
#define REPET_CUTOFF_HZ 100.0

typedef struct repet_ctx {
    int n_fft, hop;
} repet_ctx;

typedef struct sim_item {
    float s;
    int t;
} sim_item;

static int cmp_sim_desc(const void *a, const void *b)
{
    const sim_item *x = a, *y = b;
    if (x->s > y->s) return -1;
    if (x->s < y->s) return 1;
    return x->t - y->t;
}

/* median of v[0..m) (mean of the two middle values when m is even); v is reordered */
static float select_k(float *v, int m, int k)
{
    int lo = 0, hi = m - 1;
    while (lo < hi) {
        float p = v[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < p) i++;
            while (v[j] > p) j--;
            if (i <= j) {
                float t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return v[k];
}

static float median_f(float *v, int m)
{
    if (m == 1) return v[0];
    float a = select_k(v, m, m / 2);
    if (m % 2) return a;
    /* the largest of the lower half */
    float b = v[0];
    for (int i = 1; i < m / 2; i++)
        if (v[i] > b) b = v[i];
    return 0.5f * (a + b);
}

static duet_status repet_mask(void *vctx, const duet_audio *mix, float *const *spec, int64_t T64, int F,
                              float *const *mask, duet_err *err)
{
    repet_ctx *rc = vctx;
    int C = mix->channels;
    if (T64 > 200000) return duet_err_set(err, DUET_ERR_RANGE, "repet-sim: %lld frames is too long", (long long)T64);
    int T = (int)T64;
    size_t sz = (size_t)T * F;
    float *vm = calloc(sz, sizeof(float));
    float *S = malloc(sizeof(float) * (size_t)T * T);
    int *idx = malloc(sizeof(int) * (size_t)T * REPET_MAX_FRAMES);
    int *cnt = malloc(sizeof(int) * (size_t)T);
    sim_item *row = malloc(sizeof(sim_item) * (size_t)T);
    float *buf = malloc(sizeof(float) * REPET_MAX_FRAMES);
    duet_status st = DUET_OK;
    if (!vm || !S || !idx || !cnt || !row || !buf) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "repet-sim: out of memory (%d frames)", T);
        goto done;
    }
    /* channel-mean magnitudes, each frame normalised to unit length */
    for (int c = 0; c < C; c++)
        for (size_t i = 0; i < sz; i++) vm[i] += hypotf(spec[c][2 * i], spec[c][2 * i + 1]) / C;
    for (int t = 0; t < T; t++) {
        double nrm = 0;
        for (int k = 0; k < F; k++) nrm += (double)vm[(size_t)t * F + k] * vm[(size_t)t * F + k];
        float inv = nrm > 0 ? (float)(1.0 / sqrt(nrm)) : 0.0f;
        for (int k = 0; k < F; k++) vm[(size_t)t * F + k] *= inv;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, F, 1.0f, vm, F, vm, F, 0.0f, S, T);
    int dist = (int)lround(REPET_MIN_DIST_S * mix->sample_rate / rc->hop);
    if (dist < 1) dist = 1;
    for (int j = 0; j < T; j++) {
        int m = 0;
        for (int t = 0; t < T; t++) {
            float s = t == j ? 2.0f : S[(size_t)j * T + t]; /* the frame itself first */
            if (s >= REPET_THRESHOLD) row[m++] = (sim_item){s, t};
        }
        qsort(row, (size_t)m, sizeof *row, cmp_sim_desc);
        int got = 0;
        for (int i = 0; i < m && got < REPET_MAX_FRAMES; i++) {
            int ok = 1;
            for (int q = 0; q < got && ok; q++)
                if (abs(idx[(size_t)j * REPET_MAX_FRAMES + q] - row[i].t) < dist) ok = 0;
            if (ok) idx[(size_t)j * REPET_MAX_FRAMES + got++] = row[i].t;
        }
        cnt[j] = got;
    }
    int cut = (int)ceil(REPET_CUTOFF_HZ * rc->n_fft / mix->sample_rate);
    for (int c = 0; c < C; c++)
        for (int j = 0; j < T; j++)
            for (int k = 0; k < F; k++) {
                size_t i = (size_t)j * F + k;
                float v = hypotf(spec[c][2 * i], spec[c][2 * i + 1]);
                if (k < cut || v <= 0) {
                    mask[c][i] = 0.0f;
                    continue;
                }
                int m = cnt[j];
                for (int q = 0; q < m; q++) {
                    size_t ii = (size_t)idx[(size_t)j * REPET_MAX_FRAMES + q] * F + k;
                    buf[q] = hypotf(spec[c][2 * ii], spec[c][2 * ii + 1]);
                }
                float w = median_f(buf, m);
                if (w > v) w = v;
                mask[c][i] = 1.0f - w / v;
            }
done:
    free(vm);
    free(S);
    free(idx);
    free(cnt);
    free(row);
    free(buf);
    return st;
}

static duet_status repet_run(void *state, const duet_sep_input *in, duet_audio *v, duet_audio *a, duet_err *err)
{
    (void)state;
    duet_status st = duet_sep_check_input(NULL, in, err);
    if (st) return st;
    int rate = in->mixture->sample_rate;
    int n = 64;
    while (n < 0.04 * rate) n *= 2;
    repet_ctx rc = {n, n / 2};
    return duet_sep_apply_mask(in->mixture, rc.n_fft, rc.hop, repet_mask, &rc, v, a, err);
}

const duet_separator duet_sep_repet_sim = {"repet-sim", "REPET-SIM: repeating background from similar frames (Rafii & Pardo 2012)",
                                           0, 1, NULL, repet_run, NULL, NULL, NULL, NULL, NULL, NULL};
