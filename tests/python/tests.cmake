# The Python module (label python): python_install builds it for real with
# `pip install .` (scikit-build-core, no network: --no-index --no-build-isolation, from
# the .venv that tools/setup.sh makes) into a folder of the build tree, then
# python_pytest runs the pytest suite in tests/python against that install.
set(CLRN_PYTHON_VENV ${PROJECT_SOURCE_DIR}/.venv CACHE PATH
    "Python environment with scikit-build-core, cffi, numpy and pytest (tools/setup.sh)")
set(CLRN_PYTHON_WORK ${CMAKE_CURRENT_BINARY_DIR}/python)
add_test(NAME python_install
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/python/pip_install.sh ${CLRN_PYTHON_VENV}/bin/python
                 ${PROJECT_SOURCE_DIR} ${CLRN_PYTHON_WORK})
set_tests_properties(python_install PROPERTIES LABELS python TIMEOUT 600
                     FIXTURES_SETUP clrn_python ENVIRONMENT "${CLRN_TEST_ENV}")
set(CLRN_PYTHON_ENV "PYTHONPATH=${CLRN_PYTHON_WORK}/site" "PYTHONDONTWRITEBYTECODE=1"
    "CLRN_SOURCE_DIR=${PROJECT_SOURCE_DIR}" "CLRN_REFERENCE_PYTHON=${CLRN_REFERENCE_PYTHON}")
if(CLRN_BUILD_TOOLS)
  list(APPEND CLRN_PYTHON_ENV "CLRN_CLI=$<TARGET_FILE:clresnet_cli>")
endif()
add_test(NAME python_pytest
         COMMAND ${CLRN_PYTHON_VENV}/bin/python -m pytest -q -p no:cacheprovider
                 --basetemp=${CLRN_PYTHON_WORK}/tmp ${CMAKE_CURRENT_SOURCE_DIR}/python)
set_tests_properties(python_pytest PROPERTIES LABELS python TIMEOUT 300
                     FIXTURES_REQUIRED clrn_python ENVIRONMENT "${CLRN_TEST_ENV};${CLRN_PYTHON_ENV}")
