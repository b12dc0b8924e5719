/* separation/separators.c: the separator table, the shared STFT-mask
 * machinery, and the `mixture` floor and oracle-mask separators (see
 * separators.h for their definitions). */
#include "separators.h"
#include "../audio/stft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DUET_SEPARATOR(sym) extern const duet_separator sym;
#include "separators.def"
#undef DUET_SEPARATOR

static const duet_separator *const table[] = {
#define DUET_SEPARATOR(sym) &sym,
#include "separators.def"
#undef DUET_SEPARATOR
};
static const int n_table = (int)(sizeof table / sizeof table[0]);

const duet_separator *duet_separator_find(const char *name)
{
    if (!name) return NULL;
    for (int i = 0; i < n_table; i++)
        if (strcmp(table[i]->name, name) == 0) return table[i];
    return NULL;
}

const duet_separator *duet_separator_at(int i) { return (i >= 0 && i < n_table) ? table[i] : NULL; }

const duet_separator *duet_separator_default(void)
{
    const duet_separator *best = NULL;
    for (int i = 0; i < n_table; i++)
        if (!best || table[i]->default_rank > best->default_rank) best = table[i];
    return best;
}

static duet_status check_audio(const duet_audio *a, const char *what, duet_err *err)
{
    for (int c = 0; c < a->channels; c++)
        for (int64_t i = 0; i < a->frames; i++)
            if (!isfinite(a->ch[c][i]))
                return duet_err_set(err, DUET_ERR_NAN, "%s: non-finite sample in channel %d at frame %lld", what, c,
                                    (long long)i);
    return DUET_OK;
}

duet_status duet_sep_check_input(const duet_separator *sep, const duet_sep_input *in, duet_err *err)
{
    if (!in || !in->mixture || !in->mixture->ch) return duet_err_set(err, DUET_ERR_ARG, "no mixture");
    const duet_audio *m = in->mixture;
    if (m->frames < 1) return duet_err_set(err, DUET_ERR_EMPTY, "the mixture has no samples");
    duet_status st = check_audio(m, "mixture", err);
    if (st) return st;
    if (sep && sep->needs_references) {
        const duet_audio *r[2] = {in->ref_vocals, in->ref_accompaniment};
        const char *nm[2] = {"vocals reference", "accompaniment reference"};
        for (int i = 0; i < 2; i++) {
            if (!r[i] || !r[i]->ch)
                return duet_err_set(err, DUET_ERR_ARG, "method %s needs the reference stems (evaluation only)", sep->name);
            if (r[i]->sample_rate != m->sample_rate || r[i]->channels != m->channels || r[i]->frames != m->frames)
                return duet_err_set(err, DUET_ERR_SHAPE,
                                    "%s (%d Hz, %d ch, %lld frames) does not match the mixture (%d Hz, %d ch, %lld frames)",
                                    nm[i], r[i]->sample_rate, r[i]->channels, (long long)r[i]->frames, m->sample_rate,
                                    m->channels, (long long)m->frames);
            st = check_audio(r[i], nm[i], err);
            if (st) return st;
        }
    }
    return DUET_OK;
}

duet_status duet_separate_once(const duet_separator *sep, const duet_sep_config *cfg, const duet_sep_input *in,
                               duet_audio *vocals, duet_audio *accompaniment, duet_err *err)
{
    memset(vocals, 0, sizeof *vocals);
    memset(accompaniment, 0, sizeof *accompaniment);
    duet_status st = duet_sep_check_input(sep, in, err);
    if (st) return st;
    duet_sep_config def;
    memset(&def, 0, sizeof def);
    void *state = NULL;
    if (sep->open) {
        st = sep->open(cfg ? cfg : &def, &state, err);
        if (st) return st;
    }
    st = sep->run(state, in, vocals, accompaniment, err);
    if (sep->close) sep->close(state);
    return st;
}

