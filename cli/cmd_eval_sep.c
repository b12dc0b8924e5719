/* cli/cmd_eval_sep.c: `duet eval-sep --ref DIR [--est DIR | --method
 * NAME...] [--json FILE] [-j N]`: evaluate separations on a MIR-1K folder or
 * a MUSDB-style stem tree (separation/stems_io.h) with the metrics of
 * separation/sep_eval.h, print a Markdown table (method x stem: median over
 * tracks of SDR / SIR / SAR (mir_eval bss_eval_sources), SI-SDR, museval v4
 * SDR (median of each track's frame median), and GNSDR / GSIR / GSAR
 * (length-weighted means)), and optionally write every value to JSON. */
#define _GNU_SOURCE
#include "cli.h"
#include "cli_opts.h"
#include "../common/atomic_file.h"
#include "../common/progress.h"
#include "../separation/eval_protocol.h"
#include "../separation/sep_eval.h"
#include "../separation/sdr.h"
#include "../separation/separators.h"
#include "../separation/stems_io.h"
#include "../separation/bsseval.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_METHODS 32

static void eval_sep_usage(FILE *f)
{
    fprintf(f,
            "usage: duet eval-sep --ref DIR [--est DIR | --method NAME...] [OPTIONS]\n\n"
            "Evaluate vocal/accompaniment separations against references: a MIR-1K folder\n"
            "(stereo clips, left = accompaniment, right = voice, mixture = sum) or a stem\n"
            "tree DIR/<track>/{mixture,vocals,accompaniment}.wav (mixture optional).\n"
            "Prints a Markdown table: median over tracks of SDR/SIR/SAR (mir_eval 0.7\n"
            "bss_eval_sources, 512-tap filters, channel mean), SI-SDR, museval v4 SDR\n"
            "(median over 1 s frames, then over tracks), and GNSDR/GSIR/GSAR (length-\n"
            "weighted means over tracks; NSDR = SDR - SDR of the mixture).\n\n"
            "options:\n"
            "  -r, --ref DIR          reference data (required)\n"
            "  -e, --est DIR          estimates DIR/<track>/{vocals,accompaniment}.wav (as duet\n"
            "                         separate -o DIR writes them)\n"
            "  -m, --method NAMES     separators to run (repeatable or comma-separated; default:\n"
            "                         all built-in methods when --est is not given):");
    for (int i = 0; duet_separator_at(i); i++) fprintf(f, " %s", duet_separator_at(i)->name);
    fprintf(f,
            "\n"
            "  -t, --tracks PATTERNS  only tracks matching comma-separated shell patterns,\n"
            "                         e.g. 'bobon_*,fdps_*'\n"
            "      --json FILE        write every value per method, track and stem (atomically)\n"
            "      --model FILE       weights for the model method (default: $DUET_MODEL, else\n"
            "                         the model built into duet)\n"
            "      --wiener N         Wiener post-filter iterations for methods that support it (model)\n"
            "  -j, --jobs N           tracks evaluated in parallel (default 1)\n"
            "  -q, --quiet            no progress line and no notes on stderr (errors only)\n"
            "  -v, --verbose          one line per track and method\n"
            "  -h, --help             show this help\n\n"
            "Undefined values (a silent reference or estimate: BSSEval is undefined, as in\n"
            "mir_eval) are left out of medians and means, counted in the table's 'undef'\n"
            "column, reported on stderr and written as null in the JSON.\n");
}

static void fmt_num(char *buf, size_t n, double v)
{
    if (isnan(v))
        snprintf(buf, n, "n/a");
    else if (isinf(v))
        snprintf(buf, n, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, n, "%.2f", v);
}

