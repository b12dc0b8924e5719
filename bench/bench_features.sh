#!/bin/sh
# bench/bench_features.sh BUILD_DIR: seconds of computation per minute of
# audio (process CPU time, one thread) for the full descriptor set, duet against the numpy/scipy reference
# of the same descriptors (fixtures/gen_features.py, Debian's python3), in one
# run on the same 60 s signal at 22050 Hz mono (so neither side resamples);
# the same with stems (3 signals + YIN); then catalog throughput of
# `duet features --catalog` on 8 songs of 30 s at 44.1 kHz stereo with -j 1
# and -j 2.
B=${1:-build}
PY=/usr/bin/python3
BIN=$B/bench/bench_features
DUET=$B/duet
[ -x "$BIN" ] && [ -x "$DUET" ] || { echo "bench_features: build $BIN and $DUET first (make bench)"; exit 1; }
T=$(mktemp -d /tmp/duet_bench_features.XXXXXX)
trap 'rm -rf "$T"' EXIT
# private copies: a concurrent `make` may relink the build's binaries mid-run
cp "$BIN" "$T/bench_features" && cp "$DUET" "$T/duet" || exit 1
BIN=$T/bench_features
DUET=$T/duet
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
val() { sed -n 's/^seconds_per_audio_minute //p'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.1f", b / a; else print "inf" }'; }

$BIN gen "$T/mix.wav" 60 22050 1 0 && $BIN gen "$T/voc.wav" 60 22050 1 1 && $BIN gen "$T/acc.wav" 60 22050 1 2 || exit 1

d_mix=$($BIN mix "$T/mix.wav" 10 | val)
p_mix=$($PY bench/bench_features.py mix "$T/mix.wav" 5 | val)
echo "features (mixture, all descriptors): duet $d_mix s per audio minute, numpy/scipy $p_mix s: duet is $(ratio "$d_mix" "$p_mix")x faster"
d_st=$($BIN stems "$T/mix.wav" "$T/voc.wav" "$T/acc.wav" 6 | val)
p_st=$($PY bench/bench_features.py stems "$T/mix.wav" "$T/voc.wav" "$T/acc.wav" 3 | val)
echo "features (mix + vocals + accompaniment + YIN): duet $d_st s per audio minute, numpy/scipy $p_st s: duet is $(ratio "$d_st" "$p_st")x faster"

# catalog throughput (decode + 44.1 -> 22.05 kHz + descriptors + fsync'd rows)
: > "$T/list.tsv"
i=0
while [ $i -lt 8 ]; do
    $BIN gen "$T/song$i.wav" 30 44100 2 0 || exit 1
    printf 'song%d\tsong%d.wav\n' $i $i >> "$T/list.tsv"
    i=$((i + 1))
done
# prints "WALL CPU" seconds (CPU = user + sys of duet; "-" without /usr/bin/time)
run_cat() {
    rm -f "$T/out.tsv"
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "%e %U %S" -o "$T/time" $DUET features --catalog "$T/list.tsv" --out "$T/out.tsv" \
            -j "$1" --no-progress 2>/dev/null || return 1
        awk '{ printf "%.3f %.3f", $1, $2 + $3 }' "$T/time"
    else
        s=$(date +%s.%N)
        $DUET features --catalog "$T/list.tsv" --out "$T/out.tsv" -j "$1" --no-progress 2>/dev/null || return 1
        e=$(date +%s.%N)
        awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f -", e - s }'
    fi
}
r1=$(run_cat 1) && r2=$(run_cat 2) || { echo "bench_features: catalog run failed"; exit 1; }
set -- $r1 $r2
echo "catalog (8 songs x 30 s, 44.1 kHz stereo: decode, 2:1 decimation, all descriptors, fsync'd rows):"
echo "  -j 1: $1 s wall ($2 s CPU); -j 2: $3 s wall ($4 s CPU): $(awk -v t="$3" 'BEGIN { printf "%.2f", 8 / t }') songs/s, $(awk -v t="$3" 'BEGIN { printf "%.1f", 4 / t }') audio minutes/s with -j 2; -j 2 is $(ratio "$3" "$1")x -j 1 in wall time (load average now: $(cut -d' ' -f1 /proc/loadavg))"
