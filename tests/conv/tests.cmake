# conv2d: the suite against the plain-C reference (on the test device, and under
# Oclgrind with small shapes), and the benchmark program (built, not run by CTest).
clrn_add_test(NAME test_conv2d SOURCES conv/test_conv2d.c ref/ref_conv2d.c ref/ref_winograd.c
              LABELS ops)
target_include_directories(test_conv2d PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/ref)
clrn_add_oclgrind_test(NAME test_conv2d_oclgrind TARGET test_conv2d)
add_executable(bench_conv2d conv/bench_conv2d.c)
target_link_libraries(bench_conv2d PRIVATE clrn_test_harness)
target_compile_options(bench_conv2d PRIVATE ${CLRN_WARNINGS})
target_compile_definitions(bench_conv2d PRIVATE _POSIX_C_SOURCE=200809L)
# The implicit-GEMM kernel through clang's strict OpenCL C 1.2 front end for NVIDIA and
# SPIR targets, with every GPU profile's tiles: what a vendor compiler stricter than
# PoCL's would refuse, checked without a GPU.
add_test(NAME igemm_strict_compile
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/conv/check_igemm_strict.py
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(igemm_strict_compile PROPERTIES LABELS "unit" SKIP_RETURN_CODE 77)

# The tensor-core kernel (--precision tf32/fp16 on NVIDIA compute capability >= 8.0)
# compiled to PTX by clang's NVPTX target and assembled by ptxas for sm_80, both
# storages; skipped without them. It cannot run here: its refusal on PoCL is in
# tests/model/test_precision_device.c.
add_test(NAME conv2d_mma_ptx COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/conv/mma_ptx.sh
                                     ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/mma_ptx)
set_tests_properties(conv2d_mma_ptx PROPERTIES LABELS "unit;precision" SKIP_RETURN_CODE 77)
# The machine's FMA peak, the yardstick for bench --profile's per-layer GFLOP/s
# (built for the build machine's vector units, not run by CTest).
add_executable(bench_fma_peak conv/bench_fma_peak.c)
target_compile_options(bench_fma_peak PRIVATE ${CLRN_WARNINGS} -O2 -march=native -ffp-contract=fast)
target_compile_definitions(bench_fma_peak PRIVATE _POSIX_C_SOURCE=200809L)
find_package(Threads REQUIRED)
target_link_libraries(bench_fma_peak PRIVATE Threads::Threads)
