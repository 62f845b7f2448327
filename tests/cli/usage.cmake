# Everyday use (issue 15): weights that carry their preprocessing and class names,
# --labels and the preprocessing overrides of run, bench's statistics, --threads and
# --profile in --json. Included by CMakeLists.txt in this folder (CLI, W, FIX, DATA,
# EXPECT and CHECK_JSON come from there).
clrn_add_test(NAME test_bench_stats SOURCES test_stats.c ${PROJECT_SOURCE_DIR}/tools/clresnet/stats.c
              LABELS unit cli)
target_include_directories(test_bench_stats PRIVATE ${PROJECT_SOURCE_DIR}/tools/clresnet)

# run: preprocessing and class names from the weights' metadata (IMAGENET1K_V2's 232
# resize against torchvision's own transform), the overrides, --labels, indices when
# no names are known, hostile metadata refused by key.
add_test(NAME cli_run_weights_usage
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/check_usage.py ${CLI} ${DATA}
                 ${CMAKE_CURRENT_BINARY_DIR}/usage)
set_tests_properties(cli_run_weights_usage PROPERTIES LABELS "cli;device" SKIP_RETURN_CODE 77
                     TIMEOUT 600 ENVIRONMENT "${CLRN_TEST_ENV}")
clrn_cli_test(run_bad_resize unit 2 --stderr "--resize: '0' is not an integer in 1..16777216"
              --stderr-lines 1 -- ${CLI} run --resize 0 -w ${W} x.jpg)
clrn_cli_test(run_bad_crop unit 2 --stderr "--crop: '16385'" --stderr-lines 1
              -- ${CLI} run --crop 16385 -w ${W} x.jpg)
clrn_cli_test(run_bad_mean unit 2 --stderr "--mean: '1,2' is not three finite numbers"
              --stderr-lines 1 -- ${CLI} run --mean 1,2 -w ${W} x.jpg)
clrn_cli_test(run_bad_std unit 2 --stderr "--std: '1,0,1' is not three finite, non-zero"
              --stderr-lines 1 -- ${CLI} run --std 1,0,1 -w ${W} x.jpg)
clrn_cli_test(run_bad_std_nan unit 2 --stderr "--std: 'nan,1,1'" --stderr-lines 1
              -- ${CLI} run --std nan,1,1 -w ${W} x.jpg)

# bench: statistics, first batch, RSS, -t, --threads, --profile in --json.
add_test(NAME cli_bench_statistics
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/check_bench.py ${CLI})
set_tests_properties(cli_bench_statistics PROPERTIES LABELS "cli;device" SKIP_RETURN_CODE 77
                     TIMEOUT 600 ENVIRONMENT "${CLRN_TEST_ENV}")
