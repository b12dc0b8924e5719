/* tests/test_word2vec.c: word2vec trainer, tables, vector files, queries,
 * content vectors, the HetRec corpus builder and the CLI. Golden references
 * (gensim 4.2) come from fixtures/gen_word2vec.py. */
#include "check.h"
#include "../common/rng.h"
#include "../recommender/w2v_corpus.h"
#include "../recommender/word2vec.h"

#include <stdint.h>
#include <unistd.h>

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data, 1, n, f);
    fclose(f);
}

static duet_w2v_corpus *corpus_from_string(const char *text, duet_status *st, duet_err *err)
{
    const char *p = tmp_path("corpus.txt");
    write_file(p, text, strlen(text));
    duet_w2v_corpus *c = NULL;
    *st = duet_w2v_corpus_read_file(p, &c, err);
    return c;
}

/* --------------------------------------------------------------- gensim */

typedef struct vocab_row {
    char tok[64];
    unsigned long long count;
    double keep, neg;
} vocab_row;

static size_t read_gensim_vocab(vocab_row *rows, size_t cap)
{
    FILE *f = fopen(FIXTURE("word2vec/gensim_vocab.tsv"), "r");
    if (!f) return 0;
    char line[256];
    size_t n = 0;
    if (!fgets(line, sizeof line, f)) n = 0;
    while (n < cap && fgets(line, sizeof line, f))
        if (sscanf(line, "%63s %llu %lf %lf", rows[n].tok, &rows[n].count, &rows[n].keep,
                   &rows[n].neg) == 4)
            n++;
    fclose(f);
    return n;
}

/* Subsampling probabilities and the unigram^0.75 table against gensim's own
 * vocabulary of the same corpus; then the trainer's vocabulary (counts, order). */
static void test_tables_match_gensim(void)
{
    vocab_row rows[64];
    size_t n = read_gensim_vocab(rows, 64);
    REQUIRE(n == 32);
    unsigned long long total = 0;
    uint64_t counts[64];
    for (size_t i = 0; i < n; i++) {
        total += rows[i].count;
        counts[i] = rows[i].count;
    }
    double max_keep = 0, max_neg = 0;
    for (size_t i = 0; i < n; i++) {
        double k = duet_w2v_keep_probability(rows[i].count, total, 1e-2);
        max_keep = fmax(max_keep, fabs(k - rows[i].keep));
    }
    duet_w2v_negative_table *t;
    REQUIRE(duet_w2v_negative_table_new(counts, n, 0.75, &t, NULL) == DUET_OK);
    double psum = 0;
    for (size_t i = 0; i < n; i++) {
        double p = duet_w2v_negative_table_prob(t, i);
        psum += p;
        max_neg = fmax(max_neg, fabs(p - rows[i].neg));
    }
    fprintf(stderr, "  vs gensim: max |keep diff| %.3g, max |neg prob diff| %.3g\n", max_keep, max_neg);
    CHECK(max_keep < 1e-8);
    CHECK(max_neg < 1e-8);
    CHECK_NEAR(psum, 1.0, 1e-9);
    duet_w2v_negative_table_free(t);

    /* the trainer builds the same vocabulary (counts, descending order) */
    duet_w2v_corpus *c;
    REQUIRE(duet_w2v_corpus_read_file(FIXTURE("word2vec/vocab_corpus.txt"), &c, NULL) == DUET_OK);
    CHECK(duet_w2v_corpus_n_tokens(c) == total);
    duet_w2v_params p;
    duet_w2v_params_default(&p);
    p.dim = 4;
    p.epochs = 1;
    duet_w2v_vectors *v;
    REQUIRE(duet_w2v_train(c, &p, &v, NULL, NULL) == DUET_OK);
    CHECK(duet_w2v_vectors_count(v) == n);
    for (size_t i = 0; i < n && i < duet_w2v_vectors_count(v); i++) {
        long j = duet_w2v_vectors_find(v, rows[i].tok);
        CHECK_MSG(j >= 0, "token %s", rows[i].tok);
        if (j >= 0) CHECK(duet_w2v_vectors_token_count(v, (size_t)j) == rows[i].count);
        if (i > 0) CHECK(duet_w2v_vectors_token_count(v, i) <= duet_w2v_vectors_token_count(v, i - 1));
    }
    duet_w2v_vectors_free(v);
    duet_w2v_corpus_free(c);
}

/* The alias table: exact implied probabilities = c^0.75 / sum, and 10^6 draws
 * follow them (chi-square). */
