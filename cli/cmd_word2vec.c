/* cli/cmd_word2vec.c: `duet word2vec` (train vectors on a corpus),
 * `duet word2vec-corpus` (build the HetRec Last.fm corpus) and
 * `duet word2vec-similar` (nearest neighbours of tokens). Thin layer over
 * recommender/word2vec.h and recommender/w2v_corpus.h. */
#include "cli.h"
#include "cli_opts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/atomic_file.h"
#include "../common/progress.h"
#include "../recommender/w2v_corpus.h"
#include "../recommender/word2vec.h"

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
            "  --stats          print the summary line on stderr even when it is not a terminal\n"
            "  -q, --quiet      no progress or information lines on stderr, only errors\n"
            "  -v, --verbose    extra diagnostic lines on stderr (the parameters; implies --stats)\n"
            "  -h, --help       show this help\n"
            "Progress (tokens/s, alpha, ETA) and the summary line are shown on stderr when it\n"
            "is a terminal. Options take their value as --opt VALUE or --opt=VALUE.\n");
}

typedef struct w2v_cli_progress {
    duet_progress bar;
} w2v_cli_progress;

static void w2v_on_progress(void *ctx, const duet_w2v_progress_info *info)
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
    duet_w2v_params p;
    duet_w2v_params_default(&p);
    p.threads = 2;
    int binary = 0, force_stats = 0, n_quiet = 0, n_verbose = 0;
    enum {
        O_INPUT = 256, O_OUT, O_DIM, O_WINDOW, O_NEGATIVE, O_MINCOUNT, O_EPOCHS, O_THREADS, O_SEED, O_SAMPLE,
        O_ALPHA, O_MINALPHA, O_CBOW, O_SHUFFLE, O_BINARY, O_STATS
    };
    static const struct option lo[] = {{"input", required_argument, 0, O_INPUT},
                                       {"out", required_argument, 0, O_OUT},
                                       {"dim", required_argument, 0, O_DIM},
                                       {"window", required_argument, 0, O_WINDOW},
                                       {"negative", required_argument, 0, O_NEGATIVE},
                                       {"min-count", required_argument, 0, O_MINCOUNT},
                                       {"epochs", required_argument, 0, O_EPOCHS},
                                       {"threads", required_argument, 0, O_THREADS},
                                       {"seed", required_argument, 0, O_SEED},
                                       {"sample", required_argument, 0, O_SAMPLE},
                                       {"alpha", required_argument, 0, O_ALPHA},
                                       {"min-alpha", required_argument, 0, O_MINALPHA},
                                       {"cbow", no_argument, 0, O_CBOW},
                                       {"shuffle", no_argument, 0, O_SHUFFLE},
                                       {"binary", no_argument, 0, O_BINARY},
                                       {"stats", no_argument, 0, O_STATS},
                                       CLI_OPT_QUIET_VERBOSE,
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int oc;
    while ((oc = getopt_long(argc, argv, ":qvh", lo, NULL)) != -1) {
        long l;
        double d;
        switch (oc) {
        case O_INPUT: input = optarg; break;
        case O_OUT: outp = optarg; break;
        case O_DIM:
            if (cli_parse_int("--dim", optarg, 0, 100000, &l)) return 2;
            p.dim = (size_t)l;
            break;
        case O_WINDOW:
            if (cli_parse_int("--window", optarg, 0, 1000, &l)) return 2;
            p.window = (int)l;
            break;
        case O_NEGATIVE:
            if (cli_parse_int("--negative", optarg, 0, 1000, &l)) return 2;
            p.negative = (int)l;
            break;
        case O_MINCOUNT:
            if (cli_parse_int("--min-count", optarg, 1, 1L << 40, &l)) return 2;
            p.min_count = (uint64_t)l;
            break;
        case O_EPOCHS:
            if (cli_parse_int("--epochs", optarg, 0, 100000, &l)) return 2;
            p.epochs = (int)l;
            break;
        case O_THREADS:
            if (cli_parse_int("--threads", optarg, 0, 1024, &l)) return 2;
            p.threads = (int)l;
            break;
        case O_SEED:
            if (cli_parse_int("--seed", optarg, 0, 0x7fffffffffffffffL, &l)) return 2;
            p.seed = (uint64_t)l;
            break;
        case O_SAMPLE:
            if (cli_parse_double("--sample", optarg, 0, 1, &d)) return 2;
            p.sample = d;
            break;
        case O_ALPHA:
            if (cli_parse_double("--alpha", optarg, 0, 10, &d)) return 2;
            p.alpha = d;
            break;
        case O_MINALPHA:
            if (cli_parse_double("--min-alpha", optarg, 0, 10, &d)) return 2;
            p.min_alpha = d;
            break;
        case O_CBOW: p.cbow = 1; break;
        case O_SHUFFLE: p.shuffle = 1; break;
        case O_BINARY: binary = 1; break;
        case O_STATS: force_stats = 1; break;
        case 'q': n_quiet++; break;
        case 'v': n_verbose++; break;
        case 'h': w2v_usage(stdout); return 0;
        default: return cli_bad_option("word2vec", oc, argc, argv);
        }
    }
    if (cli_no_operands("word2vec", argc, argv)) return 2;
    int verbosity = cli_verbosity("word2vec", n_quiet, n_verbose);
    if (verbosity < CLI_QUIET) return 2;
    if (verbosity == CLI_QUIET && force_stats) {
        cli_error("word2vec", "--stats and -q/--quiet contradict each other");
        return 2;
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
    duet_w2v_corpus *c;
    st = duet_w2v_corpus_read_file(input, &c, &err);
    if (st) return cli_fail(input, st, &err);
    w2v_cli_progress prog;
    duet_progress_init(&prog.bar, "word2vec", 100.0, verbosity == CLI_QUIET ? -1 : 0);
    cli_debug(verbosity, "word2vec",
              "%s, dim %zu, window %d, negative %d, sample %g, min-count %llu, epochs %d, alpha %g -> %g, "
              "threads %d, seed %llu%s",
              p.cbow ? "CBOW" : "skip-gram", p.dim, p.window, p.negative, p.sample, (unsigned long long)p.min_count,
              p.epochs, p.alpha, p.min_alpha, p.threads, (unsigned long long)p.seed, p.shuffle ? ", shuffled" : "");
    p.progress = w2v_on_progress;
    p.progress_ctx = &prog;
    duet_w2v_vectors *vec;
    duet_w2v_train_stats stats;
    st = duet_w2v_train(c, &p, &vec, &stats, &err);
    duet_progress_done(&prog.bar);
    duet_w2v_corpus_free(c);
    if (st) return cli_fail(input, st, &err);
    st = duet_w2v_vectors_save(vec, outp, binary ? W2V_FORMAT_BINARY : W2V_FORMAT_TEXT, &err);
    duet_w2v_vectors_free(vec);
    if (st) return cli_fail(outp, st, &err);
    if (verbosity > CLI_QUIET && (force_stats || verbosity == CLI_VERBOSE || isatty(STDERR_FILENO)))
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
    cli_help_quiet_verbose(f, 23);
    fprintf(f, "  -h, --help           show this help\n"
               "Options take their value as --opt VALUE or --opt=VALUE.\n");
}

int cmd_word2vec_corpus(int argc, char **argv)
{
    duet_w2v_hetrec_opts o;
    duet_w2v_hetrec_opts_default(&o);
    const char *outp = NULL;
    int n_quiet = 0, n_verbose = 0;
    enum { O_HETREC = 256, O_OUT, O_MINTAG, O_MAXTAGS, O_SEED, O_NOART, O_NOUSERS };
    static const struct option lo[] = {{"hetrec", required_argument, 0, O_HETREC},
                                       {"out", required_argument, 0, O_OUT},
                                       {"min-tag-users", required_argument, 0, O_MINTAG},
                                       {"max-tags", required_argument, 0, O_MAXTAGS},
                                       {"seed", required_argument, 0, O_SEED},
                                       {"no-artists", no_argument, 0, O_NOART},
                                       {"no-users", no_argument, 0, O_NOUSERS},
                                       CLI_OPT_QUIET_VERBOSE,
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int oc;
    while ((oc = getopt_long(argc, argv, ":qvh", lo, NULL)) != -1) {
        long l;
        switch (oc) {
        case O_HETREC: o.dir = optarg; break;
        case O_OUT: outp = optarg; break;
        case O_MINTAG:
            if (cli_parse_int("--min-tag-users", optarg, 1, 1000000, &l)) return 2;
            o.min_tag_users = (int)l;
            break;
        case O_MAXTAGS:
            if (cli_parse_int("--max-tags", optarg, 0, 1000000, &l)) return 2;
            o.max_tags = (int)l;
            break;
        case O_SEED:
            if (cli_parse_int("--seed", optarg, 0, 0x7fffffffffffffffL, &l)) return 2;
            o.seed = (uint64_t)l;
            break;
        case O_NOART: o.artist_sentences = 0; break;
        case O_NOUSERS: o.user_sentences = 0; break;
        case 'q': n_quiet++; break;
        case 'v': n_verbose++; break;
        case 'h': corpus_usage(stdout); return 0;
        default: return cli_bad_option("word2vec-corpus", oc, argc, argv);
        }
    }
    if (cli_no_operands("word2vec-corpus", argc, argv)) return 2;
    int verbosity = cli_verbosity("word2vec-corpus", n_quiet, n_verbose);
    if (verbosity < CLI_QUIET) return 2;
    if (!o.dir || !outp) {
        cli_error(argv[0], "--hetrec and --out are required (see duet word2vec-corpus --help)");
        return 2;
    }
    duet_err err;
    duet_err_clear(&err);
    duet_w2v_corpus *c;
    duet_w2v_hetrec_stats stats;
    cli_debug(verbosity, "word2vec-corpus", "%s: artist sentences %s, user sentences %s, min-tag-users %d, max-tags %d, "
              "seed %llu", o.dir, o.artist_sentences ? "yes" : "no", o.user_sentences ? "yes" : "no", o.min_tag_users,
              o.max_tags, (unsigned long long)o.seed);
    duet_status st = duet_w2v_hetrec_build(&o, &c, &stats, &err);
    if (st) return cli_fail(o.dir, st, &err);
    st = duet_w2v_corpus_write_file(c, outp, &err);
    size_t distinct = duet_w2v_corpus_n_distinct(c);
    duet_w2v_corpus_free(c);
    if (st) return cli_fail(outp, st, &err);
    if (verbosity > CLI_QUIET)
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
            "Unknown tokens are an error when none is known, else skipped with a warning.\n"
            "  -k, --k N                how many neighbours (default 10)\n"
            "      --format FMT         auto (default), text or binary word2vec format\n");
    cli_help_quiet_verbose(f, 27);
    fprintf(f, "  -h, --help               show this help\n"
               "Options take their value as --opt VALUE or --opt=VALUE; `--` ends them (for a\n"
               "TOKEN that starts with '-').\n");
}

int cmd_word2vec_similar(int argc, char **argv)
{
    const char *path = NULL;
    const char **tokens = calloc((size_t)argc, sizeof *tokens);
    size_t n_tok = 0;
    long k = 10;
    duet_w2v_format fmt = W2V_FORMAT_AUTO;
    int rc = 2;
    if (!tokens) {
        cli_error(argv[0], "out of memory");
        return 1;
    }
    int n_quiet = 0, n_verbose = 0;
    static const struct option lo[] = {{"k", required_argument, 0, 'k'},
                                       {"format", required_argument, 0, 'F'},
                                       CLI_OPT_QUIET_VERBOSE,
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int oc;
    while ((oc = getopt_long(argc, argv, ":k:qvh", lo, NULL)) != -1) {
        switch (oc) {
        case 'k':
            if (cli_parse_int("-k", optarg, 1, 1000000, &k)) goto done;
            break;
        case 'F':
            if (!strcmp(optarg, "auto")) fmt = W2V_FORMAT_AUTO;
            else if (!strcmp(optarg, "text")) fmt = W2V_FORMAT_TEXT;
            else if (!strcmp(optarg, "binary")) fmt = W2V_FORMAT_BINARY;
            else {
                cli_error(argv[0], "--format: expected auto, text or binary, got '%s'", optarg);
                goto done;
            }
            break;
        case 'q': n_quiet++; break;
        case 'v': n_verbose++; break;
        case 'h':
            similar_usage(stdout);
            rc = 0;
            goto done;
        default: rc = cli_bad_option("word2vec-similar", oc, argc, argv); goto done;
        }
    }
    int verbosity = cli_verbosity("word2vec-similar", n_quiet, n_verbose);
    if (verbosity < CLI_QUIET) goto done;
    for (int i = optind; i < argc; i++) {
        if (!path) path = argv[i];
        else tokens[n_tok++] = argv[i];
    }
    if (!path || n_tok == 0) {
        cli_error(argv[0], "need VECTORS and at least one TOKEN (see duet word2vec-similar --help)");
        goto done;
    }
    rc = 1;
    duet_err err;
    duet_err_clear(&err);
    duet_w2v_vectors *v;
    duet_status st = duet_w2v_vectors_load(path, fmt, &v, &err);
    if (st) {
        rc = cli_fail(path, st, &err);
        goto done;
    }
    size_t dim = duet_w2v_vectors_dim(v), n_known = 0;
    float *q = malloc(dim * sizeof *q);
    long *ex = malloc(n_tok * sizeof *ex), *idx = malloc((size_t)k * sizeof *idx);
    float *sim = malloc((size_t)k * sizeof *sim);
    if (!q || !ex || !idx || !sim) {
        cli_error(argv[0], "out of memory");
        goto done2;
    }
    cli_debug(verbosity, "word2vec-similar", "%s: %zu tokens of dimension %zu", path, duet_w2v_vectors_count(v), dim);
    size_t n_found = 0;
    for (size_t i = 0; i < n_tok; i++) {
        ex[i] = duet_w2v_vectors_find(v, tokens[i]);
        n_found += ex[i] >= 0;
    }
    /* unknown tokens: warnings when others are known (not with -q), errors when none is */
    for (size_t i = 0; i < n_tok; i++)
        if (ex[i] < 0 && (n_found == 0 || verbosity > CLI_QUIET))
            cli_error(argv[0], "token '%s' is not in the vocabulary", tokens[i]);
    st = duet_w2v_content_vector_ids(v, ex, NULL, n_tok, W2V_CONTENT_UNIT_TOKENS, q, &n_known, &err);
    if (st) {
        rc = cli_fail(path, st, &err);
        goto done2;
    }
    size_t n_out;
    st = duet_w2v_vectors_most_similar(v, q, ex, n_tok, (size_t)k, idx, sim, &n_out, &err);
    if (st) {
        rc = cli_fail(path, st, &err);
        goto done2;
    }
    for (size_t i = 0; i < n_out; i++) printf("%s\t%.6f\n", duet_w2v_vectors_token(v, (size_t)idx[i]), sim[i]);
    rc = 0;
    if (fflush(stdout) != 0) rc = 1;
done2:
    free(q);
    free(ex);
    free(idx);
    free(sim);
    duet_w2v_vectors_free(v);
done:
    free(tokens);
    return rc;
}
