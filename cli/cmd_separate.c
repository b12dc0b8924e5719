/* cli/cmd_separate.c: `duet separate [OPTIONS] INPUT...`: options, output
 * names and printing around the library's duet_separate_file
 * (separation/separate_file.h), which decodes, separates and commits both
 * stems atomically. What lives here: expanding folder inputs, the
 * --filename template and the clash check over all outputs before any work,
 * --skip-existing, the spectrogram hook (features/specpic.h), SIGINT and
 * SIGTERM (the library sees a cancel flag, removes its temporaries; exit
 * 130 or 143), and -j over files. */
#define _GNU_SOURCE
#include "cli.h"
#include "cli_audio.h"
#include "../audio/audio.h"
#include "../audio/audio_files.h"
#include "../common/pathfmt.h"
#include "../common/progress.h"
#include "../features/specpic.h"
#include "../separation/separate_file.h"
#include "../separation/separators.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TEMPLATE "{track}/{stem}.{ext}"
#define MAX_JOBS 100000

/* The CLI's one piece of process state: the signal that asked us to stop. */
static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
    if (g_signal) { /* second signal: stop now */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    g_signal = sig;
}

static void separate_usage(FILE *f)
{
    const duet_separator *def = duet_separator_default();
    fprintf(f,
            "usage: duet separate [OPTIONS] INPUT...\n\n"
            "Separate each song into its singing voice and its accompaniment, written as\n"
            "DIR/<track>/vocals.<ext> and DIR/<track>/accompaniment.<ext> at the input's\n"
            "sample rate, channel count and exact length. INPUT is an audio file, - (standard\n"
            "input, any format duet reads) or a folder (its audio files; -r: also those of\n"
            "its subfolders; the outputs keep their paths relative to the folder).\n\n"
            "options:\n"
            "  -o, --out DIR        output folder (default: separated)\n"
            CLI_AUDIO_FORMAT_HELP
            "                       (separate: default wav; the stems keep the input's\n"
            "                       precision, as 16-bit songs give 16-bit stems like\n"
            "                       Demucs and Spleeter, without losing a 24-bit or float\n"
            "                       input's resolution)\n"
            "      --filename T     output names under DIR (default: " DEFAULT_TEMPLATE ");\n"
            "                       {track} input name without extension (with its folder\n"
            "                       path for folder inputs), {stem} vocals or\n"
            "                       accompaniment, {ext} the format's extension, {inputext}\n"
            "                       the input's extension. Two inputs that would write the\n"
            "                       same file are an error before any work starts\n"
            "      --stdout STEM    write only STEM (vocals or accompaniment) to standard\n"
            "                       output (WAV unless -f; one input)\n"
            "      --skip-existing  skip inputs whose outputs all exist\n"
            "  -r, --recursive      search folder inputs recursively\n"
            "  -m, --method NAME    separator (default: %s); one of:\n",
            def ? def->name : "?");
    for (int i = 0; duet_separator_at(i); i++) {
        const duet_separator *s = duet_separator_at(i);
        fprintf(f, "                         %-12s %s%s\n", s->name, s->summary,
                s->needs_references ? " [eval-sep only]" : "");
    }
    fprintf(f,
            "      --model FILE     weights for the model method (default: $DUET_MODEL, else\n"
            "                       the model built into duet; `duet info --model` shows it)\n"
            "      --wiener N       Wiener post-filter iterations (model: multichannel EM as\n"
            "                       norbert/Open-Unmix; 0 = off, the default: on MIR-1K it\n"
            "                       raises SIR but lowers SDR)\n"
            "      --shifts N       average N separations of the input delayed by random\n"
            "                       offsets of up to 0.5 s, as Demucs --shifts (default 1;\n"
            "                       N times the work; the whole song is held in memory)\n"
            "      --seed S         seed of the shifts' offsets (default 0)\n"
            "      --spectrogram    also write DIR/<track>/spectrogram.png (mixture, vocals,\n"
            "                       accompaniment)\n"
            "  -j, --jobs N         separate N files at once (default 1; each job then runs\n"
            "                       on one thread)\n"
            "      --progress       draw the progress line even when stderr is not a terminal\n"
            "  -q, --quiet          errors only: no per-file line, no progress, no warnings\n"
            "  -v, --verbose        also the format and clipping of every stem\n"
            "  -h, --help           show this help\n\n"
            "Ctrl-C or SIGTERM stops after the current block: no temporary stays behind,\n"
            "complete outputs stay, and the exit status is 130 or 143.\n");
}