static void test_negative_table_distribution(void)
{
    uint64_t counts[] = {1000, 1, 0, 37, 250, 5, 5, 90000, 12, 3};
    size_t n = sizeof counts / sizeof counts[0];
    duet_w2v_negative_table *t;
    REQUIRE(duet_w2v_negative_table_new(counts, n, 0.75, &t, NULL) == DUET_OK);
    double z = 0, expect[10];
    for (size_t i = 0; i < n; i++) z += pow((double)counts[i], 0.75);
    for (size_t i = 0; i < n; i++) {
        expect[i] = counts[i] ? pow((double)counts[i], 0.75) / z : 0.0;
        CHECK_NEAR(duet_w2v_negative_table_prob(t, i), expect[i], 1e-8);
    }
    duet_rng r;
    duet_rng_seed(&r, 3);
    long hist[10] = {0};
    long draws = 1000000;
    for (long k = 0; k < draws; k++) {
        uint32_t x = duet_w2v_negative_table_draw(t, duet_rng_u64(&r));
        REQUIRE(x < n);
        hist[x]++;
    }
    CHECK(hist[2] == 0); /* count 0: never drawn */
    double chi2 = 0;
    int dof = -1;
    for (size_t i = 0; i < n; i++) {
        if (expect[i] == 0) continue;
        double e = expect[i] * (double)draws;
        chi2 += (hist[i] - e) * (hist[i] - e) / e;
        dof++;
    }
    fprintf(stderr, "  negative table: chi2 %.2f with %d dof\n", chi2, dof);
    CHECK(chi2 < 30.0); /* 8 dof: p ~ 2e-4 */
    duet_w2v_negative_table_free(t);
    duet_err e;
    duet_err_clear(&e);
    uint64_t zeros[3] = {0, 0, 0};
    CHECK(duet_w2v_negative_table_new(zeros, 3, 0.75, &t, &e) == DUET_ERR_ARG);
    CHECK(duet_w2v_negative_table_new(counts, 0, 0.75, &t, &e) == DUET_ERR_ARG);
}

/* Subsampling: the formula, and the trainer keeps tokens at that rate. */
static void test_subsampling(void)
{
    /* (sqrt(c/(sN)) + 1) sN / c, capped at 1 */
    CHECK_NEAR(duet_w2v_keep_probability(1000, 100000, 1e-3), (sqrt(1000 / 100.0) + 1) * 100 / 1000, 1e-12);
    CHECK_NEAR(duet_w2v_keep_probability(10, 100000, 1e-3), 1.0, 0);
    CHECK_NEAR(duet_w2v_keep_probability(1000, 100000, 0), 1.0, 0);

    /* corpus: one token of 60% of the mass, 40 rare ones */
    duet_w2v_corpus *c;
    REQUIRE(duet_w2v_corpus_new(&c, NULL) == DUET_OK);
    duet_rng r;
    duet_rng_seed(&r, 9);
    char names[41][16];
    const char *sent[10];
    for (int i = 0; i < 41; i++) snprintf(names[i], sizeof names[i], "t%d", i);
    for (int s = 0; s < 2000; s++) {
        for (int k = 0; k < 10; k++)
            sent[k] = duet_rng_uniform(&r) < 0.6f ? names[0] : names[1 + duet_rng_below(&r, 40)];
        REQUIRE(duet_w2v_corpus_add_sentence(c, sent, 10, NULL) == DUET_OK);
    }
    duet_w2v_params p;
    duet_w2v_params_default(&p);
    p.dim = 4;
    p.epochs = 3;
    p.sample = 1e-2;
    duet_w2v_vectors *v;
    duet_w2v_train_stats st;
    REQUIRE(duet_w2v_train(c, &p, &v, &st, NULL) == DUET_OK);
    double expect = 0, var = 0;
    for (size_t i = 0; i < duet_w2v_vectors_count(v); i++) {
        double k = duet_w2v_keep_probability(duet_w2v_vectors_token_count(v, i), st.corpus_tokens, p.sample);
        expect += k * (double)duet_w2v_vectors_token_count(v, i) * p.epochs;
        var += k * (1 - k) * (double)duet_w2v_vectors_token_count(v, i) * p.epochs;
    }
    fprintf(stderr, "  subsampling: kept %llu, expected %.0f +- %.0f\n",
            (unsigned long long)st.trained_tokens, expect, sqrt(var));
    CHECK(st.corpus_tokens == 20000);
    CHECK(fabs((double)st.trained_tokens - expect) < 5 * sqrt(var) + 1);
    CHECK(st.trained_tokens < 20000 * 3 * 0.6); /* it does bite */
    duet_w2v_vectors_free(v);
    duet_w2v_corpus_free(c);
}

typedef struct lr_trace {
    int n, bad, nonmono;
    double last, alpha0, min_alpha;
    uint64_t total;
} lr_trace;

static void on_progress(void *ctx, const duet_w2v_progress_info *info)
{
    lr_trace *tr = ctx;
    double want = duet_w2v_learning_rate(tr->alpha0, tr->min_alpha, info->tokens_done, tr->total);
    if (fabs(info->alpha - (double)(float)want) > 1e-9) tr->bad++;
    if (tr->n && info->alpha > tr->last) tr->nonmono++;
    tr->last = info->alpha;
    tr->n++;
}

