# The ONNX importer's fuzz target (label fuzz, with -DCLRN_FUZZ=ON; see run.sh), seeded
# with the malformed-model corpus that test_onnx_import (tests/model) checks.
clrn_add_fuzz_target(NAME fuzz_onnx SOURCES fuzz/fuzz_onnx.c
                     CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/onnx_corpus)
# The Keras .h5 reader: its malformed-file corpus (tests/fuzz/h5_corpus, written by
# make_h5_corpus.py; also the fuzzer's seeds) must be refused cleanly, each file with
# the status its README.md table gives, and fuzz_h5 (label fuzz, CLRN_FUZZ=ON) runs
# the reader on mutations of it.
clrn_add_test(NAME test_h5_corpus SOURCES weights/test_corpus.c LABELS unit
              ENVIRONMENT "CLRN_CORPUS_DIR=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/h5_corpus")
# The reader's child process: values through it, a child that crashes, is killed or
# exits early, the corpus file that crashes libhdf5, the child's result as untrusted.
clrn_add_test(NAME test_h5_process SOURCES weights/test_h5_process.c LABELS unit
              ENVIRONMENT "CLRN_CORPUS_DIR=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/h5_corpus")
clrn_add_fuzz_target(NAME fuzz_h5 SOURCES fuzz/fuzz_h5.c fuzz/fuzz_counters.c
                     CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/h5_corpus)
set_source_files_properties(fuzz/fuzz_counters.c PROPERTIES COMPILE_OPTIONS
                            "-fno-sanitize=fuzzer,fuzzer-no-link")
