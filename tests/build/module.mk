# SPDX-License-Identifier: BSD-3-Clause
# tests/build/: tests of `hotswap build` (test_build.sh and its helpers), and
# build/libhotswap_static.a, the host-side runner of statically linked plugins
# (tools/static/static_host.c; kept out of tools/*.c so that the CLI does not carry it).
STATIC_HOST_OBJS := $(BUILD)/obj/tools/static/static_host.o
STATIC_HOST_LIB := $(BUILD)/libhotswap_static.a

$(STATIC_HOST_LIB): $(STATIC_HOST_OBJS) $(COMMON_OBJS) | $(DEPS_OK)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# elf_whole: opens a plugin file over and over and says whether every open saw a whole ELF.
BUILD_TEST_ELF_WHOLE := $(BUILD)/tests/build/elf_whole
BUILD_TEST_ELF_WHOLE_OBJS := $(BUILD)/obj/tests/build/elf_whole.o
$(BUILD_TEST_ELF_WHOLE_OBJS): EXTRA_CFLAGS += $(ELF_CFLAGS)
$(BUILD_TEST_ELF_WHOLE): $(BUILD_TEST_ELF_WHOLE_OBJS) $(ELF_LIB) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(BUILD_TEST_ELF_WHOLE_OBJS) $(ELF_LIB) $(ELF_LIBS)

# live_dump: dlopens a built plugin and prints its live table.
BUILD_TEST_LIVE_DUMP := $(BUILD)/tests/build/live_dump
$(BUILD_TEST_LIVE_DUMP): $(BUILD)/obj/tests/build/live_dump.o | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< -ldl

ALL_TARGETS += $(STATIC_HOST_LIB)
TESTS += tests/build/test_build.sh tests/build/test_install.sh
TEST_DEPS += $(BUILD_TEST_ELF_WHOLE) $(BUILD_TEST_LIVE_DUMP) $(STATIC_HOST_LIB)
