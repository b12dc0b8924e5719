/* cli/cmd_features.c: `duet features`: song descriptors as JSON or TSV, for
 * single files or a whole catalog (resumable, parallel, sharded). The work
 * is in features/describe.h and features/catalog.h; this file parses
 * options, wires the separator for --stems and prints. */
#define _GNU_SOURCE
#include "cli.h"
#include "cli_audio.h"
#include "cli_opts.h"
#include "../audio/audio.h"
#include "../common/progress.h"
#include "../features/catalog.h"
#include "../features/describe.h"
#include "../separation/separators.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void features_usage(FILE *f)
{
    fprintf(f,
            "usage: duet features [OPTIONS] FILE...\n"
            "       duet features --catalog LIST --out FEATURES.tsv [-j N] [--shard i/N] [--stems]\n"
            "       duet features --merge PART.tsv... --out ALL.tsv [--catalog LIST]\n"
            "       duet features --list\n\n"
            "Describe songs with spectral, rhythmic, loudness and (with --stems) vocal\n"
            "descriptors: one JSON object per file (one per line, with a \"units\" object\n"
            "giving each descriptor's unit), or a TSV with a header `item f1 ... fN error`\n"
            "and one row per file (--tsv, --catalog). `duet features --list` prints every\n"
            "descriptor's name, unit and definition (librosa's defaults at 22050 Hz).\n\n"
            "options:\n"
            "      --json             one JSON object per file (default)\n"
            "      --tsv              header and one TSV row per file (item = the path)\n"
            "      --list             print every descriptor: name, unit, definition (one per\n"
            "                         line, aligned) and exit\n"
            "      --stems            separate first and add vocals.*, accompaniment.* and the\n"
            "                         vocal descriptors\n"
            "      --method NAME      separator for --stems (default: duet separate's default,\n"
            "                         the trained model; also repet-sim, hpss: see duet separate --help)\n"
            "      --model FILE       model weights for --method model (default: $DUET_MODEL, else\n"
            "                         the model built into duet)\n"
            "      --vocals FILE      with --accompaniment: describe these stems of the one FILE\n"
            "      --accompaniment FILE\n"
            "      --catalog LIST     TSV `item_id<TAB>path` (paths relative to LIST's folder)\n"
            "  -o, --out FILE         catalog output TSV (resumable: items with a row, described\n"
            "                         or failed, are skipped)\n"
            "      --merge PART...    merge the --out files of sharded catalog runs into --out\n"
            "                         (catalog order with --catalog LIST, which must then be\n"
            "                         complete; else id order); failure rows are kept; exit 1\n"
            "                         naming the missing and failed items, nothing written on\n"
            "                         a duplicate id, a header mismatch or an unfinished shard\n"
            "      --retry-failed     describe again the items whose row in the --out file is a\n"
            "                         failure (its rows are replaced; the other rows are kept)\n"
            "  -j, --jobs N           songs described in parallel in catalog mode (default 1)\n"
            "      --shard i/N        only items whose id hashes to shard i of N (1 <= i <= N)\n"
            "  -r, --recursive        a folder FILE means its audio files and its subfolders'\n"
            "                         (without -r: the audio files directly in it)\n"
            "      --progress         always draw the progress line (default: on a terminal)\n"
            "      --no-progress      never draw it\n");
    cli_help_quiet_verbose(f, 25);
    fprintf(f,
            "  -h, --help             show this help\n\n"
            "Exit status: 0 when every file (every item of the catalog's shard) was\n"
            "described, 1 when any failed: in catalog mode a last line gives how many items\n"
            "of the output have a failure row (--retry-failed redoes them), 2 for a usage\n"
            "error. Options take their value as --opt VALUE or --opt=VALUE.\n");
}

typedef struct features_opts {
    int tsv, stems, jobs, shard_i, shard_n, progress, retry_failed;
    int verbosity; /* CLI_QUIET, CLI_NORMAL or CLI_VERBOSE */
    const char *model, *method, *vocals, *accomp, *catalog, *out;
} features_opts;

/* --stems: a separator from separation/separators.h, opened once; its run()
 * is safe from several threads with the same state. */
typedef struct stem_sep {
    const duet_separator *sep;
    void *state;
} stem_sep;

static duet_status sep_run(void *user, const duet_audio *mix, duet_audio *voc, duet_audio *acc, duet_err *err)
{
    const stem_sep *s = user;
    duet_sep_input in = {mix, NULL, NULL};
    return s->sep->run(s->state, &in, voc, acc, err);
}

