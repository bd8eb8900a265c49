# SPDX-License-Identifier: BSD-3-Clause
# examples/livex: the livex demo (h-demos) - jobs queued every few ms with live data, run
# by the jobs plugin's live functions across reloads that change the job's layout;
# run.sh / reload.sh as in examples/hello. test_livex.sh runs both.
LIVEX_HOST := $(BUILD)/examples/livex/host
$(LIVEX_HOST): examples/livex/host.c examples/livex/livex.h include/hotswap.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -pthread $(ALL_LDFLAGS) $< -o $@

ALL_TARGETS += $(LIVEX_HOST)
TESTS += examples/livex/test_livex.sh
