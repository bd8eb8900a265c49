# SPDX-License-Identifier: BSD-3-Clause
# examples/extension: the extension demo (h-demos) - the host's extension object, filled
# by the cat plugin's hotswap_on_init, called every heartbeat; run.sh / reload.sh as in
# examples/hello. test_extension.sh runs both.
EXTENSION_HOST := $(BUILD)/examples/extension/host
$(EXTENSION_HOST): examples/extension/host.c examples/extension/extension.h include/hotswap.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@

ALL_TARGETS += $(EXTENSION_HOST)
TESTS += examples/extension/test_extension.sh