/* One JSON object: the file, its descriptors, then "units" (each name's
 * unit from the descriptor table). */
static void print_json(const char *path, const duet_feature_set *fs)
{
    fputs("{\"file\": ", stdout);
    cli_json_string(stdout, path);
    for (size_t i = 0; i < fs->n; i++) {
        fputs(", ", stdout);
        cli_json_string(stdout, fs->names[i]);
        fputs(": ", stdout);
        cli_json_number(stdout, fs->values[i], 9);
    }
    fputs(", \"units\": {", stdout);
    for (size_t i = 0; i < fs->n; i++) {
        const char *unit;
        duet_feature_doc(fs->names[i], &unit, NULL, 0);
        if (i) fputs(", ", stdout);
        cli_json_string(stdout, fs->names[i]);
        fputs(": ", stdout);
        cli_json_string(stdout, unit); /* null for a name outside the table (none) */
    }
    fputs("}}\n", stdout);
}

/* --list: every descriptor (with stems: every name duet produces), its unit
 * and its definition, aligned. */
static int print_list(void)
{
    duet_err err = {0};
    duet_feature_set names;
    duet_feature_set_init(&names);
    duet_status st = duet_describe_names(1, &names, &err);
    if (st != DUET_OK) return cli_fail("features", st, &err);
    int wn = 0, wu = 0;
    for (size_t i = 0; i < names.n; i++) {
        const char *unit;
        duet_feature_doc(names.names[i], &unit, NULL, 0);
        int ln = (int)strlen(names.names[i]), lu = unit ? (int)strlen(unit) : 1;
        if (ln > wn) wn = ln;
        if (lu > wu) wu = lu;
    }
    int rc = 0;
    for (size_t i = 0; i < names.n; i++) {
        const char *unit;
        char def[1024];
        if (!duet_feature_doc(names.names[i], &unit, def, sizeof def)) {
            cli_error("features", "%s: not in the descriptor table", names.names[i]);
            rc = 1;
            continue;
        }
        printf("%-*s  %-*s  %s\n", wn, names.names[i], wu, unit, def);
    }
    duet_feature_set_free(&names);
    if (fflush(stdout) != 0) rc = 1;
    return rc;
}

static duet_status read_stem(const char *path, duet_audio *a, duet_err *err)
{
    duet_status st = duet_audio_read(path, NULL, a, NULL, err);
    if (st != DUET_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s: %s", path, duet_err_msg(err, st));
        duet_err_set(err, st, "%s", msg);
    }
    return st;
}

/* Describe one file into fs. */
static duet_status describe_one(duet_describer *d, const features_opts *o, const stem_sep *model,
                                const char *path, duet_feature_set *fs, duet_err *err)
{
    if (o->vocals) {
        duet_audio mix = {0}, voc = {0}, acc = {0};
        duet_status st = duet_audio_read(path, NULL, &mix, NULL, err);
        if (st == DUET_OK) st = read_stem(o->vocals, &voc, err);
        if (st == DUET_OK) st = read_stem(o->accomp, &acc, err);
        if (st == DUET_OK) st = duet_describe(d, &mix, &voc, &acc, fs, err);
        duet_audio_free(&mix);
        duet_audio_free(&voc);
        duet_audio_free(&acc);
        return st;
    }
    return duet_describe_file(d, path, model ? sep_run : NULL, (void *)model, fs, err);
}

static void catalog_progress(void *user, size_t done, size_t total, size_t failed)
{
    duet_progress *p = user;
    char extra[64];
    snprintf(extra, sizeof extra, "%zu/%zu songs, %zu failed", done, total, failed);
    if (done == 0) p->total = (double)total;
    duet_progress_update(p, (double)done, extra);
}

typedef struct merge_print {
    int verbosity;
    size_t shown;
} merge_print;

static void merge_report(void *user, const char *kind, const char *id, const char *detail)
{
    merge_print *m = user;
    if (m->verbosity == CLI_QUIET) return;
    if (m->shown++ < 20 || m->verbosity == CLI_VERBOSE)
        cli_error("features", "%s item '%s'%s%s", kind, id, detail && detail[0] ? ": " : "", detail ? detail : "");
}

