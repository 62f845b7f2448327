# Everyday use (issue 15): weights that carry their preprocessing and class names,
# --labels and the preprocessing overrides of run, bench's statistics, --threads and
# --profile in --json. Included by CMakeLists.txt in this folder (CLI, W, FIX, DATA,
# EXPECT and CHECK_JSON come from there).
clrn_add_test(NAME test_bench_stats SOURCES test_stats.c ${PROJECT_SOURCE_DIR}/tools/clresnet/stats.c
              LABELS unit cli)
target_include_directories(test_bench_stats PRIVATE ${PROJECT_SOURCE_DIR}/tools/clresnet)
