# What users install and see (label install, and cli for the program's own output):
# the install tree and the .deb run from a fresh prefix with LD_LIBRARY_PATH unset,
# the man page, the bash completion, small fixes of the program's output, and the
# README's offline weights.
if(NOT CLRN_BUILD_TOOLS)
  return()
endif()
set(CLRN_INSTALL_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/install)
if(TARGET clresnet_man)
  set(man 1)
else()
  set(man 0)
endif()
foreach(mode tree deb)
  add_test(NAME install_${mode} COMMAND ${CLRN_INSTALL_TESTS}/install.sh ${mode}
           ${PROJECT_BINARY_DIR} ${man})
  set_tests_properties(install_${mode} PROPERTIES LABELS install TIMEOUT 300
                       ENVIRONMENT "${CLRN_TEST_ENV}")
endforeach()
add_test(NAME install_completion COMMAND ${CLRN_INSTALL_TESTS}/completion.sh
         ${PROJECT_SOURCE_DIR}/packaging/clresnet.bash-completion $<TARGET_FILE:clresnet_cli>)
set_tests_properties(install_completion PROPERTIES LABELS "install;unit")

# The devices table's columns: cut names end with "…".
clrn_add_test(NAME test_columns SOURCES install/test_columns.c
              ${PROJECT_SOURCE_DIR}/tools/clresnet/columns.c LABELS "cli;unit")
target_include_directories(test_columns PRIVATE ${PROJECT_SOURCE_DIR}/tools/clresnet)

set(expect ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh)
set(cli $<TARGET_FILE:clresnet_cli>)
# -v and -q together: a usage error, one line.
foreach(command devices run bench)
  add_test(NAME cli_verbose_quiet_${command} COMMAND ${expect} 2 --stderr
           "-v and -q contradict" --stderr-lines 1 -- ${cli} ${command} -v -q)
  set_tests_properties(cli_verbose_quiet_${command} PROPERTIES LABELS "cli;unit")
endforeach()
# The same warning (an unusable cache folder, met by every program build) once.
add_test(NAME cli_warning_once COMMAND ${CLRN_INSTALL_TESTS}/warning_once.sh ${cli})
# JSON numbers: float32's 9 significant digits, each logit equal to the -o file's.
add_test(NAME cli_json_digits COMMAND /usr/bin/python3 ${CLRN_INSTALL_TESTS}/json_digits.py
         ${cli} ${CMAKE_CURRENT_BINARY_DIR}/cli/fixture/r18.safetensors
         ${PROJECT_SOURCE_DIR}/data/dog.jpg)
set_tests_properties(cli_warning_once cli_json_digits PROPERTIES LABELS "cli;device"
                     SKIP_RETURN_CODE 77 TIMEOUT 300 ENVIRONMENT "${CLRN_TEST_ENV}")
set_tests_properties(cli_json_digits PROPERTIES FIXTURES_REQUIRED cli_data)

# README's offline weights: the URLs are torchvision's, and a .pth copied into the hub
# cache folder is what --pretrained exports.
add_test(NAME export_offline_weights COMMAND /usr/bin/python3 ${CLRN_INSTALL_TESTS}/offline_weights.py
         ${PROJECT_SOURCE_DIR}/tools/export_torchvision.py ${PROJECT_SOURCE_DIR}/README.md)
set_tests_properties(export_offline_weights PROPERTIES LABELS export TIMEOUT 300)
