# SPDX-License-Identifier: BSD-3-Clause
# examples/hello: the hello demo (h-api) - a host that reaches its plugin only through
# hotswap_invoke_each; run.sh builds the plugin with `hotswap build` and starts the host
# under the shim, reload.sh rebuilds and reloads it. test_hello.sh runs both.
HELLO_HOST := $(BUILD)/examples/hello/host
$(HELLO_HOST): examples/hello/host.c include/hotswap.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@

ALL_TARGETS += $(HELLO_HOST)
TESTS += examples/hello/test_hello.sh
