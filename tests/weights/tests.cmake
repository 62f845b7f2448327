# The safetensors reader, its malformed-input corpus (also the fuzzer's seeds) and
# the torchvision export script.
clrn_add_test(NAME test_weights_safetensors SOURCES weights/test_safetensors.c LABELS unit)