int duet_sep_nfft_for(int rate, double seconds)
{
    double want = rate * seconds;
    int n = 64;
    while (n * 2 <= 1 << 20 && fabs(log2(n * 2.0) - log2(want)) <= fabs(log2((double)n) - log2(want))) n *= 2;
    return n;
}

duet_status duet_sep_apply_mask(const duet_audio *mix, int n_fft, int hop, duet_sep_mask_fn fn, void *ctx,
                                duet_audio *vocals, duet_audio *accompaniment, duet_err *err)
{
    memset(vocals, 0, sizeof *vocals);
    memset(accompaniment, 0, sizeof *accompaniment);
    int C = mix->channels;
    int64_t n = mix->frames;
    duet_stft *s = NULL;
    duet_status st = duet_stft_new(n_fft, hop, DUET_WIN_HANN, &s, err);
    if (st) return st;
    int64_t T = duet_stft_n_frames(s, n);
    int F = duet_stft_n_bins(s);
    size_t sz = (size_t)T * (size_t)F;
    float **spec = calloc((size_t)C, sizeof(float *));
    float **mask = calloc((size_t)C, sizeof(float *));
    if (!spec || !mask) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "separate: out of memory");
        goto done;
    }
    for (int c = 0; c < C; c++) {
        spec[c] = malloc(sizeof(float) * sz * 2);
        mask[c] = malloc(sizeof(float) * sz);
        if (!spec[c] || !mask[c]) {
            st = duet_err_set(err, DUET_ERR_NOMEM, "separate: out of memory (%lld frames)", (long long)T);
            goto done;
        }
        st = duet_stft_forward(s, mix->ch[c], n, spec[c], err);
        if (st) goto done;
    }
    st = fn(ctx, mix, spec, T, F, mask, err);
    if (st) goto done;
    st = duet_audio_alloc(vocals, C, n, mix->sample_rate);
    if (!st) st = duet_audio_alloc(accompaniment, C, n, mix->sample_rate);
    if (st) {
        st = duet_err_set(err, st, "separate: cannot allocate the stems");
        goto done;
    }
    for (int c = 0; c < C; c++) {
        for (size_t i = 0; i < sz; i++) {
            float m = mask[c][i];
            m = m < 0 ? 0 : m > 1 ? 1 : m;
            spec[c][2 * i] *= m;
            spec[c][2 * i + 1] *= m;
        }
        st = duet_stft_inverse(s, spec[c], T, vocals->ch[c], n, err);
        if (st) goto done;
        for (int64_t i = 0; i < n; i++) accompaniment->ch[c][i] = mix->ch[c][i] - vocals->ch[c][i];
    }
done:
    if (st) {
        duet_audio_free(vocals);
        duet_audio_free(accompaniment);
    }
    for (int c = 0; c < C && spec; c++) free(spec[c]);
    for (int c = 0; c < C && mask; c++) free(mask[c]);
    free(spec);
    free(mask);
    duet_stft_free(s);
    return st;
}

/* ---- mixture ---------------------------------------------------------- */

static duet_status mixture_run(void *state, const duet_sep_input *in, duet_audio *v, duet_audio *a, duet_err *err)
{
    (void)state;
    const duet_audio *m = in->mixture;
    memset(v, 0, sizeof *v);
    memset(a, 0, sizeof *a);
    if (duet_audio_alloc(v, m->channels, m->frames, m->sample_rate) ||
        duet_audio_alloc(a, m->channels, m->frames, m->sample_rate)) {
        duet_audio_free(v);
        duet_audio_free(a);
        return duet_err_set(err, DUET_ERR_NOMEM, "separate: out of memory");
    }
    for (int c = 0; c < m->channels; c++)
        for (int64_t i = 0; i < m->frames; i++) {
            v->ch[c][i] = 0.5f * m->ch[c][i];
            a->ch[c][i] = m->ch[c][i] - v->ch[c][i];
        }
    return DUET_OK;
}

const duet_separator duet_sep_mixture = {"mixture", "the floor: each stem is half the mixture", 0, 0, NULL,
                                         mixture_run, NULL, NULL, NULL, NULL, NULL, NULL};