/* ---------------------------------------------------------------- jobs */

typedef struct job {
    char *in;          /* input path */
    char *track;       /* {track} */
    const char *iext;  /* {inputext} (points into in) */
    char *out[3];      /* vocals, accompaniment, picture (NULL = not written) */
} job;

typedef struct jobs {
    job *v;
    int n, cap;
} jobs;

static void jobs_free(jobs *J)
{
    for (int i = 0; i < J->n; i++) {
        free(J->v[i].in);
        free(J->v[i].track);
        for (int k = 0; k < 3; k++) free(J->v[i].out[k]);
    }
    free(J->v);
}

static int jobs_add(jobs *J, const char *in, const char *track)
{
    if (J->n >= MAX_JOBS) {
        cli_error("separate", "more than %d inputs", MAX_JOBS);
        return -1;
    }
    if (J->n == J->cap) {
        int nc = J->cap ? J->cap * 2 : 16;
        job *nv = realloc(J->v, sizeof *nv * (size_t)nc);
        if (!nv) return -1;
        J->v = nv;
        J->cap = nc;
    }
    job *j = &J->v[J->n];
    memset(j, 0, sizeof *j);
    j->in = strdup(in);
    j->track = strdup(track);
    if (!j->in || !j->track) {
        free(j->in);
        free(j->track);
        return -1;
    }
    const char *b = strrchr(j->in, '/');
    b = b ? b + 1 : j->in;
    const char *dot = strrchr(b, '.');
    j->iext = dot && dot != b ? dot + 1 : "";
    char *tdot = strrchr(j->track, '.');
    char *tslash = strrchr(j->track, '/');
    if (tdot && tdot != j->track && (!tslash || tdot > tslash + 1)) *tdot = 0;
    J->n++;
    return 0;
}

/* Expand the template for one stem. Returns 0, or -1 (unknown placeholder,
 * or a name that leaves DIR). */
static int expand(const char *tmpl, const char *outdir, const job *j, const char *stem, const char *ext, char *out,
                  size_t n)
{
    size_t k = (size_t)snprintf(out, n, "%s/", outdir);
    for (const char *p = tmpl; *p && k < n; p++) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close) return -1;
            size_t len = (size_t)(close - p - 1);
            const char *val = NULL;
            if (len == 5 && !strncmp(p + 1, "track", 5)) val = j->track;
            else if (len == 4 && !strncmp(p + 1, "stem", 4)) val = stem;
            else if (len == 3 && !strncmp(p + 1, "ext", 3)) val = ext;
            else if (len == 8 && !strncmp(p + 1, "inputext", 8)) val = j->iext;
            else return -1;
            k += (size_t)snprintf(out + k, n - k, "%s", val);
            p = close;
        } else {
            out[k++] = *p;
        }
    }
    if (k >= n) return -1;
    out[k] = 0;
    if (strstr(out + strlen(outdir), "/../") || strstr(tmpl, "..")) return -1;
    return 0;
}

/* Make the parents of `path`, recording each folder created (so a failed job
 * can remove exactly those again). */
static int make_parents(const char *path, char ***made, int *n_made)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash) return 0;
    *slash = 0;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) == 0) {
                char **nm = realloc(*made, sizeof *nm * (size_t)(*n_made + 1));
                if (nm) {
                    *made = nm;
                    if (((*made)[*n_made] = strdup(buf))) (*n_made)++;
                }
            } else if (errno != EEXIST) {
                return -1;
            }
            *p = c;
            if (!c) break;
        }
    }
    struct stat sb;
    if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------ the picture hook */

static const char *const PANELS[3] = {"mixture", "vocals", "accompaniment"};

typedef struct pic_hook {
    duet_specpic *pic;
    const char *path;
    int written;
} pic_hook;

static duet_status pic_block(void *user, const float *const *mix, const float *const *voc, const float *const *acc,
                             int64_t n, duet_err *err)
{
    pic_hook *h = user;
    duet_status st = duet_specpic_feed(h->pic, 0, mix, n, err);
    if (!st) st = duet_specpic_feed(h->pic, 1, voc, n, err);
    if (!st) st = duet_specpic_feed(h->pic, 2, acc, n, err);
    return st;
}

