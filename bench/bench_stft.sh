#!/bin/sh
# bench/bench_stft.sh BUILD_DIR: STFT+ISTFT of a 3-minute stereo 44.1 kHz
# signal (2048/512 and 4096/1024), duet (BUILD_DIR/bench/bench_stft) against
# scipy.signal.stft/istft and torch.stft/istft (Debian's /usr/bin/python3,
# bench/bench_stft.py, torch on 2 threads) in the same run; prints speed
# ratios (> 1: duet faster). Goal: duet >= 5x SciPy and faster than torch.
# The programs take turns (ROUNDS rounds of RUNS runs each) and each keeps its
# best time, so a busy machine slows all of them alike.
B=${1:-build}
ROUNDS=${ROUNDS:-2}
RUNS=${RUNS:-2}    # runs per program start (the first one also pays for page faults)
SECONDS_LEN=${SECONDS_LEN:-180}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
peer=1
if ! [ -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import scipy, torch' 2>/dev/null; then
    echo "bench_stft: /usr/bin/python3 with scipy and torch not found; duet alone"
    peer=0
fi
r=1
while [ "$r" -le "$ROUNDS" ]; do
    OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} "$B/bench/bench_stft" "$RUNS" "$SECONDS_LEN" >>"$tmp" || exit 1
    if [ "$peer" = 1 ]; then
        OMP_NUM_THREADS=2 /usr/bin/python3 bench/bench_stft.py "$RUNS" "$SECONDS_LEN" >>"$tmp" || exit 1
    fi
    r=$((r + 1))
done
awk -v rounds="$ROUNDS" -v runs="$RUNS" -v len="$SECONDS_LEN" '
    $1 == "RESULT" { k = $2 " " $3 " " $4; if (!(k in t) || $5 < t[k]) t[k] = $5; cfg[$3 " " $4] = 1 }
    END {
        printf "STFT+ISTFT of %s s of stereo 44.1 kHz audio, best of %d rounds x %d runs (seconds):\n", len, rounds, runs
        for (c in cfg) {
            d = t["duet " c]; s = t["scipy " c]; p = t["torch " c]
            split(c, nh, " ")
            if (s == "" || p == "") { printf "n_fft %s hop %s: duet %.3f s\n", nh[1], nh[2], d; continue }
            printf "n_fft %s hop %s: duet %.3f s, scipy %.3f s, torch %.3f s -> duet vs scipy %.1fx, duet vs torch %.2fx\n", \
                   nh[1], nh[2], d, s, p, s / d, p / d
        }
    }' "$tmp" | sort -n -k2
grep -v '^RESULT' "$tmp" | awk '!seen[$1 " " $3 " " $5]++ { print "  first round: " $0 }'
