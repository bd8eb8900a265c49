# tests/shim: integration tests of libhotswap_preload.so with real processes, signals and
# sockets: the legacy example server under the shim, reloaded by kill and by the CLI.
SHIM_TESTS := $(addprefix tests/shim/,test_reload.sh test_load.sh test_matrix.sh \
                test_process.sh test_notify.sh test_optin.sh)
OPTIN_HOST := $(BUILD)/tests/optin_host
$(OPTIN_HOST): tests/shim/optin_host.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@
TEST_DEPS += $(OPTIN_HOST)
TESTS += $(SHIM_TESTS)

# --- retirement (h-retire): a handler build the dynamic linker can never unload ----------
RETIRE_NODELETE := $(BUILD)/tests/retire/nodelete/libhandler.so
$(RETIRE_NODELETE): $(LEGACY_SRC)/handler.c $(LEGACY_SRC)/handler.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libhandler.so -DHANDLER_VERSION=6 \
	  -Wl,-z,nodelete $< -o $@
TEST_DEPS += $(RETIRE_NODELETE)
TESTS += tests/shim/test_retire.sh
# --- revert (h-retire2) -------------------------------------------------------------------
TESTS += tests/shim/test_revert.sh