/* Linear decay from alpha to min_alpha over all epochs' tokens, used by the trainer. */
static void test_learning_rate_schedule(void)
{
    CHECK_NEAR(duet_w2v_learning_rate(0.025, 1e-4, 0, 1000), 0.025, 1e-15);
    CHECK_NEAR(duet_w2v_learning_rate(0.025, 1e-4, 500, 1000), 0.025 - 0.0249 * 0.5, 1e-15);
    CHECK_NEAR(duet_w2v_learning_rate(0.025, 1e-4, 1000, 1000), 1e-4, 1e-15);
    CHECK_NEAR(duet_w2v_learning_rate(0.025, 1e-4, 5000, 1000), 1e-4, 1e-15);

    duet_w2v_corpus *c;
    REQUIRE(duet_w2v_corpus_read_file(FIXTURE("word2vec/vocab_corpus.txt"), &c, NULL) == DUET_OK);
    duet_w2v_params p;
    duet_w2v_params_default(&p);
    p.dim = 8;
    p.epochs = 40; /* 40 x 2,8xx tokens: about 11 updates of the rate */
    lr_trace tr = {0, 0, 0, 0, p.alpha, p.min_alpha, 0};
    tr.total = (uint64_t)duet_w2v_corpus_n_tokens(c) * (uint64_t)p.epochs;
    p.progress = on_progress;
    p.progress_ctx = &tr;
    duet_w2v_vectors *v;
    REQUIRE(duet_w2v_train(c, &p, &v, NULL, NULL) == DUET_OK);
    fprintf(stderr, "  learning rate: %d reports, last alpha %.6g\n", tr.n, tr.last);
    CHECK(tr.n >= 10);
    CHECK(tr.bad == 0);
    CHECK(tr.nonmono == 0);
    CHECK_NEAR(tr.last, p.min_alpha, 1e-12);
    duet_w2v_vectors_free(v);
    duet_w2v_corpus_free(c);
}

/* ------------------------------------------------------------ vector files */

static int vectors_equal(const duet_w2v_vectors *a, const duet_w2v_vectors *b)
{
    if (duet_w2v_vectors_count(a) != duet_w2v_vectors_count(b) || duet_w2v_vectors_dim(a) != duet_w2v_vectors_dim(b))
        return 0;
    for (size_t i = 0; i < duet_w2v_vectors_count(a); i++) {
        if (strcmp(duet_w2v_vectors_token(a, i), duet_w2v_vectors_token(b, i))) return 0;
        if (memcmp(duet_w2v_vectors_row(a, i), duet_w2v_vectors_row(b, i), duet_w2v_vectors_dim(a) * sizeof(float)))
            return 0;
    }
    return 1;
}

static void test_roundtrip_text_binary(void)
{
    const char *toks[] = {"a", "tag:rock_français", "artist:7", "z"};
    float rows[4 * 3] = {0.1f, -2.5e-8f, 3.4e30f, 1, 2, 3, -0.333333343f, 1e-38f, 7.0f, 0, 0, 0};
    duet_w2v_vectors *v, *t, *b, *a1, *a2;
    REQUIRE(duet_w2v_vectors_from_arrays(toks, rows, 4, 3, &v, NULL) == DUET_OK);
    REQUIRE(duet_w2v_vectors_save(v, tmp_path("v.txt"), W2V_FORMAT_TEXT, NULL) == DUET_OK);
    REQUIRE(duet_w2v_vectors_save(v, tmp_path("v.bin"), W2V_FORMAT_BINARY, NULL) == DUET_OK);
    REQUIRE(duet_w2v_vectors_load(tmp_path("v.txt"), W2V_FORMAT_TEXT, &t, NULL) == DUET_OK);
    REQUIRE(duet_w2v_vectors_load(tmp_path("v.bin"), W2V_FORMAT_BINARY, &b, NULL) == DUET_OK);
    REQUIRE(duet_w2v_vectors_load(tmp_path("v.txt"), W2V_FORMAT_AUTO, &a1, NULL) == DUET_OK);
    REQUIRE(duet_w2v_vectors_load(tmp_path("v.bin"), W2V_FORMAT_AUTO, &a2, NULL) == DUET_OK);
    CHECK(vectors_equal(v, t));
    CHECK(vectors_equal(v, b));
    CHECK(vectors_equal(v, a1));
    CHECK(vectors_equal(v, a2));
    CHECK(duet_w2v_vectors_find(t, "tag:rock_français") == 1);
    CHECK(duet_w2v_vectors_find(t, "nope") == -1);
    duet_w2v_vectors_free(v);
    duet_w2v_vectors_free(t);
    duet_w2v_vectors_free(b);
    duet_w2v_vectors_free(a1);
    duet_w2v_vectors_free(a2);
    /* unwritable output: error, nothing left behind */
    duet_err e;
    duet_err_clear(&e);
    REQUIRE(duet_w2v_vectors_from_arrays(toks, rows, 4, 3, &v, NULL) == DUET_OK);
    CHECK(duet_w2v_vectors_save(v, "/nonexistent_duet_dir/v.txt", W2V_FORMAT_TEXT, &e) == DUET_ERR_IO);
    duet_w2v_vectors_free(v);
}

/* Files written by gensim's save_word2vec_format load, agree with each other,
 * and most_similar agrees with gensim's. */
