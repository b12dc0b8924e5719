/* fuzz/gen_audio_seeds.c: writes the small seed files of fuzz/corpus/audio/
 * (one per container/codec libsndfile decodes: WAV 8/16/24/32-bit int and
 * float, WAV stereo, AIFF, AU, W64, CAF, FLAC, OGG/Vorbis, OGG/Opus, MP3),
 * each a few hundred frames of a sine so the files stay tiny. Not part of
 * the build or of fuzz/run.sh (which only builds fuzz_*.c); regenerate with
 *   cc -std=c11 fuzz/gen_audio_seeds.c -o /tmp/gen_audio_seeds $(pkg-config --cflags --libs sndfile) -lm
 *   /tmp/gen_audio_seeds fuzz/corpus/audio
 * A format this libsndfile cannot write is skipped with a note. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sndfile.h>

static void seed(const char *dir, const char *name, int format, int channels, int rate, int frames)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.channels = channels;
    info.samplerate = rate;
    info.format = format;
    if (!sf_format_check(&info)) {
        fprintf(stderr, "skip %s: format not accepted\n", name);
        return;
    }
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) {
        fprintf(stderr, "skip %s: %s\n", name, sf_strerror(NULL));
        return;
    }
    float buf[2 * 4096];
    for (int i = 0; i < frames && i < 4096; i++)
        for (int c = 0; c < channels; c++)
            buf[i * channels + c] = (float)(0.5 * sin(2 * 3.14159265358979 * 440.0 * (c + 1) * i / rate));
    sf_writef_float(sf, buf, frames);
    sf_close(sf);
    printf("wrote %s\n", path);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "fuzz/corpus/audio";
    seed(dir, "pcm16_mono.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 8000, 64);
    seed(dir, "pcm24_stereo.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 2, 44100, 48);
    seed(dir, "pcm32.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 1, 16000, 32);
    seed(dir, "u8.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 1, 8000, 64);
    seed(dir, "float.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 48000, 32);
    seed(dir, "double.wav", SF_FORMAT_WAV | SF_FORMAT_DOUBLE, 1, 22050, 16);
    seed(dir, "ulaw.wav", SF_FORMAT_WAV | SF_FORMAT_ULAW, 1, 8000, 64);
    seed(dir, "imaadpcm.wav", SF_FORMAT_WAV | SF_FORMAT_IMA_ADPCM, 1, 8000, 128);
    seed(dir, "pcm16.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 1, 8000, 64);
    seed(dir, "pcm16.au", SF_FORMAT_AU | SF_FORMAT_PCM_16, 1, 8000, 64);
    seed(dir, "pcm16.w64", SF_FORMAT_W64 | SF_FORMAT_PCM_16, 1, 8000, 32);
    seed(dir, "alac.caf", SF_FORMAT_CAF | SF_FORMAT_ALAC_16, 1, 8000, 64);
    seed(dir, "pcm16.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, 8000, 256);
    seed(dir, "pcm24_stereo.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 2, 44100, 128);
    seed(dir, "vorbis.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 1, 8000, 256);
    /* libsndfile >= 1.1 (Opus, MP3): enum values, so no #ifdef */
    seed(dir, "opus.ogg", SF_FORMAT_OGG | SF_FORMAT_OPUS, 1, 8000, 256);
    seed(dir, "layer3.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 1, 8000, 576);
    return 0;
}
