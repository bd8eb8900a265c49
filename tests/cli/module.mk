# SPDX-License-Identifier: BSD-3-Clause
# tests/cli/: integration tests of `hotswap inspect` and `hotswap check` on the fixture
# plugins (tests/fixtures/) and on flags.so, built here: TLS, GNU_UNIQUE and a symbol name
# full of characters that need escaping.
CLI_TEST_DIR := $(BUILD)/cli
CLI_FLAGS_SO := $(CLI_TEST_DIR)/flags.so

$(CLI_FLAGS_SO): tests/cli/flags_plugin.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) -std=gnu11 -O1 -shared -fPIC -Wl,-z,noexecstack -o $@ $<

TEST_DEPS += $(CLI_FLAGS_SO)
TESTS += tests/cli/test_inspect.sh tests/cli/test_check.sh tests/cli/test_usage.sh
