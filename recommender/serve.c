/* recommender/serve.c: model files and serving for every model of the
 * table (see serve.h). */
#include "serve.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/atomic_file.h"
#include "../common/strmap.h"
#include "../nn/safetensors.h"
#include "fused.h"
#include "incf.h"
#include "metrics.h"
#include "state_io.h"

#define SERVE_FORMAT "duet-rec-model"

struct duet_rec_served {
    const duet_rec_model_def *m;
    duet_rec_params p;
    void *state;
    duet_rec_csr train;
    int32_t nu, ni;
    char **user_ids, **item_ids, **item_names;
    char desc[512];
};


void duet_rec_served_free(duet_rec_served *s)
{
    if (!s) return;
    if (s->m && s->state) s->m->free_state(s->state);
    duet_rec_csr_free(&s->train);
    duet_rec_free_lines(s->user_ids, s->nu);
    duet_rec_free_lines(s->item_ids, s->ni);
    duet_rec_free_lines(s->item_names, s->ni);
    free(s);
}

const duet_rec_model_def *duet_rec_served_model(const duet_rec_served *s) { return s->m; }
const duet_rec_params *duet_rec_served_params(const duet_rec_served *s) { return &s->p; }
int32_t duet_rec_served_n_users(const duet_rec_served *s) { return s->nu; }
int32_t duet_rec_served_n_items(const duet_rec_served *s) { return s->ni; }
const char *duet_rec_served_describe(const duet_rec_served *s) { return s->desc; }
const char *duet_rec_served_user_id(const duet_rec_served *s, int32_t u)
{
    return u >= 0 && u < s->nu ? s->user_ids[u] : NULL;
}
const char *duet_rec_served_item_id(const duet_rec_served *s, int32_t i)
{
    return i >= 0 && i < s->ni ? s->item_ids[i] : NULL;
}
const char *duet_rec_served_item_name(const duet_rec_served *s, int32_t i)
{
    return i >= 0 && i < s->ni && s->item_names[i][0] ? s->item_names[i] : NULL;
}

duet_status duet_rec_served_save(const char *path, const duet_rec_model_def *m, const duet_rec_params *p,
                                 const void *state, const duet_rec_csr *train, const char *const *user_ids,
                                 const char *const *item_ids, const char *const *item_names, duet_err *err)
{
    duet_st_writer *w = NULL;
    duet_status st = duet_st_writer_new(&w, err);
    if (st) return st;
    float pv[9] = {(float)p->weighting, (float)p->k, (float)p->dim, (float)p->epochs, p->lr, p->reg, p->alpha,
                   p->shrink, p->decay};
    char cfg[256];
    duet_rec_params_describe(m, p, cfg, sizeof cfg);
    st = duet_rec_st_put(w, "", "params", DUET_ST_F32, 9, 0, pv, err);
    if (!st) st = duet_rec_st_put_csr(w, "", "train", train, err);
    if (!st) st = duet_rec_state_export(m, state, w, "state.", err);
    if (!st) st = duet_st_writer_meta(w, "format", SERVE_FORMAT, err);
    if (!st) st = duet_st_writer_meta(w, "version", "1", err);
    if (!st) st = duet_st_writer_meta(w, "model", m->name, err);
    if (!st) st = duet_st_writer_meta(w, "config", cfg, err);
    const char *const *lists[3] = {user_ids, item_ids, item_names};
    const char *keys[3] = {"user_ids", "item_ids", "item_names"};
    for (int k = 0; k < 3 && !st; k++) {
        char *j = duet_rec_join_lines(lists[k], k ? train->n_cols : train->n_rows, k == 2);
        if (!j) st = duet_err_set(err, DUET_ERR_NOMEM, "%s: out of memory", path);
        else st = duet_st_writer_meta(w, keys[k], j, err);
        free(j);
    }
    if (!st) st = duet_st_writer_save(w, path, err);
    duet_st_writer_free(w);
    return st;
}

