/* tests/test_sepnet_train.c: the separation network's training loop on
 * synthetic stereo clips (left accompaniment, right voice, MIR-1K layout):
 * the loss of a tiny model falls, a checkpointed run resumed half-way ends
 * with exactly the same weights and optimiser state as an uninterrupted
 * run (one thread), the best model loads and separates a song (any rate and
 * channel count) into stems of the input's length that sum to the mixture,
 * and bad data folders get clear errors. */
#include "check.h"

#include <sys/stat.h>
#include <unistd.h>

#include "../audio/audio.h"
#include "../nn/nn.h"
#include "../separation/sepnet.h"
#include "../separation/sepnet_data.h"
#include "../separation/sepnet_infer.h"
#include "../separation/sepnet_train.h"

static char dir[64];

/* voice: a harmonic tone gliding over a few notes; accompaniment: noise
 * bursts plus a low drone. Deterministic from seed. */
static int write_clip(const char *name, uint64_t seed, int rate, double seconds)
{
    duet_audio a;
    int64_t n = (int64_t)(seconds * rate);
    if (duet_audio_alloc(&a, 2, n, rate)) return -1;
    duet_rng r;
    duet_rng_seed(&r, seed);
    double f0 = 180 + 60 * duet_rng_uniform(&r), ph = 0;
    for (int64_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        double f = f0 * (1.0 + 0.25 * ((int)(t * 3) % 3));
        ph += 2 * 3.14159265358979 * f / rate;
        double v = 0;
        for (int h = 1; h <= 5; h++) v += sin(h * ph) / h;
        double env = (int)(t * 4) % 4 == 3 ? 0.0 : 1.0; /* pauses */
        a.ch[1][i] = (float)(0.15 * v * env);
        double burst = ((int)(t * 8) % 2) ? 0.05 * duet_rng_normal(&r) : 0.0;
        a.ch[0][i] = (float)(burst + 0.1 * sin(2 * 3.14159265358979 * 55 * t));
    }
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = duet_audio_write(path, &a, DUET_FILE_WAV_FLOAT, NULL) == DUET_OK ? 0 : -1;
    duet_audio_free(&a);
    return rc;
}

static duet_sepnet_config tiny(void)
{
    duet_sepnet_config c = duet_sepnet_config_default();
    c.sample_rate = 8000;
    c.n_fft = 256;
    c.hop = 64;
    c.n_freq = 64;
    c.depth = 2;
    c.base = 6;
    c.phase_ch = 2;
    return c;
}

static duet_sepnet_train_opts opts(const char *out, const char *ckpt, int64_t steps)
{
    duet_sepnet_train_opts o = duet_sepnet_train_opts_default();
    o.cfg = tiny();
    o.out = out;
    o.ckpt = ckpt;
    o.steps = steps;
    o.batch = 2;
    o.frames = 16;
    o.eval_every = 4;
    o.ckpt_every = 3;
    o.val_clips = 1;
    o.lr = 3e-3f;
    o.seed = 7;
    o.progress = 0;
    return o;
}

static duet_sepnet_dataset train_set, val_set;

static void test_load_data(void)
{
    duet_err e;
    duet_err_clear(&e);
    REQUIRE(duet_sepnet_load_mir1k(dir, 8000, "bb", &train_set, &val_set, &e) == DUET_OK);
    CHECK(train_set.n_clips == 2);
    CHECK(val_set.n_clips == 1);
    CHECK(strcmp(train_set.clips[0].singer, "aa") == 0);
    CHECK(strcmp(val_set.clips[0].singer, "bb") == 0);
    /* right channel is the voice */
    double ev = 0;
    for (int64_t i = 0; i < train_set.clips[0].n; i++) ev += fabs(train_set.clips[0].voc[i]);
    CHECK(ev > 0);
    /* augmentation keeps the clip's own stems aligned when not remixing */
    duet_rng r;
    duet_rng_seed(&r, 1);
    float v[800], a[800];
    duet_sepnet_draw_chunk(&train_set, NULL, &r, 800, v, a);
    int found = 0;
    for (int c = 0; c < train_set.n_clips && !found; c++)
        for (int64_t off = 0; off + 800 <= train_set.clips[c].n && !found; off++)
            if (memcmp(train_set.clips[c].voc + off, v, sizeof v) == 0 &&
                memcmp(train_set.clips[c].acc + off, a, sizeof a) == 0)
                found = 1;
    CHECK(found);
}

