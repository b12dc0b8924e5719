/* recommender/word2vec.h: word2vec (Mikolov et al. 2013) for duet: skip-gram with
 * negative sampling (CBOW as an option), trained on an in-memory corpus of
 * sentences; the standard word2vec text and binary vector formats (the ones
 * of the original word2vec tool, readable by gensim's
 * KeyedVectors.load_word2vec_format); cosine nearest neighbours; and item
 * content vectors (the mean of an item's attribute tokens' vectors) for the
 * recommender.
 *
 * Algorithm (as in word2vec.c and gensim 4):
 *  - vocabulary: tokens with count >= min_count, sorted by count (descending,
 *    ties by first appearance); dropped tokens are removed from sentences
 *    before windowing; windows never cross sentence boundaries;
 *  - frequent-token subsampling: a token with count c is kept with probability
 *    min(1, (sqrt(c / (s*N)) + 1) * (s*N) / c), s = `sample`, N = total count
 *    of in-vocabulary tokens (duet_w2v_keep_probability);
 *  - negatives drawn from unigram^0.75 (count^0.75 / sum), by Walker's alias
 *    method (exact probabilities, O(1) per draw; duet_w2v_negative_table);
 *  - a random effective window: for each centre token, b uniform in
 *    [0, window) and the context is the (window - b) tokens on each side;
 *  - learning rate decays linearly from alpha to min_alpha over all epochs'
 *    tokens (duet_w2v_learning_rate), updated every 10,000 tokens per thread;
 *  - sigmoid from a 1000-entry table over [-6, 6]; a pair whose score is
 *    outside that range is saturated and gets no update (as gensim);
 *  - input vectors start uniform in [-1, 1) / dim (as gensim 4; word2vec.c
 *    uses [-0.5, 0.5) / dim, which gave a lower co-listening correlation on
 *    HetRec) from a per-token seed (the token's hash and the run seed),
 *    output vectors at zero.
 *
 * Threads (Hogwild, Recht et al. 2011): the corpus is split into `threads`
 * contiguous chunks of about equal token counts; each thread trains on its
 * chunk for all epochs and writes the shared weight matrices without locks.
 * Why that is safe enough: each update touches only the (1 + negative) output
 * rows and one input row of the tokens in hand, so two threads rarely touch
 * the same row at the same time; when they do (frequent tokens), a lost or
 * stale float update is a small perturbation of a stochastic gradient step,
 * which SGD tolerates (the convergence argument of Hogwild for sparse
 * problems). No pointer, index or size is ever shared-written: only float
 * weights race, and a torn float cannot occur on x86-64/aarch64 (aligned
 * 4-byte stores are atomic), so the worst case is a slightly different
 * result, never a crash. Strictly, the C11 memory model calls these races
 * undefined; word2vec.c, gensim and fastText rely on the same behaviour. The
 * shared token counter that drives the learning rate is a C11 atomic. With
 * threads = 1 the run is fully deterministic for a given seed.
 *
 * No global mutable state: all run state lives in the objects below. */
#ifndef DUET_FEATURES_WORD2VEC_H
#define DUET_FEATURES_WORD2VEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ corpus */

/* A corpus: sentences of tokens, held in memory as 32-bit token ids plus a
 * vocabulary with counts (about 4 bytes per token plus the distinct strings).
 * Tokens are non-empty byte strings of valid UTF-8 without ASCII whitespace
 * (space, tab, CR, LF, VT, FF) or NUL. Created with duet_w2v_corpus_new() or
 * duet_w2v_corpus_read_file(); free with duet_w2v_corpus_free(). */
typedef struct duet_w2v_corpus duet_w2v_corpus;

/* New empty corpus in *out (caller frees with duet_w2v_corpus_free).
 * Errors: DUET_ERR_NOMEM. */
duet_status duet_w2v_corpus_new(duet_w2v_corpus **out, duet_err *err);

/* Free a corpus (NULL is ignored). */
void duet_w2v_corpus_free(duet_w2v_corpus *c);

