#!/bin/sh
# fuzz/run.sh [SECONDS]: build every fuzz/fuzz_*.c as a libFuzzer target
# (clang -fsanitize=fuzzer,address,undefined) and run each for SECONDS
# (default 60) on one core, nice'd.
#
# Library sources are compiled once into $OUT/libduet_fuzz.a with coverage
# instrumentation (a file that does not compile with clang is skipped with a
# note; a target that needs it then fails to link and is reported). Seeds
# come from fuzz/corpus/<name>/ (read only); the inputs that once crashed a
# target are kept in fuzz/regress/<name>/ and replayed before it runs; new inputs go to
# $OUT/corpus/<name>/, crashes to $OUT/artifacts/<name>/. fuzz/<name>.dict is
# used as the dictionary when present; fuzz/lsan.supp lists leaks inside
# third-party libraries (reproduced without duet). Environment: FUZZ_CC (clang),
# FUZZ_OUT (build-fuzz), FUZZ_ONLY (run only targets whose name contains it),
# FUZZ_ARGS (extra libFuzzer flags), FUZZ_CPU_SECONDS (instead of SECONDS of
# wall time, stop each target after this much CPU time, measured from
# /proc/PID/stat every 5 s: the fair budget on a shared machine).
# fuzz/<name>.flags holds extra libFuzzer flags of one target. Each target
# runs with stdin from /dev/null. The summary line gives executions and the
# CPU seconds used. Exit status 1 when any target crashed or failed to build.
set -u
SECS=${1:-60}
cd "$(dirname "$0")/.." || exit 2
CC=${FUZZ_CC:-clang}
OUT=${FUZZ_OUT:-build-fuzz}
PKGS="fftw3f sndfile samplerate openblas libebur128 libpng"
PKG_CFLAGS=$(pkg-config --cflags $PKGS 2>/dev/null)
PKG_LIBS=$(pkg-config --libs $PKGS 2>/dev/null)
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -D_POSIX_C_SOURCE=200809L -DDUET_VERSION=\"fuzz\" -I. $PKG_CFLAGS"

command -v "$CC" >/dev/null 2>&1 || { echo "fuzz: $CC not found (apt-get install clang libclang-rt-dev)"; exit 2; }
mkdir -p "$OUT/obj"

