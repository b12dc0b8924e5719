#!/bin/sh
# scripts/gen_docs.sh man|bash|zsh DUET VERSION: write duet's manual page or
# its bash/zsh completion to stdout, made from the binary's own help text
# (`DUET --help` for the command list, `DUET help COMMAND` for each
# command's usage and options), so neither can drift from --help. The
# Makefile runs it at build time (build/duet.1, build/duet.bash,
# build/_duet); tests/test_docs.sh checks the results against --help.
set -eu
mode=$1
duet=$2
version=${3:-}

# Command names, from the "commands:" block of duet --help.
commands() {
    "$duet" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}'
}
# Long and short options of one command, from its option lines.
options() {
    "$duet" help "$1" | grep -E '^ +-' | grep -oE '(^| |,)--?[A-Za-z0-9][A-Za-z0-9-]*' | tr -d ' ,' | sort -u
}

man_escape() {
    sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

case $mode in
man)
    date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d 2>/dev/null || date +%Y-%m-%d)
    cat <<HDR
.TH DUET 1 "$date" "duet $version" "User Commands"
.SH NAME
duet \\- separate singing voice from accompaniment, describe songs, recommend songs
.SH SYNOPSIS
.B duet
[\\fB\\-\\-help\\fR] [\\fB\\-\\-version\\fR]
.I COMMAND
[\\fIARGS\\fR...]
.br
.B duet help
.I COMMAND
.SH DESCRIPTION
.B duet
takes a song and gives back its singing voice and its accompaniment as
separate audio (a convolutional encoder-decoder with self-attention and
feature enhancement modules, trained by duet itself), measures songs
(spectral, rhythmic, loudness and vocal descriptors of the mix and of each
stem) and recommends songs with collaborative-filtering and neural models.
Every command is described below; the text of each section is the
command's own \\fB\\-\\-help\\fR.
.SH COMMANDS
HDR
    "$duet" --help | man_escape | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {n = $1; $1 = ""; sub(/^ +/, ""); printf ".TP\n.B %s\n%s\n", n, $0} on && /^$/ {on = 0}'
    for c in $(commands); do
        printf '.SS "duet %s"\n.nf\n' "$c"
        "$duet" help "$c" | man_escape
        printf '.fi\n'
    done
    cat <<'TAIL'
.SH ENVIRONMENT
.TP
.B DUET_MODEL
separation model file used when a command gets no \fB\-\-model\fR; unset,
duet uses the model built into it (\fBduet info \-\-model\fR describes it).
.TP
.B DUET_MAX_SAMPLES
most frames times channels of audio decoded whole into memory (default 1G;
K/M/G/T suffixes).
.TP
.B DUET_MAX_TENSOR_BYTES
largest tensor of a model or checkpoint file (default 1G).
.TP
.B OMP_NUM_THREADS
threads of the neural-network engine when a command has no \fB\-j\fR.
.SH EXIT STATUS
0 on success, 1 when a file or job failed (one line on standard error:
\fBduet: FILE: problem\fR), 2 for a usage error.
Outputs are written to a temporary name and renamed when complete.
.SH SEE ALSO
The README and docs/ of the duet source tree.
TAIL
    ;;
bash)
    printf '# bash completion for duet %s (generated from duet --help by scripts/gen_docs.sh)\n' "$version"
    printf '_duet() {\n    local cur cmd opts\n    cur=${COMP_WORDS[COMP_CWORD]}\n'
    printf '    if [ "$COMP_CWORD" -eq 1 ]; then\n'
    printf '        COMPREPLY=($(compgen -W "%s --help --version" -- "$cur"))\n        return\n    fi\n' "$(commands | tr '\n' ' ' | sed 's/ $//') help"
    printf '    cmd=${COMP_WORDS[1]}\n    case $cmd in\n'
    for c in $(commands); do
        printf '    %s) opts="%s" ;;\n' "$c" "$(options "$c" | tr '\n' ' ' | sed 's/ $//')"
    done
    printf '    help) COMPREPLY=($(compgen -W "%s" -- "$cur")); return ;;\n' "$(commands | tr '\n' ' ' | sed 's/ $//')"
    printf '    *) opts="" ;;\n    esac\n'
    printf '    if [[ $cur == -* ]]; then\n        COMPREPLY=($(compgen -W "$opts" -- "$cur"))\n'
    printf '    else\n        COMPREPLY=($(compgen -f -- "$cur"))\n    fi\n}\ncomplete -o filenames -F _duet duet\n'
    ;;
zsh)
    printf '#compdef duet\n# zsh completion for duet %s (generated from duet --help by scripts/gen_docs.sh)\n' "$version"
    printf '_duet() {\n    local -a cmds opts\n    cmds=(\n'
    "$duet" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {n = $1; $1 = ""; sub(/^ +/, ""); gsub(/[:'"'"']/, ""); printf "        '"'"'%s:%s'"'"'\n", n, $0} on && /^$/ {on = 0}'
    printf '    )\n    if (( CURRENT == 2 )); then\n        _describe command cmds\n        return\n    fi\n'
    printf '    case $words[2] in\n'
    for c in $(commands); do
        printf '    %s) opts=(%s) ;;\n' "$c" "$(options "$c" | tr '\n' ' ' | sed 's/ $//')"
    done
    printf '    help) _describe command cmds; return ;;\n    esac\n'
    printf '    if [[ $PREFIX == -* ]]; then\n        compadd -a opts\n    else\n        _files\n    fi\n}\n_duet "$@"\n'
    ;;
*)
    echo "usage: scripts/gen_docs.sh man|bash|zsh DUET VERSION" >&2
    exit 2
    ;;
esac