/* Append one sentence of n tokens (the strings are copied; n = 0 is a no-op).
 * Errors: DUET_ERR_ARG (empty token, whitespace or NUL in a token, invalid
 * UTF-8), DUET_ERR_RANGE (more than 2^32 - 2 distinct tokens), DUET_ERR_NOMEM.
 * On error the corpus is unchanged apart from vocabulary entries with count 0
 * (which training ignores). */
duet_status duet_w2v_corpus_add_sentence(duet_w2v_corpus *c, const char *const *tokens, size_t n,
                                         duet_err *err);

/* Read a corpus from a text stream: one sentence per line ('\n'; a '\r'
 * before it is ignored), tokens separated by runs of ASCII whitespace.
 * Lines and tokens may be of any length (no fixed buffer); empty lines are
 * skipped. Appends to *c. Errors: DUET_ERR_FORMAT (invalid UTF-8 or a NUL
 * byte: the message names the line), DUET_ERR_IO, DUET_ERR_RANGE,
 * DUET_ERR_NOMEM. An empty stream is not an error here (training reports
 * it). */
duet_status duet_w2v_corpus_read_stream(duet_w2v_corpus *c, FILE *fp, duet_err *err);

/* Open `path` and read it into a new corpus *out (caller frees).
 * Errors: those of duet_w2v_corpus_read_stream, DUET_ERR_IO when it cannot be
 * opened (errno text in err). */
duet_status duet_w2v_corpus_read_file(const char *path, duet_w2v_corpus **out, duet_err *err);

/* Write the corpus as text (one sentence per line, single spaces) to `path`
 * through an atomic file. Errors: DUET_ERR_IO, DUET_ERR_NOMEM. */
duet_status duet_w2v_corpus_write_file(const duet_w2v_corpus *c, const char *path, duet_err *err);

/* Sizes: number of sentences, of tokens (all occurrences), of distinct tokens. */
size_t duet_w2v_corpus_n_sentences(const duet_w2v_corpus *c);
size_t duet_w2v_corpus_n_tokens(const duet_w2v_corpus *c);
size_t duet_w2v_corpus_n_distinct(const duet_w2v_corpus *c);

/* -------------------------------------------------------------- training */

typedef struct duet_w2v_progress_info {
    double fraction;     /* tokens processed / (epochs * tokens), in [0, 1] */
    uint64_t tokens_done; /* raw in-vocabulary tokens processed so far, all threads */
    double alpha;        /* current learning rate */
    double tokens_per_s; /* raw tokens per second since the start */
    double elapsed_s;
} duet_w2v_progress_info;

typedef struct duet_w2v_params {
    size_t dim;          /* vector size (>= 1); default 64 */
    int window;          /* max context on each side (>= 1); default 5 */
    int negative;        /* negative samples per positive (>= 1); default 5 */
    double sample;       /* subsampling threshold (0 = off); default 1e-3 */
    uint64_t min_count;  /* drop tokens seen fewer times; default 1 */
    int epochs;          /* passes over the corpus (>= 1); default 5 */
    double alpha;        /* initial learning rate; default 0.025 (0.05 for CBOW in word2vec.c) */
    double min_alpha;    /* final learning rate; default 1e-4 */
    int threads;         /* worker threads (>= 1); default 1 */
    uint64_t seed;       /* default 1 */
    int cbow;            /* 1 = CBOW with the mean of the context; 0 = skip-gram (default) */
    int shuffle;         /* 1 = shuffle each sentence's tokens anew in every epoch (for
                          * sentences whose order means nothing); default 0 */
    /* Optional progress callback, called from the first thread about every
     * 10,000 tokens (and once at the end); it must be cheap and must not call
     * back into this module. */
    void (*progress)(void *ctx, const duet_w2v_progress_info *info);
    void *progress_ctx;
} duet_w2v_params;

/* Fill *p with the defaults listed above. */
void duet_w2v_params_default(duet_w2v_params *p);

/* Statistics of a finished run (optional output of duet_w2v_train). */
typedef struct duet_w2v_train_stats {
    size_t vocab_size;        /* tokens kept by min_count */
    uint64_t corpus_tokens;   /* in-vocabulary tokens per epoch */
    uint64_t trained_tokens;  /* tokens kept by subsampling, summed over epochs */
    double seconds;           /* wall time of the training loop */
} duet_w2v_train_stats;

