# The tuner (`clresnet tune`, the tuning file, per-layer choices in the plan) and the
# peer benchmark script's options (tools/peer-bench; never its timings).
clrn_add_test(NAME test_tuning_file SOURCES tune/test_tuning_file.c LABELS unit)
if(CLRN_BUILD_TOOLS)
  add_test(NAME tune_cli COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tune/tune_cli.sh
                                 $<TARGET_FILE:clresnet_cli>)
  set_tests_properties(tune_cli PROPERTIES LABELS "device;cli" SKIP_RETURN_CODE 77 TIMEOUT 600
                       ENVIRONMENT "${CLRN_TEST_ENV}")
endif()
add_test(NAME peer_bench_options COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tune/peer_bench_options.sh
                                         ${PROJECT_SOURCE_DIR}/tools/peer-bench)
set_tests_properties(peer_bench_options PROPERTIES LABELS unit)
