# tools/gpu-bench needs an NVIDIA GPU to measure; without one, its argument handling
# and its one-line refusals are still checked here (Debian's python runs it).
set(GPU_BENCH /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tools/gpu-bench)
clrn_cli_test(gpu_bench_help unit 0 --stdout "--modes" -- ${GPU_BENCH} --help)
clrn_cli_test(gpu_bench_bad_mode unit 2 --stderr "--modes takes fp32, tf32, fp16" -- ${GPU_BENCH}
              --modes fp64)
clrn_cli_test(gpu_bench_no_build unit 1 --stderr "no clresnet program" --stderr-lines 1
              -- ${GPU_BENCH} --build ${CMAKE_CURRENT_BINARY_DIR}/no-such-build)
