#!/bin/sh
# bench/bench_sepnet.sh BUILD_DIR: duet's separation network vs the same
# network in PyTorch 1.13 (fixtures/gen_sepnet_torch.py builds it from duet's
# weights file: same architecture, same weights; the PyTorch side checks
# duet's masks on every chunk and prints the max abs difference), on the same
# inputs and 2 threads each, in one run (issue 5's speed goal).
#
# Networks: the shipped model (models/sepnet.safetensors, or $DUET_MODEL) and,
# for context, the default configuration with base 16 (random weights).
# Measurements (bench/bench_sepnet.c and .py), duet and PyTorch interleaved
# ROUNDS times (fresh processes, one warm-up each), medians (min-max):
#   inference on a 30 s clip: duet's own path sepnet_vocal_mask (features,
#     chunked forward, cross-fade) vs torch.no_grad() forwards of the same
#     chunks (PyTorch does less work: no features, no cross-fade);
#   duet's real-time factor: seconds of audio separated per second by
#     sepnet_separate (STFT, network, ISTFT; mono, at the model's rate);
#   a training step: batch 4 x 128 frames, forward + L1 loss + backward +
#     gradient clipping + Adam;
#   conv layers at inference size (batch 2 x 256 frames, each timed alone):
#     GFLOP/s as a share of the cblas_sgemm peak (best of 1024^3 and 512^3, 2 threads) measured
#     in the same run.
# Environment: BENCH_SEPNET_ROUNDS (default 3), BENCH_SEPNET_ROUNDS16
# (default 1, the base-16 network), BENCH_SEPNET_WIDE=0 skips it.
B=${1:-build}
ROUNDS=${BENCH_SEPNET_ROUNDS:-3}
ROUNDS16=${BENCH_SEPNET_ROUNDS16:-1}
TH=2
PY=/usr/bin/python3
bin="$B/bench/bench_sepnet"
[ -x "$bin" ] || { echo "bench_sepnet: $bin not built (make $bin)"; exit 1; }
model=${DUET_MODEL:-models/sepnet.safetensors}
[ -r "$model" ] || { echo "bench_sepnet: $model: not readable"; exit 1; }
havepy=1
$PY -c "import torch" 2>/dev/null || { echo "bench_sepnet: PyTorch not available in $PY; no peer"; havepy=0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=$TH OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=$TH

# median (min-max) of the values of key $2 in file $1
stat() { awk -v k="$2" '$1 == k { print $2 }' "$1" | sort -g | awk '
    { a[NR] = $1 } END { if (NR == 0) { print "nan nan nan"; exit }
    m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print m, a[1], a[NR] }'; }

bench_one() { # tag model rounds
    tag=$1 m=$2 rounds=$3
    d="$tmp/$tag"
    mkdir -p "$d"
    : >"$d/duet"; : >"$d/torch"
    echo "-- $tag: $m, $rounds round(s), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    r=1
    while [ $r -le "$rounds" ]; do
        if [ $r -eq 1 ]; then "$bin" run "$m" "$d" 1 $TH >>"$d/duet" || return 1
        else BENCH_SEPNET_NO_CONV=1 "$bin" run "$m" "$d" 1 $TH >>"$d/duet" || return 1; fi
        if [ $havepy -eq 1 ]; then $PY bench/bench_sepnet.py "$m" "$d" 1 $TH >>"$d/torch" || return 1; fi
        r=$((r + 1))
    done
    sed -n 's/^config /  network: /p' "$d/duet" | head -1
    set -- $(stat "$d/duet" mask_s); dm=$1 dm0=$2 dm1=$3
    set -- $(stat "$d/duet" separate_s); ds=$1 ds0=$2 ds1=$3
    set -- $(stat "$d/duet" step_s); dt=$1 dt0=$2 dt1=$3
    clip=$(awk '$1 == "clip_s" { print $2; exit }' "$d/duet")
    printf 'duet     30 s clip mask %.3f s (%.3f-%.3f)  separate %.3f s (%.3f-%.3f)  train step %.3f s (%.3f-%.3f)\n' \
        "$dm" "$dm0" "$dm1" "$ds" "$ds0" "$ds1" "$dt" "$dt0" "$dt1"
    awk -v c="$clip" -v s="$ds" -v s0="$ds0" -v s1="$ds1" 'BEGIN {
        printf "duet real-time factor (separate, mono): %.1f s of audio per second (%.1f-%.1f)\n", c / s, c / s1, c / s0 }'
    if [ $havepy -eq 1 ]; then
        set -- $(stat "$d/torch" net_s); tn=$1 tn0=$2 tn1=$3
        set -- $(stat "$d/torch" step_s); tt=$1 tt0=$2 tt1=$3
        printf 'pytorch  30 s clip net  %.3f s (%.3f-%.3f)  train step %.3f s (%.3f-%.3f)  max |mask diff| %s\n' \
            "$tn" "$tn0" "$tn1" "$tt" "$tt0" "$tt1" "$(awk '$1 == "mask_err" { print $2 }' "$d/torch" | sort -g | tail -1)"
        awk -v a="$tn" -v b="$dm" -v c="$tt" -v e="$dt" 'BEGIN {
            printf "ratio pytorch/duet (medians): inference %.2fx (goal >= 3x), training step %.2fx (goal >= 2x)\n", a / b, c / e }'
        # per-round ratios (round i of duet with round i of PyTorch): the spread
        awk '$1 == "mask_s" { print $2 }' "$d/duet" >"$d/a"; awk '$1 == "net_s" { print $2 }' "$d/torch" >"$d/b"
        awk '$1 == "step_s" { print $2 }' "$d/duet" >"$d/c"; awk '$1 == "step_s" { print $2 }' "$d/torch" >"$d/e"
        paste "$d/a" "$d/b" "$d/c" "$d/e" | awk '{ i = i sprintf(" %.2f", $2 / $1); s = s sprintf(" %.2f", $4 / $3) }
            END { printf "  per round: inference%s; training step%s\n", i, s }'
    fi
    peak=$(awk '$1 == "sgemm_peak_gflops" { print $2 }' "$d/duet")
    awk -v p="$peak" '$1 == "conv" { f += $8 * $9; t += $9; over += ($8 > p)
        printf "  conv %-28s %3d<-%-3d k%d %4dx%-4d %7.2f GFLOP/s %5.1f%% of peak%s\n", $2, $3, $4, $5, $6, $7, $8, 100 * $8 / p, ($8 > p) ? " *" : "" }
        END { if (over) print "  * above the peak: that layer (tiny, best of 8) was timed in a quieter moment than both peak measurements"
              printf "cblas_sgemm peak (best of 1024^3 and 512^3, 2 threads): %.1f GFLOP/s; all conv layers at inference size: %.2f GFLOP/s = %.1f%% of peak (%.1f ms per batch of 2 chunks)\n", p, f / t, 100 * f / t / p, t }' "$d/duet"
}

bench_one shipped "$model" "$ROUNDS" || exit 1
if [ "${BENCH_SEPNET_WIDE:-1}" != 0 ]; then
    "$bin" init 16 "$tmp/base16.safetensors" || exit 1
    bench_one base16 "$tmp/base16.safetensors" "$ROUNDS16" || exit 1
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
