#!/bin/sh
# scripts/ablate_sep.sh: the separation ablations of issue 5 under one budget.
# Trains the full model and each ablation (--no-sa, --no-fem, --no-phase,
# --transposed) with the same seed, data, steps, batch and threads, then scores
# each on the held-out singers (bobon, fdps: never trained on) with eval-sep.
#   usage: [VARIANTS="full no-sa ..."] scripts/ablate_sep.sh [DUET] [OUTDIR] [STEPS]
# Defaults: build/duet, runs/abl, 400 steps, all five variants. One thread per
# run; two scripts with disjoint VARIANTS can share a 2-core machine. Each run
# checkpoints and resumes; a variant is skipped once OUTDIR/<v>.done exists.
# EVAL=0 skips the held-out eval-sep (the training log's validation SDR remains).
set -eu
DUET=${1:-build/duet}
OUT=${2:-runs/abl}
STEPS=${3:-400}
VARIANTS=${VARIANTS:-full no-sa no-fem no-phase transposed}
DATA=${DATA:-../shared/data/sep}
mkdir -p "$OUT"
for v in $VARIANTS; do
    flag=""; [ "$v" = full ] || flag="--$v"
    if [ ! -f "$OUT/$v.done" ]; then
        resume=""; [ -f "$OUT/$v.ckpt" ] && resume="--resume $OUT/$v.ckpt"
        # shellcheck disable=SC2086
        OMP_WAIT_POLICY=PASSIVE "$DUET" train-sep --data "$DATA" --out "$OUT/$v.safetensors" \
            --ckpt "$OUT/$v.ckpt" $resume --base 8 --steps "$STEPS" --batch 4 --frames 128 \
            --eval-every 200 --val-clips 24 --ckpt-every 25 --patience 0 --seed 1 -j 1 $flag \
            >> "$OUT/$v.log" 2>&1
        touch "$OUT/$v.done"
    fi
    if [ "${EVAL:-1}" = 1 ] && [ ! -f "$OUT/$v.json" ]; then
        OMP_WAIT_POLICY=PASSIVE "$DUET" eval-sep --ref "$DATA/mir1k" --tracks 'bobon_*,fdps_*' \
            --method model --model "$OUT/$v.safetensors" -j 1 --json "$OUT/$v.json" \
            > "$OUT/$v.table" 2>> "$OUT/$v.log"
    fi
done
