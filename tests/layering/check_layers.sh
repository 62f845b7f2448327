#!/bin/sh
# Fails when a file under src/ includes a header of a layer above its own.
#
# The layers of src/, lowest first (docs/architecture.md says what each owns). A
# folder may include its own headers and those of any folder listed before it.
# Public headers count for the layer that implements them, so a lower layer cannot
# reach a higher one through include/clresnet/ either.
#
# Usage: check_layers.sh [SOURCE_DIR]   (exit 0: clean; 1: an upward include)
set -eu
root=${1:-$(dirname "$0")/../..}
layers="base runtime io weights nn plan ops sched"

rank() { # rank of a folder in $layers; 99 when unknown
  i=0
  for l in $layers; do
    [ "$l" = "$1" ] && { echo $i; return; }
    i=$((i + 1))
  done
  echo 99
}

owner() { # layer that owns an included path
  case $1 in
  clresnet/status.h | clresnet/export.h | clresnet/version.h) echo base ;;
  clresnet/device.h | clresnet/context.h) echo runtime ;;
  clresnet/io.h | clresnet/labels.h) echo io ;;
  clresnet/weights.h) echo weights ;;
  clresnet/ops.h) echo ops ;;
  clresnet/model.h | clresnet/engine.h | clresnet/tune.h) echo sched ;;
  clresnet/clresnet.h) echo cli ;;
  */*) echo "${1%%/*}" ;;
  *) echo "" ;;
  esac
}

bad=0
for dir in "$root"/src/*/; do
  layer=$(basename "$dir")
  mine=$(rank "$layer")
  if [ "$mine" = 99 ]; then
    echo "src/$layer: not a known layer (add it to the list in $0)"
    bad=1
    continue
  fi
  for file in "$dir"*.c "$dir"*.h; do
    [ -f "$file" ] || continue
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file"); do
      to=$(owner "$inc")
      [ -z "$to" ] && continue
      theirs=$(rank "$to")
      if [ "$theirs" -gt "$mine" ]; then
        echo "src/$layer/$(basename "$file") includes $inc: $layer may not use $to (a layer above it)"
        bad=1
      fi
    done
  done
done
[ $bad = 0 ] && echo "layering: every include in src/ points down ($layers)"
exit $bad