/* Trained or loaded vectors: tokens, counts and one float row per token. The
 * object is immutable after creation (safe to query from many threads). Free
 * with duet_w2v_vectors_free(). */
typedef struct duet_w2v_vectors duet_w2v_vectors;

/* Train on `corpus` with `params` (NULL = defaults). On success *out owns new
 * vectors (caller frees) in vocabulary order (count descending).
 * Errors: DUET_ERR_ARG (dim 0, window/negative/epochs/threads < 1, alpha not
 * positive and finite, min_alpha > alpha, sample < 0, dim > 100000),
 * DUET_ERR_EMPTY (no tokens, or none left after min_count),
 * DUET_ERR_RANGE (a vocabulary of one token: nothing to contrast it with),
 * DUET_ERR_NAN (training diverged), DUET_ERR_NOMEM. */
duet_status duet_w2v_train(const duet_w2v_corpus *corpus, const duet_w2v_params *params, duet_w2v_vectors **out,
                           duet_w2v_train_stats *stats, duet_err *err);

/* The learning rate after `done` of `total` tokens:
 * alpha0 - (alpha0 - min_alpha) * done / total, never below min_alpha. */
double duet_w2v_learning_rate(double alpha0, double min_alpha, uint64_t done, uint64_t total);

/* Probability that a token with `count` occurrences out of `total` is kept by
 * subsampling with threshold `sample` (1 when sample <= 0). */
double duet_w2v_keep_probability(uint64_t count, uint64_t total, double sample);

/* The negative-sampling distribution as an alias table (Walker 1977) over
 * n >= 1 outcomes with weights count[i]^power. Free with
 * duet_w2v_negative_table_free(). */
typedef struct duet_w2v_negative_table duet_w2v_negative_table;

/* Build the table for counts[0..n) (counts may be 0, not all 0) with exponent
 * `power` (0.75 in word2vec). Errors: DUET_ERR_ARG (n = 0, all counts 0,
 * power not finite), DUET_ERR_NOMEM. */
duet_status duet_w2v_negative_table_new(const uint64_t *counts, size_t n, double power,
                                        duet_w2v_negative_table **out, duet_err *err);
void duet_w2v_negative_table_free(duet_w2v_negative_table *t);

/* Draw an outcome from 64 random bits (e.g. duet_rng_u64). */
uint32_t duet_w2v_negative_table_draw(const duet_w2v_negative_table *t, uint64_t bits);

/* Exact probability of outcome i implied by the table (for tests). */
double duet_w2v_negative_table_prob(const duet_w2v_negative_table *t, size_t i);

/* ---------------------------------------------------------------- vectors */

/* Sizes and rows. Indices are in [0, n). Returned pointers are owned by v. */
size_t duet_w2v_vectors_count(const duet_w2v_vectors *v);
size_t duet_w2v_vectors_dim(const duet_w2v_vectors *v);
const char *duet_w2v_vectors_token(const duet_w2v_vectors *v, size_t i);
/* Corpus count of token i (0 for vectors read from a file). */
uint64_t duet_w2v_vectors_token_count(const duet_w2v_vectors *v, size_t i);
const float *duet_w2v_vectors_row(const duet_w2v_vectors *v, size_t i);
/* Euclidean norm of row i. */
float duet_w2v_vectors_norm(const duet_w2v_vectors *v, size_t i);

/* Index of `token` or -1 when it is not in the vocabulary (the "unknown"
 * path). */
long duet_w2v_vectors_find(const duet_w2v_vectors *v, const char *token);

/* New vectors from parallel arrays (tokens copied; rows: n x dim floats,
 * copied). Errors: DUET_ERR_ARG (n or dim 0, invalid token), DUET_ERR_FORMAT
 * (duplicate token), DUET_ERR_NAN, DUET_ERR_NOMEM. */
duet_status duet_w2v_vectors_from_arrays(const char *const *tokens, const float *rows, size_t n,
                                         size_t dim, duet_w2v_vectors **out, duet_err *err);