static void test_reads_gensim_files(void)
{
    duet_w2v_vectors *t, *b;
    duet_err e;
    duet_err_clear(&e);
    REQUIRE(duet_w2v_vectors_load(FIXTURE("word2vec/gensim_kv.txt"), W2V_FORMAT_AUTO, &t, &e) == DUET_OK);
    REQUIRE(duet_w2v_vectors_load(FIXTURE("word2vec/gensim_kv.bin"), W2V_FORMAT_AUTO, &b, &e) == DUET_OK);
    CHECK(duet_w2v_vectors_count(t) == 8 && duet_w2v_vectors_dim(t) == 6);
    CHECK(vectors_equal(t, b));
    long x = duet_w2v_vectors_find(t, "x");
    REQUIRE(x >= 0);
    CHECK(duet_w2v_vectors_row(t, (size_t)x)[2] == 1e-30f);
    CHECK(duet_w2v_vectors_row(t, (size_t)x)[3] == -3.5e7f);
    FILE *f = fopen(FIXTURE("word2vec/gensim_kv_similar.tsv"), "r");
    REQUIRE(f);
    char q[64], tok[64];
    double sim;
    int rank = 0, lines = 0;
    char prev[64] = "";
    long idx[5];
    float sims[5];
    size_t n_out = 0;
    while (fscanf(f, "%63s %63s %lf", q, tok, &sim) == 3) {
        if (strcmp(q, prev)) {
            long qi = duet_w2v_vectors_find(t, q);
            REQUIRE(qi >= 0);
            REQUIRE(duet_w2v_vectors_most_similar(t, duet_w2v_vectors_row(t, (size_t)qi), &qi, 1, 5, idx, sims,
                                                  &n_out, NULL) == DUET_OK);
            CHECK(n_out == 5);
            snprintf(prev, sizeof prev, "%s", q);
            rank = 0;
        }
        CHECK_MSG(!strcmp(duet_w2v_vectors_token(t, (size_t)idx[rank]), tok), "%s #%d: %s vs gensim %s", q,
                  rank, duet_w2v_vectors_token(t, (size_t)idx[rank]), tok);
        CHECK_NEAR(sims[rank], sim, 1e-6);
        rank++;
        lines++;
    }
    fclose(f);
    CHECK(lines == 15);
    duet_w2v_vectors_free(t);
    duet_w2v_vectors_free(b);
}

static duet_status load_text(const char *text, size_t n, duet_w2v_format fmt, duet_err *e)
{
    const char *p = tmp_path("bad.vec");
    write_file(p, text, n);
    duet_w2v_vectors *v = NULL;
    duet_err_clear(e);
    duet_status st = duet_w2v_vectors_load(p, fmt, &v, e);
    if (st) CHECK(v == NULL);
    duet_w2v_vectors_free(v);
    if (st) fprintf(stderr, "    (expected) %s\n", e->msg);
    return st;
}

static void test_reader_is_strict(void)
{
    duet_err e;
#define T(s) s, sizeof(s) - 1
    CHECK(load_text(T("2 2\na 1 2\nb 3 4\n"), W2V_FORMAT_TEXT, &e) == DUET_OK);
    CHECK(load_text(T("2 2\na 1 2\nb 3 4"), W2V_FORMAT_TEXT, &e) == DUET_OK); /* no final newline */
    CHECK(load_text(T(""), W2V_FORMAT_AUTO, &e) == DUET_ERR_EMPTY);
    CHECK(load_text(T("hello\n"), W2V_FORMAT_AUTO, &e) == DUET_ERR_FORMAT);
    CHECK(load_text(T("3 2\na 1 2\nb 3 4\n"), W2V_FORMAT_TEXT, &e) == DUET_ERR_FORMAT); /* fewer */
    CHECK(strstr(e.msg, "2 of 3") != NULL);
    CHECK(load_text(T("1 2\na 1 2\nb 3 4\n"), W2V_FORMAT_TEXT, &e) == DUET_ERR_FORMAT); /* more */
    CHECK(load_text(T("2 2\na 1 2\nb 3\n"), W2V_FORMAT_TEXT, &e) == DUET_ERR_FORMAT);  /* short row */
    CHECK(load_text(T("2 2\na 1 2 5\nb 3 4\n"), W2V_FORMAT_TEXT, &e) == DUET_ERR_FORMAT); /* long row */
    CHECK(load_text(T("2 2\na 1 x\nb 3 4\n"), W2V_FORMAT_TEXT, &e) == DUET_ERR_FORMAT);
    CHECK(load_text(T("2 2\na 1 nan\nb 3 4\n"), W2V_FORMAT_TEXT, &e) == DUET_ERR_NAN);
    CHECK(load_text(T("2 2\na 1 2\na 3 4\n"), W2V_FORMAT_TEXT, &e) == DUET_ERR_FORMAT); /* duplicate */
    CHECK(load_text(T("2 0\na\nb\n"), W2V_FORMAT_TEXT, &e) == DUET_ERR_FORMAT);
    CHECK(load_text(T("99999999999 2\na 1 2\n"), W2V_FORMAT_TEXT, &e) == DUET_ERR_RANGE);
    CHECK(load_text(T("2 2\n\xff\xfe 1 2\nb 3 4\n"), W2V_FORMAT_TEXT, &e) == DUET_ERR_FORMAT);
    /* binary: exact, truncated, trailing garbage */
    char bin[64];
    float f2[2] = {1.5f, -2.0f};
    size_t k = (size_t)snprintf(bin, sizeof bin, "2 2\nab ");
    memcpy(bin + k, f2, 8);
    k += 8;
    bin[k++] = '\n';
    memcpy(bin + k, "cd ", 3);
    k += 3;
    memcpy(bin + k, f2, 8);
    k += 8;
    CHECK(load_text(bin, k, W2V_FORMAT_BINARY, &e) == DUET_OK);
    CHECK(load_text(bin, k, W2V_FORMAT_AUTO, &e) == DUET_OK);
    CHECK(load_text(bin, k - 1, W2V_FORMAT_BINARY, &e) == DUET_ERR_FORMAT);
    CHECK(strstr(e.msg, "truncated") != NULL);
    memcpy(bin + k, "\nzz", 3);
    CHECK(load_text(bin, k + 3, W2V_FORMAT_BINARY, &e) == DUET_ERR_FORMAT);
    duet_w2v_vectors *v = NULL;
    CHECK(duet_w2v_vectors_load(tmp_path("does_not_exist"), W2V_FORMAT_AUTO, &v, &e) == DUET_ERR_IO);
#undef T
}

