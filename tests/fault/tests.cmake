# Surviving failures (issue 14, item 4): an engine device failing mid-run
# (CLRN_FAULT) on two PoCL devices, through the library and through `clresnet run`
# (fault_cli.py, which needs the cli fixture's resnet18 weights), and processes
# filling one kernel cache at once.
clrn_add_test(NAME test_engine_fault SOURCES fault/test_engine_fault.c LABELS "device;fault"
              ENVIRONMENT "POCL_DEVICES=pthread pthread")
clrn_add_test(NAME test_cache_writers SOURCES fault/test_cache_writers.c LABELS "unit;fault")
if(CLRN_BUILD_TOOLS)
  foreach(case device cache)
    add_test(NAME cli_fault_${case}
             COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/fault_cli.py ${case}
                     $<TARGET_FILE:clresnet_cli> ${CMAKE_CURRENT_BINARY_DIR}/cli/fixture/r18.safetensors
                     ${PROJECT_SOURCE_DIR}/data)
    set_tests_properties(cli_fault_${case} PROPERTIES LABELS "cli;fault;device"
                         FIXTURES_REQUIRED cli_data TIMEOUT 600 SKIP_RETURN_CODE 77
                         ENVIRONMENT "${CLRN_TEST_ENV};POCL_DEVICES=pthread pthread")
  endforeach()
endif()