void duet_w2v_vectors_free(duet_w2v_vectors *v);

typedef enum duet_w2v_format {
    W2V_FORMAT_AUTO = 0, /* load only: binary unless the first vector reads as text */
    W2V_FORMAT_TEXT,     /* "N D\n" then "token v1 ... vD\n" per token */
    W2V_FORMAT_BINARY    /* "N D\n" then "token " + D little-endian float32 + "\n" */
} duet_w2v_format;

/* Write vectors to `path` (atomically) in the given format (TEXT or BINARY).
 * Text values are printed with 9 significant digits (float32 round trip is
 * exact). Errors: DUET_ERR_ARG (AUTO), DUET_ERR_IO, DUET_ERR_NOMEM. */
duet_status duet_w2v_vectors_save(const duet_w2v_vectors *v, const char *path, duet_w2v_format fmt,
                                  duet_err *err);

/* Read vectors from `path`. Strict: the header must be two positive integers,
 * the file must hold exactly that many tokens with exactly dim values each
 * (nothing but whitespace after the last), values finite, tokens unique and
 * valid UTF-8. Errors: DUET_ERR_IO, DUET_ERR_FORMAT (message says what and
 * which record), DUET_ERR_NAN, DUET_ERR_RANGE (dim > 100000 or a header
 * larger than the file can hold), DUET_ERR_EMPTY (empty file),
 * DUET_ERR_NOMEM. *out owns the result (caller frees). */
duet_status duet_w2v_vectors_load(const char *path, duet_w2v_format fmt, duet_w2v_vectors **out,
                                  duet_err *err);

/* The k rows most cosine-similar to `query` (dim floats), best first,
 * skipping indices listed in exclude[0..n_exclude) (may be NULL). Writes up
 * to k results to idx/sim (caller arrays of k) and their number to *n_out.
 * Rows of norm 0 have similarity 0. Errors: DUET_ERR_ARG (k = 0, NULL
 * arrays), DUET_ERR_NAN (query not finite), DUET_ERR_RANGE (query of norm 0). */
duet_status duet_w2v_vectors_most_similar(const duet_w2v_vectors *v, const float *query,
                                          const long *exclude, size_t n_exclude, size_t k,
                                          long *idx, float *sim, size_t *n_out, duet_err *err);

/* Cosine similarity of rows i and j (0 if either has norm 0). */
float duet_w2v_vectors_cosine(const duet_w2v_vectors *v, size_t i, size_t j);

/* ------------------------------------------------------- content vectors */

enum {
    W2V_CONTENT_UNIT_TOKENS = 1, /* scale each token vector to unit length first */
    W2V_CONTENT_UNIT_RESULT = 2  /* scale the result to unit length */
};

/* An item's content vector: the weighted mean of the vectors of its known
 * attribute tokens, out[d] = sum_i w_i v_i[d] / sum_i w_i over tokens found
 * in the vocabulary (weights NULL = all 1; tokens with weight <= 0 are
 * skipped). `flags` is a bitwise OR of W2V_CONTENT_*. *n_known (may be NULL)
 * receives how many tokens were used.
 * The unknown path: when no token is known (or n = 0), out is set to zeros,
 * *n_known to 0 and DUET_ERR_NOTFOUND is returned, so the caller decides
 * (e.g. falls back to another feature group). Errors: DUET_ERR_NOTFOUND as
 * said, DUET_ERR_ARG (NULL out, negative or non-finite weight). */
duet_status duet_w2v_content_vector(const duet_w2v_vectors *v, const char *const *tokens,
                                    const float *weights, size_t n, unsigned flags, float *out,
                                    size_t *n_known, duet_err *err);

/* The same with token indices (from duet_w2v_vectors_find; negative = unknown,
 * skipped). Errors as duet_w2v_content_vector plus DUET_ERR_RANGE (index >= count). */
duet_status duet_w2v_content_vector_ids(const duet_w2v_vectors *v, const long *ids, const float *weights,
                                        size_t n, unsigned flags, float *out, size_t *n_known,
                                        duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
