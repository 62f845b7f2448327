# The layering of src/: no folder includes a header of a layer above it; and the
# check itself must catch an upward include in a small tree made for the purpose.
add_test(NAME layering COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/layering/check_layers.sh
                               ${PROJECT_SOURCE_DIR})
add_test(NAME layering_catches_upward
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/layering/selftest.sh
                 ${CMAKE_CURRENT_SOURCE_DIR}/layering/check_layers.sh)
set_tests_properties(layering layering_catches_upward PROPERTIES LABELS unit)
