# The ONNX importer's fuzz target (label fuzz, with -DCLRN_FUZZ=ON; see run.sh), seeded
# with the malformed-model corpus that test_onnx_import (tests/model) checks.
clrn_add_fuzz_target(NAME fuzz_onnx SOURCES fuzz/fuzz_onnx.c
                     CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/onnx_corpus)
