/* tests/test_stems_io.c: reference stems in MUSDB's four-stem layout
 * (DIR/<track>/{vocals,drums,bass,other}): accompaniment = drums + bass +
 * other and mixture = vocals + accompaniment sample by sample; a missing
 * stem or a stem of another length is a one-line error naming the folder
 * or file; a track with an accompaniment file uses it as is. */
#include "check.h"
#include "../audio/audio.h"
#include "../separation/stems_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void write_stem(const char *track, const char *name, int64_t n, float scale)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, track);
    mkdir(p, 0755);
    duet_audio a;
    REQUIRE(duet_audio_alloc(&a, 2, n, 44100) == DUET_OK);
    for (int c = 0; c < 2; c++)
        for (int64_t i = 0; i < n; i++) a.ch[c][i] = scale * sinf(0.01f * (float)(i + 1) * (float)(c + 1));
    snprintf(p, sizeof p, "%s/%s/%s.wav", dir, track, name);
    REQUIRE(duet_audio_write(p, &a, DUET_FILE_WAV_FLOAT, NULL) == DUET_OK);
    duet_audio_free(&a);
}

static void test_four_stems(void)
{
    write_stem("a_song", "vocals", 1000, 0.1f);
    write_stem("a_song", "drums", 1000, 0.2f);
    write_stem("a_song", "bass", 1000, 0.3f);
    write_stem("a_song", "other", 1000, 0.4f);
    write_stem("b_missing", "vocals", 1000, 0.1f);
    write_stem("b_missing", "drums", 1000, 0.2f);
    write_stem("b_missing", "bass", 1000, 0.3f);
    write_stem("c_short", "vocals", 1000, 0.1f);
    write_stem("c_short", "drums", 1000, 0.2f);
    write_stem("c_short", "bass", 999, 0.3f);
    write_stem("c_short", "other", 1000, 0.4f);
    write_stem("d_pair", "vocals", 1000, 0.1f);
    write_stem("d_pair", "accompaniment", 1000, 0.5f);
    write_stem("d_pair", "drums", 1000, 0.7f); /* ignored: the accompaniment file wins */
    duet_track_list l;
    duet_err err = {0};
    REQUIRE(duet_stems_scan(dir, NULL, &l, &err) == DUET_OK);
    CHECK_MSG(l.n == 4, "%d tracks", l.n);
    duet_stems s;
    REQUIRE(duet_stems_load(&l, 0, &s, &err) == DUET_OK);
    double worst = 0;
    for (int c = 0; c < 2; c++)
        for (int64_t i = 0; i < 1000; i++) {
            float base = sinf(0.01f * (float)(i + 1) * (float)(c + 1));
            worst = fmax(worst, fabs(s.accompaniment.ch[c][i] - 0.9f * base));
            worst = fmax(worst, fabs(s.mixture.ch[c][i] - (s.vocals.ch[c][i] + s.accompaniment.ch[c][i])));
        }
    CHECK_MSG(worst < 1e-6 && s.accompaniment.channels == 2 && s.accompaniment.frames == 1000,
              "accompaniment = drums + bass + other, worst error %.3g", worst);
    duet_stems_free(&s);
    duet_status st = duet_stems_load(&l, 1, &s, &err);
    CHECK_MSG(st == DUET_ERR_NOTFOUND && strstr(err.msg, "b_missing") && strstr(err.msg, "other"), "missing: %s",
              err.msg);
    st = duet_stems_load(&l, 2, &s, &err);
    CHECK_MSG(st != DUET_OK && strstr(err.msg, "bass"), "short stem: %s", err.msg);
    REQUIRE(duet_stems_load(&l, 3, &s, &err) == DUET_OK);
    CHECK_NEAR(s.accompaniment.ch[0][10], 0.5f * sinf(0.11f), 1e-6);
    duet_stems_free(&s);
    duet_track_list_free(&l);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/duet_stems_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    RUN(test_four_stems);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    return check_summary();
}
