#!/bin/sh
# bench/bench_sep_mem.sh BUILD_DIR: peak memory of `duet separate` (the
# trained model, streamed) on a synthesised 3-minute and a 60-minute song
# (sox, 44.1 kHz stereo 16-bit, generated in /tmp and deleted afterwards).
# Peak RSS comes from getrusage of the child (BUILD_DIR/bench/bench_sep_mem);
# prints both, their ratio (goal: 60 min <= 1.2 x 3 min, i.e. memory does not
# grow with the length) and the real-time factor (processing seconds per
# second of audio; < 1 is faster than real time), by wall clock and by the
# child's CPU time (on a busy machine the wall figure mostly measures the
# others). One thread, nice 5.
# LONG_MIN / SHORT_MIN override the lengths (minutes); DUET_MODEL=FILE uses
# another model (the shipped one by default). On this 2-core machine the
# shipped model needs about 0.5 CPU-second per second of audio, so the
# 60-minute run takes about 30 CPU-minutes.
B=${1:-build}
SHORT_MIN=${SHORT_MIN:-3}
LONG_MIN=${LONG_MIN:-60}
MODEL=${DUET_MODEL:-models/sepnet.safetensors}
if ! command -v sox >/dev/null 2>&1; then
    echo "bench_sep_mem: sox not found (make tools); skipped"
    exit 0
fi
if [ ! -r "$MODEL" ]; then
    echo "bench_sep_mem: no model $MODEL; skipped"
    exit 0
fi
tmp=$(mktemp -d /tmp/duet_sep_mem.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
# a "song": a plucked bass line and chords under a gliding, vibrato "voice",
# 8 s long, repeated to the wanted length
sox -n -r 44100 -c 2 -b 16 "$tmp/bar.wav" synth 8 pluck C2 pluck G3 pluck E4 sine 300-700 \
    tremolo 5 40 channels 2 vol 0.25 || exit 1
run_len() { # minutes
    secs=$(($1 * 60))
    reps=$((secs / 8 - 1))
    sox "$tmp/bar.wav" "$tmp/song_$1.wav" repeat "$reps" || exit 1
    r=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 5 "$B/bench/bench_sep_mem" "$B/duet" separate -q \
        --model "$MODEL" -o "$tmp/out_$1" "$tmp/song_$1.wav" | grep '^RESULT') || { echo "bench_sep_mem: separate failed"; exit 1; }
    rm -rf "$tmp/out_$1" "$tmp/song_$1.wav"
    echo "$1 $secs $r"
}
a=$(run_len "$SHORT_MIN") || exit 1
b=$(run_len "$LONG_MIN") || exit 1
printf '%s\n%s\n' "$a" "$b" | awk '
    { split($4, m, "="); split($5, w, "="); split($6, u, "=");
      mins[NR] = $1; secs[NR] = $2; rss[NR] = m[2]; wall[NR] = w[2]; user[NR] = u[2] }
    END {
        for (i = 1; i <= 2; i++)
            printf "duet separate, %d-minute song (44.1 kHz stereo): peak RSS %.1f MB, %.1f s wall (%.1f s CPU), real-time factor %.3f wall, %.3f CPU\n", \
                   mins[i], rss[i] / 1024, wall[i], user[i], wall[i] / secs[i], user[i] / secs[i]
        printf "peak memory ratio %d min / %d min: %.3f (goal <= 1.2)\n", mins[2], mins[1], rss[2] / rss[1]
    }'
