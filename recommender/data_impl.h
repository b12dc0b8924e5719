/* recommender/data_impl.h: internals shared by the loaders (data.c: CSR,
 * maps, line reading, interactions, attributes, features and the Spotify
 * file; data_hetrec.c: HetRec and KGCN; data_ncf.c: NCF files). Not part of
 * the API. */
#ifndef DUET_RECOMMENDER_DATA_IMPL_H
#define DUET_RECOMMENDER_DATA_IMPL_H

#include <stdint.h>
#include <stdio.h>

#include "data.h"

typedef struct linereader {
    FILE *f;
    int owned;        /* fclose on duet_rec_data_lr_close */
    const char *path; /* name in messages */
    char *buf;
    size_t cap;
    int64_t line;
    duet_status st;   /* status of the last failure of duet_rec_data_lr_next */
    duet_rec_limits lim;
} linereader;

typedef struct tripvec {
    duet_rec_triple *t;
    int64_t n, cap;
} tripvec;

const duet_rec_limits *duet_rec_data_ds_limits(duet_rec_dataset *ds);
duet_status duet_rec_data_ds_new(duet_rec_dataset **out, const duet_rec_limits *lim, duet_err *err);
int32_t duet_rec_data_ds_token(duet_rec_dataset *ds, int32_t *tcap, const char *tok);
void duet_rec_data_fix_token_cols(duet_rec_dataset *ds);
duet_status duet_rec_data_intern_error(const linereader *lr, int32_t code, const char *what, int32_t max,
                                       duet_err *err);
duet_status duet_rec_data_lr_attach(linereader *lr, FILE *f, const char *name, const duet_rec_limits *lim,
                                    duet_err *err);
void duet_rec_data_lr_close(linereader *lr);
int duet_rec_data_lr_next(linereader *lr, duet_err *err);
duet_status duet_rec_data_lr_open(linereader *lr, const char *path, const duet_rec_limits *lim, duet_err *err);
duet_status duet_rec_data_merge_attr(duet_rec_csr *a, int32_t n_rows, int32_t n_tokens, tripvec *tv, duet_err *err);
int duet_rec_data_parse_float(const char *s, double *out);
int duet_rec_data_parse_id(const char *s, long *out);
duet_status duet_rec_data_read_interactions(linereader *lr, duet_rec_dataset *ds, int comments, int nf_min, int nf_max,
                                     int dup_mode, duet_err *err);
int duet_rec_data_split_tabs(char *s, char **f, int max);
int duet_rec_data_tv_push(tripvec *v, int32_t r, int32_t c, float val, int64_t line);
int duet_rec_data_weight_ok(double w);

#endif