static void json_num(FILE *f, double v)
{
    if (!isfinite(v))
        fputs("null", f);
    else
        fprintf(f, "%.6f", v);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static const char *stem_names[2] = {"vocals", "accompaniment"};

/* Writes into af (opened before the evaluation, so that an unwritable
 * --json fails at once) and commits or aborts it. */
static int write_json(duet_atomic_file *af, const char *path, const char *refdir, const duet_eval_method *ms,
                      const duet_eval_results *res, const duet_track_list *tl)
{
    duet_err err = {0};
    duet_status st;
    FILE *f = duet_atomic_fp(af);
    fprintf(f, "{\n  \"tool\": \"duet eval-sep\",\n  \"reference\": ");
    json_str(f, refdir);
    fprintf(f, ",\n  \"conventions\": {\"SDR/SIR/SAR\": \"mir_eval 0.7 bss_eval_sources on the channel mean, 512 taps, no "
               "permutation\", \"NSDR\": \"SDR - SDR(mixture as estimate)\", \"SI-SDR\": \"Le Roux et al. 2019, no mean "
               "removal\", \"MDX-SDR\": \"10 log10((|s|^2+1e-7)/(|s-e|^2+1e-7))\", \"frames\": \"museval v4 (images, "
               "whole-track 512-tap filters, 1 s windows and hops; null where museval skips a silent frame)\", "
               "\"GNSDR\": \"length-weighted mean of NSDR over tracks\"},\n  \"methods\": [\n");
    const int nm = res->n_methods;
    for (int mi = 0; mi < nm; mi++) {
        const duet_eval_method *m = &ms[mi];
        fprintf(f, "    {\"name\": ");
        json_str(f, m->name);
        fprintf(f, ",\n     \"summary\": {");
        for (int j = 0; j < 2; j++) {
            duet_eval_summary s = duet_eval_summarize(res, mi, j);
            fprintf(f, "%s\"%s\": {\"tracks\": %d, \"undefined\": %d, \"median SDR\": ", j ? ", " : "", stem_names[j], s.n,
                    s.undef);
            json_num(f, s.sdr);
            fprintf(f, ", \"median SIR\": ");
            json_num(f, s.sir);
            fprintf(f, ", \"median SAR\": ");
            json_num(f, s.sar);
            fprintf(f, ", \"median SI-SDR\": ");
            json_num(f, s.si_sdr);
            fprintf(f, ", \"median SDR v4\": ");
            json_num(f, s.v4_sdr);
            fprintf(f, ", \"GNSDR\": ");
            json_num(f, s.gnsdr);
            fprintf(f, ", \"GSIR\": ");
            json_num(f, s.gsir);
            fprintf(f, ", \"GSAR\": ");
            json_num(f, s.gsar);
            fprintf(f, "}");
        }
        fprintf(f, "},\n     \"tracks\": [\n");
        int first = 1;
        for (int t = 0; t < tl->n; t++) {
            if (!res->ok[mi][t]) continue;
            const duet_track_eval *e = &res->ev[mi][t];
            fprintf(f, "%s      {\"name\": ", first ? "" : ",\n");
            first = 0;
            json_str(f, e->name);
            fprintf(f, ", \"rate\": %d, \"channels\": %d, \"samples\": %lld, \"targets\": [", e->sample_rate, e->channels,
                    (long long)e->frames);
            for (int j = 0; j < 2; j++) {
                const duet_target_eval *te = &e->t[j];
                fprintf(f, "%s\n        {\"name\": \"%s\", \"SDR\": ", j ? "," : "", stem_names[j]);
                json_num(f, te->sdr);
                fprintf(f, ", \"SIR\": ");
                json_num(f, te->sir);
                fprintf(f, ", \"SAR\": ");
                json_num(f, te->sar);
                fprintf(f, ", \"SI-SDR\": ");
                json_num(f, te->si_sdr);
                fprintf(f, ", \"NSDR\": ");
                json_num(f, te->nsdr);
                fprintf(f, ", \"SDR-mixture\": ");
                json_num(f, te->mix_sdr);
                fprintf(f, ", \"MDX-SDR\": ");
                json_num(f, te->mdx_sdr);
                if (te->note[0]) {
                    fprintf(f, ", \"note\": ");
                    json_str(f, te->note);
                }
                fprintf(f, ",\n         \"frames\": [");
                for (int w = 0; w < te->nwin; w++) {
                    fprintf(f, "%s{\"time\": %d.0, \"duration\": 1.0, \"metrics\": {\"SDR\": ", w ? ", " : "", w);
                    json_num(f, te->f_sdr[w]);
                    fprintf(f, ", \"SIR\": ");
                    json_num(f, te->f_sir[w]);
                    fprintf(f, ", \"SAR\": ");
                    json_num(f, te->f_sar[w]);
                    fprintf(f, ", \"ISR\": ");
                    json_num(f, te->f_isr[w]);
                    fprintf(f, "}}");
                }
                fprintf(f, "]}");
            }
            fprintf(f, "]}");
        }
        fprintf(f, "\n     ]}%s\n", mi + 1 < nm ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    if (ferror(f)) {
        duet_atomic_abort(af);
        cli_error(path, "write error");
        return 1;
    }
    st = duet_atomic_commit(af, &err);
    if (st) return cli_fail(path, st, &err);
    return 0;
}

static int add_methods(const char *arg, const char **names, int *n)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", arg);
    char *save = NULL;
    for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        const duet_separator *s = duet_separator_find(p);
        if (!s) {
            cli_error("eval-sep", "unknown method '%s' (see duet eval-sep --help)", p);
            return -1;
        }
        if (*n >= MAX_METHODS) {
            cli_error("eval-sep", "too many methods");
            return -1;
        }
        names[(*n)++] = s->name;
    }
    return 0;
}

typedef struct eval_print {
    int verbose;
    duet_progress prog;
} eval_print;

/* Per-track lines (the library calls this serialised). */
static void on_track(void *user, const duet_track_list *tl, int t, const duet_eval_method *m, duet_status st,
                     const duet_err *e, const duet_track_eval *ev, double sep_s, double eval_s)
{
    eval_print *p = user;
    if (st) {
        char what[600];
        if (m) snprintf(what, sizeof what, "%s: %s", tl->tracks[t].name, m->name);
        else snprintf(what, sizeof what, "%s", tl->tracks[t].name);
        cli_fail(what, st, e);
        return;
    }
    for (int j = 0; j < 2 && p->verbose != CLI_QUIET; j++)
        if (ev->t[j].note[0])
            fprintf(stderr, "duet: %s: %s %s: undefined values (%s)\n", tl->tracks[t].name, m->name, stem_names[j],
                    ev->t[j].note);
    if (p->verbose == CLI_VERBOSE)
        fprintf(stderr, "%s %s: vocals SDR %.2f NSDR %.2f, accompaniment SDR %.2f NSDR %.2f (%.2f s separate, %.2f s eval)\n",
                tl->tracks[t].name, m->name, ev->t[0].sdr, ev->t[0].nsdr, ev->t[1].sdr, ev->t[1].nsdr, sep_s, eval_s);
}

static void on_progress(void *user, int done, int total)
{
    (void)total;
    eval_print *p = user;
    duet_progress_update(&p->prog, done, NULL);
}

int cmd_eval_sep(int argc, char **argv)
{
    const char *ref = NULL, *est = NULL, *json = NULL, *tracks = NULL;
    const char *mnames[MAX_METHODS];
    int nm = 0, jobs = 1, verbose = 0, n_quiet = 0, n_verbose = 0;
    duet_sep_config cfg;
    memset(&cfg, 0, sizeof cfg);
    static const struct option opts[] = {{"ref", required_argument, 0, 'r'},   {"est", required_argument, 0, 'e'},
                                         {"method", required_argument, 0, 'm'}, {"json", required_argument, 0, 'J'},
                                         {"tracks", required_argument, 0, 't'}, {"model", required_argument, 0, 'M'},
                                         {"jobs", required_argument, 0, 'j'},   {"verbose", no_argument, 0, 'v'}, {"quiet", no_argument, 0, 'q'},
                                         {"wiener", required_argument, 0, 'W'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":r:e:m:t:j:qvh", opts, NULL)) != -1) {
        long v;
        switch (c) {
        case 'r': ref = optarg; break;
        case 'e': est = optarg; break;
        case 'm':
            if (add_methods(optarg, mnames, &nm)) return 2;
            break;
        case 'J': json = optarg; break;
        case 't': tracks = optarg; break;
        case 'M': cfg.model_path = optarg; break;
        case 'W':
            if (cli_parse_int("--wiener", optarg, 0, 100, &v)) return 2;
            cfg.wiener_iters = (int)v;
            break;
        case 'j':
            if (cli_parse_int("--jobs", optarg, 1, 256, &v)) return 2;
            jobs = (int)v;
            break;
        case 'v': n_verbose++; break;
        case 'q': n_quiet++; break;
        case 'h': eval_sep_usage(stdout); return 0;
        default: return cli_bad_option("eval-sep", c, argc, argv);
        }
    }
    verbose = cli_verbosity("eval-sep", n_quiet, n_verbose);
    if (verbose == -2) return 2;
    if (optind < argc) {
        cli_error("eval-sep", "unexpected argument '%s' (see duet eval-sep --help)", argv[optind]);
        return 2;
    }
    if (!ref) {
        cli_error("eval-sep", "--ref DIR is required (see duet eval-sep --help)");
        return 2;
    }
    if (est && nm) {
        cli_error("eval-sep", "give either --est DIR or --method, not both");
        return 2;
    }
    int defaulted = !est && !nm;
    if (defaulted)
        for (int i = 0; duet_separator_at(i) && nm < MAX_METHODS; i++) mnames[nm++] = duet_separator_at(i)->name;
    duet_track_list tl;
    duet_err err = {0};
    duet_status st = duet_stems_scan(ref, tracks, &tl, &err);
    if (st) return cli_fail("eval-sep", st, &err);
    duet_atomic_file *json_af = NULL;
    if (json && (st = duet_atomic_open(json, &json_af, &err)) != DUET_OK) {
        duet_track_list_free(&tl);
        return cli_fail(json, st, &err);
    }
    int nrun = est ? 1 : nm;
    duet_eval_method ms[MAX_METHODS];
    memset(ms, 0, sizeof ms);
    duet_eval_results res;
    memset(&res, 0, sizeof res);
    int rc = 0;
    for (int i = 0; i < nrun; i++) {
        ms[i].name = est ? "estimates" : mnames[i];
        ms[i].sep = est ? NULL : duet_separator_find(mnames[i]);
        ms[i].est_dir = est;
        if (ms[i].sep && strcmp(ms[i].sep->name, "model") == 0 &&
            cli_model_path("eval-sep", cfg.model_path, &cfg.model_path)) {
            rc = 1;
            nrun = i;
            goto done;
        }
        if (ms[i].sep && ms[i].sep->open) {
            st = ms[i].sep->open(&cfg, &ms[i].state, &err);
            if (st && defaulted) {
                /* a method nobody asked for that cannot start (e.g. no weights): leave it out */
                fprintf(stderr, "duet: eval-sep: method %s left out: %s\n", ms[i].name, duet_err_msg(&err, st));
                memset(&ms[i], 0, sizeof ms[i]);
                for (int k = i; k + 1 < nm; k++) mnames[k] = mnames[k + 1];
                nm--;
                nrun--;
                i--;
                continue;
            }
            if (st) {
                rc = cli_fail(ms[i].name, st, &err);
                nrun = i;
                goto done;
            }
        }
    }
    eval_print pr = {verbose, {0}};
    duet_progress_init(&pr.prog, "eval-sep", (double)tl.n, verbose == CLI_QUIET ? -1 : 0);
    duet_eval_opts eo = {jobs, on_track, on_progress, &pr};
    st = duet_eval_run(&tl, ms, nrun, &eo, &res, &err);
    duet_progress_done(&pr.prog);
    if (st) {
        rc = cli_fail("eval-sep", st, &err);
        goto done;
    }
    printf("duet eval-sep: %s, %d track(s)%s%s, %.1f s\n\n", ref, tl.n, tracks ? " matching " : "", tracks ? tracks : "",
           res.seconds);
    printf("| method | stem | tracks | undef | SDR | SIR | SAR | SI-SDR | SDR v4 | GNSDR | GSIR | GSAR |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < nrun; i++)
        for (int j = 0; j < 2; j++) {
            duet_eval_summary s = duet_eval_summarize(&res, i, j);
            char b[8][32];
            double v8[8] = {s.sdr, s.sir, s.sar, s.si_sdr, s.v4_sdr, s.gnsdr, s.gsir, s.gsar};
            for (int k = 0; k < 8; k++) fmt_num(b[k], sizeof b[k], v8[k]);
            printf("| %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", ms[i].name, stem_names[j], s.n,
                   s.undef, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
        }
    printf("\nSDR/SIR/SAR/SI-SDR/SDR v4: medians over tracks (dB); GNSDR/GSIR/GSAR: length-weighted means.\n");
    fflush(stdout);
    if (json_af) {
        if (write_json(json_af, json, ref, ms, &res, &tl)) rc = 1;
        json_af = NULL;
    }
    if (res.failed) {
        cli_error("eval-sep", "%d track evaluation(s) failed (see above)", res.failed);
        rc = 1;
    }
done:
    duet_atomic_abort(json_af);
    duet_eval_results_free(&res);
    for (int i = 0; i < nrun; i++)
        if (ms[i].sep && ms[i].sep->close) ms[i].sep->close(ms[i].state);
    duet_track_list_free(&tl);
    return rc;
}
