# Keras' ResNet50 (v1) from .h5 files: the graph, the name mapping and the caffe
# preprocessing without a device (test_keras), and the golden test against Keras 3
# itself (jax CPU backend, pip, in .venv-ref; skipped without it): logits from both
# .h5 layouts within 1e-4 relative at two input sizes, caffe preprocessing of the
# repository's photos bit for bit. Included by tests.cmake.
clrn_add_test(NAME test_keras SOURCES model/test_keras.c LABELS unit)

set(CLRN_KERAS_PYTHON ${PROJECT_SOURCE_DIR}/.venv-ref/bin/python
    CACHE FILEPATH "Python with keras 3 (jax backend) and h5py")
if(EXISTS ${CLRN_KERAS_PYTHON} AND CLRN_BUILD_TOOLS)
  add_test(NAME keras_golden
           COMMAND ${CLRN_KERAS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/model/keras_golden.py
                   $<TARGET_FILE:clresnet_cli> ${CMAKE_CURRENT_BINARY_DIR}/keras_golden
                   ${PROJECT_SOURCE_DIR}/data/dog.jpg ${PROJECT_SOURCE_DIR}/data/chelsea.png
                   ${PROJECT_SOURCE_DIR}/data/coffee.png)
  set_tests_properties(keras_golden PROPERTIES LABELS "network;device;keras"
                       SKIP_RETURN_CODE 77 TIMEOUT 1200
                       ENVIRONMENT "${CLRN_TEST_ENV};KERAS_BACKEND=jax")
endif()
