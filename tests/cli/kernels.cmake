# `clresnet kernels export`: usage errors, and an export under a GPU profile on PoCL
# (the sources a vendor's compiler would get for that GPU's tuning values).
clrn_cli_test(kernels_no_subcommand unit 2 --stdout "Usage: clresnet kernels export" -- ${CLI} kernels)
clrn_cli_test(kernels_help unit 0 --stdout "CLRN_KERNEL_BINARIES" -- ${CLI} kernels --help)
clrn_cli_test(kernels_unknown unit 2 --stderr "unknown subcommand 'import'" --stderr-lines 1
              -- ${CLI} kernels import)
clrn_cli_test(kernels_no_output unit 2 --stderr "-o DIR is required" --stderr-lines 1
              -- ${CLI} kernels export -m resnet18)
clrn_cli_test(kernels_bad_profile device 1 --stderr "no-such-gpu"
              --stderr-lines 1 -- ${CLI} kernels export -m resnet18 --profile no-such-gpu
              -o ${CMAKE_CURRENT_BINARY_DIR}/kernels-bad)
clrn_cli_test(kernels_export_profile device skip-if-no-device --stdout "profile nvidia"
              -- ${CLI} kernels export -m resnet18 -H 64 -W 64 --profile nvidia
              -o ${CMAKE_CURRENT_BINARY_DIR}/kernels-nvidia)
