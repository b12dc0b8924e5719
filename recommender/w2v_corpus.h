/* recommender/w2v_corpus.h: word2vec corpora from the HetRec 2011 Last.fm-2k
 * files (artists as items; ../shared/data/rec/hetrec2011-lastfm-2k).
 *
 * Sentences (one per line when written out):
 *  - one per tagged artist: `artist:<id> tag:<t1> tag:<t2> ...`, its distinct
 *    tags (those applied by at least min_tag_users users; at most max_tags,
 *    the most applied first), tags normalised: ISO-8859-1 -> UTF-8, lower
 *    case, runs of whitespace -> one '_' (trimmed);
 *  - one per user (item2vec, Barkan & Koenigstein 2016): `artist:<id> ...`
 *    for every artist the user played (optionally filtered by a callback, so
 *    a recommender can leave out held-out interactions).
 * Order inside a sentence means nothing (tags are a set; HetRec has no
 * listening timestamps), so the builder shuffles the tokens of every
 * sentence (seeded) and the order of the sentences; train with
 * duet_w2v_params.shuffle = 1 (`duet word2vec --shuffle`) to reshuffle every epoch,
 * so every pair of tokens of a sentence falls within the window over the
 * epochs without the quadratic cost of a window as long as the sentence.
 * Artists without tags get no attribute sentence (a one-token sentence
 * trains nothing). */
#ifndef DUET_FEATURES_W2V_CORPUS_H
#define DUET_FEATURES_W2V_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/status.h"
#include "word2vec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_w2v_hetrec_opts {
    const char *dir;       /* folder with tags.dat, user_taggedartists.dat, user_artists.dat */
    int artist_sentences;  /* 1 = emit the artist/tag sentences (default 1) */
    int user_sentences;    /* 1 = emit the per-user artist sentences (default 1) */
    int min_tag_users;     /* keep an artist's tag when >= this many users applied it (default 1) */
    int max_tags;          /* at most this many tags per artist, most applied first (0 = all; default 0) */
    uint64_t seed;         /* shuffling seed (default 1) */
    /* Optional filter of the play rows (user_artists.dat): return 1 to keep
     * the row. NULL keeps all. */
    int (*keep_play)(void *ctx, long user, long artist);
    void *keep_ctx;
} duet_w2v_hetrec_opts;

typedef struct duet_w2v_hetrec_stats {
    size_t artist_sentences, user_sentences, tokens;
} duet_w2v_hetrec_stats;

/* Defaults as listed above (dir = NULL: the caller must set it). */
void duet_w2v_hetrec_opts_default(duet_w2v_hetrec_opts *o);

/* Build the corpus into a new *out (caller frees with duet_w2v_corpus_free);
 * *stats (may be NULL) receives counts. Errors: DUET_ERR_ARG (no dir, nothing
 * to emit), DUET_ERR_IO (a file cannot be opened or read; the message names
 * it), DUET_ERR_FORMAT (a malformed row or a tag id missing from tags.dat:
 * file and line named), DUET_ERR_EMPTY (no sentence), DUET_ERR_NOMEM. */
duet_status duet_w2v_hetrec_build(const duet_w2v_hetrec_opts *o, duet_w2v_corpus **out,
                                  duet_w2v_hetrec_stats *stats, duet_err *err);

/* The token of a HetRec tag given as ISO-8859-1 bytes: "tag:" + normalised
 * text, in a new NUL-terminated UTF-8 string (*out, caller frees with
 * free()); *out = NULL (and DUET_OK) when the tag is empty after
 * normalisation. Errors: DUET_ERR_NOMEM. */
duet_status duet_w2v_hetrec_tag_token(const char *latin1, size_t n, char **out, duet_err *err);

/* The token of artist `id` ("artist:<id>") into buf (size >= 32). */
void duet_w2v_hetrec_artist_token(long id, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
