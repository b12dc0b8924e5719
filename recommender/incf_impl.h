/* recommender/incf_impl.h: internals shared by the files of the deep
 * network (incf.c: configuration and training; incf_net.c: dimensions,
 * parameters, forward/backward, scoring; incf_inputs.c: tokens, word2vec,
 * friends and features; incf_io.c: fold-in, similar items, files). Not
 * installed, not part of the API. */
#ifndef DUET_RECOMMENDER_INCF_IMPL_H
#define DUET_RECOMMENDER_INCF_IMPL_H

#include <stdint.h>

#include "../nn/tensor.h"
#include "incf.h"

#define INCF_BATCH 256
#define INCF_MAX_TOK 32    /* tokens per item and family */
#define INCF_MAX_FRIENDS 32
#define INCF_VALID_USERS 500
#define INCF_FORMAT "duet-rec-incf"
#define PHASE_REFIT 100000
#define INCF_MIN_STEPS 4000 /* Adam steps before early stopping may choose an epoch (auto min_epochs) */
#define INCF_ES_N 6         /* es.state: best smoothed value, best epoch, epochs without gain, stop, v(e-1), v(e-2) */


/* tensor slots (index into P, -1 when absent) */
enum {
    S_UID, S_IID, S_TOK, S_UG0W, S_UG0B, S_UG1W, S_UG1B, S_IG0W, S_IG0B, S_IG1W, S_IG1B,
    S_M0W, S_M0B, S_M1W, S_M1B, S_OW, S_OB, S_FW, S_FB, S_ES, S_N
};

struct duet_rec_incf {
    duet_rec_incf_config c;
    int32_t nu, ni, nt;
    int d, dw, H1, H2, Ho, Dz;
    int use_group, use_outer, use_content, learn_tok;
    int has_ut, has_fr, has_ia, has_kg, nf;
    int Du, Di, DmU, DmI;
    /* inputs (training models only) */
    duet_rec_csr itok_a, itok_kg, utok, fr; /* values: normalised weights */
    float *feats;                      /* ni x nf, standardised, 0 where absent */
    uint8_t *has_feats;                /* ni */
    uint8_t *warm;                     /* ni: item had training interactions */
    duet_rec_csr seen;                      /* the fit matrix (binary) */
    duet_params *P;
    int slot[S_N];
    int n_live;                        /* tensors before the best.* copies */
    /* scoring representations */
    float *ua, *um, *ia, *im, *C1;     /* nu x d, nu x DmU, ni x d, ni x DmI, ni x H1 */
    char **user_ids, **item_ids, **item_names;
    char desc[320];
    int best_epoch;
    double best_valid;
};

extern const char *const duet_incf_variant_name[5];

typedef struct duet_incf_buf {
    int B;
    float *xu, *xi, *hu, *gu, *hi, *gi, *gmf, *min, *h1, *h2, *op, *o, *z, *lg;
    float *dxu, *dxi, *dhu, *dgu, *dhi, *dgi, *dau, *dai, *dmu, *dmi, *dmin, *dh1, *dh2, *dop, *do_, *dz, *dlg;
    float *mem;
} duet_incf_buf;

/* The tensor of slot s (NULL when absent) and its gradient in gbase. */
static inline float *incf_T(const duet_rec_incf *m, int s)
{
    return m->slot[s] < 0 ? NULL : duet_params_data(m->P, (size_t)m->slot[s]);
}
static inline float *incf_G(const duet_rec_incf *m, float *gbase, int s)
{
    return m->slot[s] < 0 || !gbase ? NULL : gbase + m->P->info[m->slot[s]].offset;
}

/* incf_net.c */
void duet_incf_set_dims(duet_rec_incf *m);
duet_status duet_incf_build_params(duet_rec_incf *m, int training, duet_err *err);
duet_status duet_incf_buf_init(duet_incf_buf *b, const duet_rec_incf *m, int B, duet_err *err);
void duet_incf_buf_free(duet_incf_buf *b);
void duet_incf_head_fwd(const duet_rec_incf *m, duet_incf_buf *b, const float *au, const float *ai, const float *mu,
                        const float *mi, int B);
void duet_incf_head_bwd(const duet_rec_incf *m, float *gbase, duet_incf_buf *b, const float *au, const float *ai,
                        float *dau, float *dai, float *dmu, float *dmi, int B);
double duet_incf_batch_step(const duet_rec_incf *m, duet_incf_buf *b, float *gbase, const int32_t *u, const int32_t *it,
                            const uint8_t *drop, const float *y, int B);
duet_status duet_incf_compute_reps(duet_rec_incf *m, duet_err *err);
size_t duet_incf_score_scratch(const duet_rec_incf *m);
double duet_incf_valid_ndcg(const duet_rec_incf *m, const duet_rec_csr *train, const duet_rec_csr *valid,
                            const int32_t *vusers, int32_t nv, const uint8_t *cand, float *row, float *H, int32_t *rel);
/* incf_inputs.c */
duet_status duet_incf_prepare_inputs(duet_rec_incf *m, const duet_rec_fit_ctx *ctx, duet_err *err);
/* incf.c */
void duet_incf_free_strs(char **s, int32_t n);

#endif
