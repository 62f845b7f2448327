# `clresnet run` under mpirun (issue 14, item 2; label mpi): two ranks on PoCL
# (--oversubscribe: the machine may have fewer cores) write the same output file as
# one process, a failing rank ends the job with a clear message and --resume
# finishes the output, and a usage error is reported once. CTest may run as root,
# which Open MPI refuses unless told (OMPI_ALLOW_RUN_AS_ROOT*). Needs the cli
# fixture (resnet18 weights).
if(CLRN_WITH_MPI AND CLRN_BUILD_TOOLS)
  foreach(case same fail usage devices)
    add_test(NAME mpi_${case}
             COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/mpi.py ${case}
                     ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:clresnet_cli>
                     ${CMAKE_CURRENT_BINARY_DIR}/cli/fixture/r18.safetensors
                     ${PROJECT_SOURCE_DIR}/data)
    set_tests_properties(mpi_${case} PROPERTIES LABELS "mpi;cli;device" SKIP_RETURN_CODE 77
                         FIXTURES_REQUIRED cli_data TIMEOUT 600
                         ENVIRONMENT "${CLRN_TEST_ENV};OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
  endforeach()
endif()
