#!/bin/sh
# bench/bench_nn.sh BUILD_DIR: duet's nn engine vs PyTorch 1.13 on a
# U-Net-sized stack (4 levels, 16..128 channels, input 2 x 512 x 128,
# conv3x3 + BatchNorm + ReLU blocks, bilinear up-sampling, skip concats; see
# bench/bench_nn.c), same sizes, same 2 threads, in one run.
# Prints forward and training-step times, the ratios PyTorch/duet (> 1 means
# duet is faster), and each conv layer's forward GFLOP/s as a share of the
# cblas_sgemm peak measured in the same run. duet runs in both thread modes:
# "omp" (OpenMP over batch items and row tiles, OpenBLAS single-threaded)
# and "blas" (one OpenMP thread, OpenBLAS with 2 threads).
# Environment: BENCH_NN_BATCH (default 8), BENCH_NN_ITERS (default 3).
B=${1:-build}
BATCH=${BENCH_NN_BATCH:-8}
ITERS=${BENCH_NN_ITERS:-3}
H=512
W=128
TH=2
PY=/usr/bin/python3
bin="$B/bench/bench_nn"
[ -x "$bin" ] || { echo "bench_nn: $bin not built (make $bin)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "U-Net 2x${H}x${W}, batch $BATCH, fastest of $ITERS iterations, $TH threads"
OMP_NUM_THREADS=$TH "$bin" "$BATCH" $H $W "$ITERS" omp $TH >"$tmp/omp" || exit 1
OMP_NUM_THREADS=$TH "$bin" "$BATCH" $H $W "$ITERS" blas $TH >"$tmp/blas" || exit 1
if $PY -c "import torch" 2>/dev/null; then
    OMP_NUM_THREADS=$TH $PY bench/bench_nn.py "$BATCH" $H $W "$ITERS" $TH >"$tmp/torch" || exit 1
else
    echo "bench_nn: PyTorch not available in $PY; no peer"; : >"$tmp/torch"
fi
get() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
peak=$(get "$tmp/omp" sgemm_peak_gflops)
tf=$(get "$tmp/torch" fwd_s); ts=$(get "$tmp/torch" step_s)
for m in omp blas; do
    f=$(get "$tmp/$m" fwd_s); s=$(get "$tmp/$m" step_s)
    printf 'duet[%s]  forward %.3f s  train step %.3f s\n' "$m" "$f" "$s"
done
[ -n "$tf" ] && printf 'pytorch    forward %.3f s  train step %.3f s\n' "$tf" "$ts"
if [ -n "$tf" ]; then
    for m in omp blas; do
        f=$(get "$tmp/$m" fwd_s); s=$(get "$tmp/$m" step_s)
        awk -v m="$m" -v f="$f" -v s="$s" -v tf="$tf" -v ts="$ts" 'BEGIN {
            printf "ratio pytorch/duet[%s]: forward %.2fx, training step %.2fx (goal >= 2x)\n", m, tf / f, ts / s }'
    done
fi
# One thread each, process CPU time: a comparison that does not depend on
# how much of the shared machine other jobs take during the run.
B1=${BENCH_NN_BATCH1:-2}
OMP_NUM_THREADS=1 BENCH_NN_NO_CONV=1 "$bin" "$B1" $H $W "$ITERS" omp 1 >"$tmp/one" || exit 1
if [ -s "$tmp/torch" ]; then
    OMP_NUM_THREADS=1 $PY bench/bench_nn.py "$B1" $H $W "$ITERS" 1 >"$tmp/torch1" || exit 1
    awk -v f="$(get "$tmp/one" fwd_cpu_s)" -v s="$(get "$tmp/one" step_cpu_s)" \
        -v tf="$(get "$tmp/torch1" fwd_cpu_s)" -v ts="$(get "$tmp/torch1" step_cpu_s)" -v b="$B1" 'BEGIN {
        printf "1 thread, batch %d, CPU time: duet forward %.3f s, step %.3f s; pytorch forward %.3f s, step %.3f s\n", b, f, s, tf, ts
        printf "ratio pytorch/duet (1 thread, CPU time): forward %.2fx, training step %.2fx\n", tf / f, ts / s }'
fi
printf 'cblas_sgemm peak (1024^3, %d threads): %.1f GFLOP/s\n' $TH "$peak"
echo "conv forward, duet[omp] (goal >= 50% of peak in the big layers):"
awk -v p="$peak" '$1 == "conv" { printf "  %-3s %-20s %7.1f GFLOP/s  %5.1f%% of peak  %8.2f ms\n", $2, $3, $5, 100 * $5 / p, $7 }' "$tmp/omp"
