# The safetensors reader, its malformed-input corpus (also the fuzzer's seeds) and
# the torchvision export script.
clrn_add_test(NAME test_weights_safetensors SOURCES weights/test_safetensors.c LABELS unit)
clrn_add_test(NAME test_weights_corpus SOURCES weights/test_corpus.c LABELS unit
              ENVIRONMENT "CLRN_CORPUS_DIR=${CMAKE_CURRENT_SOURCE_DIR}/weights/corpus")
clrn_add_fuzz_target(NAME fuzz_safetensors SOURCES weights/fuzz_safetensors.c
                     CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/weights/corpus)
