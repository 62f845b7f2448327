# Inputs and outputs (label io): .npy files, atomic writes, the malformed-input
# corpus, photo decoding and preprocessing against a plain-C transcription of PIL,
# and against PIL + torchvision themselves (Python with torchvision: Debian's).
set(CLRN_TEST_DATA_DIR ${PROJECT_SOURCE_DIR}/data CACHE PATH
    "Folder of the photos the io tests compare against torchvision")
set(CLRN_REFERENCE_PYTHON /usr/bin/python3 CACHE FILEPATH
    "Python with numpy, PIL, torch and torchvision for the io reference tests")
set(CLRN_IO_ENV "CLRN_DATA_DIR=${CLRN_TEST_DATA_DIR}" "CLRN_PYTHON=${CLRN_REFERENCE_PYTHON}"
    "CLRN_IO_DIR=${CMAKE_CURRENT_SOURCE_DIR}/io")

clrn_add_test(NAME test_npy SOURCES io/test_npy.c LABELS io ENVIRONMENT ${CLRN_IO_ENV})
clrn_add_test(NAME test_atomic SOURCES io/test_atomic.c LABELS io ENVIRONMENT ${CLRN_IO_ENV})
clrn_add_test(NAME test_io_corpus SOURCES io/test_corpus.c LABELS io ENVIRONMENT ${CLRN_IO_ENV})
clrn_add_test(NAME test_preprocess SOURCES io/test_preprocess.c LABELS io
              ENVIRONMENT ${CLRN_IO_ENV})
clrn_add_test(NAME test_io_reference SOURCES io/test_reference.c LABELS io TIMEOUT 300
              ENVIRONMENT ${CLRN_IO_ENV})

clrn_add_fuzz_target(NAME fuzz_npy SOURCES io/fuzz_npy.c CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/io/corpus/npy)
clrn_add_fuzz_target(NAME fuzz_image SOURCES io/fuzz_image.c
                     CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/io/corpus/image)
clrn_add_test(NAME test_labels SOURCES io/test_labels.c LABELS io unit ENVIRONMENT ${CLRN_IO_ENV})
