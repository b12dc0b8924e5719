/* tests/test_rec_incf_cli.c: `duet train-rec` and `duet recommend` end to end
 * on the toy fixture (fixtures/gen_rec_incf.py): recommendations for a user,
 * a new history and similar items, the one-line errors, and the kill test
 * (SIGKILL during training, resume from the checkpoint, final model
 * byte-identical to an uninterrupted run, one thread).
 * Needs DUET (the binary's path; `make check` sets it). */
#include "check.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *duet;
static char tmpdir[64];
static char out_buf[65536], err_buf[8192];

#define TOY "--interactions fixtures/rec/incf_toy.tsv --item-attrs fixtures/rec/incf_toy_attrs.tsv " \
            "--item-features fixtures/rec/incf_toy_features.tsv"

static int run(const char *args)
{
    char cmd[4096], of[128], ef[128];
    snprintf(of, sizeof of, "%s/stdout", tmpdir);
    snprintf(ef, sizeof ef, "%s/stderr", tmpdir);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 %s %s >%s 2>%s", duet, args, of, ef);
    int st = system(cmd);
    FILE *f = fopen(of, "r");
    size_t n = f ? fread(out_buf, 1, sizeof out_buf - 1, f) : 0;
    out_buf[n] = 0;
    if (f) fclose(f);
    f = fopen(ef, "r");
    n = f ? fread(err_buf, 1, sizeof err_buf - 1, f) : 0;
    err_buf[n] = 0;
    if (f) fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static int files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int eq = fa && fb;
    while (eq) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) eq = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return eq;
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void test_train_and_recommend(void)
{
    char args[2048], model[128];
    snprintf(model, sizeof model, "%s/toy.safetensors", tmpdir);
    snprintf(args, sizeof args, "train-rec " TOY " --out %s --dim 16 --epochs 15 --lr 0.01 --patience 5 --seed 2",
             model);
    CHECK_MSG(run(args) == 0, "%s", err_buf);
    CHECK(strstr(err_buf, "epoch") != NULL); /* progress on stderr */
    snprintf(args, sizeof args, "recommend --model %s --user u05 -k 5", model);
    CHECK(run(args) == 0 && count_lines(out_buf) == 6); /* header + 5 */
    /* u05 (fixtures/gen_rec_incf.py) listens mostly to genre 1 (a020-a039): the top two are from it */
    CHECK(strncmp(out_buf, "rank\titem\tscore\tname\n", 21) == 0);
    {
        const char *l1 = strchr(out_buf, '\n') + 1, *l2 = strchr(l1, '\n') + 1;
        CHECK_MSG(!strncmp(l1, "1\ta02", 5) || !strncmp(l1, "1\ta03", 5), "%s", out_buf);
        CHECK_MSG(!strncmp(l2, "2\ta02", 5) || !strncmp(l2, "2\ta03", 5), "%s", out_buf);
    }
    snprintf(args, sizeof args, "recommend --model %s --similar a041 -k 3", model);
    CHECK(run(args) == 0 && count_lines(out_buf) == 4);
    snprintf(args, sizeof args, "recommend --model %s --history \"a041,a042,a043\" -k 4", model);
    CHECK(run(args) == 0 && count_lines(out_buf) == 5);
    CHECK(strstr(out_buf, "\ta041\t") == NULL); /* history items are not recommended back */
    /* errors: one line, non-zero exit */
    snprintf(args, sizeof args, "recommend --model %s --user nobody", model);
    CHECK(run(args) == 1 && count_lines(err_buf) == 1 && strstr(err_buf, "unknown user 'nobody'"));
    snprintf(args, sizeof args, "recommend --model %s --similar zzz", model);
    CHECK(run(args) == 1 && count_lines(err_buf) == 1 && strstr(err_buf, "unknown item 'zzz'"));
    snprintf(args, sizeof args, "recommend --model %s --history a041,zzz", model);
    CHECK(run(args) == 1 && count_lines(err_buf) == 1 && strstr(err_buf, "unknown item 'zzz'"));
    CHECK(run("recommend --model fixtures/rec/incf_toy.tsv --user u01") == 1 && count_lines(err_buf) == 1 &&
          strstr(err_buf, "incf_toy.tsv"));
    CHECK(run("recommend --model fixtures/nn/golden.safetensors --user u01") == 1 && count_lines(err_buf) == 1);
    snprintf(args, sizeof args, "recommend --model %s", model);
    CHECK(run(args) == 2 && count_lines(err_buf) == 1);
    CHECK(run("train-rec " TOY) == 2 && strstr(err_buf, "--out"));
    snprintf(args, sizeof args, "train-rec " TOY " --out %s/x.safetensors --model nope", tmpdir);
    CHECK(run(args) == 2 && count_lines(err_buf) == 1);
    snprintf(args, sizeof args, "train-rec --interactions fixtures/rec/missing.tsv --out %s/x.safetensors", tmpdir);
    CHECK(run(args) == 1 && count_lines(err_buf) == 1);
    /* NCF-format data (no side information): the model degrades to ids */
    snprintf(args, sizeof args, "train-rec --ncf fixtures/rec/tiny_ncf --out %s/ncf.safetensors --quiet --epochs 3",
             tmpdir);
    CHECK_MSG(run(args) == 0, "%s", err_buf);
    snprintf(args, sizeof args, "recommend --model %s/ncf.safetensors --user 1 -k 2", tmpdir);
    CHECK(run(args) == 0 && count_lines(out_buf) == 3);
}

