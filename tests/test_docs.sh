#!/bin/sh
# tests/test_docs.sh: the manual page and the completions built by the
# Makefile (B/duet.1, B/duet.bash, B/_duet) against the binary's --help:
# every command has a section of the page and a completion entry, every
# option of every command's --help is in the page and is offered by bash
# completion after the command; the README names every command.
set -u
B=${B:-build}
duet=$B/duet
n=0
fail=0
ok() { n=$((n + 1)); echo "ok - $1"; }
bad() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok - $1"; }
cmds=$("$duet" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}')
[ "$(echo "$cmds" | wc -l)" -ge 10 ] && ok "duet --help lists $(echo "$cmds" | wc -l) commands" || bad "command list"
for c in $cmds; do
    grep -q "^\.SS \"duet $c\"" "$B/duet.1" || { bad "duet.1 has no section for $c"; continue; }
    grep -q "^    $c) opts=" "$B/duet.bash" || bad "bash completion has no entry for $c"
    grep -q "^    $c) opts=" "$B/_duet" || bad "zsh completion has no entry for $c"
    grep -qE "(^|[^a-z-])duet $c([^a-z-]|$)" README.md || bad "README does not list duet $c"
    opts=$("$duet" help "$c" | grep -E '^ +-' | grep -oE '(^| |,)--[A-Za-z0-9][A-Za-z0-9-]*' | tr -d ' ,' | sort -u)
    missing=
    for o in $opts; do
        page=$(sed -n "/^\.SS \"duet $c\"/,/^\.fi/p" "$B/duet.1" | sed 's/\\-/-/g')
        echo "$page" | grep -q -- "$o" || missing="$missing $o"
        offered=$(bash -c ". $B/duet.bash; COMP_WORDS=(duet $c $o); COMP_CWORD=2; _duet; printf '%s\n' \"\${COMPREPLY[@]}\"")
        echo "$offered" | grep -qx -- "$o" || missing="$missing $o(bash)"
    done
    [ -z "$missing" ] && ok "duet $c: page and bash completion cover its $(echo "$opts" | wc -w) long options" ||
        bad "duet $c: missing$missing"
done
offered=$(bash -c ". $B/duet.bash; COMP_WORDS=(duet se); COMP_CWORD=1; _duet; printf '%s ' \"\${COMPREPLY[@]}\"")
[ "$offered" = "separate " ] && ok "bash completes 'duet se' to separate" || bad "bash completes 'duet se': '$offered'"
if command -v zsh >/dev/null 2>&1; then
    zsh -n "$B/_duet" && ok "zsh completion parses" || bad "zsh completion does not parse"
fi
echo "# $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
