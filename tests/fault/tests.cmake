# Surviving failures (issue 14, item 4): an engine device failing mid-run
# (CLRN_FAULT) on two PoCL devices, and two processes filling one kernel cache at
# once. The command-line side is in tests/cli/fault.py.
clrn_add_test(NAME test_engine_fault SOURCES fault/test_engine_fault.c LABELS "device;fault"
              ENVIRONMENT "POCL_DEVICES=pthread pthread")
clrn_add_test(NAME test_cache_writers SOURCES fault/test_cache_writers.c LABELS "unit;fault")
