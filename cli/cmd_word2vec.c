/* cli/cmd_word2vec.c: `duet word2vec` (train vectors on a corpus),
 * `duet word2vec-corpus` (build the HetRec Last.fm corpus) and
 * `duet word2vec-similar` (nearest neighbours of tokens). Thin layer over
 * features/word2vec.h and features/w2v_corpus.h. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/atomic_file.h"
#include "../common/progress.h"
#include "../features/w2v_corpus.h"
#include "../features/word2vec.h"

/* Match option `name` at argv[*i]: "--name VALUE" or "--name=VALUE". Sets
 * *val and advances *i. Returns 1 on match, 0 if not this option, -1 on a
 * missing value (error printed). */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        cli_error(argv[0], "%s needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

/* --------------------------------------------------------------- word2vec */

static void w2v_usage(FILE *f)
{
    fprintf(f,
            "usage: duet word2vec --input CORPUS --out VECTORS [options]\n"
            "Train word vectors (skip-gram with negative sampling; CBOW with --cbow) on a\n"
            "text corpus: one sentence per line, tokens separated by spaces.\n"
            "  --dim N          vector size (64)\n"
            "  --window N       max context on each side (5)\n"
            "  --negative N     negative samples (5)\n"
            "  --sample X       subsampling threshold, 0 = off (1e-3)\n"
            "  --min-count N    drop rarer tokens (1)\n"
            "  --epochs N       passes over the corpus (5)\n"
            "  --alpha X        initial learning rate (0.025)\n"
            "  --min-alpha X    final learning rate (1e-4)\n"
            "  --threads N      worker threads, lock-free (2)\n"
            "  --seed N         random seed (1); one thread + a seed = reproducible\n"
            "  --cbow           CBOW (mean of the context) instead of skip-gram\n"
            "  --shuffle        reshuffle every sentence each epoch (unordered sentences)\n"
            "  --binary         write the binary word2vec format (default: text)\n"
            "  --stats          print a summary line on stderr even when not a terminal\n"
            "Progress (tokens/s, alpha, ETA) is shown on stderr when it is a terminal.\n");
}

typedef struct w2v_cli_progress {
    duet_progress bar;
} w2v_cli_progress;

static void w2v_on_progress(void *ctx, const w2v_progress_info *info)
{
    w2v_cli_progress *p = ctx;
    char extra[96];
    snprintf(extra, sizeof extra, " %.0fk tokens/s, alpha %.5f", info->tokens_per_s / 1000.0,
             info->alpha);
    duet_progress_update(&p->bar, info->fraction * 100.0, extra);
}

int cmd_word2vec(int argc, char **argv)
{
    const char *input = NULL, *outp = NULL;
    w2v_params p;
    w2v_params_default(&p);
    p.threads = 2;
    int binary = 0, force_stats = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        const char *a = argv[i];
        long l;
        double d;
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            w2v_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--cbow")) {
            p.cbow = 1;
        } else if (!strcmp(a, "--shuffle")) {
            p.shuffle = 1;
        } else if (!strcmp(a, "--binary")) {
            binary = 1;
        } else if (!strcmp(a, "--stats")) {
            force_stats = 1;
        } else if ((r = opt_value(argc, argv, &i, "--input", &v)) != 0) {
            if (r < 0) return 2;
            input = v;
        } else if ((r = opt_value(argc, argv, &i, "--out", &v)) != 0) {
            if (r < 0) return 2;
            outp = v;
        } else if ((r = opt_value(argc, argv, &i, "--dim", &v)) != 0) {
            if (r < 0 || cli_parse_int("--dim", v, 0, 100000, &l)) return 2;
            p.dim = (size_t)l;
        } else if ((r = opt_value(argc, argv, &i, "--window", &v)) != 0) {
            if (r < 0 || cli_parse_int("--window", v, 0, 1000, &l)) return 2;
            p.window = (int)l;
        } else if ((r = opt_value(argc, argv, &i, "--negative", &v)) != 0) {
            if (r < 0 || cli_parse_int("--negative", v, 0, 1000, &l)) return 2;
            p.negative = (int)l;
        } else if ((r = opt_value(argc, argv, &i, "--min-count", &v)) != 0) {
            if (r < 0 || cli_parse_int("--min-count", v, 1, 1L << 40, &l)) return 2;
            p.min_count = (uint64_t)l;
        } else if ((r = opt_value(argc, argv, &i, "--epochs", &v)) != 0) {
            if (r < 0 || cli_parse_int("--epochs", v, 0, 100000, &l)) return 2;
            p.epochs = (int)l;
        } else if ((r = opt_value(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || cli_parse_int("--threads", v, 0, 1024, &l)) return 2;
            p.threads = (int)l;
        } else if ((r = opt_value(argc, argv, &i, "--seed", &v)) != 0) {
            if (r < 0 || cli_parse_int("--seed", v, 0, 0x7fffffffffffffffL, &l)) return 2;
            p.seed = (uint64_t)l;
        } else if ((r = opt_value(argc, argv, &i, "--sample", &v)) != 0) {
            if (r < 0 || cli_parse_double("--sample", v, 0, 1, &d)) return 2;
            p.sample = d;
        } else if ((r = opt_value(argc, argv, &i, "--alpha", &v)) != 0) {
            if (r < 0 || cli_parse_double("--alpha", v, 0, 10, &d)) return 2;
            p.alpha = d;
        } else if ((r = opt_value(argc, argv, &i, "--min-alpha", &v)) != 0) {
            if (r < 0 || cli_parse_double("--min-alpha", v, 0, 10, &d)) return 2;
            p.min_alpha = d;
        } else {
            cli_error(argv[0], "unknown option '%s' (see duet word2vec --help)", a);
            return 2;
        }
    }
    if (!input || !outp) {
        cli_error(argv[0], "--input and --out are required (see duet word2vec --help)");
        return 2;
    }
    if (p.min_alpha > p.alpha) p.min_alpha = p.alpha;
    duet_err err;
    duet_err_clear(&err);
    /* fail on an unwritable output before training, not after */
    duet_atomic_file *probe;
    duet_status st = duet_atomic_open(outp, &probe, &err);
    if (st) return cli_fail(outp, st, &err);
    duet_atomic_abort(probe);
    w2v_corpus *c;
    st = w2v_corpus_read_file(input, &c, &err);
    if (st) return cli_fail(input, st, &err);
    w2v_cli_progress prog;
    duet_progress_init(&prog.bar, "word2vec", 100.0, 0);
    p.progress = w2v_on_progress;
    p.progress_ctx = &prog;
    w2v_vectors *vec;
    w2v_train_stats stats;
    st = w2v_train(c, &p, &vec, &stats, &err);
    duet_progress_done(&prog.bar);
    w2v_corpus_free(c);
    if (st) return cli_fail(input, st, &err);
    st = w2v_vectors_save(vec, outp, binary ? W2V_FORMAT_BINARY : W2V_FORMAT_TEXT, &err);
    w2v_vectors_free(vec);
    if (st) return cli_fail(outp, st, &err);
    if (force_stats || isatty(STDERR_FILENO))
        fprintf(stderr,
                "word2vec: %zu tokens in the vocabulary, %llu tokens x %d epochs in %.2f s "
                "(%.0f tokens/s), %llu trained after subsampling\n",
                stats.vocab_size, (unsigned long long)stats.corpus_tokens, p.epochs, stats.seconds,
                stats.seconds > 0 ? (double)stats.corpus_tokens * p.epochs / stats.seconds : 0.0,
                (unsigned long long)stats.trained_tokens);
    return 0;
}

