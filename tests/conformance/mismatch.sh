#!/bin/sh
# Checks that the conformance suite notices a wrong answer: a copy of ONNX's
# test_relu whose expected output is the input itself (Relu changes its negative
# values) must FAIL. Usage: mismatch.sh test_onnx_node node_dir work_dir
set -eu
exe=$1 node_dir=$2 work=$3
case_dir=$node_dir/test_relu
[ -d "$case_dir" ] || { echo "no $case_dir: skipped"; exit 77; }
rm -rf "$work"
copy=$work/node/test_relu
mkdir -p "$copy/test_data_set_0"
cp "$case_dir/model.onnx" "$copy/"
cp "$case_dir/test_data_set_0/input_0.pb" "$copy/test_data_set_0/input_0.pb"
cp "$case_dir/test_data_set_0/input_0.pb" "$copy/test_data_set_0/output_0.pb"
rc=0
"$exe" --data "$work/node" Relu >"$work/log" 2>&1 || rc=$?
[ "$rc" -ne 77 ] || { echo "no device: skipped"; exit 77; }
if [ "$rc" -eq 0 ]; then
  cat "$work/log"
  echo "the suite passed a Relu whose expected output is its input"
  exit 1
fi
grep -q "^FAIL node/test_relu" "$work/log" || { cat "$work/log"; echo "no FAIL line"; exit 1; }
grep -q "elements differ beyond rtol" "$work/log" || { cat "$work/log"; exit 1; }
echo "a wrong expected output is reported as FAIL"
