# Hostile and careless inputs to `clresnet run` (issue 16): FIFOs, weights with
# NaN, infinity or a negative variance, inputs whose logits are not finite, text
# from files that must be escaped, top-k defaults and exit codes. make_hostile.py
# derives the files from the cli_data fixture.
set(HOSTILE_CHECK /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/check_hostile.py)
set(NPY_CORPUS ${PROJECT_SOURCE_DIR}/tests/io/corpus/npy)
add_test(NAME cli_hostile_fixture
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/make_hostile.py ${FIX})
set_tests_properties(cli_hostile_fixture PROPERTIES FIXTURES_SETUP cli_hostile
                     FIXTURES_REQUIRED cli_data LABELS "cli" SKIP_RETURN_CODE 77)

# clrn_cli_hostile_test(name status [expect.sh options] -- command...)
function(clrn_cli_hostile_test name)
  clrn_cli_test(${name} device ${ARGN})
  set_tests_properties(cli_${name} PROPERTIES FIXTURES_REQUIRED "cli_data;cli_hostile")
endfunction()

# A FIFO as input or as weights: refused at once (it used to wait for a writer).
clrn_cli_hostile_test(run_fifo_input 1 --stderr "fifo: is a FIFO" --stderr-lines 2
                      -- timeout 60 ${CLI} run -w ${W} ${FIX}/fifo)
clrn_cli_hostile_test(run_fifo_weights 1 --stderr "fifo: is a FIFO" --stderr-lines 1
                      -- timeout 60 ${CLI} run -w ${FIX}/fifo ${DATA}/dog.jpg)

# Weights that no trained network holds: refused, naming the tensor and the file.
clrn_cli_hostile_test(run_weights_nan 1
                      --stderr "r18-nan.safetensors: tensor layer1.0.bn1.weight holds NaN"
                      -- ${CLI} run -q -w ${FIX}/r18-nan.safetensors ${FIX}/input64.npy)
clrn_cli_hostile_test(run_weights_inf 1
                      --stderr "r18-inf.safetensors: tensor conv1.weight holds \\+infinity"
                      -- ${CLI} run -q -w ${FIX}/r18-inf.safetensors ${FIX}/input64.npy)
clrn_cli_hostile_test(run_weights_negative_variance 1
                      --stderr "layer2.0.bn2.running_var holds the negative variance -0.5"
                      -- ${CLI} run -q -w ${FIX}/r18-negvar.safetensors ${FIX}/input64.npy)

# An input whose logits are not finite is reported as failed (text and JSON), exit 1.
clrn_cli_hostile_test(run_nonfinite_logits 1 --stdout "^  failed: its logits are not finite"
                      --stderr "nan.npy\\[1\\]: its logits are not finite"
                      -- ${CLI} run -q -w ${W} ${FIX}/nan.npy)
clrn_cli_hostile_test(run_nonfinite_logits_corpus 1 --stdout "failed: its logits are not finite"
                      -- ${CLI} run -q -w ${W} ${NPY_CORPUS}/valid_nan.npy)
foreach(case metadata tensor-name input-name input-json nonfinite)
  add_test(NAME cli_hostile_${case} COMMAND ${HOSTILE_CHECK} ${case} ${CLI} ${FIX})
  set_tests_properties(cli_hostile_${case} PROPERTIES LABELS "cli;device"
                       FIXTURES_REQUIRED "cli_data;cli_hostile" ENVIRONMENT "${CLRN_TEST_ENV}")
endforeach()

# Top-k: the default is min(5, classes); out-of-range values name the class count.
clrn_cli_hostile_test(run_top_default_few_classes 0 --stdout "^ +[0-9.]+%  +2$"
                      -- ${CLI} run -q -w ${FIX}/r18-3classes.safetensors ${FIX}/input64.npy)
clrn_cli_hostile_test(run_top_zero_names_classes 2
                      --stderr "-k: 0 is not in 1..3 \\(the model's classes\\)" --stderr-lines 1
                      -- ${CLI} run -q -k 0 -w ${FIX}/r18-3classes.safetensors ${FIX}/input64.npy)

# .npy inputs of the wrong rank name their real rank (it was read after being freed).
clrn_cli_run_test(run_npy_2d device 1 --stderr "valid_v1.npy: .*not 2-dimensional"
                  -- ${CLI} run -q -w ${W} ${NPY_CORPUS}/valid_v1.npy)
clrn_cli_run_test(run_npy_5d device 1 --stderr "valid_5d.npy: .*not 5-dimensional"
                  -- ${CLI} run -q -w ${W} ${NPY_CORPUS}/valid_5d.npy)

# Escaping keeps a kernel build log readable: its lines stay lines, indented so that
# none can pass for one of clresnet's own.
clrn_cli_run_test(run_build_log_lines device 1 --stderr "^  [^ ]"
                  -- ${CMAKE_CURRENT_SOURCE_DIR}/broken_kernels.sh ${PROJECT_SOURCE_DIR}/kernels
                  ${CLI} run -q -w ${W} ${FIX}/input64.npy)
