/* tests/test_rec_data.c: recommender loaders (generic TSVs, HetRec with CRLF
 * and ISO-8859-1 tags, KGCN, NCF) on the tiny fixture set and on small files
 * written here, bad-input errors with line numbers, and the seeded splits. */
#include "check.h"
#include "../recommender/data.h"
#include "../recommender/split.h"

#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

static const char *tmpfile_with(const char *name, const char *content)
{
    static char path[8][256];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
    return p;
}

static float weight_of(const duet_rec_dataset *ds, const char *u, const char *i)
{
    int32_t ui = duet_rec_dataset_find_user(ds, u), ii = duet_rec_dataset_find_item(ds, i);
    if (ui < 0 || ii < 0) return -1;
    for (int64_t q = ds->ui.indptr[ui]; q < ds->ui.indptr[ui + 1]; q++)
        if (ds->ui.indices[q] == ii) return ds->ui.values[q];
    return 0;
}

static void test_tiny_interactions(void)
{
    duet_rec_dataset *ds = NULL;
    duet_err err = {0};
    REQUIRE(duet_rec_load_interactions_tsv(FIXTURE("rec/tiny.tsv"), &ds, &err) == DUET_OK);
    CHECK(ds->n_users == 10);
    CHECK(ds->n_items == 12);
    CHECK(ds->ui.nnz == 52);
    CHECK(strcmp(ds->user_ids[0], "u1") == 0 && strcmp(ds->item_ids[0], "r1") == 0);
    CHECK_NEAR(weight_of(ds, "u2", "r1"), 300, 0);
    CHECK_NEAR(weight_of(ds, "u10", "j4"), 700, 0);
    CHECK_NEAR(weight_of(ds, "u10", "r1"), 0, 0);
    CHECK(duet_rec_dataset_find_item(ds, "nope") == -1);
    for (int32_t u = 0; u < ds->n_users; u++) /* rows sorted and unique */
        for (int64_t q = ds->ui.indptr[u] + 1; q < ds->ui.indptr[u + 1]; q++)
            CHECK(ds->ui.indices[q - 1] < ds->ui.indices[q]);

    /* attributes: tokens "key=value", repeated rows add up; an item only the attributes name is cold */
    const char *extra = tmpfile_with("attrs_extra.tsv", "r1\tgenre\trock\nzz\tgenre\tpolka\n");
    REQUIRE(duet_rec_load_item_attrs_tsv(ds, FIXTURE("rec/tiny_attrs.tsv"), &err) == DUET_OK);
    REQUIRE(duet_rec_load_item_attrs_tsv(ds, extra, &err) == DUET_OK);
    CHECK(ds->n_skipped == 0 && ds->n_cold_items == 1 && ds->n_items == 13 && ds->ui.n_cols == 13);
    CHECK(ds->n_tokens == 6); /* genre rock/jazz/blues/polka, mood loud/calm */
    {
        int32_t zz = duet_rec_dataset_find_item(ds, "zz");
        CHECK(zz == 12 && ds->item_attr.n_rows == 13 && ds->item_attr.indptr[13] - ds->item_attr.indptr[12] == 1);
        CHECK(ds->ui.indptr[ds->n_users] == 52); /* no interaction added */
    }
    int32_t r1 = duet_rec_dataset_find_item(ds, "r1");
    double loud = 0, rock = 0;
    for (int64_t q = ds->item_attr.indptr[r1]; q < ds->item_attr.indptr[r1 + 1]; q++) {
        const char *t = ds->tokens[ds->item_attr.indices[q]];
        if (!strcmp(t, "mood=loud")) loud = ds->item_attr.values[q];
        if (!strcmp(t, "genre=rock")) rock = ds->item_attr.values[q];
    }
    CHECK_NEAR(loud, 2, 0);
    CHECK_NEAR(rock, 2, 0); /* once in tiny_attrs, once in the extra file */
    CHECK(ds->item_attr.n_cols == ds->n_tokens);

    /* features with a header; r5 and j6 have none */
    REQUIRE(duet_rec_load_item_features_tsv(ds, FIXTURE("rec/tiny_features.tsv"), 0, 1, &err) == DUET_OK);
    CHECK(ds->n_feats == 2 && !strcmp(ds->feat_names[1], "tempo"));
    int32_t j5 = duet_rec_dataset_find_item(ds, "j5"), r5 = duet_rec_dataset_find_item(ds, "r5");
    CHECK(ds->has_feats[j5] && !ds->has_feats[r5]);
    CHECK_NEAR(ds->item_feats[(size_t)j5 * 2 + 0], 0.7, 1e-6);
    CHECK_NEAR(ds->item_feats[(size_t)j5 * 2 + 1], 150, 1e-4);
    duet_rec_dataset_free(ds);
}

/* Expect `st` and a message containing `needle`. */
#define EXPECT_ERR(call, st, needle)                                                            \
    do {                                                                                        \
        duet_err e_ = {0};                                                                      \
        duet_status s_ = (call);                                                                \
        CHECK_MSG(s_ == (st), "status %d, want %d (%s)", (int)s_, (int)(st), e_.msg);           \
        CHECK_MSG(strstr(e_.msg, needle) != NULL, "message '%s' lacks '%s'", e_.msg, needle);   \
    } while (0)

