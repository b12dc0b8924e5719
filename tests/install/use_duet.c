/* tests/install/use_duet.c: a user's program built against an installed
 * duet through pkg-config (tests/test_install.sh). Writes OUT.wav (2 s of
 * a synthetic stereo "song": a vibrato tone over a low drone and clicks),
 * separates it with the model built into the library (no model path) and
 * prints "frames F channels C residual R" (R = max |v + a - mix|).
 * Written in the common subset of C and C++: test_install.sh also builds it
 * with g++ -x c++ to check the headers from C++. */
#include <duet.h>

#include <math.h>
#include <stdio.h>

#define PI 3.14159265358979323846

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: use_duet OUT.wav\n");
        return 2;
    }
    duet_err err;
    duet_err_clear(&err);
    duet_audio mix, voc, acc;
    const int rate = 22050;
    duet_status st = duet_audio_alloc(&mix, 2, 2 * rate, rate);
    if (st) return fprintf(stderr, "alloc: %s\n", duet_err_msg(&err, st)), 1;
    for (int64_t i = 0; i < mix.frames; i++) {
        double t = (double)i / rate;
        double voice = 0.3 * sin(2 * PI * (440 * t + 3 * sin(2 * PI * 5 * t)));
        double drone = 0.2 * sin(2 * PI * 110 * t) + ((i % 5512) < 40 ? 0.4 : 0.0);
        mix.ch[0][i] = (float)(voice + drone);
        mix.ch[1][i] = (float)(0.8 * voice + drone);
    }
    st = duet_audio_write(argv[1], &mix, DUET_FILE_WAV_FLOAT, &err);
    if (st) return fprintf(stderr, "%s: %s\n", argv[1], duet_err_msg(&err, st)), 1;
    duet_sep_config cfg = {NULL, 0, 0};
    duet_sep_input in = {&mix, NULL, NULL};
    st = duet_separate_once(duet_separator_default(), &cfg, &in, &voc, &acc, &err);
    if (st) return fprintf(stderr, "separate: %s\n", duet_err_msg(&err, st)), 1;
    double res = 0;
    for (int c = 0; c < mix.channels; c++)
        for (int64_t i = 0; i < mix.frames; i++) {
            double d = fabs((double)voc.ch[c][i] + acc.ch[c][i] - mix.ch[c][i]);
            if (d > res) res = d;
        }
    printf("frames %lld channels %d residual %.3g\n", (long long)voc.frames, voc.channels, res);
    duet_audio_free(&mix);
    duet_audio_free(&voc);
    duet_audio_free(&acc);
    return 0;
}
