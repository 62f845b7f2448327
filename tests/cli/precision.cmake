# --precision (issue 12): the flag's values, fp16 runs, tf32 refused with one line
# where the device has no tensor cores reachable through PTX (PoCL). Included by
# CMakeLists.txt in this folder (CLI, W, FIX, DATA and EXPECT come from there).
clrn_cli_test(run_bad_precision unit 2 --stderr "--precision: \"fp8\" is not fp32, fp16 or tf32"
              --stderr-lines 1 -- ${CLI} run --precision fp8 -w ${W} x.jpg)
clrn_cli_test(bench_help_precision unit 0 --stdout "^      --precision MODE +fp32 \\(default\\)"
              -- ${CLI} bench --help)
clrn_cli_run_test(run_fp16 device 0 --stdout "dog.jpg"
                  -- ${CLI} run -w ${W} -k 3 --precision fp16 ${DATA}/dog.jpg)
clrn_cli_test(bench_fp16 device 0 --stdout "on 1 device, fp16"
              -- ${CLI} bench -m resnet18 -b 1 -n 1 -H 32 -W 32 --precision fp16)
clrn_cli_run_test(run_tf32_refused device 1
                  --stderr "precision tf32 runs only on NVIDIA GPUs of compute capability 8.0"
                  -- ${CLI} run -q -w ${W} --precision tf32 ${DATA}/dog.jpg)