/* A file of the first improved-NCF format, as the model improved-ncf-deep. */
static duet_status load_legacy(const char *path, duet_rec_served *s, duet_err *err)
{
    duet_rec_incf *m = NULL;
    duet_status st = duet_rec_incf_load(path, &m, err);
    if (st) return st;
    s->m = duet_rec_model_find("improved-ncf-deep");
    s->state = m;
    s->nu = duet_rec_incf_n_users(m);
    s->ni = duet_rec_incf_n_items(m);
    s->user_ids = calloc((size_t)s->nu, sizeof *s->user_ids);
    s->item_ids = calloc((size_t)s->ni, sizeof *s->item_ids);
    s->item_names = calloc((size_t)s->ni, sizeof *s->item_names);
    int64_t nnz = 0, n;
    for (int32_t u = 0; u < s->nu; u++) {
        duet_rec_incf_seen(m, u, &n);
        nnz += n;
    }
    duet_rec_triple *t = malloc((size_t)(nnz ? nnz : 1) * sizeof *t);
    if (!s->user_ids || !s->item_ids || !s->item_names || !t) {
        free(t);
        return duet_err_set(err, DUET_ERR_NOMEM, "%s: out of memory", path);
    }
    int64_t k = 0;
    for (int32_t u = 0; u < s->nu; u++) {
        const int32_t *it = duet_rec_incf_seen(m, u, &n);
        for (int64_t q = 0; q < n; q++) t[k++] = (duet_rec_triple){u, it[q], 1.0f, 0};
    }
    st = duet_rec_csr_from_triples(&s->train, s->nu, s->ni, t, nnz, 1, path, err);
    free(t);
    for (int32_t u = 0; !st && u < s->nu; u++)
        if (!(s->user_ids[u] = strdup(duet_rec_incf_user_id(m, u))))
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; !st && i < s->ni; i++) {
        const char *nm = duet_rec_incf_item_name(m, i);
        if (!(s->item_ids[i] = strdup(duet_rec_incf_item_id(m, i))) || !(s->item_names[i] = strdup(nm ? nm : "")))
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    snprintf(s->desc, sizeof s->desc, "improved-ncf-deep (%s)", duet_rec_incf_describe(m));
    return st;
}

/* Make the error message start with the file's name. */
static duet_status name_error(duet_status st, duet_err *err, const char *path)
{
    if (err && strncmp(err->msg, path, strlen(path)) != 0) {
        char tmp[sizeof err->msg];
        snprintf(tmp, sizeof tmp, "%s: %s", path, err->msg);
        snprintf(err->msg, sizeof err->msg, "%s", tmp);
    }
    return st;
}

duet_status duet_rec_served_load(const char *path, duet_rec_served **out, duet_err *err)
{
    *out = NULL;
    duet_st_file *f = NULL;
    duet_status st = duet_st_load(path, &f, err);
    if (st) return name_error(st, err, path);
    duet_rec_served *s = calloc(1, sizeof *s);
    if (!s) {
        duet_st_free(f);
        return duet_err_set(err, DUET_ERR_NOMEM, "%s: out of memory", path);
    }
    const char *fmt = duet_st_meta(f, "format"), *name = duet_st_meta(f, "model"), *cfg = duet_st_meta(f, "config");
    if (fmt && !strcmp(fmt, "duet-rec-incf")) {
        duet_st_free(f);
        st = load_legacy(path, s, err);
        if (st) duet_rec_served_free(s);
        else *out = s;
        return st ? name_error(st, err, path) : st;
    }
    if (!fmt || strcmp(fmt, SERVE_FORMAT) != 0)
        st = duet_err_set(err, DUET_ERR_FORMAT, "%s: not a duet model file (format %s)", path, fmt ? fmt : "missing");
    else if (!name || !(s->m = duet_rec_model_find(name)))
        st = duet_err_set(err, DUET_ERR_FORMAT, "%s: unknown model '%s'", path, name ? name : "(none)");
    const void *pv = NULL, *ip = NULL;
    int64_t n_ptr = 0;
    if (!st) st = duet_rec_st_get(f, "", "params", DUET_ST_F32, 9, 0, &pv, NULL, NULL, err);
    if (!st) st = duet_rec_st_get(f, "", "train.indptr", DUET_ST_I64, -1, 0, &ip, &n_ptr, NULL, err);
    if (!st) {
        const float *q = pv;
        s->p = (duet_rec_params){(int)q[0], (int)q[1], (int)q[2], (int)q[3], q[4], q[5], q[6], q[7], q[8]};
        s->nu = (int32_t)(n_ptr - 1);
        const char *ids = duet_st_meta(f, "item_ids");
        int64_t ni = 0;
        for (const char *c = ids; c && *c; c++) ni += *c == '\n';
        s->ni = (int32_t)ni;
        if (s->nu < 1 || s->ni < 1) st = duet_err_set(err, DUET_ERR_FORMAT, "%s: bad id lists in the metadata", path);
    }
    if (!st) st = duet_rec_st_get_csr(f, "", "train", s->nu, s->ni, &s->train, err);
    if (!st) st = duet_rec_state_import(s->m, f, "state.", &s->state, err);
    if (!st) {
        s->user_ids = duet_rec_split_lines(duet_st_meta(f, "user_ids"), s->nu);
        s->item_ids = duet_rec_split_lines(duet_st_meta(f, "item_ids"), s->ni);
        s->item_names = duet_rec_split_lines(duet_st_meta(f, "item_names"), s->ni);
        if (!s->user_ids || !s->item_ids || !s->item_names)
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s: bad id lists in the metadata", path);
    }
    if (!st) snprintf(s->desc, sizeof s->desc, "%s (%s)", s->m->name, cfg ? cfg : "");
    duet_st_free(f);
    if (st) {
        duet_rec_served_free(s);
        return name_error(st, err, path);
    }
    *out = s;
    return DUET_OK;
}

