/* fuzz/fuzz_cli.c: libFuzzer target for the `duet` command-line parser:
 * every command of cli/commands.def (and version/help), called in process
 * through the real main() (cli/main.c compiled with -Dmain=duet_cli_main;
 * fuzz/run.sh links the objects of the cli folder into this target).
 *
 * The commands have no separate parse step, so the harness keeps them from
 * doing heavy work by giving them nothing to work on: each command runs in
 * an empty scratch folder (/dev/shm or /tmp or $FUZZ_TMPDIR,
 * duet_fuzz_cli_<pid>) and every argument is confined to it (a leading '/',
 * or one after '=' or ',', becomes '_'; ".." becomes "_."), so every input
 * file, folder, corpus, catalog, data set and model named on the command
 * line is missing ($DUET_MODEL too), and a command gets through its whole
 * option parsing and validation, then fails when it opens its first input.
 * Limits on top: libFuzzer -timeout=20 (s per input), -rss_limit_mb=2048 and
 * -malloc_limit_mb=512 (fuzz/cli.flags): an input that makes a command work
 * longer or allocate more is reported as a finding.
 *
 * Input: the first byte picks the command (index into commands.def plus
 * version, help, --help, --version, -h; values past the table take the
 * first argument string literally as the command); the rest is split at NUL
 * bytes into at most 64 arguments of at most 512 bytes.
 *
 * Checked besides "no crash, no leak, no undefined behaviour":
 *  - the exit status is 0, 1 or 2;
 *  - a non-zero status comes with a message on stderr; a zero status (help,
 *    version) writes something on stdout;
 *  - no regular file is left behind in the scratch folder (no partial
 *    output: every command fails before writing anything here, or writes
 *    nothing at all for help/version).
 * stdout and stderr are captured in memory streams during the call (the
 * sanitizers and libFuzzer still report on the real stderr). getopt's
 * hidden state is reset before each call (optind = 0 then one empty
 * getopt call), as a fresh process would have it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int duet_cli_main(int argc, char **argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(c)                                                                   \
    do {                                                                                \
        if (!(c)) {                                                                     \
            fprintf(real_stderr, "fuzz_cli: property failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                    \
        }                                                                               \
    } while (0)

static const char *const names[] = {
#define DUET_CMD(name, fn, summary) name,
#include "../cli/commands.def"
#undef DUET_CMD
    "version", "help", "--help", "--version", "-h"};
enum { N_NAMES = sizeof names / sizeof names[0], MAX_ARGS = 64, MAX_ARG_LEN = 512 };

/* harness state (not library state) */
static char scratch[256];
static FILE *real_stdout, *real_stderr;
static int home_fd = -1; /* the working folder libFuzzer started in */

/* Remove everything under `path` (not path itself); returns the number of
 * regular files found. */
static int clean_dir(const char *path, int depth)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) {
            chmod(p, 0700);
            if (depth < 64) files += clean_dir(p, depth + 1);
            rmdir(p);
        } else {
            if (S_ISREG(sb.st_mode)) {
                fprintf(real_stderr, "fuzz_cli: file left behind: %s\n", p);
                files++;
            }
            unlink(p);
        }
    }
    closedir(d);
    return files;
}

static void remove_scratch(void)
{
    clean_dir(scratch, 0);
    rmdir(scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("FUZZ_TMPDIR");
    if (!dir) dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(scratch, sizeof scratch, "%s/duet_fuzz_cli_%ld", dir, (long)getpid());
    home_fd = open(".", O_RDONLY | O_DIRECTORY);
    if (home_fd < 0 || mkdir(scratch, 0700) != 0) {
        perror(scratch);
        abort();
    }
    real_stdout = stdout;
    real_stderr = stderr;
    setenv("DUET_MODEL", "no-such-dir/sepnet.safetensors", 1);
    setenv("OMP_NUM_THREADS", "1", 1);
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    atexit(remove_scratch);
    return 0;
}

/* Confine an argument to the scratch folder. */
static void confine(char *s)
{
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '/' && (i == 0 || s[i - 1] == '=' || s[i - 1] == ',')) s[i] = '_';
        if (s[i] == '.' && s[i + 1] == '.') s[i] = '_';
        if (s[i] == '~' && i == 0) s[i] = '_';
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    char *argv[MAX_ARGS + 3];
    int argc = 0;
    argv[argc++] = strdup("duet");
    size_t pos = 1;
    if (data[0] < N_NAMES) argv[argc++] = strdup(names[data[0]]);
    while (pos <= size && argc < MAX_ARGS + 2) {
        const uint8_t *z = pos < size ? memchr(data + pos, 0, size - pos) : NULL;
        size_t end = z ? (size_t)(z - data) : size;
        size_t len = end - pos;
        if (len > MAX_ARG_LEN) len = MAX_ARG_LEN;
        char *a = malloc(len + 1);
        FUZZ_CHECK(a != NULL);
        memcpy(a, data + pos, len);
        a[len] = '\0';
        confine(a);
        argv[argc++] = a;
        if (!z) break;
        pos = end + 1;
    }
    argv[argc] = NULL;
    for (int i = 0; i < argc; i++) FUZZ_CHECK(argv[i] != NULL);
    char *saved[MAX_ARGS + 3];
    memcpy(saved, argv, sizeof saved);

    /* a fresh getopt, as in a new process */
    char *dummy[] = {"duet", NULL};
    optind = 0;
    opterr = 1;
    (void)getopt(1, dummy, "");

    char *out_buf = NULL, *err_buf = NULL;
    size_t out_len = 0, err_len = 0;
    FILE *out = open_memstream(&out_buf, &out_len), *err = open_memstream(&err_buf, &err_len);
    FUZZ_CHECK(out && err);
    FUZZ_CHECK(chdir(scratch) == 0);
    stdout = out;
    stderr = err;
    int rc = duet_cli_main(argc, argv);
    stdout = real_stdout;
    stderr = real_stderr;
    fclose(out);
    fclose(err);

    if (rc < 0 || rc > 2) {
        fprintf(real_stderr, "exit status %d; stderr: %.300s\n", rc, err_buf);
        FUZZ_CHECK(rc >= 0 && rc <= 2);
    }
    if (rc != 0) FUZZ_CHECK(err_len > 0);
    else FUZZ_CHECK(out_len > 0);
    int left = clean_dir(".", 0);
    FUZZ_CHECK(fchdir(home_fd) == 0);
    if (left) fprintf(real_stderr, "exit status %d; stderr: %.300s\n", rc, err_buf);
    FUZZ_CHECK(left == 0);
    free(out_buf);
    free(err_buf);
    /* getopt_long permutes argv: free the strings as allocated */
    for (int i = 0; i < argc; i++) free(saved[i]);
    return 0;
}