static void test_bad_data(void)
{
    duet_sepnet_dataset t, v;
    duet_err e;
    duet_err_clear(&e);
    CHECK(duet_sepnet_load_mir1k("/nonexistent_duet_dir", 8000, NULL, &t, &v, &e) == DUET_ERR_IO);
    char empty[80];
    snprintf(empty, sizeof empty, "%s/empty", dir);
    mkdir(empty, 0777);
    CHECK(duet_sepnet_load_mir1k(empty, 8000, NULL, &t, &v, &e) == DUET_ERR_EMPTY);
    /* a mono clip is not MIR-1K data */
    char mono[96];
    snprintf(mono, sizeof mono, "%s/mono_1_01.wav", empty);
    duet_audio a;
    REQUIRE(duet_audio_alloc(&a, 1, 100, 8000) == DUET_OK);
    REQUIRE(duet_audio_write(mono, &a, DUET_FILE_WAV_PCM16, NULL) == DUET_OK);
    duet_audio_free(&a);
    duet_err_clear(&e);
    CHECK(duet_sepnet_load_mir1k(empty, 8000, NULL, &t, &v, &e) == DUET_ERR_FORMAT);
    CHECK(strstr(e.msg, "stereo") != NULL);
    unlink(mono);
    rmdir(empty);
}

/* Every tensor of a checkpoint (weights, Adam moments, counters, RNG),
 * concatenated in the file's order. */
static int read_ckpt_params(const char *path, float **data, size_t *n)
{
    duet_st_file *f;
    if (duet_st_load(path, &f, NULL)) return -1;
    size_t bytes = 0;
    for (size_t i = 0; i < duet_st_count(f); i++) bytes += duet_st_at(f, i)->nbytes;
    *data = malloc(bytes + 4);
    size_t off = 0;
    for (size_t i = 0; i < duet_st_count(f); i++) {
        const duet_st_tensor *t = duet_st_at(f, i);
        memcpy((char *)*data + off, t->data, t->nbytes);
        off += t->nbytes;
    }
    *n = bytes / sizeof(float);
    int ok = duet_st_get(f, "train.step") && duet_st_get(f, "adam.t") && duet_st_get(f, "train.rng");
    duet_st_free(f);
    return ok ? 0 : -1;
}

/* Rewrite a checkpoint in the first format (one flat "params" blob, Adam
 * moments and counters in the metadata), as models/ckpt/sep2.ckpt is. */
static int write_flat_ckpt(const char *from, const char *to)
{
    duet_st_file *f;
    if (duet_st_load(from, &f, NULL)) return -1;
    duet_sepnet_config c = tiny();
    duet_rng r;
    duet_rng_seed(&r, 1);
    sepnet *m;
    if (duet_sepnet_new(&c, &r, &m, NULL)) return -1;
    const duet_params *p = m->params;
    float *blob[3];
    for (int k = 0; k < 3; k++) blob[k] = calloc(p->total, sizeof(float));
    const char *prefix[3] = {"", "adam.m.", "adam.v."};
    int bad = 0;
    for (size_t i = 0; i < p->count; i++) {
        size_t off = (size_t)(duet_params_data(p, i) - p->data); /* rows are padded in the block */
        size_t numel = 1;
        for (int d = 0; d < p->info[i].ndim; d++) numel *= (size_t)p->info[i].shape[d];
        for (int k = 0; k < 3; k++) {
            char name[160];
            snprintf(name, sizeof name, "%s%s", prefix[k], p->info[i].name);
            const duet_st_tensor *t = duet_st_get(f, name);
            if (!t || (size_t)t->numel != numel) bad = 1;
            else memcpy(blob[k] + off, t->data, numel * sizeof(float));
        }
    }
    duet_st_writer *w;
    duet_st_writer_new(&w, NULL);
    char buf[64];
    int64_t step, t;
    memcpy(&step, duet_st_get(f, "train.step")->data, 8);
    memcpy(&t, duet_st_get(f, "adam.t")->data, 8);
    const uint64_t *rng = duet_st_get(f, "train.rng")->data;
    duet_st_writer_meta(w, "format", "duet-sepnet-ckpt", NULL);
    duet_st_writer_meta(w, "version", "1", NULL);
    const char *copy[] = {"sample_rate", "n_fft", "hop", "n_freq", "depth", "base", "phase_ch", "use_fem", "use_sa",
                          "transposed", "dropout", "plateau_lr", "plateau_best", "plateau_bad",
                          "plateau_cooldown_left", "best_gain", "evals_since_best", "loss_acc", "loss_cnt"};
    for (size_t i = 0; i < sizeof copy / sizeof *copy; i++) duet_st_writer_meta(w, copy[i], duet_st_meta(f, copy[i]), NULL);
    snprintf(buf, sizeof buf, "%lld", (long long)step);
    duet_st_writer_meta(w, "step", buf, NULL);
    snprintf(buf, sizeof buf, "%lld", (long long)t);
    duet_st_writer_meta(w, "adam_t", buf, NULL);
    for (int i = 0; i < 4; i++) {
        char k[8];
        snprintf(k, sizeof k, "rng%d", i);
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)rng[i]);
        duet_st_writer_meta(w, k, buf, NULL);
    }
    int64_t shape[1] = {(int64_t)p->total};
    const char *names[3] = {"params", "adam_m", "adam_v"};
    for (int k = 0; k < 3; k++) duet_st_writer_add(w, names[k], DUET_ST_F32, 1, shape, blob[k], NULL);
    int rc = duet_st_writer_save(w, to, NULL) == DUET_OK && !bad ? 0 : -1;
    duet_st_writer_free(w);
    for (int k = 0; k < 3; k++) free(blob[k]);
    duet_sepnet_free(m);
    duet_st_free(f);
    return rc;
}

