# tests/shim: integration tests of libhotswap_preload.so with real processes, signals and
# sockets: the legacy example server under the shim, reloaded by kill and by the CLI.
SHIM_TESTS := $(addprefix tests/shim/,test_reload.sh test_load.sh test_matrix.sh \
                test_process.sh test_notify.sh)
TESTS += $(SHIM_TESTS)
