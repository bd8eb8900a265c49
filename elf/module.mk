# SPDX-License-Identifier: BSD-3-Clause
# elf/: read-only ELF inspection, as a static library linked into the loader, the shim
# and the CLI. Every elf/*.c is part of it.
ELF_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard elf/*.c))
ELF_LIB := $(BUILD)/libhotswap_elf.a
$(ELF_OBJS): EXTRA_CFLAGS += $(ELF_CFLAGS) -fvisibility=hidden

$(ELF_LIB): $(ELF_OBJS) $(COMMON_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Unit tests of elf/ on the fixture plugins of tests/fixtures/ (run with BUILD set so that
# they find $(BUILD)/fixtures).
TEST_ELF := $(BUILD)/tests/test_elf
TEST_ELF_OBJS := $(BUILD)/obj/tests/unit/test_elf.o
$(TEST_ELF_OBJS): EXTRA_CFLAGS += $(ELF_CFLAGS) $(CMOCKA_CFLAGS)

$(TEST_ELF): $(TEST_ELF_OBJS) $(ELF_LIB) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(TEST_ELF_OBJS) $(ELF_LIB) $(ELF_LIBS) $(CMOCKA_LIBS)

TESTS += $(TEST_ELF)
UNIT_TESTS += $(TEST_ELF)
