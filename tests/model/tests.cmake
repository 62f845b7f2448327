# The network: graph structure (no device) and, with a device, whole networks at
# every depth against torchvision (reference data made at test time).
clrn_add_test(NAME test_graph SOURCES model/test_graph.c LABELS unit)
# The device-free plan: per-step choices, folded and packed weights, memory needs.
clrn_add_test(NAME test_plan SOURCES model/test_plan.c LABELS unit)

add_executable(test_network model/test_network.c)
target_link_libraries(test_network PRIVATE clrn_test_harness m)
target_compile_options(test_network PRIVATE ${CLRN_WARNINGS})
target_compile_definitions(test_network PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE
                           CLRN_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                           CLRN_TEST_BINARY_DIR="${CMAKE_CURRENT_BINARY_DIR}")
foreach(arch resnet18 resnet34 resnet50 resnet101 resnet152)
  add_test(NAME network_${arch} COMMAND test_network ${arch})
  set_tests_properties(network_${arch} PROPERTIES LABELS "network;device" SKIP_RETURN_CODE 77
                       TIMEOUT 1800 ENVIRONMENT "${CLRN_TEST_ENV}")
endforeach()

# Several devices: two PoCL devices, and two platforms (PoCL + Oclgrind) through an
# ICD folder made here, with small inputs so the simulator stays quick.
clrn_add_test(NAME test_multidevice SOURCES model/test_multidevice.c LABELS multidevice device
              ENVIRONMENT "POCL_DEVICES=pthread pthread" "CLRN_TEST_DEVICES=pthread")
set(CLRN_ICD_DIR ${CMAKE_CURRENT_BINARY_DIR}/icd-pocl-oclgrind)
file(MAKE_DIRECTORY ${CLRN_ICD_DIR})
if(EXISTS /etc/OpenCL/vendors/pocl.icd)
  file(COPY /etc/OpenCL/vendors/pocl.icd DESTINATION ${CLRN_ICD_DIR})
endif()
file(WRITE ${CLRN_ICD_DIR}/oclgrind.icd "/usr/lib/oclgrind/liboclgrind-rt-icd.so\n")
add_test(NAME test_multiplatform COMMAND test_multidevice)
set_tests_properties(test_multiplatform PROPERTIES LABELS "multidevice;device" SKIP_RETURN_CODE 77
                     TIMEOUT 1800
                     ENVIRONMENT "${CLRN_TEST_ENV};OCL_ICD_VENDORS=${CLRN_ICD_DIR};CLRN_TEST_DEVICES=pthread,oclgrind;CLRN_TEST_SIZE=32;CLRN_TEST_BATCH=3")

# Two models at once from two threads.
clrn_add_test(NAME test_threads SOURCES model/test_threads.c LABELS device)

# Models instantiated from one shared plan.
clrn_add_test(NAME test_shared_plan SOURCES model/test_shared_plan.c LABELS device)

# The device memory policy and batches run in pieces.
clrn_add_test(NAME test_memory SOURCES model/test_memory.c LABELS device)