/* --------------------------------------------------------------- training */

static void test_determinism(void)
{
    duet_w2v_corpus *c;
    REQUIRE(duet_w2v_corpus_read_file(FIXTURE("word2vec/vocab_corpus.txt"), &c, NULL) == DUET_OK);
    duet_w2v_params p;
    duet_w2v_params_default(&p);
    p.dim = 16;
    p.seed = 7;
    p.threads = 1;
    duet_w2v_vectors *a, *b, *d;
    REQUIRE(duet_w2v_train(c, &p, &a, NULL, NULL) == DUET_OK);
    REQUIRE(duet_w2v_train(c, &p, &b, NULL, NULL) == DUET_OK);
    p.seed = 8;
    REQUIRE(duet_w2v_train(c, &p, &d, NULL, NULL) == DUET_OK);
    CHECK(vectors_equal(a, b));
    CHECK(!vectors_equal(a, d));
    duet_w2v_vectors_free(a);
    duet_w2v_vectors_free(b);
    duet_w2v_vectors_free(d);
    duet_w2v_corpus_free(c);
}

/* Three clusters of 12 tokens; each sentence draws from one cluster. Every
 * token's 5 nearest neighbours must lie in its own cluster. */
static int planted_clusters(int cbow, int threads, int shuffle)
{
    duet_w2v_corpus *c;
    if (duet_w2v_corpus_new(&c, NULL)) return -1;
    duet_rng r;
    duet_rng_seed(&r, 11);
    char names[36][8];
    for (int i = 0; i < 36; i++) snprintf(names[i], sizeof names[i], "%c%d", 'a' + i / 12, i % 12);
    const char *sent[12];
    for (int s = 0; s < 900; s++) {
        int cl = (int)duet_rng_below(&r, 3), len = 4 + (int)duet_rng_below(&r, 8);
        for (int k = 0; k < len; k++) sent[k] = names[cl * 12 + (int)duet_rng_below(&r, 12)];
        if (duet_w2v_corpus_add_sentence(c, sent, (size_t)len, NULL)) return -1;
    }
    duet_w2v_params p;
    duet_w2v_params_default(&p);
    p.dim = 16;
    p.epochs = 10;
    p.cbow = cbow;
    p.threads = threads;
    p.shuffle = shuffle;
    if (cbow) p.alpha = 0.05;
    duet_w2v_vectors *v;
    if (duet_w2v_train(c, &p, &v, NULL, NULL)) return -1;
    int wrong = 0;
    for (size_t i = 0; i < duet_w2v_vectors_count(v); i++) {
        long ex = (long)i, idx[5];
        float sim[5];
        size_t n = 0;
        duet_w2v_vectors_most_similar(v, duet_w2v_vectors_row(v, i), &ex, 1, 5, idx, sim, &n, NULL);
        for (size_t k = 0; k < n; k++)
            if (duet_w2v_vectors_token(v, (size_t)idx[k])[0] != duet_w2v_vectors_token(v, i)[0]) wrong++;
        if (n != 5) wrong += 5;
    }
    duet_w2v_vectors_free(v);
    duet_w2v_corpus_free(c);
    return wrong;
}

static void test_planted_structure(void)
{
    int sg = planted_clusters(0, 1, 0), cb = planted_clusters(1, 1, 0);
    int hog = planted_clusters(0, 2, 1);
    fprintf(stderr, "  planted clusters: wrong neighbours sg %d, cbow %d, sg 2 threads+shuffle %d (of 180)\n",
            sg, cb, hog);
    CHECK(sg == 0);
    CHECK(cb == 0);
    CHECK(hog == 0);
}

