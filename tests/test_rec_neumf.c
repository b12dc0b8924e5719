/* tests/test_rec_neumf.c: NeuMF against PyTorch autograd on one batch
 * (fixtures/rec/neumf_golden.txt from fixtures/gen_rec.py: logits, loss and
 * the gradient of every tensor), the all-items scorer against the batch
 * forward, and a short training run that learns the tiny set. */
#include "check.h"
#include "../nn/tensor.h"
#include "../recommender/data.h"
#include "../recommender/model.h"

#define MAXV 512

typedef struct golden_row {
    char name[64];
    int n;
    float v[MAXV];
} golden_row;

static golden_row rows[32];
static int n_rows;

static const golden_row *find(const char *name)
{
    for (int i = 0; i < n_rows; i++)
        if (!strcmp(rows[i].name, name)) return &rows[i];
    return NULL;
}

static int load_golden(void)
{
    FILE *f = fopen(FIXTURE("rec/neumf_golden.txt"), "r");
    if (!f) return -1;
    char name[64];
    n_rows = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (c == '#') {
            while ((c = fgetc(f)) != EOF && c != '\n') {
            }
            continue;
        }
        ungetc(c, f);
        if (fscanf(f, "%63s", name) != 1) break;
        golden_row *r = &rows[n_rows++];
        snprintf(r->name, sizeof r->name, "%s", name);
        if (fscanf(f, "%d", &r->n) != 1 || r->n > MAXV) break;
        for (int k = 0; k < r->n; k++)
            if (fscanf(f, "%f", &r->v[k]) != 1) {
                fclose(f);
                return -1;
            }
        if (n_rows == 32) break;
    }
    fclose(f);
    return 0;
}

static void test_step_matches_pytorch(void)
{
    REQUIRE(load_golden() == 0);
    const golden_row *dims = find("dims");
    REQUIRE(dims && dims->n == 4);
    int nu = (int)dims->v[0], ni = (int)dims->v[1], F = (int)dims->v[2], B = (int)dims->v[3];
    duet_params *P = NULL;
    REQUIRE(duet_rec_neumf_params_new(nu, ni, F, &P, NULL) == DUET_OK);
    REQUIRE(duet_params_enable_training(P, NULL) == DUET_OK);
    for (size_t t = 0; t < P->count; t++) {
        const golden_row *r = find(P->info[t].name);
        REQUIRE(r && (size_t)r->n == P->info[t].numel);
        memcpy(duet_params_data(P, t), r->v, (size_t)r->n * sizeof(float));
    }
    const golden_row *gu = find("users"), *gi = find("items"), *gy = find("labels");
    REQUIRE(gu && gi && gy && gu->n == B);
    int32_t u[64], it[64];
    for (int k = 0; k < B; k++) {
        u[k] = (int32_t)gu->v[k];
        it[k] = (int32_t)gi->v[k];
    }
    float *work = malloc(duet_rec_neumf_work_floats(F, B) * sizeof *work), logits[64];
    REQUIRE(work);
    double loss = duet_rec_neumf_step_grads(P, F, u, it, gy->v, B, logits, work);
    const golden_row *gl = find("logits"), *gloss = find("loss");
    REQUIRE(gl && gloss);
    double dl = check_max_abs_diff(logits, gl->v, (size_t)B);
    CHECK_MSG(dl < 1e-5, "logits max diff %.3g", dl);
    CHECK_NEAR(loss, gloss->v[0], 1e-5);
    double worst = 0;
    for (size_t t = 0; t < P->count; t++) {
        char name[128];
        snprintf(name, sizeof name, "grad.%s", P->info[t].name);
        const golden_row *r = find(name);
        REQUIRE(r);
        double d = check_max_abs_diff(duet_params_grad(P, t), r->v, (size_t)r->n);
        CHECK_MSG(d < 1e-5, "%s max diff %.3g", name, d);
        if (d > worst) worst = d;
    }
    fprintf(stderr, "# neumf vs PyTorch: logits %.2e, loss %.2e, gradients %.2e (max abs)\n", dl,
            fabs(loss - gloss->v[0]), worst);
    duet_params_free(P);
    free(work);
}

static void test_train_and_score(void)
{
    duet_rec_dataset *ds = NULL;
    REQUIRE(duet_rec_load_interactions_tsv(FIXTURE("rec/tiny.tsv"), &ds, NULL) == DUET_OK);
    const duet_rec_model_def *m = duet_rec_model_find("neumf");
    REQUIRE(m && m->fit);
    duet_rec_params p = {0};
    p.dim = 4;
    p.k = 2;
    p.epochs = 150;
    p.lr = 0.01f;
    duet_rec_fit_ctx ctx = {0};
    ctx.train = &ds->ui;
    ctx.seed = 9;
    ctx.progress = -1;
    void *st = NULL;
    duet_err err = {0};
    REQUIRE(m->fit(&ctx, &p, &st, &err) == DUET_OK);
    int32_t users[10];
    for (int k = 0; k < 10; k++) users[k] = k;
    float S[120];
    REQUIRE(m->score(st, &ds->ui, users, 10, S, &err) == DUET_OK);
    long good = 0, all = 0;
    for (int u = 0; u < 10; u++)
        for (int i = 0; i < 12; i++)
            for (int j = 0; j < 12; j++)
                if (duet_rec_csr_has(&ds->ui, u, i) && !duet_rec_csr_has(&ds->ui, u, j)) {
                    good += S[u * 12 + i] > S[u * 12 + j];
                    all++;
                }
    CHECK_MSG((double)good / all > 0.9, "training AUC %.3f", (double)good / all);
    fprintf(stderr, "# neumf training AUC on the tiny set %.3f\n", (double)good / all);
    m->free_state(st);
    duet_rec_dataset_free(ds);
}

static void test_scorer_matches_forward(void)
{
    /* random weights: score(u, i) from the all-items path == batch logits */
    duet_params *P = NULL;
    int nu = 3, ni = 7, F = 4;
    REQUIRE(duet_rec_neumf_params_new(nu, ni, F, &P, NULL) == DUET_OK);
    REQUIRE(duet_params_enable_training(P, NULL) == DUET_OK);
    duet_rng r;
    duet_rng_seed(&r, 4);
    for (size_t t = 0; t < P->count; t++) duet_init_normal(duet_params_data(P, t), P->info[t].numel, 0, 0.5f, &r);
    int32_t u[21], it[21];
    float y[21] = {0}, logits[21];
    for (int k = 0; k < 21; k++) {
        u[k] = k / 7;
        it[k] = k % 7;
    }
    float *work = malloc(duet_rec_neumf_work_floats(F, 21) * sizeof *work);
    REQUIRE(work);
    duet_rec_neumf_step_grads(P, F, u, it, y, 21, logits, work);
    free(work);
    float S[21];
    int32_t users[3] = {0, 1, 2};
    REQUIRE(duet_rec_neumf_score_params(P, F, users, 3, S, NULL) == DUET_OK);
    double d = check_max_abs_diff(S, logits, 21);
    CHECK_MSG(d < 1e-5, "scorer vs forward %.3g", d);
    duet_params_free(P);
}

int main(void)
{
    RUN(test_step_matches_pytorch);
    RUN(test_scorer_matches_forward);
    RUN(test_train_and_score);
    return check_summary();
}