/* -------------------------------------------------------- word2vec-corpus */

static void corpus_usage(FILE *f)
{
    fprintf(f,
            "usage: duet word2vec-corpus --hetrec DIR --out CORPUS [options]\n"
            "Build a word2vec corpus from the HetRec 2011 Last.fm-2k files: one sentence\n"
            "per tagged artist ('artist:<id> tag:<tag> ...', tags in UTF-8, lower case,\n"
            "spaces as '_') and one per user of the artists they played (item2vec).\n"
            "Tokens of every sentence and the sentence order are shuffled (seeded);\n"
            "train with `duet word2vec --shuffle` to reshuffle each epoch.\n"
            "  --no-artists         leave out the artist/tag sentences\n"
            "  --no-users           leave out the user sentences\n"
            "  --min-tag-users N    keep a tag of an artist applied by >= N users (1)\n"
            "  --max-tags N         at most N tags per artist, most applied first (0 = all)\n"
            "  --seed N             shuffling seed (1)\n");
}

int cmd_word2vec_corpus(int argc, char **argv)
{
    w2v_hetrec_opts o;
    w2v_hetrec_opts_default(&o);
    const char *outp = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL, *a = argv[i];
        long l;
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            corpus_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--no-artists")) {
            o.artist_sentences = 0;
        } else if (!strcmp(a, "--no-users")) {
            o.user_sentences = 0;
        } else if ((r = opt_value(argc, argv, &i, "--hetrec", &v)) != 0) {
            if (r < 0) return 2;
            o.dir = v;
        } else if ((r = opt_value(argc, argv, &i, "--out", &v)) != 0) {
            if (r < 0) return 2;
            outp = v;
        } else if ((r = opt_value(argc, argv, &i, "--min-tag-users", &v)) != 0) {
            if (r < 0 || cli_parse_int("--min-tag-users", v, 1, 1000000, &l)) return 2;
            o.min_tag_users = (int)l;
        } else if ((r = opt_value(argc, argv, &i, "--max-tags", &v)) != 0) {
            if (r < 0 || cli_parse_int("--max-tags", v, 0, 1000000, &l)) return 2;
            o.max_tags = (int)l;
        } else if ((r = opt_value(argc, argv, &i, "--seed", &v)) != 0) {
            if (r < 0 || cli_parse_int("--seed", v, 0, 0x7fffffffffffffffL, &l)) return 2;
            o.seed = (uint64_t)l;
        } else {
            cli_error(argv[0], "unknown option '%s' (see duet word2vec-corpus --help)", a);
            return 2;
        }
    }
    if (!o.dir || !outp) {
        cli_error(argv[0], "--hetrec and --out are required (see duet word2vec-corpus --help)");
        return 2;
    }
    duet_err err;
    duet_err_clear(&err);
    w2v_corpus *c;
    w2v_hetrec_stats stats;
    duet_status st = w2v_hetrec_build(&o, &c, &stats, &err);
    if (st) return cli_fail(o.dir, st, &err);
    st = w2v_corpus_write_file(c, outp, &err);
    size_t distinct = w2v_corpus_n_distinct(c);
    w2v_corpus_free(c);
    if (st) return cli_fail(outp, st, &err);
    fprintf(stderr, "word2vec-corpus: %zu artist sentences, %zu user sentences, %zu tokens, %zu distinct\n",
            stats.artist_sentences, stats.user_sentences, stats.tokens, distinct);
    return 0;
}