int32_t duet_rec_served_find_user(const duet_rec_served *s, const char *id)
{
    for (int32_t u = 0; u < s->nu; u++)
        if (!strcmp(s->user_ids[u], id)) return u;
    return -1;
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

static int icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (!n) return 0;
    for (; *hay; hay++) {
        size_t k = 0;
        while (k < n && hay[k] && tolower((unsigned char)hay[k]) == tolower((unsigned char)needle[k])) k++;
        if (k == n) return 1;
    }
    return 0;
}

int32_t duet_rec_served_find_item(const duet_rec_served *s, const char *q, int32_t *near, int max_near, int *n_near)
{
    *n_near = 0;
    for (int32_t i = 0; i < s->ni; i++)
        if (!strcmp(s->item_ids[i], q)) return i;
    for (int pass = 0; pass < 2; pass++) {
        int32_t hit = -1;
        int n = 0;
        for (int32_t i = 0; i < s->ni; i++) {
            const char *nm = s->item_names[i];
            if (!nm[0] || !(pass ? ieq(nm, q) : !strcmp(nm, q))) continue;
            if (n < max_near) near[n] = i;
            n++;
            hit = i;
        }
        if (n == 1) return hit;
        if (n > 1) {
            *n_near = n < max_near ? n : max_near;
            return -2;
        }
    }
    int n = 0;
    for (int32_t i = 0; i < s->ni && n < max_near; i++)
        if (icontains(s->item_names[i], q) || icontains(s->item_ids[i], q)) near[n++] = i;
    *n_near = n;
    return -1;
}

/* A training user's own items out of their score row. */
static void mask_own(const duet_rec_served *s, int32_t u, float *row)
{
    for (int64_t q = s->train.indptr[u]; q < s->train.indptr[u + 1]; q++) row[s->train.indices[q]] = -INFINITY;
}

duet_status duet_rec_served_score_user(const duet_rec_served *s, int32_t u, float *out, duet_err *err)
{
    if (u < 0 || u >= s->nu) return duet_err_set(err, DUET_ERR_ARG, "user index out of range");
    duet_status st = duet_rec_model_score(s->m, s->state, &s->train, &u, 1, out, err);
    if (st) return st;
    mask_own(s, u, out);
    return DUET_OK;
}

#define RECOMMEND_ALL_BATCH 256

