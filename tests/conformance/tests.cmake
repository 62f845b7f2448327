# ONNX node conformance (label conformance): ONNX's own one-node tests from Debian's
# libonnx-testdata (data/node, data/pytorch-converted, data/pytorch-operator) run
# through the op API, one CTest per op family; see tests/conformance/README.md.
# --min-pass is the number of cases that pass with libonnx-testdata 1.12: fewer
# fails the test, so a case newly refused shows.
add_executable(test_onnx_node conformance/test_onnx_node.c conformance/node_case.c
                              conformance/run_window.c conformance/run_other.c)
target_link_libraries(test_onnx_node PRIVATE clrn_ops_test clrn_test_harness m)
target_compile_options(test_onnx_node PRIVATE ${CLRN_WARNINGS})
target_compile_definitions(test_onnx_node PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)

set(CLRN_CONFORMANCE_FAMILIES
    "conv:17:Conv" "pool:22:MaxPool AveragePool GlobalAveragePool"
    "batchnorm:7:BatchNormalization" "relu:2:Relu" "add:1:Add"
    "gemm:13:Gemm MatMul" "flatten:11:Flatten" "softmax:10:Softmax")
foreach(family IN LISTS CLRN_CONFORMANCE_FAMILIES)
  string(REPLACE ":" ";" parts "${family}")
  list(GET parts 0 name)
  list(GET parts 1 min_pass)
  list(GET parts 2 ops)
  separate_arguments(ops)
  add_test(NAME conformance_${name} COMMAND test_onnx_node --min-pass ${min_pass} ${ops})
  set_tests_properties(conformance_${name} PROPERTIES LABELS conformance SKIP_RETURN_CODE 77
                       TIMEOUT 300 ENVIRONMENT "${CLRN_TEST_ENV}")
endforeach()

# The suite must notice a wrong answer (a doctored copy of test_relu).
add_test(NAME conformance_detects_mismatch
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/conformance/mismatch.sh $<TARGET_FILE:test_onnx_node>
                 /usr/share/libonnx-testdata/data/node ${CMAKE_CURRENT_BINARY_DIR}/conformance_mismatch)
set_tests_properties(conformance_detects_mismatch PROPERTIES LABELS conformance
                     SKIP_RETURN_CODE 77 TIMEOUT 120 ENVIRONMENT "${CLRN_TEST_ENV}")

# Unit tests of the TensorProto decoding the suite reads its .pb files with
# (src/weights/onnx_tensor.c); registered here to keep tests/weights/tests.cmake
# untouched by this branch.
clrn_add_test(NAME test_weights_onnx_tensor SOURCES weights/test_onnx_tensor.c LABELS unit)

# ONNX's node tests under Oclgrind (label oclgrind): their tensors are tiny, so
# every op runs whole (CLBlast's kernels included) in seconds. (The PyTorch folders
# hold a 20x16x50x40 convolution, too slow for the simulator.)
add_test(NAME oclgrind_conformance
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/common/oclgrind_run.sh $<TARGET_FILE:test_onnx_node>
                 --min-pass 57 --data /usr/share/libonnx-testdata/data/node Conv MaxPool AveragePool GlobalAveragePool BatchNormalization Relu
                 Add Gemm MatMul Flatten Softmax)
set_tests_properties(oclgrind_conformance PROPERTIES LABELS oclgrind SKIP_RETURN_CODE 77
                     TIMEOUT 900 ENVIRONMENT "${CLRN_TEST_ENV};CLRN_TEST_SMALL=1")