static void test_bad_inputs(void)
{
    duet_err e;
    duet_status st;
    duet_w2v_vectors *v = NULL;
    duet_w2v_params p;
    duet_w2v_params_default(&p);
    p.dim = 8;
    /* empty corpus (only blank lines) */
    duet_err_clear(&e);
    duet_w2v_corpus *c = corpus_from_string("\n\n  \r\n", &st, &e);
    REQUIRE(st == DUET_OK);
    CHECK(duet_w2v_corpus_n_tokens(c) == 0);
    CHECK(duet_w2v_train(c, &p, &v, NULL, &e) == DUET_ERR_EMPTY);
    CHECK(v == NULL);
    duet_w2v_corpus_free(c);
    /* one-token vocabulary */
    c = corpus_from_string("solo solo solo\nsolo\n", &st, &e);
    REQUIRE(st == DUET_OK);
    CHECK(duet_w2v_train(c, &p, &v, NULL, &e) == DUET_ERR_RANGE);
    CHECK(strstr(e.msg, "single token") != NULL);
    duet_w2v_corpus_free(c);
    /* dim 0 and other bad parameters */
    c = corpus_from_string("a b c\nb c d\n", &st, &e);
    REQUIRE(st == DUET_OK);
    p.dim = 0;
    CHECK(duet_w2v_train(c, &p, &v, NULL, &e) == DUET_ERR_ARG);
    CHECK(strstr(e.msg, "dim") != NULL);
    p.dim = 8;
    p.window = 0;
    CHECK(duet_w2v_train(c, &p, &v, NULL, &e) == DUET_ERR_ARG);
    p.window = 5;
    p.alpha = NAN;
    CHECK(duet_w2v_train(c, &p, &v, NULL, &e) == DUET_ERR_ARG);
    p.alpha = 0.025;
    p.min_count = 5;
    CHECK(duet_w2v_train(c, &p, &v, NULL, &e) == DUET_ERR_EMPTY);
    p.min_count = 1;
    CHECK(duet_w2v_train(c, &p, &v, NULL, &e) == DUET_OK);
    duet_w2v_vectors_free(v);
    duet_w2v_corpus_free(c);
    /* non-UTF-8 byte on line 2, and a NUL byte */
    c = corpus_from_string("ok fine\nbad \xe9t\xe9\n", &st, &e);
    CHECK(st == DUET_ERR_FORMAT && c == NULL);
    CHECK(strstr(e.msg, "line 2") != NULL);
    const char nul[] = "a b\nc\0d\n";
    write_file(tmp_path("nul.txt"), nul, sizeof nul - 1);
    CHECK(duet_w2v_corpus_read_file(tmp_path("nul.txt"), &c, &e) == DUET_ERR_FORMAT);
    CHECK(duet_w2v_corpus_read_file(tmp_path("missing.txt"), &c, &e) == DUET_ERR_IO);
    /* tokens through the API */
    REQUIRE(duet_w2v_corpus_new(&c, NULL) == DUET_OK);
    const char *bad1[] = {"ok", "has space"}, *bad2[] = {"\xc3"}, *bad3[] = {""};
    CHECK(duet_w2v_corpus_add_sentence(c, bad1, 2, &e) == DUET_ERR_ARG);
    CHECK(duet_w2v_corpus_add_sentence(c, bad2, 1, &e) == DUET_ERR_ARG);
    CHECK(duet_w2v_corpus_add_sentence(c, bad3, 1, &e) == DUET_ERR_ARG);
    CHECK(duet_w2v_corpus_n_tokens(c) == 0);
    duet_w2v_corpus_free(c);
}

/* A 3 MB line with a 1 MB token, across read-buffer boundaries. */
static void test_long_line(void)
{
    size_t big = (size_t)1 << 20, n = 3 * big + 100;
    char *s = malloc(n + 1);
    REQUIRE(s);
    size_t k = 0;
    for (size_t i = 0; i < big; i++) s[k++] = 'x';
    s[k++] = ' ';
    while (k + 4 < 3 * big) {
        memcpy(s + k, "ab ", 3);
        k += 3;
    }
    memcpy(s + k, "\ncd ab\n", 7);
    k += 7;
    write_file(tmp_path("long.txt"), s, k);
    duet_w2v_corpus *c;
    duet_err e;
    duet_err_clear(&e);
    REQUIRE(duet_w2v_corpus_read_file(tmp_path("long.txt"), &c, &e) == DUET_OK);
    CHECK(duet_w2v_corpus_n_sentences(c) == 2);
    CHECK(duet_w2v_corpus_n_distinct(c) == 3);
    size_t n_ab = (k - 7 - big - 1) / 3;
    CHECK(duet_w2v_corpus_n_tokens(c) == 1 + n_ab + 2);
    duet_w2v_params p;
    duet_w2v_params_default(&p);
    p.dim = 4;
    p.epochs = 1;
    duet_w2v_vectors *v;
    CHECK(duet_w2v_train(c, &p, &v, NULL, &e) == DUET_OK);
    if (duet_w2v_vectors_count(v) == 3) CHECK(strlen(duet_w2v_vectors_token(v, 2)) == big || strlen(duet_w2v_vectors_token(v, 1)) == big);
    duet_w2v_vectors_save(v, tmp_path("long.vec"), W2V_FORMAT_TEXT, &e);
    duet_w2v_vectors *back;
    CHECK(duet_w2v_vectors_load(tmp_path("long.vec"), W2V_FORMAT_AUTO, &back, &e) == DUET_OK);
    CHECK(vectors_equal(v, back));
    duet_w2v_vectors_free(back);
    duet_w2v_vectors_free(v);
    duet_w2v_corpus_free(c);
    free(s);
}

/* ------------------------------------------------------------ queries */

