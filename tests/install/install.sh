#!/bin/sh
# Checks what users install, from a fresh temporary prefix, with LD_LIBRARY_PATH
# unset so only the program's RPATH can find libclresnet:
#   install.sh tree BUILD_DIR MAN   cmake --install into a temporary prefix
#   install.sh deb  BUILD_DIR MAN   cpack -G DEB, then dpkg -x the .deb (never dpkg -i)
# MAN is 1 when the build has help2man, so the man page must be there.
# In both: clresnet --help and devices run (devices may find no OpenCL platform: that
# is exit 1 with its own message, never a loader failure), clresnet-export is an
# executable Python script that answers --help, and LICENSE, the man page and the
# bash completion are in place.
set -u
mode=$1 build=$2 man=$3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

case $mode in
  tree)
    cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/log" 2>&1 ||
      { cat "$tmp/log"; fail "cmake --install"; }
    prefix=$tmp/prefix ;;
  deb)
    (cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg") >"$tmp/log" 2>&1 ||
      { cat "$tmp/log"; fail "cpack -G DEB"; }
    deb=$(ls "$tmp"/pkg/clresnet_*.deb) || fail "no .deb written"
    dpkg-deb --info "$deb"
    [ "$(dpkg-deb -f "$deb" Package)" = clresnet ] || fail "package name"
    # Every dependency is a package Debian has: each alternative group names one that
    # is installed here (this machine has what clresnet needs).
    dpkg-deb -f "$deb" Depends | tr ',' '\n' | while read -r group; do
      ok=no
      for name in $(echo "$group" | sed 's/([^)]*)//g; s/|/ /g'); do
        dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'ok installed' && ok=yes
      done
      [ $ok = yes ] || { echo "FAIL: dependency '$group' is not installed here"; exit 1; }
    done || exit 1
    for need in libclblast1 libcjson1 libjpeg62-turbo libpng16-16 ocl-icd-libopencl1; do
      dpkg-deb -f "$deb" Depends | grep -q "$need" || fail "Depends lacks $need"
    done
    dpkg -x "$deb" "$tmp/root" || fail "dpkg -x"
    prefix=$tmp/root/usr ;;
  *) fail "unknown mode $mode" ;;
esac

run() { env -u LD_LIBRARY_PATH "$@"; }
run "$prefix/bin/clresnet" --help >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "bin/clresnet --help"; }
run "$prefix/bin/clresnet" devices >"$tmp/out" 2>&1
status=$?
cat "$tmp/out"
if [ $status -ne 0 ] && ! { [ $status -eq 1 ] && grep -q 'no OpenCL platform' "$tmp/out"; }; then
  fail "bin/clresnet devices: exit $status"
fi
export_tool=$prefix/bin/clresnet-export
[ -x "$export_tool" ] || fail "no executable bin/clresnet-export"
[ "$(head -n 1 "$export_tool")" = '#!/usr/bin/python3' ] || fail "clresnet-export shebang"
"$export_tool" --help >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "clresnet-export --help"; }
grep -q '^usage: clresnet-export' "$tmp/out" || fail "clresnet-export's help names another program"
grep -q 'Apache License' "$prefix/share/doc/clresnet/LICENSE" || fail "share/doc/clresnet/LICENSE"
bash -n "$prefix/share/bash-completion/completions/clresnet" || fail "bash completion"
if [ "$man" = 1 ]; then
  page=$prefix/share/man/man1/clresnet.1
  [ -f "$page" ] || fail "no $page"
  grep -q '^\.SH COMMANDS' "$page" || fail "the man page has no COMMANDS section"
  grep -qE 'save(\\)?-input' "$page" || fail "the man page lacks run's --save-input"
fi
echo PASS
