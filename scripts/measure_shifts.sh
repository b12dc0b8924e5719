#!/bin/sh
# scripts/measure_shifts.sh: what `duet separate --shifts N` gains (museval SDR
# medians over held-out musdb7 excerpts) and what it costs (wall time), for
# N in SHIFTS. The held-out songs are those of the separation issue: every
# 6th folder of musdb7/train in `LC_ALL=C ls` order, starting with the first.
#
#   sh scripts/measure_shifts.sh [MUSDB_TRAIN] [MODEL] [N_TRACKS]
#
# musdb7 holds 7-second excerpts; each is written with sox into $WORK
# (default /tmp/duet_shifts) as a stem tree: the reference accompaniment is
# drums + bass + other, the mixture vocals + accompaniment (unscaled).
set -eu
MUSDB=${1:-../shared/data/sep/musdb7/train}
MODEL=${2:-models/ckpt/sep2_best.safetensors}
NTRACKS=${3:-16}
SHIFTS=${SHIFTS:-"1 2 4"}
DUET=${DUET:-build/duet}
WORK=${WORK:-/tmp/duet_shifts}
mkdir -p "$WORK/ref"
TRACKS=$(LC_ALL=C ls "$MUSDB" | awk 'NR%6==1' | head -n "$NTRACKS")
for t in $TRACKS; do
    d="$WORK/ref/$t"
    [ -f "$d/mixture.wav" ] && continue
    mkdir -p "$d"
    for s in vocals drums bass other; do
        sox "$MUSDB/$t/$s.ogg" -b 32 -e floating-point "$d/$s.wav"
    done
    sox -m -v 1 "$d/drums.wav" -v 1 "$d/bass.wav" -v 1 "$d/other.wav" -b 32 -e floating-point "$d/accompaniment.wav"
    sox -m -v 1 "$d/vocals.wav" -v 1 "$d/accompaniment.wav" -b 32 -e floating-point "$d/mixture.wav"
    rm -f "$d/drums.wav" "$d/bass.wav" "$d/other.wav"
done
for n in $SHIFTS; do
    est="$WORK/est$n"
    rm -rf "$est"
    mkdir -p "$est"
    t0=$(date +%s.%N)
    for t in $TRACKS; do
        "$DUET" separate -q --model "$MODEL" --shifts "$n" --bits 32f -o "$est" \
            --filename "$t/{stem}.{ext}" "$WORK/ref/$t/mixture.wav"
    done
    t1=$(date +%s.%N)
    "$DUET" eval-sep --ref "$WORK/ref" --est "$est" > "$WORK/eval$n.txt"
    printf '%s shifts: %.1f s\n' "$n" "$(echo "$t1 - $t0" | bc)"
    cat "$WORK/eval$n.txt"
done