static duet_status pic_finish(void *user, duet_err *err)
{
    pic_hook *h = user;
    duet_status st = duet_specpic_write(h->pic, h->path, PANELS, err);
    h->written = st == DUET_OK;
    return st;
}

static void pic_undo(void *user)
{
    pic_hook *h = user;
    if (h->written) remove(h->path);
}

typedef struct prog_hook {
    duet_progress p;
    int started;
    const char *label;
    int force;
} prog_hook;

static void prog_cb(void *user, int64_t done, int64_t total)
{
    prog_hook *h = user;
    if (!h->started) {
        duet_progress_init(&h->p, h->label, (double)total, h->force);
        h->started = 1;
    }
    duet_progress_update(&h->p, (double)done, NULL);
}

/* The picture and the progress line behind one set of hooks. */
typedef struct both_hook {
    pic_hook pic;
    prog_hook prog;
    int have_pic, have_prog;
} both_hook;

static duet_status both_start(void *u, int channels, int rate, duet_err *err)
{
    both_hook *h = u;
    return h->have_pic ? duet_specpic_new(3, channels, rate, &h->pic.pic, err) : DUET_OK;
}
static duet_status both_block(void *u, const float *const *m, const float *const *v, const float *const *a, int64_t n,
                              duet_err *err)
{
    both_hook *h = u;
    return h->have_pic ? pic_block(&h->pic, m, v, a, n, err) : DUET_OK;
}
static duet_status both_finish(void *u, duet_err *err)
{
    both_hook *h = u;
    if (h->have_prog && h->prog.started) duet_progress_done(&h->prog.p);
    return h->have_pic ? pic_finish(&h->pic, err) : DUET_OK;
}
static void both_undo(void *u)
{
    both_hook *h = u;
    if (h->have_pic) pic_undo(&h->pic);
}
static void both_progress(void *u, int64_t done, int64_t total)
{
    both_hook *h = u;
    if (h->have_prog) prog_cb(&h->prog, done, total);
}

typedef struct run_cfg {
    duet_separate_opts base;
    int spectrogram, quiet, verbose, progress_force, n_jobs;
} run_cfg;

/* One input: returns 0, 1 (failed) or 128 + signal. */
static int run_job(const run_cfg *rc, job *j)
{
    duet_err err = {0};
    duet_separate_opts o = rc->base;
    both_hook h;
    memset(&h, 0, sizeof h);
    char **made = NULL;
    int n_made = 0, ret = 0;
    const char *paths[2] = {j->out[0], j->out[1]};
    for (int k = 0; k < 3; k++)
        if (j->out[k] && strcmp(j->out[k], "-") && make_parents(j->out[k], &made, &n_made) != 0) {
            cli_error(j->out[k], "cannot create the output folder: %s", strerror(errno));
            ret = 1;
            goto out;
        }
    if (rc->spectrogram) {
        h.pic.path = j->out[2];
        h.have_pic = 1;
    }
    if (!rc->quiet && rc->n_jobs == 1) {
        const char *b = strrchr(j->in, '/');
        h.prog.label = b ? b + 1 : j->in;
        h.prog.force = rc->progress_force;
        h.have_prog = 1;
    }
    o.hooks.user = &h;
    o.hooks.start = both_start;
    o.hooks.block = both_block;
    o.hooks.finish = both_finish;
    o.hooks.undo = both_undo;
    o.hooks.progress = both_progress;
    duet_separate_result res;
    duet_status st = duet_separate_file(j->in, paths, &o, &res, &err);
    if (h.have_prog && h.prog.started && st) duet_progress_done(&h.prog.p);
    if (st == DUET_ERR_CANCELLED) {
        ret = 128 + (g_signal ? g_signal : SIGINT);
    } else if (st) {
        const char *what = res.failed == 0 ? paths[0] : res.failed == 1 ? paths[1] : res.failed == 2 ? j->out[2] : j->in;
        if (what && !strcmp(what, "-")) what = "standard output";
        ret = cli_fail(what ? what : j->in, st, &err);
    } else if (!rc->quiet) {
        char dest[4096];
        if (paths[0] && paths[1]) {
            snprintf(dest, sizeof dest, "%s", paths[0]);
            char *s = strrchr(dest, '/');
            if (s) s[1] = 0;
        } else {
            snprintf(dest, sizeof dest, "%s", !strcmp(paths[0] ? paths[0] : paths[1], "-") ? "standard output"
                                                                                           : (paths[0] ? paths[0] : paths[1]));
        }
        double secs = (double)res.frames / res.sample_rate;
        fprintf(stderr, "%s: %s%s -> %s (%.1f s of audio in %.2f s, real-time factor %.3f)\n", j->in,
                o.sep->name, o.wiener_iters && res.streamed ? " + Wiener" : "", dest, secs, res.seconds,
                secs > 0 ? res.seconds / secs : 0.0);
        for (int k = 0; k < 2; k++) {
            if (!paths[k]) continue;
            if (rc->verbose) {
                const duet_audio_outfmt *f = &res.format[k];
                char q[48];
                if (f->bits) snprintf(q, sizeof q, "%s", f->bits == 32 ? "32-bit float" : f->bits == 24 ? "24-bit" : "16-bit");
                else if (f->bitrate_kbps) snprintf(q, sizeof q, "%d kbps", f->bitrate_kbps);
                else snprintf(q, sizeof q, "default bitrate");
                fprintf(stderr, "%s: %s %s, %d Hz\n", paths[k], duet_audio_container_ext(f->container), q,
                        duet_audio_outfmt_rate(f, res.sample_rate));
            }
            if (res.clipped[k] > 0)
                cli_error(paths[k], "warning: %lld samples clipped to [-1, 1] (use --bits 32f to keep them)",
                          (long long)res.clipped[k]);
        }
    }
out:
    if (ret != 0)
        for (int i = n_made - 1; i >= 0; i--) rmdir(made[i]); /* only the folders this job made, if empty */
    for (int i = 0; i < n_made; i++) free(made[i]);
    free(made);
    duet_specpic_free(h.pic.pic);
    return ret;
}