static void test_content_vectors(void)
{
    const char *toks[] = {"a", "b", "c"};
    float rows[] = {1, 0, 0, 0, 2, 0, 3, 4, 0};
    duet_w2v_vectors *v;
    REQUIRE(duet_w2v_vectors_from_arrays(toks, rows, 3, 3, &v, NULL) == DUET_OK);
    float out[3];
    size_t known;
    duet_err e;
    duet_err_clear(&e);
    const char *item[] = {"a", "b", "unknown"};
    CHECK(duet_w2v_content_vector(v, item, NULL, 3, 0, out, &known, &e) == DUET_OK);
    CHECK(known == 2);
    CHECK_NEAR(out[0], 0.5, 1e-7);
    CHECK_NEAR(out[1], 1.0, 1e-7);
    CHECK_NEAR(out[2], 0.0, 1e-7);
    float w[] = {3, 1, 5};
    CHECK(duet_w2v_content_vector(v, item, w, 3, 0, out, &known, &e) == DUET_OK);
    CHECK_NEAR(out[0], 0.75, 1e-7);
    CHECK_NEAR(out[1], 0.5, 1e-7);
    CHECK(duet_w2v_content_vector(v, item, NULL, 3, W2V_CONTENT_UNIT_TOKENS, out, &known, &e) == DUET_OK);
    CHECK_NEAR(out[0], 0.5, 1e-7);
    CHECK_NEAR(out[1], 0.5, 1e-7);
    const char *item2[] = {"c"};
    CHECK(duet_w2v_content_vector(v, item2, NULL, 1, W2V_CONTENT_UNIT_RESULT, out, &known, &e) == DUET_OK);
    CHECK_NEAR(out[0], 0.6, 1e-6);
    CHECK_NEAR(out[1], 0.8, 1e-6);
    /* the unknown path */
    const char *cold[] = {"never", "seen"};
    out[0] = 9;
    CHECK(duet_w2v_content_vector(v, cold, NULL, 2, 0, out, &known, &e) == DUET_ERR_NOTFOUND);
    CHECK(known == 0 && out[0] == 0 && out[1] == 0 && out[2] == 0);
    CHECK(duet_w2v_content_vector(v, cold, NULL, 0, 0, out, &known, &e) == DUET_ERR_NOTFOUND);
    float negw[] = {-1, 1, 1};
    CHECK(duet_w2v_content_vector(v, item, negw, 3, 0, out, &known, &e) == DUET_ERR_ARG);
    long ids[] = {2, -1, 7};
    CHECK(duet_w2v_content_vector_ids(v, ids, NULL, 2, 0, out, &known, &e) == DUET_OK);
    CHECK(known == 1 && out[0] == 3 && out[1] == 4);
    CHECK(duet_w2v_content_vector_ids(v, ids, NULL, 3, 0, out, &known, &e) == DUET_ERR_RANGE);
    /* most_similar: order, exclusion, k > n, zero query */
    long idx[5];
    float sim[5];
    size_t n;
    float q[3] = {1, 0.1f, 0};
    CHECK(duet_w2v_vectors_most_similar(v, q, NULL, 0, 5, idx, sim, &n, &e) == DUET_OK);
    CHECK(n == 3 && idx[0] == 0 && idx[1] == 2 && idx[2] == 1);
    CHECK(sim[0] >= sim[1] && sim[1] >= sim[2]);
    long ex = 0;
    CHECK(duet_w2v_vectors_most_similar(v, q, &ex, 1, 1, idx, sim, &n, &e) == DUET_OK);
    CHECK(n == 1 && idx[0] == 2);
    CHECK_NEAR(sim[0], (3 + 0.4) / (sqrt(1.01) * 5), 1e-6);
    float zero[3] = {0, 0, 0};
    CHECK(duet_w2v_vectors_most_similar(v, zero, NULL, 0, 2, idx, sim, &n, &e) == DUET_ERR_RANGE);
    duet_w2v_vectors_free(v);
    const char *dup[] = {"a", "a"};
    CHECK(duet_w2v_vectors_from_arrays(dup, rows, 2, 3, &v, &e) == DUET_ERR_FORMAT);
}

/* --------------------------------------------------------- corpus builder */

static int drop_user3(void *ctx, long user, long artist)
{
    (void)ctx;
    (void)artist;
    return user != 3;
}

static int sentence_has(const char *text, const char *a, const char *b)
{
    /* some line contains both tokens */
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, " %.*s ", (int)n, p);
        char ta[64], tb[64];
        snprintf(ta, sizeof ta, " %s ", a);
        snprintf(tb, sizeof tb, " %s ", b);
        if (strstr(line, ta) && strstr(line, tb)) return 1;
        p += n + (e ? 1 : 0);
    }
    return 0;
}