static void test_bad_interactions(void)
{
    duet_rec_dataset *ds = NULL;
#define LOAD(content) duet_rec_load_interactions_tsv(tmpfile_with("bad.tsv", content), &ds, &e_)
    EXPECT_ERR(LOAD("a\tx\t1\nb\ty\t2\na\tz\t-3\n"), DUET_ERR_FORMAT, ":3: weight -3 must be");
    EXPECT_ERR(LOAD("a\tx\t0\n"), DUET_ERR_FORMAT, ":1: weight 0");
    EXPECT_ERR(LOAD("a\tx\tnan\n"), DUET_ERR_NAN, ":1:");
    EXPECT_ERR(LOAD("a\tx\tinf\n"), DUET_ERR_NAN, ":1:");
    EXPECT_ERR(LOAD("a\tx\t1e99\n"), DUET_ERR_FORMAT, ":1:");
    EXPECT_ERR(LOAD("a\tx\tabc\n"), DUET_ERR_FORMAT, ":1: weight 'abc' is not a number");
    EXPECT_ERR(LOAD("# comment\na\tx\t1\nlonely\n"), DUET_ERR_FORMAT, ":3: expected 2 to 3");
    EXPECT_ERR(LOAD("a\tx\t1\t7\n"), DUET_ERR_FORMAT, ":1: expected 2 to 3");
    EXPECT_ERR(LOAD("a\t\t1\n"), DUET_ERR_FORMAT, ":1: empty user or item id");
    EXPECT_ERR(LOAD(""), DUET_ERR_EMPTY, "no interactions");
    EXPECT_ERR(LOAD("# only a comment\n\n"), DUET_ERR_EMPTY, "no interactions");
    CHECK(ds == NULL);
#undef LOAD
    EXPECT_ERR(duet_rec_load_interactions_tsv("/nonexistent/x.tsv", &ds, &e_), DUET_ERR_IO, "No such file");
    /* a NUL byte (binary file) */
    char p[256];
    snprintf(p, sizeof p, "%s/nul.tsv", tmpdir);
    FILE *f = fopen(p, "wb");
    REQUIRE(f);
    fwrite("a\tx\t1\nb\0y\t2\n", 1, 12, f);
    fclose(f);
    EXPECT_ERR(duet_rec_load_interactions_tsv(p, &ds, &e_), DUET_ERR_FORMAT, ":2: NUL byte");
    /* missing weight means 1, CRLF is accepted */
    duet_err err = {0};
    REQUIRE(duet_rec_load_interactions_tsv(tmpfile_with("ok.tsv", "a\tx\r\nb\tx\t2.5\r\n"), &ds, &err) == DUET_OK);
    CHECK_NEAR(weight_of(ds, "a", "x"), 1, 0);
    CHECK_NEAR(weight_of(ds, "b", "x"), 2.5, 0);

    /* features: field counts, numbers, repeats */
#define FEAT(content) duet_rec_load_item_features_tsv(ds, tmpfile_with("f.tsv", content), 0, 1, &e_)
    EXPECT_ERR(FEAT("item\tf1\tf2\nx\t1\n"), DUET_ERR_FORMAT, ":2: 2 fields, the header has 3");
    EXPECT_ERR(FEAT("item\tf1\nx\tfoo\n"), DUET_ERR_FORMAT, ":2: column 2: 'foo' is not a number");
    EXPECT_ERR(FEAT("item\tf1\nx\tnan\n"), DUET_ERR_NAN, ":2: column 2");
    EXPECT_ERR(FEAT("item\tf1\nx\t1\nx\t2\n"), DUET_ERR_FORMAT, ":3: item 'x' has a second feature row");
    EXPECT_ERR(FEAT(""), DUET_ERR_EMPTY, "empty file");
    EXPECT_ERR(FEAT("item\n"), DUET_ERR_FORMAT, "header has 1 columns");
    /* `duet features --catalog` output: trailing error column; failed rows skipped */
    {
        int64_t skipped0 = ds->n_skipped;
        duet_err e_ = {0};
        CHECK(FEAT("item\tf1\tf2\terror\nx\t1.5\t2\t\ny\t\t\tcannot decode\n") == DUET_OK);
        CHECK(ds->n_feats == 2);
        CHECK(ds->n_skipped == skipped0 + 1);
        int32_t xi = duet_rec_dataset_find_item(ds, "x");
        REQUIRE(xi >= 0);
        CHECK_NEAR(ds->item_feats[(size_t)xi * ds->n_feats + 0], 1.5, 0);
    }
#undef FEAT
    EXPECT_ERR(duet_rec_load_item_attrs_tsv(ds, tmpfile_with("a.tsv", "x\tgenre\n"), &e_), DUET_ERR_FORMAT,
               ":1: expected");
    duet_rec_dataset_free(ds);
}

static void write_hetrec(const char *dir, const char *user_artists_header)
{
    char p[256];
    mkdir(dir, 0777);
#define W(name, content)                                  \
    do {                                                  \
        snprintf(p, sizeof p, "%s/%s", dir, name);        \
        FILE *f_ = fopen(p, "wb");                        \
        if (f_) {                                         \
            fputs(content, f_);                           \
            fclose(f_);                                   \
        }                                                 \
    } while (0)
    char ua[512];
    snprintf(ua, sizeof ua, "%s\r\n2\t51\t13883\r\n2\t52\t11690\r\n3\t51\t7\r\n3\t99\t1\r\n", user_artists_header);
    W("user_artists.dat", ua);
    W("artists.dat", "id\tname\turl\tpictureURL\n51\tDuran Duran\thttp://x\thttp://y\n52\tMorcheeba\thttp://x\t\n"
                     "77\tNobody\thttp://x\thttp://y\n");
    /* tag 2 is ISO-8859-1 "caf\xe9" */
    W("tags.dat", "tagID\ttagValue\r\n1\tmetal\r\n2\tcaf\xe9\r\n");
    W("user_taggedartists.dat", "userID\tartistID\ttagID\tday\tmonth\tyear\n2\t52\t1\t1\t4\t2009\n"
                                "3\t52\t2\t1\t4\t2009\n3\t52\t2\t2\t4\t2009\n2\t4242\t1\t1\t1\t2010\n");
    W("user_friends.dat", "userID\tfriendID\r\n2\t3\r\n3\t2\r\n2\t1000\r\n");
#undef W
}

