#!/bin/sh
# tests/test_install.sh: `make install` to a temporary prefix and use duet
# from there as a user would: the installed binary separates a file from an
# unrelated folder with no options (the built-in model) and describes that
# model; the public headers are installed and the private ones not; `man`
# finds the page; a C and a C++ program build through
# `pkg-config --cflags --libs duet` (shared library) and the C one also
# through `pkg-config --static` (libduet.a), all three run and their output
# is checked; `make uninstall` leaves no file behind. Run from the
# repository root by `make check` (B = the build folder).
set -u
B=${B:-build}
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() { n=$((n + 1)); echo "ok - $1"; }
bad() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok - $1"; }

p=$tmp/prefix
if make -s --no-print-directory B="$B" PREFIX="$p" install >"$tmp/install.log" 2>&1; then
    ok "make install PREFIX=$p"
else
    bad "make install"; cat "$tmp/install.log"; exit 1
fi
# the private headers (*_impl.h, separation/dfft.h) stay in the source tree
priv=$(find "$p/include" -name '*_impl.h' -o -name 'dfft.h' | head -3)
if [ -z "$priv" ] && [ -f "$p/include/duet/separation/bsseval.h" ]; then ok "public headers installed, private ones not"
else bad "private headers installed: $priv (or bsseval.h missing)"; fi
export PKG_CONFIG_PATH="$p/lib/pkgconfig"
export LD_LIBRARY_PATH="$p/lib"
mkdir -p "$tmp/elsewhere"
cd "$tmp/elsewhere" || exit 1

# C, shared library
if cc -std=c11 -Wall -Wextra -pedantic -o use_c "$root/tests/install/use_duet.c" \
    $(pkg-config --cflags --libs duet) -lm 2>"$tmp/cc.log"; then ok "C program builds with pkg-config"
else bad "C program builds with pkg-config"; cat "$tmp/cc.log"; fi
if [ -x use_c ] && ldd ./use_c | grep -q "libduet.so.0 => $p/lib"; then ok "C program links the installed libduet.so.0"
else bad "C program links the installed libduet.so.0"; fi
# C++, shared library: the same source compiled as C++
if g++ -x c++ -std=c++17 -Wall -Wextra -pedantic -o use_cxx "$root/tests/install/use_duet.c" -x none \
    $(pkg-config --cflags --libs duet) 2>"$tmp/cxx.log"; then ok "C++ program builds with pkg-config"
else bad "C++ program builds with pkg-config"; cat "$tmp/cxx.log"; fi
# C, libduet.a (the system libraries shared; a fully static link needs the
# static builds of libsndfile's codecs, which Debian does not ship)
if cc -std=c11 -o use_static "$root/tests/install/use_duet.c" $(pkg-config --cflags duet) "$p/lib/libduet.a" \
    $(pkg-config --libs $(pkg-config --print-requires-private duet)) \
    $(pkg-config --static --libs-only-other duet) -ldnnl -lm -lpthread 2>"$tmp/st.log" &&
    ! ldd ./use_static | grep -q libduet; then
    ok "C program links libduet.a (Requires.private, Libs.private)"
else bad "C program links libduet.a"; cat "$tmp/st.log"; fi
if pkg-config --cflags duet | grep -q fopenmp; then bad "pkg-config Cflags do not force -fopenmp"
else ok "pkg-config Cflags do not force -fopenmp"; fi

for prog in use_c use_cxx use_static; do
    out=
    if [ -x ./$prog ] && out=$(./$prog song_$prog.wav 2>&1) &&
        echo "$out" | awk '$1 == "frames" && $2 == 44100 && $4 == 2 && $6 + 0 < 1e-5 {ok = 1} END {exit !ok}'; then
        ok "$prog separates with the built-in model ($out)"
    else bad "$prog separates with the built-in model (${out:-did not run})"; fi
done

# the installed binary, from an unrelated folder, no options
unset DUET_MODEL
if "$p/bin/duet" separate -o sep song_use_c.wav >"$tmp/sep.log" 2>&1 &&
    [ -s sep/song_use_c/vocals.wav ] && [ -s sep/song_use_c/accompaniment.wav ]; then
    ok "installed duet separates from an unrelated folder with no options"
else bad "installed duet separates from an unrelated folder"; cat "$tmp/sep.log"; fi
if "$p/bin/duet" info --model | grep -q "built into duet"; then ok "duet info --model names the built-in model"
else bad "duet info --model names the built-in model"; fi
if out=$(DUET_MODEL=$tmp/missing.safetensors "$p/bin/duet" separate song_use_c.wav 2>&1); then
    bad "a missing \$DUET_MODEL fails"
elif [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "missing.safetensors (from \$DUET_MODEL)" &&
    echo "$out" | grep -q "unset DUET_MODEL"; then ok "a missing \$DUET_MODEL: one line naming it and the way out"
else bad "a missing \$DUET_MODEL: $out"; fi
if out=$("$p/bin/duet" separate --model nope.safetensors song_use_c.wav 2>&1); then bad "a missing --model fails"
elif echo "$out" | grep -q "nope.safetensors (from --model).*leave out --model"; then ok "a missing --model names it"
else bad "a missing --model: $out"; fi
if DUET_MODEL=$root/models/sepnet.safetensors "$p/bin/duet" info --model | grep -q "models/sepnet.safetensors"; then
    ok "\$DUET_MODEL overrides the built-in model"
else bad "\$DUET_MODEL overrides the built-in model"; fi

# man page and completions
if command -v man >/dev/null 2>&1; then
    if MANPATH="$p/share/man" man duet 2>/dev/null | grep -q "duet train-sep"; then ok "man duet from the prefix"
    else bad "man duet from the prefix"; fi
else
    if grep -q '^.SS "duet train-sep"' "$p/share/man/man1/duet.1"; then ok "duet.1 installed (man not available)"
    else bad "duet.1 installed"; fi
fi
if [ -f "$p/share/bash-completion/completions/duet" ] && [ -f "$p/share/zsh/site-functions/_duet" ]; then
    ok "bash and zsh completions installed"
else bad "bash and zsh completions installed"; fi

# uninstall leaves nothing but empty folders
cd "$root" || exit 1
make -s --no-print-directory B="$B" PREFIX="$p" uninstall >/dev/null 2>&1
left=$(find "$p" -type f -o -type l)
if [ -z "$left" ]; then ok "make uninstall removes every installed file"
else bad "make uninstall left: $left"; fi
echo "# $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