duet_status duet_rec_served_recommend_all(const duet_rec_served *s, int k, int shard_i, int shard_n,
                                          const char *path, int64_t *n_users, duet_err *err)
{
    if (n_users) *n_users = 0;
    if (!s || !path) return duet_err_set(err, DUET_ERR_ARG, "recommend-all: NULL model or path");
    if (k < 1) return duet_err_set(err, DUET_ERR_ARG, "recommend-all: k must be >= 1");
    if (shard_n < 1 || shard_i < 1 || shard_i > shard_n)
        return duet_err_set(err, DUET_ERR_ARG, "recommend-all: shard %d/%d: expected 1 <= i <= N", shard_i, shard_n);
    int32_t ni = s->ni, kk = k < ni ? k : ni;
    /* batches of 256 users, fewer when that many score rows would pass 64 MiB */
    int64_t fit = ni > 0 ? ((int64_t)1 << 24) / ni : RECOMMEND_ALL_BATCH;
    int bmax = fit >= RECOMMEND_ALL_BATCH ? RECOMMEND_ALL_BATCH : fit > 0 ? (int)fit : 1;
    int32_t *users = malloc(sizeof *users * (size_t)bmax);
    float *scores = malloc(sizeof *scores * (size_t)bmax * (size_t)(ni > 0 ? ni : 1));
    int32_t *top = malloc(sizeof *top * (size_t)(kk > 0 ? kk : 1));
    if (!users || !scores || !top) {
        free(users);
        free(scores);
        free(top);
        return duet_err_set(err, DUET_ERR_NOMEM, "recommend-all: out of memory");
    }
    duet_atomic_file *af = NULL;
    duet_status st = duet_atomic_open(path, &af, err);
    FILE *f = st ? NULL : duet_atomic_fp(af);
    if (f && fputs("user\trank\titem\tscore\n", f) < 0) st = duet_err_set(err, DUET_ERR_IO, "%s: write failed", path);
    int64_t written = 0;
    for (int32_t u0 = 0; !st && u0 < s->nu;) {
        int nb = 0;
        for (; u0 < s->nu && nb < bmax; u0++)
            if (duet_shard_has(s->user_ids[u0], shard_i, shard_n)) users[nb++] = u0;
        if (nb == 0) break;
        st = duet_rec_model_score(s->m, s->state, &s->train, users, nb, scores, err);
        for (int b = 0; !st && b < nb; b++) {
            int32_t u = users[b];
            float *row = scores + (size_t)b * (size_t)ni;
            mask_own(s, u, row);
            int got = kk > 0 ? duet_rec_topk(row, ni, NULL, kk, top) : 0;
            for (int j = 0; j < got; j++)
                if (fprintf(f, "%s\t%d\t%s\t%.6f\n", s->user_ids[u], j + 1, s->item_ids[top[j]], (double)row[top[j]]) < 0) {
                    st = duet_err_set(err, DUET_ERR_IO, "%s: write failed", path);
                    break;
                }
            written++;
        }
    }
    if (!st) st = duet_atomic_commit(af, err);
    else if (af) duet_atomic_abort(af);
    free(users);
    free(scores);
    free(top);
    if (!st && n_users) *n_users = written;
    return st;
}

/* user-knn for a new row h: the k training users most similar (cosine of binary rows). */
static duet_status userknn_history(const duet_rec_served *s, const duet_rec_csr *h, float *out, duet_err *err)
{
    const duet_rec_csr *X = &s->train;
    int32_t nu = s->nu, ni = s->ni, k = s->p.k > 0 ? s->p.k : 50;
    uint8_t *in = calloc((size_t)ni, 1);
    float *sim = malloc((size_t)nu * sizeof *sim);
    int32_t *nb = malloc((size_t)(k < nu ? k : nu) * sizeof *nb);
    if (!in || !sim || !nb) {
        free(in);
        free(sim);
        free(nb);
        return duet_err_set(err, DUET_ERR_NOMEM, "user-knn: out of memory");
    }
    for (int64_t q = 0; q < h->nnz; q++) in[h->indices[q]] = 1;
    for (int32_t v = 0; v < nu; v++) {
        int64_t common = 0, len = X->indptr[v + 1] - X->indptr[v];
        for (int64_t q = X->indptr[v]; q < X->indptr[v + 1]; q++) common += in[X->indices[q]];
        sim[v] = common > 0 ? (float)(common / sqrt((double)len * (double)h->nnz)) : -INFINITY;
    }
    int got = duet_rec_topk(sim, nu, NULL, k < nu ? k : nu, nb);
    memset(out, 0, (size_t)ni * sizeof *out);
    for (int j = 0; j < got; j++) {
        int32_t v = nb[j];
        for (int64_t q = X->indptr[v]; q < X->indptr[v + 1]; q++)
            out[X->indices[q]] += sim[v] * duet_rec_weight(X->values[q], s->p.weighting);
    }
    free(in);
    free(sim);
    free(nb);
    return DUET_OK;
}