static void test_kill_and_resume(void)
{
    char args[2048], a_out[128], a_ck[128], b_out[128], b_ck[128];
    snprintf(a_out, sizeof a_out, "%s/a.safetensors", tmpdir);
    snprintf(a_ck, sizeof a_ck, "%s/a.ckpt", tmpdir);
    snprintf(b_out, sizeof b_out, "%s/b.safetensors", tmpdir);
    snprintf(b_ck, sizeof b_ck, "%s/b.ckpt", tmpdir);
    const char *common = "--dim 16 --epochs 20 --patience 100 --lr 0.01 --seed 5 --quiet";
    snprintf(args, sizeof args, "train-rec " TOY " %s --out %s --ckpt %s", common, a_out, a_ck);
    REQUIRE(run(args) == 0);
    int killed = 0;
    for (int attempt = 0; attempt < 5 && !killed; attempt++) {
        remove(b_ck);
        remove(b_out);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            char cmd[2048];
            snprintf(cmd, sizeof cmd,
                     "exec env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 %s train-rec " TOY " %s --out %s --ckpt %s",
                     duet, common, b_out, b_ck);
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
        /* wait for the first checkpoint, then kill */
        struct timespec ts = {0, 200000};
        int status = 0, done = 0;
        for (int k = 0; k < 100000 && !exists(b_ck); k++) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                done = 1;
                break;
            }
            nanosleep(&ts, NULL);
        }
        if (!done) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
        killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && !exists(b_out) && exists(b_ck);
    }
    REQUIRE(killed);
    snprintf(args, sizeof args, "train-rec " TOY " %s --out %s --ckpt %s --resume %s", common, b_out, b_ck, b_ck);
    CHECK_MSG(run(args) == 0, "%s", err_buf);
    CHECK_MSG(files_equal(a_out, b_out), "resumed model differs from the uninterrupted run");
    CHECK(files_equal(a_ck, b_ck));
    /* a checkpoint of another configuration is refused with one line */
    snprintf(args, sizeof args, "train-rec " TOY " --dim 8 --quiet --out %s --resume %s", b_out, b_ck);
    CHECK(run(args) == 1 && count_lines(err_buf) == 1 && strstr(err_buf, "another configuration"));
}

int main(void)
{
    duet = getenv("DUET");
    if (!duet) duet = "build/duet";
    if (access(duet, X_OK) != 0) {
        fprintf(stderr, "# %s not found (build it first)\n", duet);
        printf("not ok - duet binary present\n");
        return 1;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/duet_incf_cli_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_train_and_recommend);
    RUN(test_kill_and_resume);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "# could not remove %s\n", tmpdir);
    return check_summary();
}