/* ---- oracle masks ----------------------------------------------------- */

typedef struct oracle_ctx {
    int kind; /* 1 = IRM (magnitude), 2 = IRM2 (power), 0 = IBM */
    const duet_sep_input *in;
    int n_fft, hop;
} oracle_ctx;

static duet_status oracle_mask(void *vctx, const duet_audio *mix, float *const *spec, int64_t T, int F,
                               float *const *mask, duet_err *err)
{
    (void)spec;
    oracle_ctx *o = vctx;
    duet_stft *s = NULL;
    duet_status st = duet_stft_new(o->n_fft, o->hop, DUET_WIN_HANN, &s, err);
    if (st) return st;
    size_t sz = (size_t)T * F;
    float *sv = malloc(sizeof(float) * sz * 2), *sa = malloc(sizeof(float) * sz * 2);
    if (!sv || !sa) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "separate: out of memory");
        goto done;
    }
    for (int c = 0; c < mix->channels; c++) {
        st = duet_stft_forward(s, o->in->ref_vocals->ch[c], mix->frames, sv, err);
        if (!st) st = duet_stft_forward(s, o->in->ref_accompaniment->ch[c], mix->frames, sa, err);
        if (st) goto done;
        for (size_t i = 0; i < sz; i++) {
            double pv = (double)sv[2 * i] * sv[2 * i] + (double)sv[2 * i + 1] * sv[2 * i + 1];
            double pa = (double)sa[2 * i] * sa[2 * i] + (double)sa[2 * i + 1] * sa[2 * i + 1];
            double m;
            if (o->kind == 0)
                m = pv > pa ? 1.0 : 0.0;
            else if (o->kind == 2)
                m = pv + pa > 0 ? pv / (pv + pa) : 0.5;
            else {
                double av = sqrt(pv), aa = sqrt(pa);
                m = av + aa > 0 ? av / (av + aa) : 0.5;
            }
            mask[c][i] = (float)m;
        }
    }
done:
    free(sv);
    free(sa);
    duet_stft_free(s);
    return st;
}

static duet_status oracle_run(int kind, const duet_sep_input *in, duet_audio *v, duet_audio *a, duet_err *err)
{
    duet_status st = duet_sep_check_input(&duet_sep_oracle_irm, in, err);
    if (st) return st;
    int nfft = duet_sep_nfft_for(in->mixture->sample_rate, 0.064);
    oracle_ctx o = {kind, in, nfft, nfft / 4};
    return duet_sep_apply_mask(in->mixture, nfft, nfft / 4, oracle_mask, &o, v, a, err);
}

static duet_status irm_run(void *s, const duet_sep_input *in, duet_audio *v, duet_audio *a, duet_err *err)
{
    (void)s;
    return oracle_run(1, in, v, a, err);
}
static duet_status irm2_run(void *s, const duet_sep_input *in, duet_audio *v, duet_audio *a, duet_err *err)
{
    (void)s;
    return oracle_run(2, in, v, a, err);
}
static duet_status ibm_run(void *s, const duet_sep_input *in, duet_audio *v, duet_audio *a, duet_err *err)
{
    (void)s;
    return oracle_run(0, in, v, a, err);
}

const duet_separator duet_sep_oracle_irm = {"oracle-irm", "oracle magnitude ratio mask |V|/(|V|+|A|) (needs references)",
                                            1, 0, NULL, irm_run, NULL, NULL, NULL, NULL, NULL, NULL};
const duet_separator duet_sep_oracle_irm2 = {"oracle-irm2", "oracle power ratio mask (SiSEC IRM2; needs references)", 1,
                                             0, NULL, irm2_run, NULL, NULL, NULL, NULL, NULL, NULL};
const duet_separator duet_sep_oracle_ibm = {"oracle-ibm", "oracle binary mask |V| > |A| (needs references)", 1, 0, NULL,
                                            ibm_run, NULL, NULL, NULL, NULL, NULL, NULL};