static int run_merge(const features_opts *o, int n_parts, char **parts)
{
    duet_err err = {0};
    duet_catalog cat;
    memset(&cat, 0, sizeof cat);
    if (o->catalog) {
        duet_status st = duet_catalog_read(o->catalog, &cat, &err);
        if (st) return cli_fail(o->catalog, st, &err);
    }
    merge_print mp = {o->verbosity, 0};
    duet_catalog_merge_stats ms;
    duet_status st = duet_catalog_merge((const char *const *)parts, n_parts, o->catalog ? &cat : NULL, o->out,
                                        merge_report, &mp, &ms, &err);
    duet_catalog_free(&cat);
    if (st) return cli_fail(NULL, st, &err);
    if (ms.missing || ms.failed) {
        cli_error("features", "%s: %zu rows from %zu parts; %zu item(s) missing, %zu failed (the rows carry the "
                  "error; --retry-failed on the merged file redoes them)", o->out, ms.rows, ms.parts, ms.missing,
                  ms.failed);
        return 1;
    }
    cli_info(o->verbosity, "features", "%s: %zu rows from %zu parts, every item present once", o->out, ms.rows, ms.parts);
    return 0;
}

static int run_catalog(const features_opts *o, const stem_sep *model)
{
    duet_err err = {0};
    duet_catalog cat;
    duet_status st = duet_catalog_read(o->catalog, &cat, &err);
    if (st != DUET_OK) return cli_fail(o->catalog, st, &err);
    duet_feature_set names;
    duet_feature_set_init(&names);
    st = duet_describe_names(model != NULL, &names, &err);
    if (st != DUET_OK) {
        duet_catalog_free(&cat);
        return cli_fail(NULL, st, &err);
    }
    duet_catalog_out *out;
    st = duet_catalog_out_open(o->out, &names, &out, &err);
    duet_feature_set_free(&names);
    if (st != DUET_OK) {
        duet_catalog_free(&cat);
        return cli_fail(o->out, st, &err);
    }
    duet_progress prog;
    duet_progress_init(&prog, "features", 0, o->verbosity == CLI_QUIET ? -1 : o->progress);
    duet_catalog_opts co = {o->jobs, o->shard_i, o->shard_n, model ? sep_run : NULL, (void *)model,
                            catalog_progress, &prog, o->retry_failed};
    cli_debug(o->verbosity, "features", "%s: %zu items; %s: %zu rows already, %zu of them failed; jobs %d, shard %d/%d%s",
              o->catalog, cat.n, o->out, duet_catalog_out_n_existing(out), duet_catalog_out_n_failed(out), o->jobs,
              o->shard_i, o->shard_n, o->retry_failed ? ", retrying failed items" : "");
    duet_catalog_stats stats;
    st = duet_catalog_run(&cat, out, &co, &stats, &err);
    duet_progress_done(&prog);
    duet_catalog_out_close(out);
    if (st == DUET_OK && o->verbosity >= CLI_VERBOSE && stats.failed + stats.skipped_failed > 0) {
        /* which items failed, from the output's error column */
        duet_catalog_out *again;
        duet_feature_set nm;
        duet_feature_set_init(&nm);
        duet_err e2 = {0};
        if (duet_describe_names(model != NULL, &nm, &e2) == DUET_OK &&
            duet_catalog_out_open(o->out, &nm, &again, &e2) == DUET_OK) {
            for (size_t i = 0; i < cat.n; i++)
                if (duet_catalog_in_shard(cat.items[i].id, o->shard_i, o->shard_n) &&
                    duet_catalog_out_failed(again, cat.items[i].id))
                    cli_debug(o->verbosity, "features", "item %s (%s) failed", cat.items[i].id, cat.items[i].path);
            duet_catalog_out_close(again);
        }
        duet_feature_set_free(&nm);
    }
    duet_catalog_free(&cat);
    char earlier[64] = "";
    if (stats.skipped_failed)
        snprintf(earlier, sizeof earlier, " (%zu of them failed)", stats.skipped_failed);
    char retried[64] = "";
    if (o->retry_failed) snprintf(retried, sizeof retried, ", %zu retried", stats.retried);
    cli_info(o->verbosity, "features", "%zu items in shard %d/%d: %zu described, %zu failed, %zu already done%s%s",
             stats.selected, o->shard_i, o->shard_n, stats.described, stats.failed, stats.skipped, earlier, retried);
    if (st != DUET_OK) return cli_fail(o->out, st, &err);
    size_t bad = stats.failed + stats.skipped_failed;
    if (bad) {
        cli_error("features", "%s: %zu of %zu items failed (their rows carry the error; --retry-failed redoes them)",
                  o->out, bad, stats.selected);
        return 1;
    }
    return 0;
}

