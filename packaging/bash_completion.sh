#!/usr/bin/env bash
# Writes the bash completion of one program, generated from its --help, so the completion
# offers exactly the flags the program has. Values with a fixed set (an option shown as
# `a|b|c` in --help) complete to that set; other values complete to file names.
#   packaging/bash_completion.sh PROGRAM-PATH NAME > NAME
set -euo pipefail
program=$1
name=$2
help=$("$program" --help)

# Option lines start with two spaces and a dash: "  -h,--host TEXT=...  Broker host".
all=()
valued=()      # flags taking a free value
chosen=()      # "flag words..." for flags taking one of a set
while IFS= read -r line; do
    [[ $line =~ ^\ \ (-[^ ]*)(\ ([^ ]+))? ]] || continue
    spec=${BASH_REMATCH[1]%%\{*}  # "--no-repair{false}": CLI11's default of a flag
    value=${BASH_REMATCH[3]:-}
    IFS=, read -r -a flags <<<"$spec"
    all+=("${flags[@]}")
    [ -n "$value" ] || continue
    if [[ $value =~ ^[A-Za-z0-9.]+(\|[A-Za-z0-9.]+)+$ ]]; then
        chosen+=("$(IFS='|'; echo "${flags[*]}") ${value//|/ }")
    else
        valued+=("${flags[@]}")
    fi
done <<<"$help"

fn="_${name//[^A-Za-z0-9_]/_}"
echo "# bash completion for $name, generated from its --help by packaging/bash_completion.sh"
echo "$fn() {"
cat <<'BODY'
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
BODY
for c in "${chosen[@]}"; do
    echo "        ${c%% *}) mapfile -t COMPREPLY < <(compgen -W \"${c#* }\" -- \"\$cur\"); return ;;"
done
if [ ${#valued[@]} -gt 0 ]; then
    (IFS='|'; echo "        ${valued[*]}) return ;;  # a value: file names (complete -o default)")
fi
echo '    esac'
echo "    mapfile -t COMPREPLY < <(compgen -W \"${all[*]}\" -- \"\$cur\")"
echo '}'
echo "complete -o default -F $fn $name"