static int cmp_out(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(x[0], y[0]);
}

int cmd_separate(int argc, char **argv)
{
    const char *outdir = "separated", *method = NULL, *tmpl = DEFAULT_TEMPLATE, *to_stdout = NULL;
    duet_sep_config cfg;
    memset(&cfg, 0, sizeof cfg);
    run_cfg rc;
    memset(&rc, 0, sizeof rc);
    duet_separate_opts_default(&rc.base);
    rc.n_jobs = 1;
    int progress = 0, recursive = 0, skip_existing = 0;
    long shifts = 1, seed = 0;
    enum { O_SPEC = 256, O_PROGRESS, O_BITS, O_BITRATE, O_FILENAME, O_STDOUT, O_SKIP, O_SHIFTS, O_SEED };
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"format", required_argument, 0, 'f'},
                                         {"bits", required_argument, 0, O_BITS},
                                         {"bitrate", required_argument, 0, O_BITRATE},
                                         {"filename", required_argument, 0, O_FILENAME},
                                         {"stdout", required_argument, 0, O_STDOUT},
                                         {"skip-existing", no_argument, 0, O_SKIP},
                                         {"recursive", no_argument, 0, 'r'},
                                         {"method", required_argument, 0, 'm'},
                                         {"model", required_argument, 0, 'M'},
                                         {"wiener", required_argument, 0, 'W'},
                                         {"shifts", required_argument, 0, O_SHIFTS},
                                         {"seed", required_argument, 0, O_SEED},
                                         {"jobs", required_argument, 0, 'j'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"spectrogram", no_argument, 0, O_SPEC},
                                         {"progress", no_argument, 0, O_PROGRESS},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:f:m:j:rqvh", opts, NULL)) != -1) {
        long v;
        switch (c) {
        case 'o': outdir = optarg; break;
        case 'f':
            if (cli_parse_format(optarg, &rc.base.format)) return 2;
            break;
        case O_BITS:
            if (cli_parse_bits(optarg, &rc.base.format)) return 2;
            break;
        case O_BITRATE:
            if (cli_parse_bitrate(optarg, &rc.base.format)) return 2;
            break;
        case O_FILENAME: tmpl = optarg; break;
        case O_STDOUT: to_stdout = optarg; break;
        case O_SKIP: skip_existing = 1; break;
        case 'r': recursive = 1; break;
        case 'm': method = optarg; break;
        case 'M': cfg.model_path = optarg; break;
        case 'W':
            if (cli_parse_int("--wiener", optarg, 0, 100, &v)) return 2;
            cfg.wiener_iters = (int)v;
            break;
        case O_SHIFTS:
            if (cli_parse_int("--shifts", optarg, 1, 100, &shifts)) return 2;
            break;
        case O_SEED:
            if (cli_parse_int("--seed", optarg, 0, 2147483647L, &seed)) return 2;
            break;
        case 'j':
            if (cli_parse_int("--jobs", optarg, 1, 256, &v)) return 2;
            rc.n_jobs = (int)v;
            break;
        case 'q': rc.quiet = 1; break;
        case 'v': rc.verbose = 1; break;
        case O_SPEC: rc.spectrogram = 1; break;
        case O_PROGRESS: progress = 1; break;
        case 'h': separate_usage(stdout); return 0;
        default: return cli_bad_option("separate", c, argc, argv);
        }
    }
    if (rc.quiet && rc.verbose) {
        cli_error("separate", "-q/--quiet and -v/--verbose contradict each other");
        return 2;
    }
    if (optind >= argc) {
        cli_error("separate", "no input file (see duet separate --help)");
        return 2;
    }
    int stdout_stem = -1;
    if (to_stdout) {
        if (!strcmp(to_stdout, "vocals")) stdout_stem = 0;
        else if (!strcmp(to_stdout, "accompaniment")) stdout_stem = 1;
        else {
            cli_error("separate", "--stdout: expected vocals or accompaniment, got '%s'", to_stdout);
            return 2;
        }
        if (rc.spectrogram) {
            cli_error("separate", "--stdout writes one stem only: leave out --spectrogram");
            return 2;
        }
    }
    if (rc.base.format.container < 0) rc.base.format.container = DUET_CONT_WAV;
    duet_audio_outfmt probe;
    duet_err err = {0};
    if (duet_audio_outfmt_resolve(NULL, &rc.base.format, 16, &probe, &err) != DUET_OK) {
        cli_error("separate", "%s", err.msg);
        return 2;
    }
    const duet_separator *sep = method ? duet_separator_find(method) : duet_separator_default();
    if (!sep) {
        cli_error("separate", "unknown method '%s' (see duet separate --help)", method);
        return 2;
    }
    if (sep->needs_references) {
        cli_error("separate", "method %s needs the reference stems: use it with duet eval-sep", sep->name);
        return 2;
    }

    /* inputs -> jobs */
    jobs J = {0};
    int ret = 0;
    for (int i = optind; i < argc && ret == 0; i++) {
        const char *a = argv[i];
        struct stat sb;
        if (strcmp(a, "-") && stat(a, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            duet_file_list fl = {0};
            duet_status fst = duet_find_audio_files(a, recursive, &fl, &err);
            if (fst) {
                cli_error(NULL, "%s", duet_err_msg(&err, fst));
                ret = 1;
            } else if (fl.n == 0) {
                cli_error(a, "is a directory with no audio files%s", recursive ? "" : " (-r searches its subfolders)");
                ret = 1;
            }
            for (int k = 0; k < fl.n && ret == 0; k++)
                if (jobs_add(&J, fl.path[k], fl.rel[k]) != 0) ret = 1;
            duet_file_list_free(&fl);
        } else {
            const char *b = strcmp(a, "-") ? strrchr(a, '/') : NULL;
            if (jobs_add(&J, a, !strcmp(a, "-") ? "stdin" : b ? b + 1 : a) != 0) ret = 1;
        }
    }
    if (ret == 0 && J.n == 0) {
        cli_error("separate", "no input files");
        ret = 2;
    }
    if (ret == 0 && to_stdout && J.n != 1) {
        cli_error("separate", "--stdout takes exactly one input, got %d", J.n);
        ret = 2;
    }
    int n_stdin = 0;
    for (int i = 0; i < J.n; i++) n_stdin += !strcmp(J.v[i].in, "-");
    if (ret == 0 && n_stdin > 1) {
        cli_error("separate", "standard input (-) can be read once only");
        ret = 2;
    }
    /* output names */
    const char *ext = duet_audio_container_ext(probe.container);
    static const char *const STEM[2] = {"vocals", "accompaniment"};
    for (int i = 0; i < J.n && ret == 0; i++) {
        job *j = &J.v[i];
        for (int k = 0; k < 2; k++) {
            if (stdout_stem >= 0 && k != stdout_stem) continue;
            char buf[8192];
            if (stdout_stem >= 0) snprintf(buf, sizeof buf, "-");
            else if (expand(tmpl, outdir, j, STEM[k], ext, buf, sizeof buf) != 0) {
                cli_error("separate", "--filename '%s': use {track}, {stem}, {ext} and {inputext} only, and no ..",
                          tmpl);
                ret = 2;
                break;
            }
            const char *named = duet_path_format(buf);
            if (stdout_stem < 0 && named && strcmp(named, ext)) {
                cli_error("separate", "--filename gives %s, whose extension does not match the format %s", buf, ext);
                ret = 2;
                break;
            }
            if (!(j->out[k] = strdup(buf))) ret = 1;
        }
        if (ret == 0 && rc.spectrogram) {
            char buf[8192];
            if (expand(tmpl, outdir, j, "spectrogram", "png", buf, sizeof buf) != 0 || !(j->out[2] = strdup(buf)))
                ret = 2;
        }
    }
    /* the clash check, over every output of every input */
    if (ret == 0 && stdout_stem < 0) {
        const char **all = malloc(sizeof *all * 2 * (size_t)J.n * 3);
        int n = 0;
        if (!all) ret = 1;
        for (int i = 0; i < J.n && all; i++)
            for (int k = 0; k < 3; k++)
                if (J.v[i].out[k]) all[2 * n] = J.v[i].out[k], all[2 * n + 1] = J.v[i].in, n++;
        if (all && n > 1) qsort(all, (size_t)n, 2 * sizeof *all, cmp_out);
        for (int i = 1; all && i < n && ret == 0; i++)
            if (!strcmp(all[2 * i], all[2 * i - 2])) {
                cli_error("separate",
                          "%s and %s would both write %s: give --filename a template that tells them apart "
                          "(e.g. '{track}_{inputext}/{stem}.{ext}')",
                          all[2 * i - 1], all[2 * i + 1], all[2 * i]);
                ret = 2;
            }
        free(all);
    }
    if (ret == 0 && skip_existing) {
        int kept = 0;
        for (int i = 0; i < J.n; i++) {
            int all_there = 1;
            for (int k = 0; k < 3; k++)
                if (J.v[i].out[k] && (strcmp(J.v[i].out[k], "-") == 0 || access(J.v[i].out[k], F_OK) != 0)) all_there = 0;
            if (all_there) {
                if (!rc.quiet) fprintf(stderr, "%s: skipped (outputs exist)\n", J.v[i].in);
                free(J.v[i].in);
                free(J.v[i].track);
                for (int k = 0; k < 3; k++) free(J.v[i].out[k]);
            } else {
                J.v[kept++] = J.v[i];
            }
        }
        J.n = kept;
    }
    if (ret != 0 || J.n == 0) {
        jobs_free(&J);
        return ret;
    }
    if (strcmp(sep->name, "model") == 0 && cli_model_path("separate", cfg.model_path, &cfg.model_path)) {
        jobs_free(&J);
        return 1;
    }
    void *state = NULL;
    if (sep->open) {
        duet_status st = sep->open(&cfg, &state, &err);
        if (st) {
            jobs_free(&J);
            return cli_fail(sep->name, st, &err);
        }
    }
    rc.base.sep = sep;
    rc.base.state = state;
    rc.base.wiener_iters = cfg.wiener_iters;
    rc.base.shifts = (int)shifts;
    rc.base.seed = (uint64_t)seed;
    rc.base.cancel = &g_signal;
    rc.progress_force = rc.quiet ? -1 : progress ? 1 : 0;

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_signal = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    int n_jobs = rc.n_jobs < J.n ? rc.n_jobs : J.n;
    rc.n_jobs = n_jobs;
    int worst = 0;
#pragma omp parallel for num_threads(n_jobs) schedule(dynamic, 1) if (n_jobs > 1)
    for (int i = 0; i < J.n; i++) {
        if (g_signal) continue;
        int r = run_job(&rc, &J.v[i]);
#pragma omp critical(separate_rc)
        {
            if (r > worst) worst = r;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (g_signal) worst = 128 + g_signal;
    if (sep->close) sep->close(state);
    jobs_free(&J);
    return worst;
}
