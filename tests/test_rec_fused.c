/* tests/test_rec_fused.c: the improved NCF's fusion loss (recommender/fused.h,
 * duet_rec_fused_listwise_loss: the listwise softmax of held-out items against
 * weighted candidates, with its prior toward equal weights): its gradient
 * against central finite differences, its value against a direct
 * computation, and that descending it puts the weight on the informative
 * branch. */
#include "check.h"

#include "../common/rng.h"
#include "../recommender/fused.h"

#define NB 3
#define NU 5

static void make_lists(float *F, float *cw, int64_t *uptr, int32_t *npos, duet_rng *r, int informative)
{
    int64_t c = 0;
    for (int q = 0; q < NU; q++) {
        uptr[q] = c;
        npos[q] = 1 + q % 2;
        int len = 6 + q;
        for (int j = 0; j < len; j++, c++) {
            for (int k = 0; k < NB; k++) F[c * NB + k] = (float)duet_rng_normal(r);
            if (informative && j < npos[q]) F[c * NB + 0] += 2.0f; /* branch 0 ranks the positives first */
            cw[c] = j < npos[q] + 3 ? 1.0f : 4.5f;                 /* the tail stands for more items */
        }
    }
    uptr[NU] = c;
}

static void test_gradient(void)
{
    duet_rng r;
    duet_rng_seed(&r, 11);
    float F[NU * 16 * NB], cw[NU * 16];
    int64_t uptr[NU + 1];
    int32_t npos[NU];
    make_lists(F, cw, uptr, npos, &r, 0);
    double w[NB] = {0.7, -0.3, 1.4}, g[NB], lg[32];
    for (int l2i = 0; l2i < 2; l2i++) {
        double l2 = l2i ? 0.3 : 0;
        duet_rec_fused_listwise_loss(w, NB, F, cw, uptr, npos, NU, l2, g, lg);
        for (int k = 0; k < NB; k++) {
            double h = 1e-5, keep = w[k];
            w[k] = keep + h;
            double lp = duet_rec_fused_listwise_loss(w, NB, F, cw, uptr, npos, NU, l2, NULL, lg);
            w[k] = keep - h;
            double lm = duet_rec_fused_listwise_loss(w, NB, F, cw, uptr, npos, NU, l2, NULL, lg);
            w[k] = keep;
            double fd = (lp - lm) / (2 * h);
            CHECK_MSG(fabs(fd - g[k]) <= 1e-6 * (1 + fabs(fd)), "l2 %g w[%d]: analytic %.9g, numeric %.9g", l2, k, g[k],
                      fd);
        }
    }
    /* value: user by user */
    double direct = 0;
    int npos_all = 0;
    for (int q = 0; q < NU; q++) {
        double z = 0;
        for (int64_t c = uptr[q]; c < uptr[q + 1]; c++) {
            double v = 0;
            for (int k = 0; k < NB; k++) v += w[k] * F[c * NB + k];
            z += cw[c] * exp(v);
        }
        for (int64_t c = uptr[q]; c < uptr[q] + npos[q]; c++) {
            double v = 0;
            for (int k = 0; k < NB; k++) v += w[k] * F[c * NB + k];
            direct += log(z) - v;
            npos_all++;
        }
    }
    double prior = 0;
    for (int k = 0; k < NB; k++) prior += (w[k] - 1) * (w[k] - 1);
    CHECK_NEAR(duet_rec_fused_listwise_loss(w, NB, F, cw, uptr, npos, NU, 0.3, NULL, lg),
               direct / npos_all + 0.15 * prior, 1e-9);
}

static void test_descent_prefers_the_informative_branch(void)
{
    duet_rng r;
    duet_rng_seed(&r, 5);
    float F[NU * 16 * NB], cw[NU * 16];
    int64_t uptr[NU + 1];
    int32_t npos[NU];
    make_lists(F, cw, uptr, npos, &r, 1);
    double w[NB] = {1, 1, 1}, g[NB], lg[32];
    double l0 = duet_rec_fused_listwise_loss(w, NB, F, cw, uptr, npos, NU, 0, g, lg), l1 = l0;
    for (int t = 0; t < 500; t++) {
        l1 = duet_rec_fused_listwise_loss(w, NB, F, cw, uptr, npos, NU, 0, g, lg);
        for (int k = 0; k < NB; k++) w[k] -= 0.1 * g[k];
    }
    CHECK(l1 < l0);
    CHECK_MSG(w[0] > 2 * fabs(w[1]) && w[0] > 2 * fabs(w[2]), "w = %g %g %g", w[0], w[1], w[2]);
}

int main(void)
{
    RUN(test_gradient);
    RUN(test_descent_prefers_the_informative_branch);
    return check_summary();
}
