/* separation/sepnet_impl.h: the layer table of the separation network
 * (parameter indices and sizes of every layer), shared by sepnet.c, which
 * builds it with the parameter table, and sepnet_run.c, whose forward and
 * backward passes read it. Not installed, not part of the API. */
#ifndef DUET_SEPARATION_SEPNET_IMPL_H
#define DUET_SEPARATION_SEPNET_IMPL_H

#include "sepnet.h"

#define SN_MAX_LEVELS 6

/* ------------------------------------------------------------ layer table */

typedef struct sn_conv {
    long w, b; /* parameter indices; b = -1 without bias */
    int ci, co, k, dil;
} sn_conv;

typedef struct sn_bn {
    long g, b, rm, rv;
    int c;
} sn_bn;

typedef struct sn_cbr { /* conv 3x3 (no bias) + BN + [dropout] + ReLU */
    sn_conv conv;
    sn_bn bn;
} sn_cbr;

typedef struct sn_attn {
    long wq, bq, wk, bk, wv, bv, gamma;
    int c, cq, axis;
} sn_attn;

typedef struct sn_fem {
    sn_cbr br[3];
    sn_attn sa;
    int c;
} sn_fem;

struct duet_sepnet_arch {
    int ch[SN_MAX_LEVELS + 1]; /* channels per level */
    sn_cbr stem_mag, stem_ph;
    sn_fem fem_ph, fem_b;
    sn_attn sa_b;              /* bottleneck SA when there is no FEM */
    sn_cbr enc[SN_MAX_LEVELS][2];
    sn_cbr bott;
    sn_cbr up[SN_MAX_LEVELS];  /* bilinear: 3x3 conv c_{l+1} -> c_l; transposed: 1x1 -> 4 c_l */
    sn_cbr dec[SN_MAX_LEVELS];
    sn_conv head;
};

#endif