static void test_hetrec_builder(void)
{
    char *tok;
    REQUIRE(duet_w2v_hetrec_tag_token("  Rock Fran\xe7" "ais \r", 15, &tok, NULL) == DUET_OK);
    CHECK(tok && strcmp(tok, "tag:rock_fran\xc3\xa7" "ais") == 0);
    free(tok);
    REQUIRE(duet_w2v_hetrec_tag_token(" \t ", 3, &tok, NULL) == DUET_OK);
    CHECK(tok == NULL);

    duet_w2v_hetrec_opts o;
    duet_w2v_hetrec_opts_default(&o);
    o.dir = FIXTURE("word2vec/hetrec_mini");
    duet_w2v_corpus *c;
    duet_w2v_hetrec_stats st;
    duet_err e;
    duet_err_clear(&e);
    REQUIRE(duet_w2v_hetrec_build(&o, &c, &st, &e) == DUET_OK);
    /* artists 10 (rock x2 users, rock_français, "ROCK" = rock: deduplicated),
     * 11 (hip_hop, jazz_fusion); 12 has only an empty tag; 13 one tag. */
    CHECK(st.artist_sentences == 3);
    CHECK(st.user_sentences == 3);
    REQUIRE(duet_w2v_corpus_write_file(c, tmp_path("mini.txt"), &e) == DUET_OK);
    FILE *f = fopen(tmp_path("mini.txt"), "rb");
    REQUIRE(f);
    char text[2048] = {0};
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    CHECK(n > 0);
    CHECK(sentence_has(text, "artist:10", "tag:rock"));
    CHECK(sentence_has(text, "artist:10", "tag:rock_fran\xc3\xa7" "ais"));
    CHECK(sentence_has(text, "artist:11", "tag:jazz_fusion"));
    CHECK(sentence_has(text, "artist:13", "tag:jazz_fusion"));
    CHECK(sentence_has(text, "artist:10", "artist:12")); /* user 2's plays */
    CHECK(sentence_has(text, "artist:10", "artist:13")); /* user 3's plays */
    CHECK(strstr(text, "tag:rock tag:rock") == NULL);
    CHECK(duet_w2v_corpus_n_tokens(c) == 3 + 3 + 2 + 3 + 2 + 1);
    duet_w2v_corpus_free(c);
    /* filters: min users per tag, dropped plays */
    o.min_tag_users = 2;
    o.keep_play = drop_user3;
    REQUIRE(duet_w2v_hetrec_build(&o, &c, &st, &e) == DUET_OK);
    CHECK(st.artist_sentences == 2); /* 10: rock; 11: hip_hop */
    CHECK(st.user_sentences == 2);
    CHECK(duet_w2v_corpus_n_tokens(c) == 2 + 2 + 3 + 1);
    duet_w2v_corpus_free(c);
    /* errors */
    o.dir = tmp_path("no_such_dir");
    CHECK(duet_w2v_hetrec_build(&o, &c, &st, &e) == DUET_ERR_IO);
    CHECK(strstr(e.msg, "tags.dat") != NULL);
    char d[256];
    snprintf(d, sizeof d, "%s", tmp_path("het"));
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s/*.dat %s/ && printf '2\\tx\\t3\\r\\n' >> %s/user_artists.dat",
             d, FIXTURE("word2vec/hetrec_mini"), d, d);
    REQUIRE(system(cmd) == 0);
    o.dir = d;
    CHECK(duet_w2v_hetrec_build(&o, &c, &st, &e) == DUET_ERR_FORMAT);
    CHECK(strstr(e.msg, "user_artists.dat line 8") != NULL);
}

/* ------------------------------------------------------------------ CLI */

static int run(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_cli(void)
{
    const char *duet = getenv("DUET");
    if (!duet || access(duet, X_OK) != 0) {
        fprintf(stderr, "  (DUET not set or not built: CLI test skipped)\n");
        return;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s word2vec --input %s --out %s --dim 8 --threads 1 --seed 3 2>/dev/null",
             duet, FIXTURE("word2vec/vocab_corpus.txt"), tmp_path("cli.vec"));
    CHECK(run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s word2vec-similar %s w00 -k 3 > %s", duet, tmp_path("cli.vec"), tmp_path("sim.txt"));
    CHECK(run(cmd) == 0);
    FILE *f = fopen(tmp_path("sim.txt"), "r");
    int lines = 0;
    char buf[256];
    while (f && fgets(buf, sizeof buf, f)) lines += strchr(buf, '\t') != NULL;
    if (f) fclose(f);
    CHECK(lines == 3);
    snprintf(cmd, sizeof cmd, "%s word2vec-similar %s never_seen 2>/dev/null >/dev/null", duet, tmp_path("cli.vec"));
    CHECK(run(cmd) == 1);
    snprintf(cmd, sizeof cmd, "%s word2vec --input %s --out %s --dim 0 2>/dev/null", duet,
             FIXTURE("word2vec/vocab_corpus.txt"), tmp_path("d0.vec"));
    CHECK(run(cmd) == 1);
    CHECK(access(tmp_path("d0.vec"), F_OK) != 0);
    snprintf(cmd, sizeof cmd, "%s word2vec --input %s --out %s 2>/dev/null", duet, tmp_path("nothere"),
             tmp_path("x.vec"));
    CHECK(run(cmd) == 1);
    snprintf(cmd, sizeof cmd, "%s word2vec --bogus 2>/dev/null", duet);
    CHECK(run(cmd) == 2);
    snprintf(cmd, sizeof cmd, "%s word2vec-corpus --hetrec %s --out %s 2>/dev/null", duet,
             FIXTURE("word2vec/hetrec_mini"), tmp_path("mini2.txt"));
    CHECK(run(cmd) == 0);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/duet_w2v_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_tables_match_gensim);
    RUN(test_negative_table_distribution);
    RUN(test_subsampling);
    RUN(test_learning_rate_schedule);
    RUN(test_roundtrip_text_binary);
    RUN(test_reads_gensim_files);
    RUN(test_reader_is_strict);
    RUN(test_determinism);
    RUN(test_planted_structure);
    RUN(test_bad_inputs);
    RUN(test_long_line);
    RUN(test_content_vectors);
    RUN(test_hetrec_builder);
    RUN(test_cli);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_summary();
}
