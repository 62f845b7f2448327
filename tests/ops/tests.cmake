# Op suites (label ops): every op but conv2d against the plain-C references of
# tests/ref, and the same programs under Oclgrind with small shapes (label oclgrind).
add_library(clrn_ops_test STATIC ${CMAKE_CURRENT_LIST_DIR}/ops_test.c
                                 ${CMAKE_CURRENT_LIST_DIR}/../ref/ref_ops.c)
target_include_directories(clrn_ops_test PUBLIC ${CMAKE_CURRENT_LIST_DIR}
                                                ${CMAKE_CURRENT_LIST_DIR}/../ref)
target_link_libraries(clrn_ops_test PUBLIC clrn_test_harness m)
target_compile_options(clrn_ops_test PRIVATE ${CLRN_WARNINGS})
target_compile_definitions(clrn_ops_test PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)

foreach(suite eltwise batchnorm pooling adaptive_pool softmax linear)
  clrn_add_test(NAME test_ops_${suite} SOURCES ops/test_${suite}.c LABELS ops)
  target_link_libraries(test_ops_${suite} PRIVATE clrn_ops_test)
endforeach()

# CLBlast's status codes named and explained in errors (no device needed).
clrn_add_test(NAME test_clblast_status SOURCES ops/test_clblast_status.c LABELS unit)

foreach(suite eltwise batchnorm pooling adaptive_pool softmax linear)
  clrn_add_oclgrind_test(NAME oclgrind_ops_${suite} TARGET test_ops_${suite})
endforeach()

# A by-hand benchmark of the same ops at ResNet-50 shapes (not a test).
add_executable(bench_ops ops/bench_ops.c)
target_link_libraries(bench_ops PRIVATE clrn_ops_test)
target_compile_options(bench_ops PRIVATE ${CLRN_WARNINGS})
target_compile_definitions(bench_ops PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
