# SPDX-License-Identifier: BSD-3-Clause
# loader/: trampolines, generations and the plugin lifecycle, as a static library linked
# into the shim. Every loader/*.c and this architecture's loader/*_$(ARCH).S is part of it.
LOADER_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard loader/*.c)) \
               $(patsubst %.S,$(BUILD)/obj/%.o,$(wildcard loader/*_$(ARCH).S))
LOADER_LIB := $(BUILD)/libhotswap_loader.a
$(LOADER_OBJS): EXTRA_CFLAGS += $(ELF_CFLAGS) -fvisibility=hidden
# No exit, abort, assert or stdout in the shim: common/shim_rules.h poisons them.
$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard loader/*.c)): EXTRA_CFLAGS += -include common/shim_rules.h

$(LOADER_LIB): $(LOADER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

ALL_TARGETS += $(LOADER_LIB)

# What a program linking the loader needs after $(LOADER_LIB) on its command line.
LOADER_LINK = $(LOADER_LIB) $(ELF_LIB) $(ELF_LIBS) -ldl -lpthread

# --- tests of the trampoline table (h-tramp) ---------------------------------------------
# Two builds of one tiny library with the same function names: v1 and v2 return values
# that differ, so a test can tell which one a trampoline reached.
TRAMP_FIX := $(BUILD)/tramp-fixtures
TRAMP_FIX_SOS := $(TRAMP_FIX)/libtramp_v1.so $(TRAMP_FIX)/libtramp_v2.so
$(TRAMP_FIX)/libtramp_v%.so: tests/fixtures/tramp_lib.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -DTRAMP_LIB_VERSION=$* -shared -o $@ $< $(ALL_LDFLAGS)

TRAMP_TESTS := $(BUILD)/tests/test_tramp $(BUILD)/tests/test_stress
TRAMP_TEST_OBJS := $(BUILD)/obj/tests/unit/test_tramp.o $(BUILD)/obj/tests/unit/test_stress.o
$(TRAMP_TEST_OBJS): EXTRA_CFLAGS += $(CMOCKA_CFLAGS) \
  -DTRAMP_FIXTURE_DIR='"$(abspath $(TRAMP_FIX))"'

$(TRAMP_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LOADER_LIB) $(ELF_LIB) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LOADER_LINK) $(CMOCKA_LIBS) -lm

TESTS += $(TRAMP_TESTS)
UNIT_TESTS += $(TRAMP_TESTS)
TEST_DEPS += $(TRAMP_FIX_SOS)