static void test_train_and_resume_bit_exact(void)
{
    REQUIRE(train_set.n_clips > 0);
    duet_nn_set_threads(DUET_THREADS_OMP, 1);
    char outA[96], ckA[96], outB[96], ckB[96];
    snprintf(outA, sizeof outA, "%s/a.safetensors", dir);
    snprintf(ckA, sizeof ckA, "%s/a.ckpt", dir);
    snprintf(outB, sizeof outB, "%s/b.safetensors", dir);
    snprintf(ckB, sizeof ckB, "%s/b.ckpt", dir);
    duet_err e;
    duet_err_clear(&e);
    duet_sepnet_train_opts o = opts(outA, ckA, 6);
    REQUIRE(duet_sepnet_train(&o, &train_set, &val_set, &e) == DUET_OK);
    /* interrupted run: 3 steps (checkpoint at 3), then resume to 6 */
    o = opts(outB, ckB, 3);
    REQUIRE(duet_sepnet_train(&o, &train_set, &val_set, &e) == DUET_OK);
    o = opts(outB, ckB, 6);
    o.resume = ckB;
    REQUIRE(duet_sepnet_train(&o, &train_set, &val_set, &e) == DUET_OK);
    float *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    REQUIRE(read_ckpt_params(ckA, &a, &na) == 0);
    REQUIRE(read_ckpt_params(ckB, &b, &nb) == 0);
    CHECK(na == nb && na > 0);
    CHECK(memcmp(a, b, na * sizeof(float)) == 0);
    free(a);
    free(b);
    /* a checkpoint of the first (flat) format resumes to the same weights */
    char ckF[96], outF[96], ckC[96];
    snprintf(ckF, sizeof ckF, "%s/flat.ckpt", dir);
    snprintf(outF, sizeof outF, "%s/f.safetensors", dir);
    snprintf(ckC, sizeof ckC, "%s/c3.ckpt", dir);
    o = opts(outB, ckC, 3);
    REQUIRE(duet_sepnet_train(&o, &train_set, &val_set, &e) == DUET_OK);
    REQUIRE(write_flat_ckpt(ckC, ckF) == 0);
    o = opts(outF, ckF, 6);
    o.resume = ckF;
    CHECK_MSG(duet_sepnet_train(&o, &train_set, &val_set, &e) == DUET_OK, "%s", e.msg);
    REQUIRE(read_ckpt_params(ckA, &a, &na) == 0);
    REQUIRE(read_ckpt_params(ckF, &b, &nb) == 0); /* written back in the named format */
    CHECK(na == nb && memcmp(a, b, na * sizeof(float)) == 0);
    free(a);
    free(b);
    /* a garbage checkpoint is refused with a clear error */
    FILE *fp = fopen(ckB, "wb");
    REQUIRE(fp);
    fputs("not a checkpoint", fp);
    fclose(fp);
    o.resume = ckB;
    duet_err_clear(&e);
    duet_status st = duet_sepnet_train(&o, &train_set, &val_set, &e);
    CHECK(st == DUET_ERR_FORMAT || st == DUET_ERR_RANGE);
    CHECK(e.msg[0] != '\0');
    duet_nn_set_threads(DUET_THREADS_OMP, 2);
}