static int run_files(const features_opts *o, const stem_sep *model, int n, char **files)
{
    duet_err err = {0};
    duet_describer *d;
    duet_status st = duet_describer_new(&d, &err);
    if (st != DUET_OK) return cli_fail(NULL, st, &err);
    int rc = 0;
    duet_feature_set names;
    duet_feature_set_init(&names);
    if (o->tsv) {
        st = duet_describe_names(model != NULL || o->vocals != NULL, &names, &err);
        if (st != DUET_OK) {
            duet_describer_free(d);
            return cli_fail(NULL, st, &err);
        }
        fputs("item", stdout);
        for (size_t i = 0; i < names.n; i++) printf("\t%s", names.names[i]);
        fputs("\terror\n", stdout);
    }
    for (int i = 0; i < n; i++) {
        duet_feature_set fs;
        duet_feature_set_init(&fs);
        duet_err e = {0};
        double t0 = duet_now();
        st = describe_one(d, o, model, files[i], &fs, &e);
        if (st == DUET_OK)
            cli_debug(o->verbosity, "features", "%s: %zu descriptors in %.2f s", files[i], fs.n, duet_now() - t0);
        if (st != DUET_OK) {
            rc = cli_fail(files[i], st, &e);
            if (o->tsv) {
                fputs(files[i], stdout);
                for (size_t k = 0; k < names.n; k++) fputc('\t', stdout);
                fputc('\t', stdout);
                for (const char *p = duet_err_msg(&e, st); *p; p++) fputc(*p == '\t' || *p == '\n' ? ' ' : *p, stdout);
                fputc('\n', stdout);
            }
        } else if (o->tsv) {
            fputs(files[i], stdout);
            for (size_t k = 0; k < fs.n; k++) printf("\t%.9g", fs.values[k]);
            fputs("\t\n", stdout);
        } else {
            print_json(files[i], &fs);
        }
        fflush(stdout);
        duet_feature_set_free(&fs);
    }
    duet_feature_set_free(&names);
    duet_describer_free(d);
    return rc;
}