static void test_hetrec_and_kg(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/hetrec", tmpdir);
    write_hetrec(dir, "userID\tartistID\tweight");
    duet_rec_dataset *ds = NULL;
    duet_err err = {0};
    REQUIRE(duet_rec_load_hetrec(dir, &ds, &err) == DUET_OK);
    CHECK(ds->n_users == 2 && ds->n_items == 3);
    CHECK_NEAR(weight_of(ds, "2", "51"), 13883, 0);
    int32_t i52 = duet_rec_dataset_find_item(ds, "52");
    CHECK(ds->item_names && !strcmp(ds->item_names[i52], "Morcheeba"));
    CHECK(ds->item_names[duet_rec_dataset_find_item(ds, "99")] == NULL); /* not in artists.dat */
    /* tags: item 52 has metal x1 and caf\u00e9 x2 (converted to UTF-8) */
    double metal = 0, cafe = 0;
    for (int64_t q = ds->item_attr.indptr[i52]; q < ds->item_attr.indptr[i52 + 1]; q++) {
        const char *t = ds->tokens[ds->item_attr.indices[q]];
        if (!strcmp(t, "tag:metal")) metal = ds->item_attr.values[q];
        if (!strcmp(t, "tag:caf\xc3\xa9")) cafe = ds->item_attr.values[q];
    }
    CHECK_NEAR(metal, 1, 0);
    CHECK_NEAR(cafe, 2, 0);
    int32_t u3 = duet_rec_dataset_find_user(ds, "3");
    CHECK(ds->user_attr.indptr[u3 + 1] - ds->user_attr.indptr[u3] == 1); /* user 3 applied one distinct tag */
    CHECK(ds->friends.nnz == 2);
    CHECK(ds->n_skipped >= 3); /* artist 77, tagged artist 4242, friend 1000 */

    /* KGCN: items 51 -> entity 0, 52 -> entity 1; 0 genre 5; 7 member-of 1 */
    char kg[256];
    snprintf(kg, sizeof kg, "%s/kg", tmpdir);
    mkdir(kg, 0777);
    char p[300];
    snprintf(p, sizeof p, "%s/item_index2entity_id.txt", kg);
    FILE *f = fopen(p, "wb");
    REQUIRE(f);
    fputs("51\t0\r\n52\t1\r\n4242\t2\r\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/kg.txt", kg);
    f = fopen(p, "wb");
    REQUIRE(f);
    fputs("0\tmusic.genre\t5\r\n7\tmember.of\t1\r\n8\tx\t9\r\n", f);
    fclose(f);
    int32_t nt = ds->n_tokens;
    REQUIRE(duet_rec_load_kgcn(ds, kg, &err) == DUET_OK);
    CHECK(ds->n_tokens == nt + 2);
    int32_t i51 = duet_rec_dataset_find_item(ds, "51");
    int found = 0;
    for (int64_t q = ds->item_attr.indptr[i51]; q < ds->item_attr.indptr[i51 + 1]; q++)
        found += !strcmp(ds->tokens[ds->item_attr.indices[q]], "kg:music.genre=5");
    for (int64_t q = ds->item_attr.indptr[i52]; q < ds->item_attr.indptr[i52 + 1]; q++)
        found += !strcmp(ds->tokens[ds->item_attr.indices[q]], "kg:~member.of=7");
    CHECK(found == 2);
    CHECK(ds->user_attr.n_cols == ds->n_tokens && ds->item_attr.n_cols == ds->n_tokens);
    /* malformed kg line */
    f = fopen(p, "wb");
    REQUIRE(f);
    fputs("0\tmusic.genre\t5\nzero\tr\t1\n", f);
    fclose(f);
    EXPECT_ERR(duet_rec_load_kgcn(ds, kg, &e_), DUET_ERR_FORMAT, "kg.txt:2:");
    duet_rec_dataset_free(ds);

    /* wrong header: a clear error naming the file */
    write_hetrec(dir, "user\tartist\tweight");
    EXPECT_ERR(duet_rec_load_hetrec(dir, &ds, &e_), DUET_ERR_FORMAT, "user_artists.dat:1: expected the header");
    CHECK(ds == NULL);
}

