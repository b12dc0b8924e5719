/* bench/bench_features.c: time duet's full descriptor set.
 *   bench_features gen FILE SECONDS RATE CHANNELS   write a music-like test signal (WAV float)
 *   bench_features mix FILE REPS                     describe the mixture REPS times
 *   bench_features stems MIX VOCALS ACC REPS         describe mix + stems REPS times
 * Prints "seconds_per_audio_minute <value>" (best of REPS, process CPU time,
 * one thread: robust on a shared machine; the peer measures the same way). The signal: a gliding 5-harmonic voice, clicks every 0.6 s and
 * a little noise (as fixtures/gen_features.py's "music"). */
#define _GNU_SOURCE
#include "../audio/audio.h"
#include "../features/describe.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PI 3.14159265358979323846

static int gen(const char *path, double seconds, int sr, int channels, int part)
{
    duet_audio a;
    if (duet_audio_alloc(&a, channels, (int64_t)(seconds * sr), sr) != DUET_OK) return 1;
    uint32_t s = 7;
    double cum = 0;
    for (int64_t i = 0; i < a.frames; i++) {
        double t = (double)i / sr;
        cum += 220.0 * pow(2.0, 7.0 / 12.0 * sin(2 * PI * t / 6.0));
        double ph = 2 * PI * cum / sr, v = 0, acc = 0;
        for (int h = 1; h <= 5; h++) v += (0.3 / h) * sin(h * ph);
        if (fmod(t, 4.0) < 0.5) v = 0; /* breaths */
        double tc = fmod(t, 0.6);
        if (tc < 0.02) acc += 0.7 * exp(-tc * sr / 30.0) * sin(2 * PI * 2000 * tc);
        s = s * 1664525u + 1013904223u;
        acc += 0.02 * (((double)(s >> 8) / 16777216.0) * 2 - 1);
        double x = part == 1 ? v : part == 2 ? acc : v + acc;
        for (int c = 0; c < channels; c++) a.ch[c][i] = (float)(x * (c == 0 ? 1.0 : 0.9));
    }
    duet_err e = {0};
    duet_status st = duet_audio_write(path, &a, DUET_FILE_WAV_FLOAT, &e);
    duet_audio_free(&a);
    if (st != DUET_OK) fprintf(stderr, "bench_features: %s: %s\n", path, duet_err_msg(&e, st));
    return st != DUET_OK;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int read_or_die(const char *p, duet_audio *a)
{
    duet_err e = {0};
    duet_status st = duet_audio_read(p, NULL, a, NULL, &e);
    if (st != DUET_OK) fprintf(stderr, "bench_features: %s: %s\n", p, duet_err_msg(&e, st));
    return st != DUET_OK;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && !strcmp(argv[1], "gen"))
        return gen(argv[2], atof(argv[3]), atoi(argv[4]), atoi(argv[5]), argc > 6 ? atoi(argv[6]) : 0);
    int stems = argc == 6 && !strcmp(argv[1], "stems");
    if (!(argc == 4 && !strcmp(argv[1], "mix")) && !stems) {
        fprintf(stderr, "usage: bench_features gen FILE SECONDS RATE CHANNELS [PART] | mix FILE REPS | "
                        "stems MIX VOCALS ACC REPS\n");
        return 2;
    }
    duet_audio mix = {0}, voc = {0}, acc = {0};
    if (read_or_die(argv[2], &mix)) return 1;
    if (stems && (read_or_die(argv[3], &voc) || read_or_die(argv[4], &acc))) return 1;
    int reps = atoi(argv[stems ? 5 : 3]);
    duet_describer *d;
    if (duet_describer_new(&d, NULL) != DUET_OK) return 1;
    double best = INFINITY;
    size_t n_feat = 0;
    for (int r = 0; r < (reps > 0 ? reps : 1); r++) {
        duet_feature_set fs;
        duet_feature_set_init(&fs);
        double t0 = cpu_now();
        duet_err e = {0};
        duet_status st = duet_describe(d, &mix, stems ? &voc : NULL, stems ? &acc : NULL, &fs, &e);
        double t = cpu_now() - t0;
        if (st != DUET_OK) {
            fprintf(stderr, "bench_features: %s\n", duet_err_msg(&e, st));
            return 1;
        }
        n_feat = fs.n;
        duet_feature_set_free(&fs);
        if (t < best) best = t;
    }
    double minutes = (double)mix.frames / mix.sample_rate / 60.0;
    printf("features %zu\nseconds_per_audio_minute %.5f\n", n_feat, best / minutes);
    duet_describer_free(d);
    duet_audio_free(&mix);
    duet_audio_free(&voc);
    duet_audio_free(&acc);
    return 0;
}
