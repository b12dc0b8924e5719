/* recommender/state_io.h: the fitted state of every model of the table as
 * named tensors of a safetensors file, for model files (serve.h).
 *
 * duet_rec_state_export(m, state, w, prefix): adds the state's tensors, each named
 * PREFIX<part>, to the writer (data copied). duet_rec_state_import(m, f, prefix,
 * &state): rebuilds the state from a loaded file, checking every shape and
 * index (a state read back scores exactly as the one written). Errors:
 * NOMEM; import: FORMAT (missing or inconsistent tensors, naming the
 * tensor), UNSUPPORTED (a model without a state format).
 *
 * The helpers below are shared by the models' own export/import functions. */
#ifndef DUET_RECOMMENDER_STATE_IO_H
#define DUET_RECOMMENDER_STATE_IO_H

#include <stdint.h>

#include "../common/status.h"
#include "../nn/safetensors.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

duet_status duet_rec_state_export(const duet_rec_model_def *m, const void *state, duet_st_writer *w, const char *prefix,
                                  duet_err *err);
duet_status duet_rec_state_import(const duet_rec_model_def *m, const duet_st_file *f, const char *prefix, void **state,
                                  duet_err *err);

/* Add PREFIX<name> (dtype, 1 or 2 dims: rows x cols, cols 0 = 1-D). */
duet_status duet_rec_st_put(duet_st_writer *w, const char *prefix, const char *name, duet_st_dtype dtype, int64_t rows,
                            int64_t cols, const void *data, duet_err *err);
/* PREFIX<name> with that dtype and shape (cols 0 = 1-D; rows or cols -1 =
 * any, returned through *rows / *cols when not NULL). *data borrowed from f.
 * Errors: FORMAT naming the tensor. */
duet_status duet_rec_st_get(const duet_st_file *f, const char *prefix, const char *name, duet_st_dtype dtype,
                            int64_t want_rows, int64_t want_cols, const void **data, int64_t *rows, int64_t *cols,
                            duet_err *err);
/* A CSR as PREFIX<name>.indptr/.indices/.values; import checks the structure
 * (n_rows x n_cols, sorted unique indices in range, finite values). */
duet_status duet_rec_st_put_csr(duet_st_writer *w, const char *prefix, const char *name, const duet_rec_csr *a,
                                duet_err *err);
duet_status duet_rec_st_get_csr(const duet_st_file *f, const char *prefix, const char *name, int32_t n_rows,
                                int32_t n_cols, duet_rec_csr *out, duet_err *err);

/* Per-model state functions (in each model's file). */
duet_status duet_rec_pop_export(const void *, duet_st_writer *, const char *, duet_err *);
duet_status duet_rec_pop_import(const duet_st_file *, const char *, void **, duet_err *);
duet_status duet_rec_knn_export(const void *, duet_st_writer *, const char *, duet_err *);
duet_status duet_rec_knn_import(const duet_st_file *, const char *, void **, duet_err *);
duet_status duet_rec_factors_export(const void *, duet_st_writer *, const char *, duet_err *);
duet_status duet_rec_factors_import(const duet_st_file *, const char *, void **, duet_err *);
duet_status duet_rec_ease_export(const void *, duet_st_writer *, const char *, duet_err *);
duet_status duet_rec_ease_import(const duet_st_file *, const char *, void **, duet_err *);
duet_status duet_rec_content_export(const void *, duet_st_writer *, const char *, duet_err *);
duet_status duet_rec_content_import(const duet_st_file *, const char *, void **, duet_err *);
duet_status duet_rec_neumf_export(const void *, duet_st_writer *, const char *, duet_err *);
duet_status duet_rec_neumf_import(const duet_st_file *, const char *, void **, duet_err *);

/* Id and name lists in model-file metadata: n strings joined by '\n' (a NULL
 * entry is written as its index for ids, empty for names; tabs and newlines
 * inside become spaces). duet_rec_join_lines returns a malloc'd string, NULL when
 * out of memory; duet_rec_split_lines returns n malloc'd strings (free with
 * duet_rec_free_lines), NULL when s does not hold exactly n lines. */
char *duet_rec_join_lines(const char *const *s, int32_t n, int names);
char **duet_rec_split_lines(const char *s, int32_t n);
void duet_rec_free_lines(char **s, int32_t n);

#ifdef __cplusplus
}
#endif

#endif