/* Write `content` to path; 1 on success. */
static int put_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fputs(content, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* duet_rec_dataset_open: sibling side folders next to a HetRec folder are
 * found unless no_side, given files win, bad source sets are refused. */
static void test_dataset_open(void)
{
    char root[256], dir[300], p[400];
    snprintf(root, sizeof root, "%s/lastfm", tmpdir);
    mkdir(root, 0777);
    snprintf(dir, sizeof dir, "%s/hetrec", root);
    write_hetrec(dir, "userID\tartistID\tweight");
    snprintf(p, sizeof p, "%s/spotify-artist-features", root);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/spotify-artist-features/hetrec_artist_spotify_features.tsv", root);
    REQUIRE(put_file(p, "id\tname\tspotify_id\tdanceability\tenergy\n51\tDuran Duran\tx\t0.5\t0.7\n"));
    snprintf(p, sizeof p, "%s/kgcn-music", root);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/kgcn-music/item_index2entity_id.txt", root);
    REQUIRE(put_file(p, "51\t0\n"));
    snprintf(p, sizeof p, "%s/kgcn-music/kg.txt", root);
    REQUIRE(put_file(p, "0\tmusic.genre\t5\n"));

    duet_rec_dataset *ds = NULL;
    duet_err err = {0};
    duet_rec_sources src = {0};
    src.hetrec = dir;
    REQUIRE(duet_rec_dataset_open(&src, &ds, &err) == DUET_OK);
    CHECK(ds->spotify_file && strstr(ds->spotify_file, "hetrec_artist_spotify_features.tsv"));
    CHECK(ds->kg_dir && strstr(ds->kg_dir, "kgcn-music"));
    CHECK(ds->n_feats == 2);
    int32_t i51 = duet_rec_dataset_find_item(ds, "51");
    REQUIRE(i51 >= 0);
    CHECK(ds->has_feats[i51] == 1);
    CHECK_NEAR(ds->item_feats[(size_t)i51 * ds->n_feats + 1], 0.7, 1e-6);
    int kg_found = 0;
    for (int64_t q = ds->item_attr.indptr[i51]; q < ds->item_attr.indptr[i51 + 1]; q++)
        kg_found += !strcmp(ds->tokens[ds->item_attr.indices[q]], "kg:music.genre=5");
    CHECK(kg_found == 1);
    duet_rec_dataset_free(ds);

    /* no_side: only the interactions and tags */
    src.no_side = 1;
    REQUIRE(duet_rec_dataset_open(&src, &ds, &err) == DUET_OK);
    CHECK(ds->spotify_file == NULL && ds->kg_dir == NULL && ds->n_feats == 0);
    duet_rec_dataset_free(ds);

    /* a given file that does not exist: the loader's error names it */
    src.no_side = 0;
    snprintf(p, sizeof p, "%s/missing.tsv", root);
    src.spotify = p;
    EXPECT_ERR(duet_rec_dataset_open(&src, &ds, &e_), DUET_ERR_IO, "missing.tsv");
    CHECK(ds == NULL);

    /* exactly one of interactions and hetrec */
    duet_rec_sources both = {0}, none = {0};
    both.hetrec = dir;
    both.interactions = tmpfile_with("x.tsv", "u\ti\n");
    EXPECT_ERR(duet_rec_dataset_open(&both, &ds, &e_), DUET_ERR_ARG, "exactly one");
    EXPECT_ERR(duet_rec_dataset_open(&none, &ds, &e_), DUET_ERR_ARG, "exactly one");
    CHECK(duet_rec_dataset_open(NULL, &ds, NULL) == DUET_ERR_ARG);
    none.interactions = both.interactions;
    REQUIRE(duet_rec_dataset_open(&none, &ds, &err) == DUET_OK);
    CHECK(ds->ui.nnz == 1 && ds->spotify_file == NULL);
    duet_rec_dataset_free(ds);
}

static void test_ncf(void)
{
    duet_rec_ncf *d = NULL;
    duet_err err = {0};
    REQUIRE(duet_rec_load_ncf(FIXTURE("rec/tiny_ncf"), &d, &err) == DUET_OK);
    CHECK(d->n_users == 10);
    CHECK(d->n_items == 12);
    CHECK(d->train.nnz == 42);
    CHECK(d->n_neg == 5);
    CHECK(d->test_item[0] == 5); /* u1's last row is r5, the 6th distinct item */
    CHECK(d->negatives[0] == 11);
    for (int32_t u = 0; u < d->n_users; u++) CHECK(!duet_rec_csr_has(&d->train, u, d->test_item[u]));
    duet_rec_ncf_free(d);

    char pre[256];
    snprintf(pre, sizeof pre, "%s/n", tmpdir);
    tmpfile_with("n.train.rating", "0\t1\t3\n1\t0\t2\n1\t3\t1\n");
    tmpfile_with("n.test.rating", "0\t2\t1\n1\t2\t1\n");
    tmpfile_with("n.test.negative", "(0,2)\t0\t3\n(1,2)\t1\t3\n");
    REQUIRE(duet_rec_load_ncf(pre, &d, &err) == DUET_OK);
    CHECK(d->n_items == 4); /* item 2 has no training row but is inside the id range */
    duet_rec_ncf_free(d);
    d = NULL;
    tmpfile_with("n.test.negative", "(0,2)\t0\t3\n(1,3)\t1\t3\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_FORMAT,
               "n.test.negative:2: pair (1,3) does not match the test pair in");
    tmpfile_with("n.test.negative", "(0,2)\t0\t3\n(1,2)\t1\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_FORMAT, ":2: 1 negatives, earlier lines have 2");
    tmpfile_with("n.test.negative", "(0,2)\t0\t3\n(1,2)\t-1\t3\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_FORMAT, ":2: negative 1 '-1'");
    tmpfile_with("n.test.negative", "(0,2)\t0\t3\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_FORMAT, "1 lines, but");
    tmpfile_with("n.test.negative", "(0,2)\t0\t3\n(1,2)\t1\t3\n");
    tmpfile_with("n.train.rating", "0\t1\t3\n0\t1\t2\n1\t3\t1\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_FORMAT, "lines 1 and 2 repeat");
    tmpfile_with("n.train.rating", "0\t1\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_FORMAT, "n.train.rating:1: expected");
    tmpfile_with("n.train.rating", "99999999\t1\t1\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_RANGE, ":1: id 99999999 is over the limit 16777215");
    EXPECT_ERR(duet_rec_load_ncf("/nonexistent/prefix", &d, &e_), DUET_ERR_IO, "prefix.train.rating");
    CHECK(d == NULL);
}

static void test_user_split(void)
{
    duet_rec_dataset *ds = NULL;
    duet_err err = {0};
    REQUIRE(duet_rec_load_interactions_tsv(FIXTURE("rec/tiny.tsv"), &ds, &err) == DUET_OK);
    duet_rec_csr tr, te, tr2, te2;
    REQUIRE(duet_rec_split_users(&ds->ui, 0.2, 6, 42, &tr, &te, &err) == DUET_OK);
    CHECK(tr.nnz + te.nnz == ds->ui.nnz);
    for (int32_t u = 0; u < ds->n_users; u++) {
        int64_t n = ds->ui.indptr[u + 1] - ds->ui.indptr[u], nt = te.indptr[u + 1] - te.indptr[u];
        int64_t want = n >= 6 ? (int64_t)llround(0.2 * n) : 0;
        if (n >= 6 && want < 1) want = 1;
        CHECK_MSG(nt == want, "user %d: %lld test of %lld", u, (long long)nt, (long long)n);
        for (int64_t q = te.indptr[u]; q < te.indptr[u + 1]; q++) {
            CHECK(!duet_rec_csr_has(&tr, u, te.indices[q]));
            CHECK(duet_rec_csr_has(&ds->ui, u, te.indices[q]));
        }
    }
    /* same seed, same split; another seed, another split */
    REQUIRE(duet_rec_split_users(&ds->ui, 0.2, 6, 42, &tr2, &te2, &err) == DUET_OK);
    CHECK(te2.nnz == te.nnz && memcmp(te2.indices, te.indices, (size_t)te.nnz * 4) == 0);
    duet_rec_csr_free(&tr2);
    duet_rec_csr_free(&te2);
    REQUIRE(duet_rec_split_users(&ds->ui, 0.2, 6, 43, &tr2, &te2, &err) == DUET_OK);
    CHECK(te2.nnz == te.nnz && memcmp(te2.indices, te.indices, (size_t)te.nnz * 4) != 0);
    duet_rec_csr_free(&tr2);
    duet_rec_csr_free(&te2);
    EXPECT_ERR(duet_rec_split_users(&ds->ui, 1.0, 5, 1, &tr2, &te2, &e_), DUET_ERR_ARG, "fraction");

    /* cold items: 10% of 12 items = 1 item, all its interactions in test */
    uint8_t cold[12];
    REQUIRE(duet_rec_split_cold_items(&ds->ui, 0.25, 7, &tr2, &te2, cold, &err) == DUET_OK);
    int nc = 0;
    for (int i = 0; i < 12; i++) nc += cold[i];
    CHECK(nc == 3);
    for (int64_t q = 0; q < tr2.nnz; q++) CHECK(!cold[tr2.indices[q]]);
    for (int64_t q = 0; q < te2.nnz; q++) CHECK(cold[te2.indices[q]]);
    CHECK(tr2.nnz + te2.nnz == ds->ui.nnz);
    duet_rec_csr_free(&tr2);
    duet_rec_csr_free(&te2);
    EXPECT_ERR(duet_rec_split_cold_items(&ds->ui, 0.01, 7, &tr2, &te2, cold, &e_), DUET_ERR_ARG, "too few");
    duet_rec_csr_free(&tr);
    duet_rec_csr_free(&te);
    duet_rec_dataset_free(ds);
}

/* Write `n` bytes (may hold NULs) to a temporary file. */
static const char *tmpfile_bytes(const char *name, const char *content, size_t n)
{
    static char path[4][256];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(content, 1, n, f);
        fclose(f);
    }
    return p;
}

/* Duplicates in the generic interactions TSV are summed and counted;
 * HetRec and NCF training files refuse them (see data.h). */
static void test_duplicates(void)
{
    duet_rec_dataset *ds = NULL;
    duet_err err = {0};
    REQUIRE(duet_rec_load_interactions_tsv(tmpfile_with("dup.tsv", "u\ti\nu\ti\t2.5\nv\ti\nu\tj\t4\r\nu\ti\n"), &ds,
                                           &err) == DUET_OK);
    CHECK(ds->n_users == 2 && ds->n_items == 2 && ds->ui.nnz == 3);
    CHECK_NEAR(weight_of(ds, "u", "i"), 4.5, 0); /* 1 + 2.5 + 1 */
    CHECK_NEAR(weight_of(ds, "u", "j"), 4, 0);
    CHECK(ds->n_merged == 2);
    duet_rec_dataset_free(ds);
    ds = NULL;
    /* sums that leave the float range are refused */
    EXPECT_ERR(duet_rec_load_interactions_tsv(tmpfile_with("dup.tsv", "u\ti\t3e38\nu\ti\t3e38\n"), &ds, &e_),
               DUET_ERR_RANGE, "user 'u' and item 'i' sum to more than");
    CHECK(ds == NULL);
    /* HetRec user_artists.dat: a repeat is an error naming both lines */
    char dir[256], p[300];
    snprintf(dir, sizeof dir, "%s/hetrec_dup", tmpdir);
    mkdir(dir, 0777);
    snprintf(p, sizeof p, "%s/user_artists.dat", dir);
    FILE *f = fopen(p, "wb");
    REQUIRE(f);
    fputs("userID\tartistID\tweight\r\n2\t51\t3\r\n2\t52\t1\r\n2\t51\t4\r\n", f);
    fclose(f);
    EXPECT_ERR(duet_rec_load_hetrec(dir, &ds, &e_), DUET_ERR_FORMAT, "user_artists.dat: lines 2 and 4 repeat");
    CHECK(ds == NULL);
}

/* Empty inputs, malformed rows, bad weights, line ends, long lines, huge ids,
 * and the limits that refuse an input before allocating for it. */
static void test_hostile_tsv(void)
{
    duet_rec_dataset *ds = NULL;
    duet_err err = {0};
    /* a missing final newline, CRLF, comments and blank lines */
    REQUIRE(duet_rec_load_interactions_tsv(tmpfile_with("nl.tsv", "# c\r\n\r\na\tx\t1\r\nb\ty\t2"), &ds, &err) ==
            DUET_OK);
    CHECK(ds->ui.nnz == 2);
    CHECK_NEAR(weight_of(ds, "b", "y"), 2, 0);
    CHECK(duet_rec_dataset_find_user(ds, "b") == 1); /* no '\r' kept in ids */
    /* attributes and features: CRLF, no final newline, items only a side file names are cold */
    int64_t sk = ds->n_skipped;
    CHECK(duet_rec_load_item_attrs_tsv(ds, tmpfile_with("at.tsv", "x\tgenre\trock\r\nzz\tgenre\tpop\r\ny\tmood\tcalm"),
                                       &err) == DUET_OK);
    CHECK(ds->n_tokens == 3 && ds->item_attr.nnz == 3 && ds->n_skipped == sk && ds->n_cold_items == 1);
    CHECK(!strcmp(ds->tokens[1], "genre=pop") && !strcmp(ds->tokens[2], "mood=calm"));
    CHECK(duet_rec_load_item_features_tsv(ds, tmpfile_with("ft.tsv", "item\tf1\r\nx\t0.5\r\nqq\t7\r\ny\t-2"), 0, 1,
                                          &err) == DUET_OK);
    CHECK(ds->n_skipped == sk && ds->n_cold_items == 2 && ds->n_items == 4 && ds->item_attr.n_rows == 4);
    CHECK_NEAR(ds->item_feats[(size_t)duet_rec_dataset_find_item(ds, "qq") * ds->n_feats], 7, 0);
    CHECK(ds->has_feats[duet_rec_dataset_find_item(ds, "qq")] && !ds->has_feats[duet_rec_dataset_find_item(ds, "zz")]);
    CHECK_NEAR(ds->item_feats[duet_rec_dataset_find_item(ds, "y")], -2, 0);
    CHECK(!strcmp(ds->feat_names[0], "f1"));
    /* empty side files */
    EXPECT_ERR(duet_rec_load_item_attrs_tsv(ds, tmpfile_with("at.tsv", ""), &e_), DUET_ERR_EMPTY, "at.tsv: no attribute rows");
    EXPECT_ERR(duet_rec_load_item_attrs_tsv(ds, tmpfile_with("at.tsv", "# nothing\n\n"), &e_), DUET_ERR_EMPTY, "no attribute");
    EXPECT_ERR(duet_rec_load_item_features_tsv(ds, tmpfile_with("ft.tsv", "item\tf1\r\n"), 0, 1, &e_), DUET_ERR_EMPTY,
               "ft.tsv: a header but no feature rows");
    /* malformed attribute rows name the line */
    EXPECT_ERR(duet_rec_load_item_attrs_tsv(ds, tmpfile_with("at.tsv", "x\tgenre\trock\ny\tgenre\t\n"), &e_), DUET_ERR_FORMAT,
               "at.tsv:2: expected");
    EXPECT_ERR(duet_rec_load_item_attrs_tsv(ds, tmpfile_with("at.tsv", "x\tgenre\trock\tmore\n"), &e_), DUET_ERR_FORMAT,
               "at.tsv:1: expected");
    EXPECT_ERR(duet_rec_load_item_features_tsv(ds, tmpfile_with("ft.tsv", "item\tf1\nx\tinf\n"), 0, 1, &e_),
               DUET_ERR_NAN, "ft.tsv:2: column 2: non-finite");
    EXPECT_ERR(duet_rec_load_item_features_tsv(ds, tmpfile_with("ft.tsv", "item\tf1\nx\t-1e39\n"), 0, 1, &e_),
               DUET_ERR_NAN, "ft.tsv:2:");
    CHECK(ds->n_feats == 1); /* a failed load leaves the earlier features */
    duet_rec_dataset_free(ds);
    ds = NULL;
    /* negative / NaN / Inf weights with their line */
    EXPECT_ERR(duet_rec_load_interactions_tsv(tmpfile_with("w.tsv", "a\tx\t1\r\na\ty\t-0.5\r\n"), &ds, &e_),
               DUET_ERR_FORMAT, "w.tsv:2: weight -0.5 must be a finite number > 0");
    EXPECT_ERR(duet_rec_load_interactions_tsv(tmpfile_with("w.tsv", "a\tx\t1\na\ty\tNaN"), &ds, &e_), DUET_ERR_NAN,
               "w.tsv:2: weight NaN");
    EXPECT_ERR(duet_rec_load_interactions_tsv(tmpfile_with("w.tsv", "a\tx\t-inf\n"), &ds, &e_), DUET_ERR_NAN,
               "w.tsv:1:");
    /* weights that a float cannot hold as a positive normal number (found by fuzz_rec_tsv: 1e-139 became 0) */
    EXPECT_ERR(duet_rec_load_interactions_tsv(tmpfile_with("w.tsv", "a\tx\t1e-139\n"), &ds, &e_), DUET_ERR_FORMAT,
               "w.tsv:1: weight 1e-139 must be a finite number > 0 (from 1.2e-38 to 3e38)");
    EXPECT_ERR(duet_rec_load_interactions_tsv(tmpfile_with("w.tsv", "a\tx\t1\nb\tx\t1e-40\n"), &ds, &e_),
               DUET_ERR_FORMAT, "w.tsv:2: weight 1e-40");
    REQUIRE(duet_rec_load_interactions_tsv(tmpfile_with("w.tsv", "a\tx\t2e-38\n"), &ds, &err) == DUET_OK);
    CHECK(weight_of(ds, "a", "x") > 0);
    duet_rec_dataset_free(ds);
    ds = NULL;
    /* huge ids are opaque strings */
    char big[6000];
    memset(big, '9', 5000);
    snprintf(big + 5000, sizeof big - 5000, "\tx\t3\n");
    REQUIRE(duet_rec_load_interactions_tsv(tmpfile_with("big.tsv", big), &ds, &err) == DUET_OK);
    CHECK(ds->n_users == 1 && strlen(ds->user_ids[0]) == 5000);
    duet_rec_dataset_free(ds);
    ds = NULL;
    /* a line over the default 1 MiB cap: refused with its line number */
    size_t n = (1u << 20) + 100;
    char *huge = malloc(n + 16);
    REQUIRE(huge);
    strcpy(huge, "a\tx\t1\n");
    memset(huge + 6, 'u', n - 6);
    memcpy(huge + n, "\tx\n", 3);
    EXPECT_ERR(duet_rec_load_interactions_tsv(tmpfile_bytes("long.tsv", huge, n + 3), &ds, &e_), DUET_ERR_RANGE,
               "long.tsv:2: line longer than 1048576 bytes");
    free(huge);
    /* configurable limits */
    duet_rec_limits lim = duet_rec_limits_default();
    lim.max_line = 8;
    CHECK(duet_rec_load_interactions_tsv_ex(tmpfile_with("l.tsv", "abc\txyz\n"), &lim, &ds, &err) ==
          DUET_OK); /* 7 bytes */
    duet_rec_dataset_free(ds);
    ds = NULL;
    CHECK(duet_rec_load_interactions_tsv_ex(tmpfile_with("l.tsv", "abc\txyz\r\n"), &lim, &ds, &err) == DUET_OK); /* 8 with CR */
    duet_rec_dataset_free(ds);
    ds = NULL;
    EXPECT_ERR(duet_rec_load_interactions_tsv_ex(tmpfile_with("l.tsv", "a\tb\nabc\txyz\t1\n"), &lim, &ds, &e_), DUET_ERR_RANGE,
               "l.tsv:2: line longer than 8 bytes");
    lim = duet_rec_limits_default();
    lim.max_ids = 2;
    EXPECT_ERR(duet_rec_load_interactions_tsv_ex(tmpfile_with("l.tsv", "a\tx\nb\tx\nc\tx\n"), &lim, &ds, &e_), DUET_ERR_RANGE,
               "l.tsv:3: more than 2 distinct users");
    EXPECT_ERR(duet_rec_load_interactions_tsv_ex(tmpfile_with("l.tsv", "a\tx\na\ty\na\tz\n"), &lim, &ds, &e_), DUET_ERR_RANGE,
               "l.tsv:3: more than 2 distinct items");
    REQUIRE(duet_rec_load_interactions_tsv_ex(tmpfile_with("l.tsv", "a\tx\nb\ty\n"), &lim, &ds, &err) == DUET_OK);
    EXPECT_ERR(duet_rec_load_item_attrs_tsv(ds, tmpfile_with("at.tsv", "x\tg\t1\ny\tg\t2\nx\tg\t3\n"), &e_),
               DUET_ERR_RANGE, "at.tsv:3: more than 2 distinct tokens"); /* the data set keeps its limits */
    CHECK(ds->item_attr.n_rows == 0 || ds->item_attr.n_cols == ds->n_tokens);
    duet_rec_dataset_free(ds);
    ds = NULL;
    lim = duet_rec_limits_default();
    lim.max_cells = 5; /* 2 items x 3 features = 6 cells */
    REQUIRE(duet_rec_load_interactions_tsv_ex(tmpfile_with("l.tsv", "a\tx\nb\ty\n"), &lim, &ds, &err) == DUET_OK);
    EXPECT_ERR(duet_rec_load_item_features_tsv(ds, tmpfile_with("ft.tsv", "item\ta\tb\tc\nx\t1\t2\t3\n"), 0, 1, &e_),
               DUET_ERR_RANGE, "2 items x 3 features is more than the limit of 5 cells");
    CHECK(duet_rec_load_item_features_tsv(ds, tmpfile_with("ft.tsv", "item\ta\tb\nx\t1\t2\n"), 0, 1, &err) == DUET_OK);
    duet_rec_dataset_free(ds);
    ds = NULL;
    lim = duet_rec_limits_default();
    lim.max_lines = 3;
    EXPECT_ERR(duet_rec_load_interactions_tsv_ex(tmpfile_with("l.tsv", "a\tx\nb\tx\nc\tx\nd\tx\n"), &lim, &ds, &e_),
               DUET_ERR_RANGE, "l.tsv: more than 3 lines");
    CHECK(duet_rec_load_interactions_tsv_ex(tmpfile_with("l.tsv", "a\tx\nb\tx\nc\tx\n"), &lim, &ds, &err) == DUET_OK);
    duet_rec_dataset_free(ds);
    ds = NULL;
    /* streams: the same result as the path, messages name the stream */
    const char text[] = "u1\ti1\t2\nu2\ti1\nu1\ti2\t0.5";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "rb");
    REQUIRE(f);
    REQUIRE(duet_rec_load_interactions_file(f, "mem", NULL, &ds, &err) == DUET_OK);
    fclose(f);
    CHECK(ds->ui.nnz == 3);
    CHECK_NEAR(weight_of(ds, "u1", "i2"), 0.5, 0);
    f = fmemopen((void *)"i1\tk\tv\n", 7, "rb");
    REQUIRE(f);
    CHECK(duet_rec_load_item_attrs_file(ds, f, "mem-attrs", &err) == DUET_OK);
    fclose(f);
    f = fmemopen((void *)"id\tname\tsp\tf\ni1\tone\ts\t3\ni2\ttwo\ts\tnot-a-number\n", 44, "rb");
    REQUIRE(f);
    CHECK(duet_rec_load_item_features_file(ds, f, "mem-spotify", 0, 3, 1, &err) == DUET_OK);
    fclose(f);
    CHECK(ds->has_feats[duet_rec_dataset_find_item(ds, "i1")] && !ds->has_feats[duet_rec_dataset_find_item(ds, "i2")]);
    duet_rec_dataset_free(ds);
    ds = NULL;
    f = fmemopen((void *)"a\tb\tc\td\n", 8, "rb");
    REQUIRE(f);
    EXPECT_ERR(duet_rec_load_interactions_file(f, "mem", NULL, &ds, &e_), DUET_ERR_FORMAT, "mem:1: expected 2 to 3");
    fclose(f);
}

/* NCF: ids unknown to train.rating, empty files, weights, line ends, limits. */
static void test_hostile_ncf(void)
{
    duet_rec_ncf *d = NULL;
    duet_err err = {0};
    char pre[256];
    snprintf(pre, sizeof pre, "%s/h", tmpdir);
#define NCF3(tr, te, ne)                               \
    do {                                               \
        tmpfile_with("h.train.rating", tr);            \
        tmpfile_with("h.test.rating", te);             \
        tmpfile_with("h.test.negative", ne);           \
    } while (0)
    const char *tr = "0\t1\t3\t978300760\r\n1\t0\t2\r\n1\t3\t1"; /* CRLF, no final newline */
    NCF3(tr, "0\t2\r\n1\t2\t5", "(0,2)\t0\t3\r\n(1,2)\t1\t3");
    REQUIRE(duet_rec_load_ncf(pre, &d, &err) == DUET_OK);
    CHECK(d->n_users == 2 && d->n_items == 4 && d->n_neg == 2 && d->test_item[1] == 2 && d->negatives[3] == 3);
    duet_rec_ncf_free(d);
    d = NULL;
    /* ids absent from train.rating: the id space is the union of the files, such ids are cold */
    NCF3(tr, "0\t2\n2\t1\n", "(0,2)\t0\t3\n(2,1)\t1\t3\n");
    REQUIRE(duet_rec_load_ncf(pre, &d, &err) == DUET_OK);
    CHECK(d->n_users == 3 && d->n_items == 4 && d->n_cold_users == 1 && d->n_cold_items == 1); /* user 2; item 2 */
    CHECK(d->train.n_rows == 3 && d->train.indptr[3] == d->train.indptr[2] && d->test_item[2] == 1);
    duet_rec_ncf_free(d);
    NCF3(tr, "0\t2\n1\t4\n", "(0,2)\t0\t3\n(1,4)\t1\t3\n");
    REQUIRE(duet_rec_load_ncf(pre, &d, &err) == DUET_OK);
    CHECK(d->n_users == 2 && d->n_items == 5 && d->n_cold_users == 0 && d->n_cold_items == 2); /* items 2, 4 */
    CHECK(d->train.n_cols == 5 && d->test_item[1] == 4);
    duet_rec_ncf_free(d);
    NCF3(tr, "0\t2\n1\t2\n", "(0,2)\t0\t3\n(1,2)\t1\t9\n");
    REQUIRE(duet_rec_load_ncf(pre, &d, &err) == DUET_OK);
    CHECK(d->n_items == 10 && d->n_cold_items == 2 && d->negatives[3] == 9); /* items 2, 9 */
    duet_rec_ncf_free(d);
    d = NULL;
    NCF3(tr, "0\t2\n1\t2\n", "(0,2)\t0\t3\n(1,2)\t1\t16777216\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_RANGE, "h.test.negative:2: negative 2: id 16777216 is over the limit");
    NCF3(tr, "0\t2\n16777216\t2\n", "(0,2)\t0\t3\n(1,2)\t1\t3\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_RANGE, "h.test.rating:2: id 16777216 is over the limit");
    NCF3(tr, "0\t2\n0\t3\n", "(0,2)\t0\t3\n(0,3)\t1\t2\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_FORMAT, "h.test.rating:2: user 0 has a second test item");
    /* empty files */
    NCF3("", "0\t2\n", "(0,2)\t1\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_EMPTY, "h.train.rating: no rows");
    NCF3(tr, "\r\n", "(0,2)\t1\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_EMPTY, "h.test.rating: no rows");
    NCF3(tr, "0\t2\n", "");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_EMPTY, "h.test.negative: no rows");
    /* weights */
    NCF3("0\t1\t1\n1\t0\t-2\n", "0\t2\n", "(0,2)\t1\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_FORMAT, "h.train.rating:2: weight '-2' must be");
    NCF3("0\t1\tnan\n", "0\t2\n", "(0,2)\t1\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_FORMAT, "h.train.rating:1: weight 'nan'");
    NCF3("0\t1\t1e-45\n", "0\t2\n", "(0,2)\t1\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_FORMAT, "h.train.rating:1: weight '1e-45'");
    NCF3("0\t1\tinf\n", "0\t2\n", "(0,2)\t1\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_FORMAT, "h.train.rating:1: weight 'inf'");
    /* huge ids: past long, past the 2^24 cap, past a configured cap */
    NCF3("0\t99999999999999999999999\t1\n", "0\t2\n", "(0,2)\t1\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_FORMAT, "h.train.rating:1: expected");
    NCF3("16777216\t0\t1\n", "0\t0\n", "(0,0)\t1\n");
    EXPECT_ERR(duet_rec_load_ncf(pre, &d, &e_), DUET_ERR_RANGE, "h.train.rating:1: id 16777216 is over the limit");
    duet_rec_limits lim = duet_rec_limits_default();
    lim.max_ids = 100;
    NCF3("0\t100\t1\n", "0\t2\n", "(0,2)\t1\n");
    EXPECT_ERR(duet_rec_load_ncf_ex(pre, &lim, &d, &e_), DUET_ERR_RANGE, ":1: id 100 is over the limit 99");
    /* the dense negatives table is refused before it is allocated */
    lim = duet_rec_limits_default();
    lim.max_cells = 3; /* 2 users x 2 negatives */
    NCF3(tr, "0\t2\n", "(0,2)\t1\t0\n");
    EXPECT_ERR(duet_rec_load_ncf_ex(pre, &lim, &d, &e_), DUET_ERR_RANGE,
               "h.test.negative:1: 2 users x 2 negatives is more than the limit of 3 cells");
    lim.max_cells = 4;
    CHECK(duet_rec_load_ncf_ex(pre, &lim, &d, &err) == DUET_OK);
    duet_rec_ncf_free(d);
    d = NULL;
    /* a very long line */
    lim = duet_rec_limits_default();
    lim.max_line = 20;
    NCF3(tr, "0\t2\n", "(0,2)\t1\t0\t1\t0\t1\t0\t1\t0\t1\t0\n");
    EXPECT_ERR(duet_rec_load_ncf_ex(pre, &lim, &d, &e_), DUET_ERR_RANGE,
               "h.test.negative:1: line longer than 20 bytes");
    /* three streams */
    const char *s0 = "0\t1\t3\n1\t0\t2\n", *s1 = "1\t1\n", *s2 = "(1,1)\t0\n";
    FILE *f0 = fmemopen((void *)s0, strlen(s0), "rb"), *f1 = fmemopen((void *)s1, strlen(s1), "rb"),
         *f2 = fmemopen((void *)s2, strlen(s2), "rb");
    REQUIRE(f0 && f1 && f2);
    CHECK(duet_rec_load_ncf_files(f0, f1, f2, "mem", NULL, &d, &err) == DUET_OK);
    CHECK(d && d->test_item[0] == -1 && d->test_item[1] == 1 && d->negatives[0] == -1 && d->negatives[1] == 0);
    duet_rec_ncf_free(d);
    fclose(f0);
    fclose(f1);
    fclose(f2);
#undef NCF3
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/duet_rec_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_tiny_interactions);
    RUN(test_bad_interactions);
    RUN(test_hetrec_and_kg);
    RUN(test_dataset_open);
    RUN(test_ncf);
    RUN(test_duplicates);
    RUN(test_hostile_tsv);
    RUN(test_hostile_ncf);
    RUN(test_user_split);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "# could not remove %s\n", tmpdir);
    return check_summary();
}
