#!/bin/sh
# The output files of `clresnet run` and `bench` (issue 16, items 1, 2, 13, 14):
# refusals before any work (exit 2, one line, nothing touched), links followed,
# /dev/stdout written in place, the batch sized by the inputs, oversized and
# unreplaceable files refused up front. Works on copies in a temporary folder, so
# that even a build without the checks cannot damage the test fixture.
#   outputs.sh CASE CLI WEIGHTS INPUT64.npy PHOTO
set -u
case_name=$1 cli=$2 weights=$3 input=$4 photo=$5
py=/usr/bin/python3
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
cp "$input" "$tmp/x.npy" && cp "$photo" "$tmp/dog.jpg" || exit 2
cd "$tmp" || exit 2

fail() { echo "FAIL: $*"; exit 1; }

# expect STATUS REGEX COMMAND...: exit status, one stderr line matching REGEX.
expect() {
  want=$1 re=$2; shift 2
  "$@" >out 2>err
  got=$?
  echo "--- $*"; cat err; echo "--- exit $got"
  [ "$got" -eq "$want" ] || fail "exit status $got, expected $want"
  grep -Eq -- "$re" err || fail "stderr does not match /$re/"
  [ "$(wc -l <err)" -eq 1 ] || fail "stderr has $(wc -l <err) lines, expected 1"
}

unchanged() { cmp -s "$1" "$2" || fail "$1 was changed"; }

case $case_name in
  same_input)
    expect 2 "-o x.npy: is the same file as the input x.npy" "$cli" run -w "$weights" -o x.npy x.npy
    unchanged x.npy "$input" ;;
  same_weights)
    cp "$weights" w.st || exit 2
    expect 2 "-o w.st: is the same file as the weights w.st" "$cli" run -w w.st -o w.st x.npy
    unchanged w.st "$weights"
    expect 2 "--trace w.st: is the same file as the weights" "$cli" bench -m resnet18 -w w.st \
      --trace w.st
    unchanged w.st "$weights" ;;
  same_photo)
    expect 2 "is the same file as the input dog.jpg" "$cli" run -w "$weights" -o dog.jpg dog.jpg
    unchanged dog.jpg "$photo" ;;
  link_to_input)
    mkdir sub && ln -s ../x.npy sub/link.npy || exit 2
    expect 2 "is the same file as the input x.npy" "$cli" run -w "$weights" -o sub/link.npy x.npy
    unchanged x.npy "$input"
    [ -L sub/link.npy ] || fail "the link was replaced" ;;
  two_outputs)
    mkdir sub || exit 2
    expect 2 "-o a.npy and --save-input a.npy: name the same file" \
      "$cli" run -w "$weights" -o a.npy --save-input a.npy x.npy
    expect 2 "-o a.npy and --trace sub/../a.npy: name the same file" \
      "$cli" run -w "$weights" -o a.npy --trace sub/../a.npy x.npy
    echo old >a.npy
    expect 2 "--save-input a.npy and --trace ./a.npy: name the same file" \
      "$cli" run -w "$weights" --save-input a.npy --trace ./a.npy x.npy
    [ "$(cat a.npy)" = old ] || fail "a.npy was changed" ;;
  read_only)
    cp x.npy ro.npy && chmod 444 ro.npy || exit 2
    expect 2 "-o: ro.npy: is read-only" "$cli" run -w "$weights" -o ro.npy x.npy
    unchanged ro.npy "$input" ;;
  empty)
    expect 2 "^clresnet: -o: the file name is empty" "$cli" run -w "$weights" -o "" x.npy
    grep -q clrn_ err && fail "an internal name is shown" ;;
  symlinks)
    echo old >target.npy && ln -s target.npy link.npy && ln -s made.npy dangling.npy || exit 2
    "$cli" run -q -w "$weights" -o link.npy --save-input dangling.npy x.npy >/dev/null ||
      fail "run failed"
    [ -L link.npy ] && [ -L dangling.npy ] || fail "a link was replaced by a file"
    $py -c "import numpy as n; assert n.load('target.npy').shape == (2, 1000); \
assert n.load('made.npy').shape == (2, 3, 64, 64)" || fail "the links' targets are wrong"
    [ -z "$(find . -name '*.tmp')" ] || fail "temporary files left" ;;
  stdout)
    # A private link to our stdout, as /dev/stdout is: it must survive, and the
    # logits must follow the printed results in the file stdout goes to.
    ln -s /proc/self/fd/1 stdout-link || exit 2
    "$cli" run -q -w "$weights" -o stdout-link x.npy >out.bin || fail "run failed"
    [ -L stdout-link ] || fail "the link to stdout was replaced by a file"
    $py -c "import io, numpy as n; d = open('out.bin', 'rb').read(); i = d.index(b'\x93NUMPY'); \
assert d[:i].startswith(b'x.npy[0]'), d[:40]; assert n.load(io.BytesIO(d[i:])).shape == (2, 1000)" ||
      fail "out.bin does not hold the results then the logits" ;;
  batch)
    "$cli" run -v -b 4096 -w "$weights" x.npy >out 2>err || { cat err; fail "run failed"; }
    grep "batches of up to" err
    grep -q "batches of up to 2;" err || fail "the batch is not sized by the 2 inputs" ;;
  huge)
    # 1x3x16384x16384 float32: a sparse 3 GiB file, refused from its header.
    $py -c "import numpy as n; f = n.lib.format.open_memmap('huge.npy', mode='w+', \
dtype=n.float32, shape=(1, 3, 16384, 16384)); del f" || exit 2
    start=$(date +%s)
    expect 1 "huge.npy: one 16384x16384 image needs [0-9]+ MiB of device buffers, more than .*(largest allocation|global memory)" \
      "$cli" run -w "$weights" huge.npy
    [ $(($(date +%s) - start)) -lt 20 ] || fail "too slow: the data was read" ;;
  sticky)
    # As user nobody, -o names root's file in a sticky folder: the rename would fail.
    [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null || { echo "SKIP: needs root and setpriv"; exit 77; }
    as_nobody="setpriv --reuid=65534 --regid=65534 --clear-groups --"
    $as_nobody true 2>/dev/null || { echo "SKIP: cannot switch to nobody"; exit 77; }
    chmod 755 . && chmod 644 x.npy && mkdir -m 1777 sticky && cp x.npy sticky/rootfile.npy &&
      chmod 666 sticky/rootfile.npy || exit 2
    $as_nobody test -r "$weights" || { echo "SKIP: nobody cannot read $weights"; exit 77; }
    expect 2 "-o: sticky/rootfile.npy: belongs to another user in the sticky folder" \
      $as_nobody "$cli" run -w "$weights" -o sticky/rootfile.npy x.npy
    unchanged sticky/rootfile.npy "$input" ;;
  *) echo "outputs.sh: unknown case $case_name" >&2; exit 2 ;;
esac
echo PASS