duet_status duet_rec_served_score_history(const duet_rec_served *s, const int32_t *items, int n, uint64_t seed,
                                          float *out, duet_err *err)
{
    if (n < 1) return duet_err_set(err, DUET_ERR_ARG, "a history needs at least one item");
    for (int k = 0; k < n; k++)
        if (items[k] < 0 || items[k] >= s->ni) return duet_err_set(err, DUET_ERR_ARG, "history item out of range");
    const char *name = s->m->name;
    duet_status st = DUET_OK;
    duet_rec_triple *t = malloc((size_t)n * sizeof *t);
    duet_rec_csr h = {0};
    if (!t) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    for (int k = 0; k < n; k++) t[k] = (duet_rec_triple){0, items[k], 1.0f, 0};
    st = duet_rec_csr_from_triples(&h, 1, s->ni, t, n, 1, "history", err);
    free(t);
    for (int64_t q = 0; !st && q < h.nnz; q++) h.values[q] = 1.0f; /* repeats count once */
    int32_t u0 = 0;
    if (st) {
    } else if (!strcmp(name, "popularity") || !strcmp(name, "item-knn") || !strcmp(name, "ease") ||
               !strcmp(name, "content")) {
        st = s->m->score(s->state, &h, &u0, 1, out, err);
    } else if (!strncmp(name, "user-knn", 8)) {
        st = userknn_history(s, &h, out, err);
    } else if (!strcmp(name, "bpr-mf") || !strcmp(name, "ials")) {
        const duet_rec_factors *f = s->state;
        float *u = malloc((size_t)f->dim * sizeof *u);
        if (!u) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        /* ials: its reg and the confidence of one play; bpr-mf: ridge with reg >= 0.1, confidence 2 */
        float reg = !strcmp(name, "ials") ? s->p.reg : (s->p.reg > 0.1f ? s->p.reg : 0.1f);
        float conf = !strcmp(name, "ials") ? 1.0f + s->p.alpha * duet_rec_weight(1.0f, s->p.weighting) : 2.0f;
        if (!st) st = duet_rec_factors_fold_in(f, h.indices, (int)h.nnz, reg, conf, u, err);
        if (!st) st = duet_rec_factors_score_vec(f, u, out);
        free(u);
    } else if (!strncmp(name, "improved-ncf-deep", 17)) {
        const duet_rec_incf *m = s->state;
        float *rep = malloc((size_t)duet_rec_incf_user_rep_len(m) * sizeof *rep);
        if (!rep) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        if (!st) st = duet_rec_incf_fold_in(m, h.indices, (int)h.nnz, seed, rep, err);
        if (!st) st = duet_rec_incf_score_rep(m, rep, out, err);
        free(rep);
    } else if (!strncmp(name, "improved-ncf", 12)) {
        st = duet_rec_fused_score_history(s->state, &s->train, h.indices, (int)h.nnz, seed, out, err);
    } else {
        st = duet_err_set(err, DUET_ERR_UNSUPPORTED,
                          "%s cannot score a new listener's history (no fold-in); use --user", name);
    }
    if (!st && !s->m->scores_cold) {
        /* as duet_rec_model_score: items without training interactions have no signal */
        uint8_t *warm = calloc((size_t)s->ni, 1);
        if (!warm) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        for (int64_t q = 0; !st && q < s->train.nnz; q++) warm[s->train.indices[q]] = 1;
        for (int32_t i = 0; !st && i < s->ni; i++)
            if (!warm[i]) out[i] = REC_COLD_SCORE;
        free(warm);
    }
    for (int64_t q = 0; !st && q < h.nnz; q++) out[h.indices[q]] = -INFINITY;
    duet_rec_csr_free(&h);
    return st;
}

const char *duet_rec_served_score_doc(const char *name)
{
    static const struct {
        const char *prefix, *doc;
    } docs[] = {
        {"popularity", "the number of training users of the item"},
        {"user-knn-adj", "the sum over the k most similar users (adjusted cosine, Eq. 3) of similarity x the "
                         "user's value for the item"},
        {"user-knn", "the sum over the k most similar users (cosine) of similarity x the user's value for the item"},
        {"item-knn", "the sum over the listener's items of value x cosine similarity to the item (k neighbours)"},
        {"bpr-mf", "the dot product of user and item factors plus the item bias (BPR)"},
        {"ials", "the dot product of user and item factors (implicit ALS): a predicted preference near 0..1"},
        {"ease", "x_u B, the EASE item-item reconstruction of the listener's row"},
        {"content", "the dot product of the listener's mean item vector and the item's tf-idf/feature vector"},
        {"neumf", "the NeuMF logit (log-odds that the listener plays the item)"},
        {"improved-ncf-deep", "the deep network's logit (log-odds that the listener plays the item)"},
        {"improved-ncf", "the fused score: the fitted weighted sum of the branches' per-listener z-scores (deep "
                         "network, EASE, iALS, content); about the number of standard deviations above the "
                         "listener's average item"},
    };
    for (size_t k = 0; k < sizeof docs / sizeof docs[0]; k++)
        if (!strncmp(name, docs[k].prefix, strlen(docs[k].prefix))) {
            /* longest prefix wins for improved-ncf-deep vs improved-ncf */
            if (!strcmp(docs[k].prefix, "improved-ncf") && !strncmp(name, "improved-ncf-deep", 17)) continue;
            return docs[k].doc;
        }
    return "the model's ranking score (higher is better)";
}
