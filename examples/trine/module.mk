# SPDX-License-Identifier: BSD-3-Clause
# examples/trine: the trine demo (h-demos) - gamma imports beta imports alpha; the host
# invokes gamma's "pulse"; run.sh / reload.sh build all three with one stamp.
# test_trine.sh runs both.
TRINE_HOST := $(BUILD)/examples/trine/host
$(TRINE_HOST): examples/trine/host.c examples/trine/trine.h include/hotswap.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@

ALL_TARGETS += $(TRINE_HOST)
TESTS += examples/trine/test_trine.sh