# Build the instrumented library incrementally: an object is rebuilt when
# its source or any library header is newer than it.
LIB="$OUT/libduet_fuzz.a"
SRCS=$(ls common/*.c audio/*.c nn/*.c separation/*.c features/*.c recommender/*.c 2>/dev/null)
HDR_NEWEST=$(ls -t common/*.h audio/*.h nn/*.h separation/*.h features/*.h recommender/*.h 2>/dev/null | head -n 1)
changed=0
for src in $SRCS; do
    obj="$OUT/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
    if [ -f "$obj" ] && [ ! "$src" -nt "$obj" ] && { [ -z "$HDR_NEWEST" ] || [ ! "$HDR_NEWEST" -nt "$obj" ]; }; then
        continue
    fi
    [ $changed = 1 ] || echo "fuzz: building the instrumented library"
    changed=1
    if ! nice -n 10 $CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -w -c "$src" -o "$obj" 2>/dev/null; then
        echo "fuzz: note: $src does not compile with $CC, skipped"
        rm -f "$obj"
    fi
done
# objects of deleted sources
for obj in "$OUT"/obj/*.o; do
    [ -f "$obj" ] || continue
    src=$(basename "$obj" .o | sed 's|_|/|')
    [ -f "$src.c" ] || [ -f "$src.S" ] || { rm -f "$obj"; changed=1; }
done
# the built-in model (separation/sepnet_blob.S, as the Makefile builds it)
blob="$OUT/obj/separation_sepnet_blob.o"
if [ ! -f "$blob" ] || [ separation/sepnet_blob.S -nt "$blob" ] || [ models/sepnet.safetensors -nt "$blob" ]; then
    $CC -DDUET_BUILTIN_MODEL='"models/sepnet.safetensors"' -c separation/sepnet_blob.S -o "$blob" || exit 1
    changed=1
fi
if [ $changed = 1 ] || [ ! -f "$LIB" ]; then
    rm -f "$LIB"
    ar rcs "$LIB" "$OUT"/obj/*.o
fi

fail=0
for t in fuzz/fuzz_*.c; do
    name=$(basename "$t" .c)
    short=${name#fuzz_}
    case "$name" in *"${FUZZ_ONLY:-}"*) ;; *) continue ;; esac
    # fuzz_cli links the command-line front end (cli/*.c, main renamed)
    extra=""
    if [ "$name" = fuzz_cli ]; then
        mkdir -p "$OUT/cli"
        for src in cli/*.c; do
            obj="$OUT/cli/$(basename "$src" .c).o"
            if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ cli/cli.h -nt "$obj" ] || [ cli/commands.def -nt "$obj" ] ||
                { [ -n "$HDR_NEWEST" ] && [ "$HDR_NEWEST" -nt "$obj" ]; }; then
                nice -n 10 $CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -Dmain=duet_cli_main -w -c "$src" -o "$obj" ||
                    rm -f "$obj"
            fi
            extra="$extra $obj"
        done
        # the library calls omp_get_thread_num() (nn/conv.c) outside pragmas
        extra="$extra -L/usr/lib/gcc/x86_64-linux-gnu/$(gcc -dumpversion 2>/dev/null) -lgomp"
    fi
    if ! nice -n 10 $CC $CFLAGS $SAN -fsanitize=fuzzer "$t" $extra "$LIB" $PKG_LIBS -lm -lpthread -o "$OUT/$name"; then
        echo "fuzz: $name: build failed"
        fail=1
        continue
    fi
    mkdir -p "$OUT/corpus/$short" "$OUT/artifacts/$short"
    dict=""
    [ -f "fuzz/$short.dict" ] && dict="-dict=fuzz/$short.dict"
    seeds=""
    [ -d "fuzz/corpus/$short" ] && seeds="fuzz/corpus/$short"
    # regression inputs (crashes found earlier) must pass before fuzzing
    if [ -d "fuzz/regress/$short" ] && [ -n "$(ls "fuzz/regress/$short")" ]; then
        if ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
            LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0} \
            "$OUT/$name" -rss_limit_mb=2048 fuzz/regress/"$short"/* >"$OUT/$name.regress.log" 2>&1; then
            echo "fuzz: $name: $(ls "fuzz/regress/$short" | wc -l) regression inputs pass"
        else
            echo "fuzz: $name: a regression input FAILED, see $OUT/$name.regress.log"
            fail=1
        fi
    fi
    flags=""
    [ -f "fuzz/$short.flags" ] && flags=$(cat "fuzz/$short.flags")
    if [ -n "${FUZZ_CPU_SECONDS:-}" ]; then
        limit=""
        echo "fuzz: $name for ${FUZZ_CPU_SECONDS} CPU seconds"
    else
        limit="-max_total_time=$SECS"
        echo "fuzz: $name for ${SECS}s"
    fi
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0} OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        nice -n 10 "$OUT/$name" $limit -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 $dict $flags ${FUZZ_ARGS:-} -artifact_prefix="$PWD/$OUT/artifacts/$short/" \
        "$OUT/corpus/$short" $seeds >"$OUT/$name.log" 2>&1 </dev/null &
    pid=$!
    tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
    cpu=0
    while kill -0 $pid 2>/dev/null; do
        sleep 5
        c=$(awk -v t="$tck" '{ print int(($14 + $15) / t) }' /proc/$pid/stat 2>/dev/null) && [ -n "$c" ] && cpu=$c
        if [ -n "${FUZZ_CPU_SECONDS:-}" ] && [ "$cpu" -ge "$FUZZ_CPU_SECONDS" ]; then
            kill -INT $pid 2>/dev/null
        fi
    done
    wait $pid
    rc=$?
    # 72: libFuzzer's exit status after an interrupt (the CPU budget)
    [ $rc -eq 72 ] && [ -n "${FUZZ_CPU_SECONDS:-}" ] && rc=0
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$name.log" | tail -n 1)
    secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$OUT/$name.log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$OUT/$name.log" | tail -n 1)
    if [ $rc -ne 0 ]; then
        echo "fuzz: $name: FAILED (exit $rc), see $OUT/$name.log and $OUT/artifacts/$short/"
        grep -m 3 -E 'ERROR|runtime error|property failed|SUMMARY' "$OUT/$name.log"
        fail=1
    else
        echo "fuzz: $name: ${execs:-?} executions (${secs:-?}/s wall), ~${cpu} CPU seconds, $cov, no crash"
    fi
done
exit $fail