int cmd_features(int argc, char **argv)
{
    features_opts o = {0};
    o.jobs = 1;
    o.shard_i = o.shard_n = 1;
    enum { O_JSON = 256, O_TSV, O_STEMS, O_MODEL, O_METHOD, O_VOC, O_ACC, O_CAT, O_SHARD, O_PROG, O_NOPROG, O_LIST, O_RETRY, O_MERGE };
    static const struct option lo[] = {{"json", no_argument, 0, O_JSON},
                                       {"tsv", no_argument, 0, O_TSV},
                                       {"stems", no_argument, 0, O_STEMS},
                                       {"model", required_argument, 0, O_MODEL},
                                       {"method", required_argument, 0, O_METHOD},
                                       {"vocals", required_argument, 0, O_VOC},
                                       {"accompaniment", required_argument, 0, O_ACC},
                                       {"catalog", required_argument, 0, O_CAT},
                                       {"out", required_argument, 0, 'o'},
                                       {"jobs", required_argument, 0, 'j'},
                                       {"shard", required_argument, 0, O_SHARD},
                                       {"progress", no_argument, 0, O_PROG},
                                       {"no-progress", no_argument, 0, O_NOPROG},
                                       {"list", no_argument, 0, O_LIST},
                                       {"retry-failed", no_argument, 0, O_RETRY},
                                       {"merge", no_argument, 0, O_MERGE},
                                       CLI_OPT_QUIET_VERBOSE,
                                       {"recursive", no_argument, 0, 'r'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int c, list = 0, n_quiet = 0, n_verbose = 0, recursive = 0, merge = 0;
    long v;
    while ((c = getopt_long(argc, argv, ":o:j:rqvh", lo, NULL)) != -1) {
        switch (c) {
        case O_JSON: o.tsv = 0; break;
        case O_TSV: o.tsv = 1; break;
        case O_STEMS: o.stems = 1; break;
        case O_MODEL: o.model = optarg; break;
        case O_METHOD: o.method = optarg; break;
        case O_VOC: o.vocals = optarg; break;
        case O_ACC: o.accomp = optarg; break;
        case O_CAT: o.catalog = optarg; break;
        case 'o': o.out = optarg; break;
        case 'j':
            if (cli_parse_int("--jobs", optarg, 1, 256, &v) != 0) return 2;
            o.jobs = (int)v;
            break;
        case O_SHARD:
            if (cli_parse_shard(optarg, &o.shard_i, &o.shard_n)) return 2;
            break;
        case O_PROG: o.progress = 1; break;
        case O_NOPROG: o.progress = -1; break;
        case O_LIST: list = 1; break;
        case O_RETRY: o.retry_failed = 1; break;
        case O_MERGE: merge = 1; break;
        case 'q': n_quiet++; break;
        case 'v': n_verbose++; break;
        case 'r': recursive = 1; break;
        case 'h': features_usage(stdout); return 0;
        default: return cli_bad_option("features", c, argc, argv);
        }
    }
    int n_files = argc - optind;
    o.verbosity = cli_verbosity("features", n_quiet, n_verbose);
    if (o.verbosity < CLI_QUIET) return 2;
    if (o.verbosity == CLI_QUIET && o.progress > 0) {
        cli_error("features", "--progress and -q/--quiet contradict each other");
        return 2;
    }
    if (list) {
        if (n_files > 0 || o.catalog || o.vocals || o.accomp || o.stems || o.tsv || o.out) {
            cli_error("features", "--list takes no FILE and no other option");
            return 2;
        }
        return print_list();
    }
    if (merge) {
        if (!o.out || n_files < 1 || o.stems || o.tsv || o.retry_failed || o.shard_n > 1) {
            cli_error("features", "--merge PART... --out FILE [--catalog LIST] (see duet features --help)");
            return 2;
        }
        return run_merge(&o, n_files, argv + optind);
    }
    if (o.retry_failed && !o.catalog) {
        cli_error("features", "--retry-failed belongs to --catalog mode");
        return 2;
    }
    if (o.catalog) {
        if (!o.out) {
            cli_error("features", "--catalog needs --out FILE (the resumable output TSV)");
            return 2;
        }
        if (n_files > 0 || o.vocals || o.accomp) {
            cli_error("features", "--catalog takes no FILE, --vocals or --accompaniment");
            return 2;
        }
    } else {
        if (n_files < 1) {
            features_usage(stderr);
            return 2;
        }
        if (o.out || o.jobs != 1 || o.shard_n != 1) {
            cli_error("features", "--out, -j and --shard belong to --catalog mode");
            return 2;
        }
    }
    if ((o.vocals != NULL) != (o.accomp != NULL)) {
        cli_error("features", "--vocals and --accompaniment go together");
        return 2;
    }
    if (o.vocals && (n_files != 1 || o.stems)) {
        cli_error("features", "--vocals/--accompaniment describe exactly one FILE, without --stems");
        return 2;
    }
    stem_sep ss = {0}, *model = NULL;
    if (o.stems) {
        ss.sep = o.method ? duet_separator_find(o.method) : duet_separator_default();
        if (!ss.sep || ss.sep->needs_references) {
            cli_error("features", "--method: unknown or reference-needing separator '%s' (see duet separate --help)",
                      o.method ? o.method : "");
            return 2;
        }
        duet_sep_config cfg = {o.model, 0, 0};
        if (strcmp(ss.sep->name, "model") == 0 && cli_model_path("features", o.model, &cfg.model_path)) return 1;
        duet_err err = {0};
        duet_status st = ss.sep->open ? ss.sep->open(&cfg, &ss.state, &err) : DUET_OK;
        if (st != DUET_OK) {
            cli_error("features", "--stems: separator '%s' is not available: %s (pass --model FILE "
                      "or use --method repet-sim)", ss.sep->name, duet_err_msg(&err, st));
            return 1;
        }
        model = &ss;
    } else if (o.model || o.method) {
        cli_error("features", "--model and --method are only used with --stems");
        return 2;
    }
    int rc;
    if (o.catalog) {
        rc = run_catalog(&o, model);
    } else {
        char **inputs = NULL;
        int n_inputs = 0;
        rc = cli_expand_inputs(n_files, argv + optind, recursive, &inputs, &n_inputs);
        if (rc == 0) rc = run_files(&o, model, n_inputs, inputs);
        cli_free_inputs(inputs, n_inputs);
    }
    if (model && ss.sep->close) ss.sep->close(ss.state);
    return rc;
}
