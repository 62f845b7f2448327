#!/bin/bash
# Checks the bash completion script (packaging/clresnet.bash-completion) the way bash
# uses it: the script parses (bash -n), then _clresnet is called with COMP_WORDS set
# as bash sets them for a command line, and its COMPREPLY is compared.
#   completion.sh COMPLETION_SCRIPT CLRESNET
set -u
script=$1 program=$2
bash -n "$script" || { echo "FAIL: bash -n $script"; exit 1; }
# shellcheck source=/dev/null
source "$script"
status=0

# complete LINE: the words of LINE (the last one being completed, possibly empty).
complete_line() {
  read -r -a COMP_WORDS <<<"$1"
  [[ $1 == *' ' ]] && COMP_WORDS+=('')
  COMP_WORDS[0]=$program
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  _clresnet
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

expect() {
  local got
  got=$(complete_line "$1")
  if [[ $got == "$2" ]]; then echo "ok: '$1' -> $got"; else
    echo "FAIL: '$1' -> '$got', expected '$2'"; status=1
  fi
}

expect 'clresnet ru' 'run'
expect 'clresnet b' 'bench'
expect 'clresnet --li' '--list-devices'
expect 'clresnet run -m resnet1' 'resnet101 resnet152 resnet18'
expect 'clresnet bench -m w' 'wide_resnet101_2 wide_resnet50_2'
expect 'clresnet bench -d g' 'gpu'
expect 'clresnet bench --war' '--warmup'
expect 'clresnet devices --j' '--json'
expect 'clresnet run -b ' ''
files=$(mktemp -d) && trap 'rm -rf "$files"' EXIT
touch "$files/weights.safetensors" "$files/dog.jpg"
expect "clresnet run -w $files/wei" "$files/weights.safetensors"
expect "clresnet run -o $files/d" "$files/dog.jpg"
expect "clresnet run -w x $files/d" "$files/dog.jpg"

# Every option in the Options block of a command's --help is offered after "-".
for command in devices run bench; do
  offered=" $(complete_line "clresnet $command -") "
  for option in $("$program" "$command" --help | grep -oE -- '^ +(-[A-Za-z], +)?--[a-z][a-z-]+' |
                  grep -oE -- '--[a-z-]+$'); do
    if [[ $offered != *" $option "* ]]; then
      echo "FAIL: 'clresnet $command -' does not offer $option"; status=1
    fi
  done
done
[[ $status -eq 0 ]] && echo PASS
exit $status
