#!/bin/sh
# tests/run.sh: run every test program given on the command line (from the
# repository root), count "ok" / "not ok" lines, and print the summary line
# "N passed, N failed". A program that crashes or exits non-zero without
# reporting a failure counts as one failure. Exit status is non-zero when
# anything failed.
passed=0
failed=0
log=$(mktemp)
for t in "$@"; do
    name=$(basename "$t")
    printf '== %s\n' "$name"
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(grep -c '^ok - ' "$log")
    f=$(grep -c '^not ok - ' "$log")
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        printf 'not ok - %s exited with status %d\n' "$name" "$rc"
        failed=$((failed + 1))
    fi
done
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
