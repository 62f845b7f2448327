# The safetensors and .pth readers, their malformed-input corpora (also the fuzzers'
# seeds) and the torchvision export script.
clrn_add_test(NAME test_weights_safetensors SOURCES weights/test_safetensors.c LABELS unit)
clrn_add_test(NAME test_weights_open SOURCES weights/test_open.c LABELS unit TIMEOUT 300)
clrn_add_test(NAME test_weights_corpus SOURCES weights/test_corpus.c LABELS unit
              ENVIRONMENT "CLRN_CORPUS_DIR=${CMAKE_CURRENT_SOURCE_DIR}/weights/corpus")
clrn_add_fuzz_target(NAME fuzz_safetensors SOURCES weights/fuzz_safetensors.c
                     CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/weights/corpus)
clrn_add_test(NAME test_weights_pth SOURCES weights/test_pth.c LABELS unit
              ENVIRONMENT "CLRN_CORPUS_DIR=${CMAKE_CURRENT_SOURCE_DIR}/weights/pth_corpus")
clrn_add_test(NAME test_weights_pth_corpus SOURCES weights/test_corpus.c LABELS unit
              ENVIRONMENT "CLRN_CORPUS_DIR=${CMAKE_CURRENT_SOURCE_DIR}/weights/pth_corpus")
clrn_add_fuzz_target(NAME fuzz_pth SOURCES weights/fuzz_pth.c
                     CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/weights/pth_corpus)

# The export script runs under a Python with torch and torchvision (Debian's); both
# suites skip when that Python lacks them.
set(CLRN_TORCH_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with torch and torchvision")
set(CLRN_EXPORT_ENV "CLRN_TORCH_PYTHON=${CLRN_TORCH_PYTHON}"
                    "CLRN_EXPORT_SCRIPT=${PROJECT_SOURCE_DIR}/tools/export_torchvision.py")
clrn_add_test(NAME test_weights_export SOURCES weights/test_export.c LABELS export TIMEOUT 900
              ENVIRONMENT ${CLRN_EXPORT_ENV})
if(EXISTS ${CLRN_TORCH_PYTHON})
  add_test(NAME test_weights_export_py
           COMMAND ${CLRN_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/weights/test_export.py)
  set_tests_properties(test_weights_export_py PROPERTIES LABELS export SKIP_RETURN_CODE 77
                       TIMEOUT 900 ENVIRONMENT "${CLRN_TEST_ENV};${CLRN_EXPORT_ENV}")
endif()

# .pth files written by torch.save itself (zip, legacy, checkpoint, f16, bf16,
# strided) must give logits bit-identical to safetensors of the same weights.
if(EXISTS ${CLRN_TORCH_PYTHON} AND CLRN_BUILD_TOOLS)
  add_test(NAME test_weights_pth_golden
           COMMAND ${CLRN_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/weights/pth_golden.py
                   $<TARGET_FILE:clresnet_cli> ${CMAKE_CURRENT_BINARY_DIR}/pth_golden)
  set_tests_properties(test_weights_pth_golden PROPERTIES LABELS "weights;device"
                       SKIP_RETURN_CODE 77 TIMEOUT 900 ENVIRONMENT "${CLRN_TEST_ENV}")
endif()