static void test_loss_falls(void)
{
    REQUIRE(train_set.n_clips > 0);
    char out[96], ck[96];
    snprintf(out, sizeof out, "%s/c.safetensors", dir);
    snprintf(ck, sizeof ck, "%s/c.ckpt", dir);
    duet_sepnet_train_opts o = opts(out, ck, 40);
    o.eval_every = 1000;
    o.patience = 0;
    sepnet *m0;
    duet_rng r;
    duet_rng_seed(&r, 7);
    REQUIRE(duet_sepnet_new(&o.cfg, &r, &m0, NULL) == DUET_OK);
    duet_sepnet_val_result v0, v1;
    REQUIRE(duet_sepnet_validate(m0, &train_set, 0, &v0, NULL) == DUET_OK);
    double g0 = v0.voc_gain, l0 = v0.loss;
    duet_sepnet_free(m0);
    REQUIRE(duet_sepnet_train(&o, &train_set, NULL, NULL) == DUET_OK);
    sepnet *m;
    REQUIRE(duet_sepnet_load(out, &m, NULL) == DUET_OK);
    REQUIRE(duet_sepnet_validate(m, &train_set, 0, &v1, NULL) == DUET_OK);
    double g1 = v1.voc_gain, l1 = v1.loss;
    fprintf(stderr, "  L1 %.4f -> %.4f, vocal SDR gain %.2f -> %.2f dB after 40 steps\n", l0, l1, g0, g1);
    CHECK(l1 < 0.8 * l0);
    CHECK(g1 > g0 + 1.0);
    /* separate a 44.1 kHz 3-channel "song": stems keep rate, channels, length and sum to the mix */
    duet_audio mix, voc, acc;
    REQUIRE(duet_audio_alloc(&mix, 3, 44100 / 3 + 7, 44100) == DUET_OK);
    for (int c = 0; c < 3; c++)
        for (int64_t i = 0; i < mix.frames; i++) mix.ch[c][i] = 0.2f * sinf(0.01f * (float)i * (float)(c + 1));
    REQUIRE(duet_sepnet_separate(m, &mix, NULL, &voc, &acc, NULL) == DUET_OK);
    CHECK(voc.channels == 3 && voc.frames == mix.frames && voc.sample_rate == 44100);
    CHECK(acc.channels == 3 && acc.frames == mix.frames);
    double worst = 0;
    for (int c = 0; c < 3; c++)
        for (int64_t i = 0; i < mix.frames; i++)
            worst = fmax(worst, fabs((double)voc.ch[c][i] + acc.ch[c][i] - mix.ch[c][i]));
    CHECK(worst < 1e-4);
    duet_audio_free(&voc);
    duet_audio_free(&acc);
    /* 1-sample input works */
    duet_audio one;
    REQUIRE(duet_audio_alloc(&one, 1, 1, 8000) == DUET_OK);
    one.ch[0][0] = 0.5f;
    CHECK(duet_sepnet_separate(m, &one, NULL, &voc, &acc, NULL) == DUET_OK);
    CHECK(voc.frames == 1 && fabs(voc.ch[0][0] + acc.ch[0][0] - 0.5) < 1e-6);
    duet_audio_free(&voc);
    duet_audio_free(&acc);
    duet_audio_free(&one);
    duet_audio_free(&mix);
    duet_sepnet_free(m);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/duet_sepnet_train_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    int bad = write_clip("aa_1_01.wav", 1, 8000, 3.0) | write_clip("aa_1_02.wav", 2, 8000, 2.5) |
              write_clip("bb_1_01.wav", 3, 8000, 2.0);
    if (bad) return 1;
    RUN(test_load_data);
    RUN(test_bad_data);
    RUN(test_train_and_resume_bit_exact);
    RUN(test_loss_falls);
    duet_sepnet_dataset_free(&train_set);
    duet_sepnet_dataset_free(&val_set);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 1;
    return check_summary();
}