/* ------------------------------------------------------- word2vec-similar */

static void similar_usage(FILE *f)
{
    fprintf(f,
            "usage: duet word2vec-similar VECTORS TOKEN... [-k N] [--format auto|text|binary]\n"
            "Print the N (10) tokens whose vectors are most cosine-similar to TOKEN (to the\n"
            "mean of the vectors of several TOKENs), one 'token<TAB>cosine' per line.\n"
            "Unknown tokens are an error when none is known, else skipped with a warning.\n");
}

int cmd_word2vec_similar(int argc, char **argv)
{
    const char *path = NULL;
    const char **tokens = calloc((size_t)argc, sizeof *tokens);
    size_t n_tok = 0;
    long k = 10;
    w2v_format fmt = W2V_FORMAT_AUTO;
    int rc = 2;
    if (!tokens) {
        cli_error(argv[0], "out of memory");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *v = NULL, *a = argv[i];
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            similar_usage(stdout);
            rc = 0;
            goto done;
        } else if ((r = opt_value(argc, argv, &i, "-k", &v)) != 0) {
            if (r < 0 || cli_parse_int("-k", v, 1, 1000000, &k)) goto done;
        } else if ((r = opt_value(argc, argv, &i, "--format", &v)) != 0) {
            if (r < 0) goto done;
            if (!strcmp(v, "auto")) fmt = W2V_FORMAT_AUTO;
            else if (!strcmp(v, "text")) fmt = W2V_FORMAT_TEXT;
            else if (!strcmp(v, "binary")) fmt = W2V_FORMAT_BINARY;
            else {
                cli_error(argv[0], "--format: expected auto, text or binary, got '%s'", v);
                goto done;
            }
        } else if (a[0] == '-' && a[1] == '-' && a[2] != '\0') {
            cli_error(argv[0], "unknown option '%s' (see duet word2vec-similar --help)", a);
            goto done;
        } else if (!path) {
            path = a;
        } else {
            tokens[n_tok++] = a;
        }
    }
    if (!path || n_tok == 0) {
        cli_error(argv[0], "need VECTORS and at least one TOKEN (see duet word2vec-similar --help)");
        goto done;
    }
    rc = 1;
    duet_err err;
    duet_err_clear(&err);
    w2v_vectors *v;
    duet_status st = w2v_vectors_load(path, fmt, &v, &err);
    if (st) {
        rc = cli_fail(path, st, &err);
        goto done;
    }
    size_t dim = w2v_vectors_dim(v), n_known = 0;
    float *q = malloc(dim * sizeof *q);
    long *ex = malloc(n_tok * sizeof *ex), *idx = malloc((size_t)k * sizeof *idx);
    float *sim = malloc((size_t)k * sizeof *sim);
    if (!q || !ex || !idx || !sim) {
        cli_error(argv[0], "out of memory");
        goto done2;
    }
    for (size_t i = 0; i < n_tok; i++) {
        ex[i] = w2v_vectors_find(v, tokens[i]);
        if (ex[i] < 0) cli_error(argv[0], "token '%s' is not in the vocabulary", tokens[i]);
    }
    st = w2v_content_vector_ids(v, ex, NULL, n_tok, W2V_CONTENT_UNIT_TOKENS, q, &n_known, &err);
    if (st) {
        rc = cli_fail(path, st, &err);
        goto done2;
    }
    size_t n_out;
    st = w2v_vectors_most_similar(v, q, ex, n_tok, (size_t)k, idx, sim, &n_out, &err);
    if (st) {
        rc = cli_fail(path, st, &err);
        goto done2;
    }
    for (size_t i = 0; i < n_out; i++) printf("%s\t%.6f\n", w2v_vectors_token(v, (size_t)idx[i]), sim[i]);
    rc = 0;
    if (fflush(stdout) != 0) rc = 1;
done2:
    free(q);
    free(ex);
    free(idx);
    free(sim);
    w2v_vectors_free(v);
done:
    free(tokens);
    return rc;
}
